// Multi-head self-attention of one layer: attention_core (rtl/src/attention_core.sv: the unit, its
// schedule, control and streams, described there) driving its own L x L mac_array. The linear
// engine's top (rtl/src/linear.sv) is built the same way, and rtl/src/linear_attention.sv drives ONE
// array from both cores (docs/linear.md, "One array for the linear engine and attention").
// Cycle model: cosim/attention_schedule.py; bench: cosim/test_attention.py.
`default_nettype none

module attention
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,                        // array LI = LO = L
    parameter int TMAX = NUM_TOKENS,
    parameter int EL   = attn_pkg::default_el(L),          // exp lanes
    parameter int RU   = attn_pkg::default_ru(L),          // reciprocal units
    parameter int NL   = attn_pkg::default_nl(L),          // normalisation lanes (6 DSP48E2 each)
    parameter int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY // exp_core's latency (rtl/src/exp_core.sv)
) (
    input  logic               ap_clk,
    input  logic               ap_rst_n,     // synchronous, active low
    input  logic               ap_start,
    output logic               ap_done,
    output logic               ap_idle,
    output logic               ap_ready,
    input  logic [7:0]         tokens,
    input  logic [L*ACT_W-1:0] x_TDATA,
    input  logic               x_TVALID,
    output logic               x_TREADY,
    input  logic               x_TLAST,
    output logic [L*ACT_W-1:0] y_TDATA,
    output logic               y_TVALID,
    input  logic               y_TREADY,
    output logic               y_TLAST
);
  localparam int H     = NUM_HEADS;
  localparam int DB    = HEAD_DIM / L;
  localparam int KBMAX = (TMAX + L - 1) / L;
  localparam int DEPTH = attn_pkg::stationary_depth(DB, KBMAX);    // attention_core's DEPTH
  localparam int DAW   = $clog2(DEPTH);
  localparam int HW    = H > 1 ? $clog2(H) : 1;
  localparam int UW    = attn_pkg::user_w(HW);             // attention_core's UW
  localparam int AW    = 27;
  localparam int BW    = 18;
  localparam int ACC_W = 64;

  logic               ld_valid, in_valid, in_first, in_last, in_shift, out_valid;
  logic [DAW-1:0]     ld_addr, in_addr;
  logic [L-1:0]       ld_row, ld_col;
  logic [L*L*BW-1:0]  ld_data;
  logic [L*AW-1:0]    in_a;
  logic [L*48-1:0]    in_c;
  logic [UW-1:0]      in_user, out_user;
  logic [L*ACC_W-1:0] out_acc;

  attention_core #(.L(L), .TMAX(TMAX), .EL(EL), .RU(RU), .NL(NL), .EXP_LAT(EXP_LAT)) u_core (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .tokens, .x_TDATA, .x_TVALID, .x_TREADY,
      .x_TLAST, .y_TDATA, .y_TVALID, .y_TREADY, .y_TLAST,
      .ld_valid, .ld_addr, .ld_row, .ld_col, .ld_data, .in_valid, .in_first, .in_last, .in_shift, .in_addr, .in_a,
      .in_c, .in_user, .out_valid, .out_acc, .out_user);

  mac_array #(.LI(L), .LO(L), .AW(AW), .BW(BW), .PW(48), .ACC_W(ACC_W), .SHIFT(10), .DEPTH(DEPTH), .UW(UW)) u_array (
      .clk(ap_clk), .rst_n(ap_rst_n), .ld_valid, .ld_addr, .ld_row, .ld_col, .ld_data, .in_valid, .in_first, .in_last,
      .in_shift, .in_addr, .in_a, .in_c, .in_user, .out_valid, .out_acc, .out_user);
endmodule

`default_nettype wire
