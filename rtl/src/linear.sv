// The linear engine (unified compute unit): linear_core (rtl/src/linear_core.sv: the engine, its
// schedule, control and streams, described there) driving its own LI x LO mac_array. The attention
// unit's top (rtl/src/attention.sv) is built the same way, and rtl/src/linear_attention.sv drives ONE
// array from both cores (docs/linear.md, "One array for the linear engine and attention").
// Cycle model: cosim/linear_schedule.py; bench: cosim/test_linear.py.
`default_nettype none

module linear
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,           // a power of two
    parameter int LO = LINEAR_OUT,
    parameter int MAX_IN = LINEAR_MAX_IN,    // activation buffer: widest input, most rows
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int FIFO_DEPTH = 1 << $clog2(LI + 16),  // output FIFO: covers the credit loop, so an
                                                       // unstalled sink never throttles the issue
    parameter int W_BITS = LINEAR_W_BITS,    // w_ word (hardware.weight_word.bits)
    parameter int W_ROWS = LINEAR_W_ROWS,    // rows per w_ word: 1 row-major, 2 row pairs (linear_loader)
    // 1: the w_ / b_ input slices load whenever their slot is free, so w_TVALID / b_TVALID reach no
    // data enable (axis_skid FREE_LOAD): for a sender whose valid is late (weight_fifo, moe_experts)
    parameter bit WB_FREE_LOAD = 1'b0
) (
    input  logic                      ap_clk,
    input  logic                      ap_rst_n,   // synchronous, active low
    input  logic                      ap_start,
    output logic                      ap_done,
    output logic                      ap_idle,
    output logic                      ap_ready,
    input  logic [15:0]               in_dim,
    input  logic [15:0]               out_dim,
    input  logic [15:0]               rows,
    input  logic                      w_kind,
    input  logic                      b_kind,
    input  logic                      use_gelu,
    input  logic [1:0]                mode,
    input  logic [LI*ACT_W-1:0]       x_TDATA,
    input  logic                      x_TVALID,
    output logic                      x_TREADY,
    input  logic                      x_TLAST,
    input  logic [W_BITS-1:0]         w_TDATA,
    input  logic                      w_TVALID,
    output logic                      w_TREADY,
    input  logic                      w_TLAST,
    input  logic [AXI_WIDTH-1:0]      b_TDATA,
    input  logic                      b_TVALID,
    output logic                      b_TREADY,
    input  logic                      b_TLAST,
    input  logic [LO*ACT_W-1:0]       acc_TDATA,
    input  logic                      acc_TVALID,
    output logic                      acc_TREADY,
    input  logic                      acc_TLAST,
    input  logic [ACT_W-1:0]          s_TDATA,
    input  logic                      s_TVALID,
    output logic                      s_TREADY,
    input  logic                      s_TLAST,
    output logic [LO*ACT_W-1:0]       y_TDATA,
    output logic                      y_TVALID,
    input  logic                      y_TREADY,
    output logic                      y_TLAST
);
  localparam int MAX_IB = (MAX_IN + LI - 1) / LI;
  localparam int IBW    = MAX_IB > 1 ? $clog2(MAX_IB) : 1;
  localparam int PW     = 48;
  localparam int ACC_W  = 64;

  logic                        ld_valid, in_valid, in_first, in_last, in_shift, out_valid;
  logic [IBW:0]                ld_addr, in_addr;
  logic [LI-1:0]               ld_row;
  logic [LO-1:0]               ld_col;
  logic [LI*LO*LINEAR_W_W-1:0] ld_data;
  logic [LI*OPERAND_W-1:0]     in_a;
  logic [LO*PW-1:0]            in_c;
  logic [3:0]                  in_user, out_user;
  logic [LO*ACC_W-1:0]         out_acc;

  linear_core #(.LI(LI), .LO(LO), .MAX_IN(MAX_IN), .MAX_ROWS(MAX_ROWS), .FIFO_DEPTH(FIFO_DEPTH), .W_BITS(W_BITS),
              .W_ROWS(W_ROWS), .WB_FREE_LOAD(WB_FREE_LOAD)) u_core (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .in_dim, .out_dim, .rows, .w_kind, .b_kind,
      .use_gelu, .mode, .x_TDATA, .x_TVALID, .x_TREADY, .x_TLAST, .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST,
      .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST, .acc_TDATA, .acc_TVALID, .acc_TREADY, .acc_TLAST,
      .s_TDATA, .s_TVALID, .s_TREADY, .s_TLAST, .y_TDATA, .y_TVALID, .y_TREADY, .y_TLAST,
      .ld_valid, .ld_addr, .ld_row, .ld_col, .ld_data, .in_valid, .in_first, .in_last, .in_shift, .in_addr, .in_a,
      .in_c, .in_user, .out_valid, .out_acc, .out_user);

  mac_array #(.LI(LI), .LO(LO), .AW(OPERAND_W), .BW(LINEAR_W_W), .PW(PW), .ACC_W(ACC_W), .DEPTH(2 << IBW),
              .UW(4)) u_array (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .ld_valid, .ld_addr, .ld_row, .ld_col, .ld_data,
      .in_valid, .in_first, .in_last, .in_shift, .in_addr, .in_a, .in_c, .in_user,
      .out_valid, .out_acc, .out_user);
endmodule

`default_nettype wire
