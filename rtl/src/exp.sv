// exp unit for x <= 0, one value per beat: the stream wrapper of rtl/src/exp_core.sv (the datapath
// the softmax units instantiate), bit-exact to python_ref.kernels.exp.exp_neg_raw.
//
// x is the exact difference of two activations, ap_fixed<ACT_W+1, ACT_I+1>, in the low bits of a
// LANE_W-bit lane (bits above ignored); y is ap_ufixed<25,1> zero-extended to LANE_W.
// Ports follow Vitis' naming of hls::stream<ap_axiu<...>> ports with ap_ctrl_none.
// Latency: input handshake at edge N -> output handshake at edge N+13 with y_TREADY high
// (exp_core_pkg::EXP_CORE_LATENCY = 12 datapath stages + the output register slice).
// Throughput: 1 value/cycle.
// Flow control as rtl/src/gelu.sv: the datapath advances unless its last stage holds a value the
// output slice cannot take; x_TREADY depends on flip-flops only.
`default_nettype none

module exp
  import model_pkg::*;
#(
    parameter int LANE_W = 40
) (
    input  logic                ap_clk,
    input  logic                ap_rst_n,   // synchronous, active low
    input  logic [LANE_W-1:0]   x_TDATA,
    input  logic                x_TVALID,
    output logic                x_TREADY,
    input  logic                x_TLAST,
    input  logic [LANE_W/8-1:0] x_TKEEP,    // ignored
    input  logic [LANE_W/8-1:0] x_TSTRB,    // ignored
    output logic [LANE_W-1:0]   y_TDATA,
    output logic                y_TVALID,
    input  logic                y_TREADY,
    output logic                y_TLAST,
    output logic [LANE_W/8-1:0] y_TKEEP,
    output logic [LANE_W/8-1:0] y_TSTRB
);
  localparam int IW = ACT_W + 1;        // input: difference of two activations
  localparam int F  = ACT_W - ACT_I;    // its fraction bits
  localparam int STAGES = exp_core_pkg::EXP_CORE_LATENCY;

  if (LANE_W < IW || LANE_W % 8 != 0) begin : g_chk
    $error("exp: LANE_W must be a multiple of 8 and >= %0d, got %0d", IW, LANE_W);
  end

  logic ce, v_out, l_out, out_s_ready;
  axis_pipe_ctrl #(.STAGES(STAGES)) u_ctrl (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tvalid(x_TVALID), .s_axis_tlast(x_TLAST), .s_axis_tready(x_TREADY),
      .ce(ce), .m_axis_tvalid(v_out), .m_axis_tlast(l_out), .m_axis_tready(out_s_ready));

  logic [24:0] y9;
  exp_core #(.IW(IW), .F(F)) u_exp (
      .clk(ap_clk), .ce(ce), .x($signed(x_TDATA[IW-1:0])), .y(y9));

  axis_skid #(.WIDTH(LANE_W + 1)) u_out (
      .clk    (ap_clk),
      .rst_n  (ap_rst_n),
      .s_axis_tdata ({l_out, LANE_W'(y9)}),
      .s_axis_tvalid(v_out),
      .s_axis_tready(out_s_ready),
      .m_axis_tdata ({y_TLAST, y_TDATA}),
      .m_axis_tvalid(y_TVALID),
      .m_axis_tready(y_TREADY)
  );

  assign y_TKEEP = {(LANE_W/8){1'b1}};
  assign y_TSTRB = {(LANE_W/8){1'b1}};

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, x_TDATA[LANE_W-1:IW]};
endmodule

`default_nettype wire
