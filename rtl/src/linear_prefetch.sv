// The linear engine behind its weight prefetch FIFO: the accelerator's weight path from the DMA's
// stream to the MAC array, as one unit (rtl/src/weight_fifo.sv in front of rtl/src/linear.sv's w_).
// The DMA pushes the frame's weight words (ddr_*, with the expert tags of weight_fifo's s side)
// whenever ddr_TREADY is high; route_* write a MoE layer's routing mask (weight_fifo). Every other
// port is linear.sv's. w_TVALID / w_TREADY are the internal w_ handshake, exported for observation.
//
// Cycles: cosim.linear_schedule.Sequence with a cosim.weight_fifo_schedule.WeightFifo (the two models
// composed); cosim/test_linear.py's test_frame_sequence drives this top's DMA side from its own token
// bucket and checks every call's ap_ready / ap_done against them (tests/test_cosim_linear.py).
`default_nettype none

module linear_prefetch
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,
    parameter int LO = LINEAR_OUT,
    parameter int MAX_IN = LINEAR_MAX_IN,
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int W_BITS = LINEAR_W_BITS,
    parameter int W_ROWS = LINEAR_W_ROWS,
    parameter int WF_DEPTH = LINEAR_WEIGHT_FIFO_DEPTH > 1 ? LINEAR_WEIGHT_FIFO_DEPTH : 16,
    parameter int EXPERTS = NUM_EXPERTS > 1 ? NUM_EXPERTS : 2,
    parameter int LAYER_BITS = 4
) (
    input  logic                       ap_clk,
    input  logic                       ap_rst_n,   // synchronous, active low
    input  logic                       ap_start,
    output logic                       ap_done,
    output logic                       ap_idle,
    output logic                       ap_ready,
    input  logic [15:0]                in_dim,
    input  logic [15:0]                out_dim,
    input  logic [15:0]                rows,
    input  logic                       w_kind,
    input  logic                       b_kind,
    input  logic                       use_gelu,
    input  logic [1:0]                 mode,
    input  logic [LI*ACT_W-1:0]        x_TDATA,
    input  logic                       x_TVALID,
    output logic                       x_TREADY,
    input  logic                       x_TLAST,
    // the DMA's weight stream into the FIFO
    input  logic [W_BITS-1:0]          ddr_TDATA,
    input  logic                       ddr_TVALID,
    output logic                       ddr_TREADY,
    input  logic                       ddr_TLAST,
    input  logic                       ddr_TUSER_spec,
    input  logic [LAYER_BITS-1:0]      ddr_TUSER_layer,
    input  logic [$clog2(EXPERTS)-1:0] ddr_TUSER_expert,
    input  logic                       route_we,
    input  logic [LAYER_BITS-1:0]      route_layer,
    input  logic [EXPERTS-1:0]         route_active,
    output logic [$clog2(WF_DEPTH):0]  wf_level,
    output logic                       w_TVALID,
    output logic                       w_TREADY,
    input  logic [AXI_WIDTH-1:0]       b_TDATA,
    input  logic                       b_TVALID,
    output logic                       b_TREADY,
    input  logic                       b_TLAST,
    input  logic [LO*ACT_W-1:0]        acc_TDATA,
    input  logic                       acc_TVALID,
    output logic                       acc_TREADY,
    input  logic                       acc_TLAST,
    input  logic [ACT_W-1:0]           s_TDATA,
    input  logic                       s_TVALID,
    output logic                       s_TREADY,
    input  logic                       s_TLAST,
    output logic [LO*ACT_W-1:0]        y_TDATA,
    output logic                       y_TVALID,
    input  logic                       y_TREADY,
    output logic                       y_TLAST
);
  logic [W_BITS-1:0] w_data;
  logic              w_last;

  weight_fifo #(.WIDTH(W_BITS), .DEPTH(WF_DEPTH), .EXPERTS(EXPERTS), .LAYER_BITS(LAYER_BITS)) u_wfifo (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .s_axis_tdata(ddr_TDATA), .s_axis_tlast(ddr_TLAST), .s_axis_tvalid(ddr_TVALID), .s_axis_tready(ddr_TREADY),
      .s_axis_tuser_spec(ddr_TUSER_spec), .s_axis_tuser_layer(ddr_TUSER_layer), .s_axis_tuser_expert(ddr_TUSER_expert),
      .route_we(route_we), .route_layer(route_layer), .route_active(route_active),
      .m_axis_tdata(w_data), .m_axis_tlast(w_last), .m_axis_tvalid(w_TVALID), .m_axis_tready(w_TREADY),
      .level(wf_level));

  // WB_FREE_LOAD (as moe_experts): w_TVALID is weight_fifo's filtered head (h_valid && h_kept), which
  // reached the w_ slice's data enable through 4 LUT (h_kept -> the slice's data, 3.02 ns on tiny)
  linear #(.LI(LI), .LO(LO), .MAX_IN(MAX_IN), .MAX_ROWS(MAX_ROWS), .W_BITS(W_BITS), .W_ROWS(W_ROWS), .WB_FREE_LOAD(1'b1)) u_linear (
      .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .ap_start(ap_start), .ap_done(ap_done), .ap_idle(ap_idle),
      .ap_ready(ap_ready), .in_dim(in_dim), .out_dim(out_dim), .rows(rows), .w_kind(w_kind), .b_kind(b_kind),
      .use_gelu(use_gelu), .mode(mode),
      .x_TDATA(x_TDATA), .x_TVALID(x_TVALID), .x_TREADY(x_TREADY), .x_TLAST(x_TLAST),
      .w_TDATA(w_data), .w_TVALID(w_TVALID), .w_TREADY(w_TREADY), .w_TLAST(w_last),
      .b_TDATA(b_TDATA), .b_TVALID(b_TVALID), .b_TREADY(b_TREADY), .b_TLAST(b_TLAST),
      .acc_TDATA(acc_TDATA), .acc_TVALID(acc_TVALID), .acc_TREADY(acc_TREADY), .acc_TLAST(acc_TLAST),
      .s_TDATA(s_TDATA), .s_TVALID(s_TVALID), .s_TREADY(s_TREADY), .s_TLAST(s_TLAST),
      .y_TDATA(y_TDATA), .y_TVALID(y_TVALID), .y_TREADY(y_TREADY), .y_TLAST(y_TLAST));
endmodule

`default_nettype wire
