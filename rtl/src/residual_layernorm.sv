// LayerNorm fed from the residual buffer, streamed into the linear engine: the frame's LN1 -> qkv,
// LN2 -> fc1 and LN2 -> gate with LayerNorm's rows read from an rtl/src/act_buffer.sv (the residual x)
// instead of the host. The second piece of the frame top in RTL, beside rtl/src/residual_linear.sv
// (the accumulate calls' acc_ / y_ on the same buffer).
//
// The buffer's beat is LayerNorm's (L = LAYERNORM_LANES act values; on edge_moe also the engine's LO,
// so that one buffer serves both tops' ports); each read beat b of a row is zipped with the layer's
// {beta, gamma} of its L features (gb_: a row's NB = D / L beats, held in a small register file and
// replayed for every row: rtl/src/ln_param_zip.sv) into LayerNorm's x_ beat, and
// LayerNorm's y_ is the engine's x_ (rtl/src/layernorm_linear.sv). The caller issues a row-major read
// of the call's rows (all of them, or a gather list) on xb_cmd_ as the call is taken; x is loaded
// through host_wr_ with a write command. The calls are store-mode (the frame's LN-fed calls): acc_
// and s_ are tied off, mode must be 0.
`default_nettype none

module residual_layernorm
  import model_pkg::*;
#(
    parameter int L = LAYERNORM_LANES,
    parameter int LO = LINEAR_OUT,
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int W_BITS = LINEAR_W_BITS,
    parameter int W_ROWS = L == LINEAR_IN ? LINEAR_W_ROWS : 1,
    parameter int ROWS = NUM_TOKENS
) (
    input  logic                 ap_clk,
    input  logic                 ap_rst_n,   // synchronous, active low
    input  logic                 ap_start,
    output logic                 ap_done,
    output logic                 ap_idle,
    output logic                 ap_ready,
    input  logic [15:0]          out_dim,
    input  logic [15:0]          rows,
    input  logic                 w_kind,
    input  logic                 b_kind,
    input  logic                 use_gelu,
    input  logic [W_BITS-1:0]    w_TDATA,
    input  logic                 w_TVALID,
    output logic                 w_TREADY,
    input  logic                 w_TLAST,
    input  logic [AXI_WIDTH-1:0] b_TDATA,
    input  logic                 b_TVALID,
    output logic                 b_TREADY,
    input  logic                 b_TLAST,
    output logic [LO*ACT_W-1:0]  y_TDATA,
    output logic                 y_TVALID,
    input  logic                 y_TREADY,
    output logic                 y_TLAST,
    input  logic [63:0]          xb_cmd_TDATA,
    input  logic                 xb_cmd_TVALID,
    output logic                 xb_cmd_TREADY,
    input  logic                 xb_cmd_TLAST,
    output logic                 xb_idle,
    output logic                 xb_err,
    input  logic [L*ACT_W-1:0]   host_wr_TDATA,
    input  logic                 host_wr_TVALID,
    output logic                 host_wr_TREADY,
    input  logic                 host_wr_TLAST,
    input  logic [L*32-1:0]      gb_TDATA,    // per lane {beta, gamma}, gamma in the low 16 bits
    input  logic                 gb_TVALID,
    output logic                 gb_TREADY,
    input  logic                 gb_TLAST,    // ignored (NB beats a load)
    output logic                 xn_TVALID,   // LayerNorm -> engine handshake, for observation
    output logic                 xn_TREADY
);
  if (FEATURE_DIM % L != 0) begin : g_chk
    $error("residual_layernorm: L (%0d) must divide FEATURE_DIM (%0d): a row is NB whole beats", L, FEATURE_DIM);
  end

  logic [L*ACT_W-1:0] rd_data;
  logic               rd_valid, rd_ready, rd_last;
  act_buffer #(.L(L), .VALUES(FEATURE_DIM), .ROWS(ROWS), .NARROW(1'b0)) u_x (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .cmd_TDATA(xb_cmd_TDATA), .cmd_TVALID(xb_cmd_TVALID), .cmd_TREADY(xb_cmd_TREADY), .cmd_TLAST(xb_cmd_TLAST),
      .wr_TDATA(host_wr_TDATA), .wr_TVALID(host_wr_TVALID), .wr_TREADY(host_wr_TREADY), .wr_TLAST(host_wr_TLAST),
      .rd_TDATA(rd_data), .rd_TVALID(rd_valid), .rd_TREADY(rd_ready), .rd_TLAST(rd_last),
      .idle(xb_idle), .err(xb_err));

  // the layer's {beta, gamma} beside each read beat (rtl/src/ln_param_zip.sv)
  logic [64*L-1:0] ln_data;
  ln_param_zip #(.L(L)) u_gb (
      .clk(ap_clk), .rst_n(ap_rst_n), .gb_TDATA, .gb_TVALID, .gb_TREADY, .x_data(rd_data),
      .x_fire(rd_valid && rd_ready), .ln_data);

  /* verilator lint_off UNUSEDSIGNAL */
  logic unused_in, acc_ready, s_ready;
  /* verilator lint_on UNUSEDSIGNAL */
  assign unused_in = rd_last ^ gb_TLAST ^ acc_ready ^ s_ready;
  layernorm_linear #(.LI(L), .LO(LO), .MAX_IN(FEATURE_DIM > LINEAR_MAX_IN ? FEATURE_DIM : LINEAR_MAX_IN),
                     .MAX_ROWS(MAX_ROWS), .W_BITS(W_BITS), .W_ROWS(W_ROWS)) u_lnl (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .out_dim, .rows, .w_kind, .b_kind, .use_gelu,
      .mode(2'd0),
      .x_TDATA(ln_data), .x_TVALID(rd_valid), .x_TREADY(rd_ready), .x_TLAST(1'b0), .xn_TVALID, .xn_TREADY,
      .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST, .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST,
      .acc_TDATA('0), .acc_TVALID(1'b0), .acc_TREADY(acc_ready), .acc_TLAST(1'b0),
      .s_TDATA('0), .s_TVALID(1'b0), .s_TREADY(s_ready), .s_TLAST(1'b0),
      .y_TDATA, .y_TVALID, .y_TREADY, .y_TLAST);
endmodule

`default_nettype wire
