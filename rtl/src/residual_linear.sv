// The linear engine on the residual buffer: the frame's accumulate calls (proj and the dense fc2 onto
// x, an expert's fc2 scatter-accumulating onto x with its scores, the patch embedding onto pos) with
// their acc_ read from and their y_ written back to an rtl/src/act_buffer.sv instead of the host.
// The first piece of the frame top in RTL: rtl/src/linear.sv's acc_ is the buffer's rd_, its y_ the
// buffer's wr_; whoever runs the frame issues the buffer's commands beside the engine's calls (per
// accumulate call: a block-major read of the call's rows, then a block-major write of the same rows;
// a scatter list for the scaled mode). cosim/test_residual_linear.py measures that the engine runs
// every call in the cycles cosim.linear_schedule.Sequence predicts with acc_ from the buffer.
//
// host_sel (change it only with the buffer idle): 1 connects the buffer's wr_ / rd_ to host_wr_ /
// host_rd_ (loading x, reading it out: the previous and the next unit of the frame), 0 to the
// engine's y_ / acc_. Every other port is linear.sv's (x_, w_, b_, s_ and the call's arguments) or the
// buffer's (xb_cmd_, xb_idle, xb_err). A store-mode call's y_ goes to the buffer too (its write
// command is the caller's).
`default_nettype none

module residual_linear
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,
    parameter int LO = LINEAR_OUT,
    parameter int MAX_IN = LINEAR_MAX_IN,
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int W_BITS = LINEAR_W_BITS,
    parameter int W_ROWS = LINEAR_W_ROWS,
    parameter int VALUES = FEATURE_DIM,     // the residual's row (x: D)
    parameter int ROWS = NUM_TOKENS
) (
    input  logic                 ap_clk,
    input  logic                 ap_rst_n,   // synchronous, active low
    input  logic                 ap_start,
    output logic                 ap_done,
    output logic                 ap_idle,
    output logic                 ap_ready,
    input  logic [15:0]          in_dim,
    input  logic [15:0]          out_dim,
    input  logic [15:0]          rows,
    input  logic                 w_kind,
    input  logic                 b_kind,
    input  logic                 use_gelu,
    input  logic [1:0]           mode,
    input  logic [LI*ACT_W-1:0]  x_TDATA,
    input  logic                 x_TVALID,
    output logic                 x_TREADY,
    input  logic                 x_TLAST,
    input  logic [W_BITS-1:0]    w_TDATA,
    input  logic                 w_TVALID,
    output logic                 w_TREADY,
    input  logic                 w_TLAST,
    input  logic [AXI_WIDTH-1:0] b_TDATA,
    input  logic                 b_TVALID,
    output logic                 b_TREADY,
    input  logic                 b_TLAST,
    input  logic [ACT_W-1:0]     s_TDATA,
    input  logic                 s_TVALID,
    output logic                 s_TREADY,
    input  logic                 s_TLAST,
    input  logic [63:0]          xb_cmd_TDATA,
    input  logic                 xb_cmd_TVALID,
    output logic                 xb_cmd_TREADY,
    input  logic                 xb_cmd_TLAST,
    output logic                 xb_idle,
    output logic                 xb_err,
    input  logic                 host_sel,
    input  logic [LO*ACT_W-1:0]  host_wr_TDATA,
    input  logic                 host_wr_TVALID,
    output logic                 host_wr_TREADY,
    input  logic                 host_wr_TLAST,
    output logic [LO*ACT_W-1:0]  host_rd_TDATA,
    output logic                 host_rd_TVALID,
    input  logic                 host_rd_TREADY,
    output logic                 host_rd_TLAST
);
  logic [LO*ACT_W-1:0] acc_data, y_data, wr_data, rd_data;
  logic                acc_valid, acc_ready, acc_last, y_valid, y_ready, y_last;
  logic                wr_valid, wr_ready, rd_valid, rd_ready, rd_last;

  linear #(.LI(LI), .LO(LO), .MAX_IN(MAX_IN), .MAX_ROWS(MAX_ROWS), .W_BITS(W_BITS), .W_ROWS(W_ROWS)) u_linear (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .in_dim, .out_dim, .rows,
      .w_kind, .b_kind, .use_gelu, .mode,
      .x_TDATA, .x_TVALID, .x_TREADY, .x_TLAST, .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST,
      .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST,
      .acc_TDATA(acc_data), .acc_TVALID(acc_valid), .acc_TREADY(acc_ready), .acc_TLAST(acc_last),
      .s_TDATA, .s_TVALID, .s_TREADY, .s_TLAST,
      .y_TDATA(y_data), .y_TVALID(y_valid), .y_TREADY(y_ready), .y_TLAST(y_last));

  // The write side through the buffer's register slice (WR_SLICE): the choice of y_ or host_wr_ is one
  // LUT in front of the buffer's write valid, which drives its sequencer's counters (4 LUT from the
  // valid: 3.44 ns with the choice in front on tiny, 3.20 for the buffer alone). A write lands a cycle
  // later; the engine's y_ sees the slice's ready, a flip-flop.
  act_buffer #(.L(LO), .VALUES(VALUES), .ROWS(ROWS), .NARROW(1'b0), .WR_SLICE(1'b1)) u_x (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .cmd_TDATA(xb_cmd_TDATA), .cmd_TVALID(xb_cmd_TVALID), .cmd_TREADY(xb_cmd_TREADY), .cmd_TLAST(xb_cmd_TLAST),
      .wr_TDATA(wr_data), .wr_TVALID(wr_valid), .wr_TREADY(wr_ready), .wr_TLAST(1'b0),
      .rd_TDATA(rd_data), .rd_TVALID(rd_valid), .rd_TREADY(rd_ready), .rd_TLAST(rd_last),
      .idle(xb_idle), .err(xb_err));

  // the two sides of each buffer port, chosen by host_sel (a static select: no handshake crosses it)
  assign wr_data        = host_sel ? host_wr_TDATA : y_data;
  assign wr_valid       = host_sel ? host_wr_TVALID : y_valid;
  assign host_wr_TREADY = host_sel && wr_ready;
  assign y_ready        = !host_sel && wr_ready;
  assign acc_data       = rd_data;
  assign acc_valid      = !host_sel && rd_valid;
  assign acc_last       = rd_last;
  assign host_rd_TDATA  = rd_data;
  assign host_rd_TVALID = host_sel && rd_valid;
  assign host_rd_TLAST  = rd_last;
  assign rd_ready       = host_sel ? host_rd_TREADY : acc_ready;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = y_last ^ host_wr_TLAST;   // the buffer counts its beats
  /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
