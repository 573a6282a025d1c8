// A dense MLP block of the frame in RTL: x <- x + fc2(GELU(fc1(LN2(x)))), with x in the residual
// buffer and fc1's hidden rows in the hidden buffer (two rtl/src/act_buffer.sv), LayerNorm and the
// linear engine between them: the pieces of rtl/src/residual_layernorm.sv (LayerNorm's rows from x)
// and rtl/src/residual_linear.sv (the accumulate onto x) with the hidden rows between the two calls.
//
// One beat width L throughout (LayerNorm's lanes = the engine's LI = LO = both buffers' lanes; on
// edge_moe 32, the config's own; tiny's 2 lanes make a 2 x 2 engine here). `route` (change it only
// with both buffers and the engine idle; it takes effect a cycle later) steers the buffers' ports:
//   0 host: x's wr_ from host_wr_, x's rd_ to host_rd_ (the previous and the next unit of the frame)
//   1 fc1:  x's rd_ (row-major) + {beta, gamma} -> LayerNorm -> engine x_; engine y_ -> h's wr_
//   2 fc2:  h's rd_ (row-major) -> engine x_; x's rd_ (block-major) -> engine acc_; engine y_ -> x's wr_
// The caller issues the buffers' commands (xb_cmd_, hb_cmd_) and the engine's calls (fc1 with GELU in
// store mode, fc2 in accumulate mode), as cosim/test_mlp_block.py does; both wr_ ports pass the
// buffer's register slice (WR_SLICE: the route's choice in front of a buffer's write valid).
`default_nettype none

module mlp_block
  import model_pkg::*;
#(
    localparam int L = LAYERNORM_LANES,     // layernorm.sv's lanes (the package's)
    parameter int W_BITS = LINEAR_W_BITS,
    // the config's two-row words fit its own tile; at another L the words are row-major
    // (layernorm_linear.sv's rule; tiny: 2 lanes against LINEAR_IN 4)
    parameter int W_ROWS = L == LINEAR_IN ? LINEAR_W_ROWS : 1,
    parameter int ROWS = NUM_TOKENS,
    parameter int HIDDEN = MLP_HIDDEN_DIM
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
    input  logic                 use_gelu,
    input  logic [1:0]           mode,
    input  logic [1:0]           route,
    input  logic [W_BITS-1:0]    w_TDATA,
    input  logic                 w_TVALID,
    output logic                 w_TREADY,
    input  logic                 w_TLAST,
    input  logic [AXI_WIDTH-1:0] b_TDATA,
    input  logic                 b_TVALID,
    output logic                 b_TREADY,
    input  logic                 b_TLAST,
    input  logic [63:0]          xb_cmd_TDATA,
    input  logic                 xb_cmd_TVALID,
    output logic                 xb_cmd_TREADY,
    input  logic                 xb_cmd_TLAST,
    input  logic [63:0]          hb_cmd_TDATA,
    input  logic                 hb_cmd_TVALID,
    output logic                 hb_cmd_TREADY,
    input  logic                 hb_cmd_TLAST,
    output logic                 xb_idle,
    output logic                 hb_idle,
    output logic                 xb_err,
    output logic                 hb_err,
    input  logic [L*ACT_W-1:0]   host_wr_TDATA,
    input  logic                 host_wr_TVALID,
    output logic                 host_wr_TREADY,
    input  logic                 host_wr_TLAST,
    output logic [L*ACT_W-1:0]   host_rd_TDATA,
    output logic                 host_rd_TVALID,
    input  logic                 host_rd_TREADY,
    output logic                 host_rd_TLAST,
    input  logic [L*32-1:0]      gb_TDATA,    // per lane {beta, gamma}, gamma in the low 16 bits
    input  logic                 gb_TVALID,
    output logic                 gb_TREADY,
    input  logic                 gb_TLAST     // ignored (NB beats a load)
);
  if (FEATURE_DIM % L != 0 || HIDDEN % L != 0) begin : g_chk
    $error("mlp_block: L (%0d) must divide FEATURE_DIM and the hidden width", L);
  end
  localparam int MAX_IN = HIDDEN > FEATURE_DIM ? HIDDEN : FEATURE_DIM;
  // the route in one-hot flip-flops (rtl/src/route_onehot.sv; route 3 is no route: every port closed)
  logic host, fc1, fc2, none;
  route_onehot #(.N(4)) u_route (.clk(ap_clk), .rst_n(ap_rst_n), .route, .onehot({none, fc2, fc1, host}));

  // ---- the buffers, each wr_ behind its register slice (WR_SLICE)
  logic [L*ACT_W-1:0] xw_d, hw_d, xr_d, hr_d;
  logic               xw_v, xw_r, hw_v, hw_r;
  logic               xr_v, xr_r, xr_l, hr_v, hr_r, hr_l;
  act_buffer #(.L(L), .VALUES(FEATURE_DIM), .ROWS(ROWS), .NARROW(1'b0), .WR_SLICE(1'b1)) u_x (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .cmd_TDATA(xb_cmd_TDATA), .cmd_TVALID(xb_cmd_TVALID), .cmd_TREADY(xb_cmd_TREADY), .cmd_TLAST(xb_cmd_TLAST),
      .wr_TDATA(xw_d), .wr_TVALID(xw_v), .wr_TREADY(xw_r), .wr_TLAST(1'b0),
      .rd_TDATA(xr_d), .rd_TVALID(xr_v), .rd_TREADY(xr_r), .rd_TLAST(xr_l), .idle(xb_idle), .err(xb_err));
  act_buffer #(.L(L), .VALUES(HIDDEN), .ROWS(ROWS), .NARROW(1'b1), .WR_SLICE(1'b1)) u_h (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .cmd_TDATA(hb_cmd_TDATA), .cmd_TVALID(hb_cmd_TVALID), .cmd_TREADY(hb_cmd_TREADY), .cmd_TLAST(hb_cmd_TLAST),
      .wr_TDATA(hw_d), .wr_TVALID(hw_v), .wr_TREADY(hw_r), .wr_TLAST(1'b0),
      .rd_TDATA(hr_d), .rd_TVALID(hr_v), .rd_TREADY(hr_r), .rd_TLAST(hr_l), .idle(hb_idle), .err(hb_err));

  // ---- LayerNorm: x's rows zipped with the layer's {beta, gamma} (rtl/src/ln_param_zip.sv)
  logic [64*L-1:0] ln_x;
  logic            ln_xv, ln_xr;
  logic [L*ACT_W-1:0] ln_y;
  logic [4*L-1:0]  ln_keep, ln_strb;
  logic            ln_yv, ln_yr, ln_yl;
  ln_param_zip #(.L(L)) u_gb (
      .clk(ap_clk), .rst_n(ap_rst_n), .gb_TDATA, .gb_TVALID, .gb_TREADY, .x_data(xr_d),
      .x_fire(ln_xv && ln_xr), .ln_data(ln_x));
  layernorm u_ln (
      .ap_clk, .ap_rst_n,
      .x_TDATA(ln_x), .x_TVALID(ln_xv), .x_TREADY(ln_xr), .x_TLAST(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(ln_y), .y_TVALID(ln_yv), .y_TREADY(ln_yr), .y_TLAST(ln_yl), .y_TKEEP(ln_keep), .y_TSTRB(ln_strb));

  // ---- the engine
  logic [L*ACT_W-1:0] ex_d, acc_d, y_d;
  logic               ex_v, ex_r, acc_v, acc_r, y_v, y_r, y_l, s_r;
  linear #(.LI(L), .LO(L), .MAX_IN(MAX_IN), .MAX_ROWS(ROWS), .W_BITS(W_BITS), .W_ROWS(W_ROWS)) u_linear (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .in_dim, .out_dim, .rows,
      .w_kind(1'b0), .b_kind(1'b0), .use_gelu, .mode,
      .x_TDATA(ex_d), .x_TVALID(ex_v), .x_TREADY(ex_r), .x_TLAST(1'b0), .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST,
      .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST,
      .acc_TDATA(acc_d), .acc_TVALID(acc_v), .acc_TREADY(acc_r), .acc_TLAST(1'b0),
      .s_TDATA('0), .s_TVALID(1'b0), .s_TREADY(s_r), .s_TLAST(1'b0),
      .y_TDATA(y_d), .y_TVALID(y_v), .y_TREADY(y_r), .y_TLAST(y_l));

  // ---- the routes
  // x's rd_: host, LayerNorm (fc1) or acc_ (fc2)
  assign host_rd_TDATA  = xr_d;
  assign host_rd_TLAST  = xr_l;
  assign host_rd_TVALID = host && xr_v;
  assign ln_xv          = fc1 && xr_v;
  assign acc_d          = xr_d;
  assign acc_v          = fc2 && xr_v;
  assign xr_r           = host ? host_rd_TREADY : fc1 ? ln_xr : fc2 && acc_r;
  // the engine's x_: LayerNorm's y_ (fc1) or h's rd_ (fc2)
  assign ex_d  = fc2 ? hr_d : ln_y;
  assign ex_v  = fc2 ? hr_v : fc1 && ln_yv;
  assign ln_yr = fc1 && ex_r;
  assign hr_r  = fc2 && ex_r;
  // the engine's y_: h (fc1) or x (fc2); x's wr_ from the host otherwise
  assign hw_d           = y_d;
  assign hw_v           = fc1 && y_v;
  assign xw_d           = fc2 ? y_d : host_wr_TDATA;
  assign xw_v           = fc2 ? y_v : host && host_wr_TVALID;
  assign host_wr_TREADY = host && xw_r;
  assign y_r            = fc1 ? hw_r : fc2 && xw_r;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = ^{none, ln_keep, ln_strb, ln_yl, y_l, s_r, hr_l, gb_TLAST, host_wr_TLAST};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
