// LayerNorm streamed straight into the linear engine: the accelerator's LN1 -> qkv, LN2 -> fc1 and
// LN2 -> gate path as one unit (rtl/src/layernorm.sv's y_ is rtl/src/linear.sv's x_). The frame
// model (cosim.frame_schedule.layernorm_streams / layernorm_lead) counts such a pair as LayerNorm's
// lead to its first output beat plus the engine's call with its x_ offered from then on; this top is
// that claim in RTL, measured by cosim/test_layernorm_linear.py.
//
// Why no width converter and no buffer: with LAYERNORM_LANES = LI a LayerNorm output beat is an
// engine x_ beat (LI act values, a row of D / LI beats in feature order), and LayerNorm emits a row of
// P = D / LI beats every P cycles, back to back, which is the beat a cycle the engine's input buffer
// takes (linear_act.sv: x_TREADY is its active flag). The guard below keeps the top to that case
// (edge_moe: 32 lanes, 6 beats a row); a config with other widths would need a gearbox and its own
// cycle model. in_dim is FEATURE_DIM by construction (LayerNorm's rows), so it is not a port.
//
// Ports: x_ is LayerNorm's input (per lane j: x in bits [64j, 64j+32), {beta, gamma} in
// [64j+32, 64j+64)); every other port is linear.sv's. xn_TVALID / xn_TREADY are the internal
// LayerNorm -> engine handshake, exported for observation. A call's rows must all pass through
// LayerNorm: its x_ beats are the rows of the calls in the order the engine takes them.
`default_nettype none

module layernorm_linear
  import model_pkg::*;
#(
    parameter int LI = LAYERNORM_LANES,     // = LAYERNORM_LANES (checked)
    parameter int LO = LINEAR_OUT,
    parameter int MAX_IN = LINEAR_MAX_IN,
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int W_BITS = LINEAR_W_BITS,
    // the config's two-row words fit its own tile (W_BITS = 2 LINEAR_IN weights); at another LI the
    // words are row-major (tiny: 2 LayerNorm lanes against LINEAR_IN 4)
    parameter int W_ROWS = LI == LINEAR_IN ? LINEAR_W_ROWS : 1
) (
    input  logic                          ap_clk,
    input  logic                          ap_rst_n,   // synchronous, active low
    input  logic                          ap_start,
    output logic                          ap_done,
    output logic                          ap_idle,
    output logic                          ap_ready,
    input  logic [15:0]                   out_dim,
    input  logic [15:0]                   rows,
    input  logic                          w_kind,
    input  logic                          b_kind,
    input  logic                          use_gelu,
    input  logic [1:0]                    mode,
    // LayerNorm's input: a row of D features and the layer's {beta, gamma} per feature
    input  logic [64*LAYERNORM_LANES-1:0] x_TDATA,
    input  logic                          x_TVALID,
    output logic                          x_TREADY,
    input  logic                          x_TLAST,    // ignored (rows are D / LANES beats)
    output logic                          xn_TVALID,
    output logic                          xn_TREADY,
    input  logic [W_BITS-1:0]             w_TDATA,
    input  logic                          w_TVALID,
    output logic                          w_TREADY,
    input  logic                          w_TLAST,
    input  logic [AXI_WIDTH-1:0]          b_TDATA,
    input  logic                          b_TVALID,
    output logic                          b_TREADY,
    input  logic                          b_TLAST,
    input  logic [LO*ACT_W-1:0]           acc_TDATA,
    input  logic                          acc_TVALID,
    output logic                          acc_TREADY,
    input  logic                          acc_TLAST,
    input  logic [ACT_W-1:0]              s_TDATA,
    input  logic                          s_TVALID,
    output logic                          s_TREADY,
    input  logic                          s_TLAST,
    output logic [LO*ACT_W-1:0]           y_TDATA,
    output logic                          y_TVALID,
    input  logic                          y_TREADY,
    output logic                          y_TLAST
);
  if (LI != LAYERNORM_LANES || MAX_IN < FEATURE_DIM) begin : g_chk
    $error("layernorm_linear: LI (%0d) must equal hardware.layernorm.lanes (%0d) and MAX_IN >= FEATURE_DIM: the LayerNorm beat is the engine's x_ beat",
           LI, LAYERNORM_LANES);
  end

  logic [LI*ACT_W-1:0] xn_data;
  logic                xn_last;
  /* verilator lint_off UNUSEDSIGNAL */   // LayerNorm's byte qualifiers: always all ones
  logic [4*LI-1:0]     xn_keep, xn_strb;
  /* verilator lint_on UNUSEDSIGNAL */

  layernorm u_ln (
      .ap_clk, .ap_rst_n, .x_TDATA, .x_TVALID, .x_TREADY, .x_TLAST, .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(xn_data), .y_TVALID(xn_TVALID), .y_TREADY(xn_TREADY), .y_TLAST(xn_last), .y_TKEEP(xn_keep),
      .y_TSTRB(xn_strb));

  linear #(.LI(LI), .LO(LO), .MAX_IN(MAX_IN), .MAX_ROWS(MAX_ROWS), .W_BITS(W_BITS), .W_ROWS(W_ROWS)) u_linear (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .in_dim(16'(FEATURE_DIM)), .out_dim, .rows,
      .w_kind, .b_kind, .use_gelu, .mode,
      .x_TDATA(xn_data), .x_TVALID(xn_TVALID), .x_TREADY(xn_TREADY), .x_TLAST(xn_last),
      .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST, .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST,
      .acc_TDATA, .acc_TVALID, .acc_TREADY, .acc_TLAST, .s_TDATA, .s_TVALID, .s_TREADY, .s_TLAST,
      .y_TDATA, .y_TVALID, .y_TREADY, .y_TLAST);
endmodule

`default_nettype wire
