// Online-softmax probability stage, bit-exact to python_ref.kernels.softmax.softmax_prob_raw:
//   p = round(exp(x - m) * r / 2^31)   (e: 24 fraction bits, r: 31, p: ap_ufixed<25,1>)
// Input beat: lanes {r, m, x} (lane 0 = score x, lane 1 = the row's maximum m, both activations;
// lane 2 = r = 1/s, ap_ufixed<32,1>), i.e. the row's statistics from softmax_stats travel with
// each score. Output: p zero-extended in a 32-bit lane; TLAST travels with its beat.
// Pipeline: S1 register the beat, S2..S13 exp_core(x - m) (exp_core_pkg::EXP_CORE_LATENCY = 12), S14 the 25x32 product and its
// rounding, then the axis_skid output slice. Latency: input handshake at edge N -> output
// handshake at edge N+15 (unstalled). Throughput: 1 score per cycle.
`default_nettype none

module softmax_prob
  import model_pkg::*;
(
    input  logic                 ap_clk,
    input  logic                 ap_rst_n,   // synchronous, active low
    input  logic [3*32-1:0]      x_TDATA,
    input  logic                 x_TVALID,
    output logic                 x_TREADY,
    input  logic                 x_TLAST,
    input  logic [3*32/8-1:0]    x_TKEEP,    // ignored
    input  logic [3*32/8-1:0]    x_TSTRB,    // ignored
    output logic [31:0]          y_TDATA,
    output logic                 y_TVALID,
    input  logic                 y_TREADY,
    output logic                 y_TLAST,
    output logic [3:0]           y_TKEEP,
    output logic [3:0]           y_TSTRB
);
  localparam int W  = ACT_W;
  localparam int F  = ACT_W - ACT_I;
  localparam int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY;  // 12
  localparam int STAGES = EXP_LAT + 2;  // S1, exp_core, S14

  if (W != 32 || F < 1 || F > 25) begin : g_chk
    $error("softmax_prob: needs 32-bit activations with 1..25 fraction bits (lanes are 32 bits)");
  end

  logic ce, v_out, l_out, out_s_ready;
  axis_pipe_ctrl #(.STAGES(STAGES)) u_ctrl (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tvalid(x_TVALID), .s_axis_tlast(x_TLAST), .s_axis_tready(x_TREADY),
      .ce(ce), .m_axis_tvalid(v_out), .m_axis_tlast(l_out), .m_axis_tready(out_s_ready));

  logic signed [W-1:0] x1, m1;
  logic [31:0] r_hist [1:EXP_LAT+1];
  logic [24:0] e;
  logic [56:0] prod;
  logic [57:0] prod_r;
  logic [24:0] p;
  assign prod   = 57'(e) * 57'(r_hist[EXP_LAT+1]);
  assign prod_r = {1'b0, prod} + (58'd1 << 30);

  always_ff @(posedge ap_clk) begin
    if (ce) begin
      x1        <= $signed(x_TDATA[31:0]);
      m1        <= $signed(x_TDATA[63:32]);
      r_hist[1] <= x_TDATA[95:64];
      for (int k = 2; k <= EXP_LAT + 1; k++) r_hist[k] <= r_hist[k-1];
      p         <= prod_r[31 +: 25];  // p <= 1: e <= 1 and r <= 1
    end
  end

  exp_core #(.IW(W + 1), .F(F)) u_exp (.clk(ap_clk), .ce(ce), .x((W+1)'(x1) - (W+1)'(m1)), .y(e));

  axis_skid #(.WIDTH(33)) u_out (
      .clk    (ap_clk),
      .rst_n  (ap_rst_n),
      .s_axis_tdata ({l_out, 32'(p)}),
      .s_axis_tvalid(v_out),
      .s_axis_tready(out_s_ready),
      .m_axis_tdata ({y_TLAST, y_TDATA}),
      .m_axis_tvalid(y_TVALID),
      .m_axis_tready(y_TREADY)
  );

  assign y_TKEEP = '1;
  assign y_TSTRB = '1;

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, prod_r[30:0], prod_r[57:56]};
endmodule

`default_nettype wire
