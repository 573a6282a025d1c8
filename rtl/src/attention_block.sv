// The attention block of the frame in RTL: x <- x + proj(attention(qkv(LN1(x)))), with x in the
// residual buffer and qkv and attention's output in the hidden buffer (two rtl/src/act_buffer.sv),
// LayerNorm, and the linear engine and attention on ONE MAC array (rtl/src/linear_attention.sv)
// between them. Bit-exact to python_ref's fixed-point network (python_ref/model/fixed_model.py: qkv
// and proj with attn_bias, attention_raw, the projection accumulated onto x).
//
// Where qkv waits. On the shared array attention cannot take its input while the qkv call owns the
// array, so qkv goes to the hidden buffer (free in this phase: 4 D values a row, the dense MLP's width)
// and attention reads it back in its phases' order. The buffer is narrow (operands), and storing a
// value there and letting attention convert it must equal attention's conversion of the value
// itself: Q's format has the operand's fraction bits (the stored operand is exactly Q's rounding),
// and K / V, with fewer fraction bits, are written rounded to odd (the buffer's `odd` write), which a
// later rounding to two or more fraction bits fewer does not see as a second rounding
// (python_ref.kernels.act_buffer: store, odd_store_is_exact; tests/test_act_buffer.py).
//
// Layout of a hidden row (ND = D / L beats of L values): qkv in beats 0 .. 3 ND - 1 (Q | K | V), the
// attention output (T rows of D, heads concatenated) in beats 3 ND .. 4 ND - 1.
//
// Lanes: L = the array's LI = LO (attention needs a square tile of at least 4); LayerNorm has its own
// lanes (LNL = LAYERNORM_LANES): when LNL < L, x's rows pass rtl/src/axis_lane_split.sv into
// LayerNorm and its rows rtl/src/axis_lane_join.sv into the engine (tiny: 4 and 2; the engine then
// gets a beat every L / LNL cycles); edge_moe has LNL = L and no converter.
//
// `route` (change it only with the buffers and both cores idle; it takes effect a cycle later)
// steers the buffers' ports and asks for the array's owner (sel_req = attention):
//   0 host: x's wr_ from host_wr_, x's rd_ to host_rd_ (the previous and the next unit of the frame)
//   1 qkv:  x's rd_ (row-major) + {beta, gamma} -> LayerNorm -> the engine's x_; y_ -> h's wr_
//           (block-major: Q's blocks rounded half up, K's and V's to odd: two write commands)
//   2 attention: h's rd_ (the phases' segments, row-major, one read command each) -> attention's x_;
//           its y_ -> h's wr_ (row-major, beats 3 ND ..)
//   3 proj: h's rd_ (beats 3 ND .., row-major) -> the engine's x_; x's rd_ (block-major) -> acc_;
//           y_ -> x's wr_ (the accumulate onto x)
// The caller issues the buffers' commands and the calls (the linear's ap_* and attention's attn_ap_*,
// each held until the array is its unit's: linear_attention's rule), as cosim/test_attention_block.py
// does; both wr_ ports pass a register slice.
`default_nettype none

module attention_block
  import model_pkg::*;
#(
    localparam int L = LINEAR_IN,           // the array's LI = LO (attention's L)
    localparam int LNL = LAYERNORM_LANES,   // layernorm.sv's lanes (the package's)
    parameter int ROWS = NUM_TOKENS,
    localparam int ND = (FEATURE_DIM + L - 1) / L,
    localparam int HIDDEN = 4 * ND * L      // the hidden buffer's values a row: qkv, then attention's output
) (
    input  logic                    ap_clk,
    input  logic                    ap_rst_n,   // synchronous, active low
    input  logic [1:0]              route,
    output logic                    sel,        // the array's owner (0 linear, 1 attention)
    // the linear engine's call (rtl/src/linear.sv's)
    input  logic                    ap_start,
    output logic                    ap_done,
    output logic                    ap_idle,
    output logic                    ap_ready,
    input  logic [15:0]             in_dim,
    input  logic [15:0]             out_dim,
    input  logic [15:0]             rows,
    input  logic                    w_kind,
    input  logic                    b_kind,
    input  logic                    use_gelu,
    input  logic [1:0]              mode,
    input  logic [LINEAR_W_BITS-1:0] w_TDATA,
    input  logic                    w_TVALID,
    output logic                    w_TREADY,
    input  logic                    w_TLAST,
    input  logic [AXI_WIDTH-1:0]    b_TDATA,
    input  logic                    b_TVALID,
    output logic                    b_TREADY,
    input  logic                    b_TLAST,
    // attention's layer (rtl/src/attention.sv's)
    input  logic                    attn_ap_start,
    output logic                    attn_ap_done,
    output logic                    attn_ap_idle,
    output logic                    attn_ap_ready,
    input  logic [7:0]              tokens,
    // the buffers
    input  logic [63:0]             xb_cmd_TDATA,
    input  logic                    xb_cmd_TVALID,
    output logic                    xb_cmd_TREADY,
    input  logic                    xb_cmd_TLAST,
    input  logic [63:0]             hb_cmd_TDATA,
    input  logic                    hb_cmd_TVALID,
    output logic                    hb_cmd_TREADY,
    input  logic                    hb_cmd_TLAST,
    output logic                    xb_idle,
    output logic                    hb_idle,
    output logic                    xb_err,
    output logic                    hb_err,
    input  logic [L*ACT_W-1:0]      host_wr_TDATA,
    input  logic                    host_wr_TVALID,
    output logic                    host_wr_TREADY,
    input  logic                    host_wr_TLAST,
    output logic [L*ACT_W-1:0]      host_rd_TDATA,
    output logic                    host_rd_TVALID,
    input  logic                    host_rd_TREADY,
    output logic                    host_rd_TLAST,
    input  logic [LNL*32-1:0]       gb_TDATA,    // per LayerNorm lane {beta, gamma}, gamma in the low 16 bits
    input  logic                    gb_TVALID,
    output logic                    gb_TREADY,
    input  logic                    gb_TLAST     // ignored (D / LNL beats a load)
);
  if (FEATURE_DIM % L != 0 || HEAD_DIM % L != 0 || L % LNL != 0 || LINEAR_IN != LINEAR_OUT) begin : g_chk
    $error("attention_block: the square tile L (%0d) must divide D and the head dim, LayerNorm's lanes (%0d) L", L, LNL);
  end

  // the route in one-hot flip-flops (rtl/src/route_onehot.sv)
  logic host, qkv, attn, proj;
  route_onehot #(.N(4)) u_route (.clk(ap_clk), .rst_n(ap_rst_n), .route, .onehot({proj, attn, qkv, host}));

  // ---- the buffers, each wr_ behind its register slice (WR_SLICE)
  logic [L*ACT_W-1:0] xw_d, hw_d, xr_d, hr_d;
  logic               xw_v, xw_r, hw_v, hw_r;
  logic               xr_v, xr_r, xr_l, hr_v, hr_r, hr_l;
  logic [L*ACT_W-1:0] lx_d, ly_d, ay_d;         // the engine's x_ and y_, attention's y_
  logic               lx_v, lx_r, acc_r, ly_v, ly_r, ly_l, ax_r, ay_v, ay_r, ay_l;
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

  // ---- LayerNorm: x's rows (in LayerNorm's lanes) zipped with the layer's {beta, gamma}
  logic [LNL*ACT_W-1:0] lnx_d, lny_d;
  logic                 lnx_v, lny_v, lny_r;
  logic                 xr_ln_r;                // x's rd_ ready towards LayerNorm
  logic [64*LNL-1:0]    ln_x;
  logic                 ln_xr;
  logic [4*LNL-1:0]     ln_keep, ln_strb;
  logic                 ln_yl;
  logic [L*ACT_W-1:0]   lnw_d;                  // LayerNorm's rows in the engine's lanes
  logic                 lnw_v, lnw_r;
  if (LNL == L) begin : g_same
    assign lnx_d   = xr_d;
    assign lnx_v   = qkv && xr_v;
    assign xr_ln_r = ln_xr;
    assign lnw_d   = lny_d;
    assign lnw_v   = lny_v;
    assign lny_r   = lnw_r;
  end else begin : g_convert
    axis_lane_split #(.W(ACT_W), .N_IN(L), .N_OUT(LNL)) u_split (
        .clk(ap_clk), .rst_n(ap_rst_n), .s_data(xr_d), .s_valid(qkv && xr_v), .s_ready(xr_ln_r),
        .m_data(lnx_d), .m_valid(lnx_v), .m_ready(ln_xr));
    axis_lane_join #(.W(ACT_W), .N_IN(LNL), .N_OUT(L)) u_join (
        .clk(ap_clk), .rst_n(ap_rst_n), .s_data(lny_d), .s_valid(lny_v), .s_ready(lny_r),
        .m_data(lnw_d), .m_valid(lnw_v), .m_ready(lnw_r));
  end
  ln_param_zip #(.L(LNL)) u_gb (
      .clk(ap_clk), .rst_n(ap_rst_n), .gb_TDATA, .gb_TVALID, .gb_TREADY, .x_data(lnx_d),
      .x_fire(lnx_v && ln_xr), .ln_data(ln_x));
  layernorm u_ln (
      .ap_clk, .ap_rst_n,
      .x_TDATA(ln_x), .x_TVALID(lnx_v), .x_TREADY(ln_xr), .x_TLAST(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(lny_d), .y_TVALID(lny_v), .y_TREADY(lny_r), .y_TLAST(ln_yl), .y_TKEEP(ln_keep), .y_TSTRB(ln_strb));

  // ---- the engine and attention on one array
  logic s_r;
  linear_attention #(.LI(L), .LO(L), .MAX_IN(FEATURE_DIM), .MAX_ROWS(ROWS)) u_la (
      .ap_clk, .ap_rst_n, .sel_req(attn), .sel,
      .lin_ap_start(ap_start), .lin_ap_done(ap_done), .lin_ap_idle(ap_idle), .lin_ap_ready(ap_ready),
      .lin_in_dim(in_dim), .lin_out_dim(out_dim), .lin_rows(rows), .lin_w_kind(w_kind), .lin_b_kind(b_kind),
      .lin_use_gelu(use_gelu), .lin_mode(mode),
      .lin_x_TDATA(lx_d), .lin_x_TVALID(lx_v), .lin_x_TREADY(lx_r), .lin_x_TLAST(1'b0),
      .lin_w_TDATA(w_TDATA), .lin_w_TVALID(w_TVALID), .lin_w_TREADY(w_TREADY), .lin_w_TLAST(w_TLAST),
      .lin_b_TDATA(b_TDATA), .lin_b_TVALID(b_TVALID), .lin_b_TREADY(b_TREADY), .lin_b_TLAST(b_TLAST),
      .lin_acc_TDATA(xr_d), .lin_acc_TVALID(proj && xr_v), .lin_acc_TREADY(acc_r), .lin_acc_TLAST(1'b0),
      .lin_s_TDATA('0), .lin_s_TVALID(1'b0), .lin_s_TREADY(s_r), .lin_s_TLAST(1'b0),
      .lin_y_TDATA(ly_d), .lin_y_TVALID(ly_v), .lin_y_TREADY(ly_r), .lin_y_TLAST(ly_l),
      .attn_ap_start, .attn_ap_done, .attn_ap_idle, .attn_ap_ready, .attn_tokens(tokens),
      .attn_x_TDATA(hr_d), .attn_x_TVALID(attn && hr_v), .attn_x_TREADY(ax_r), .attn_x_TLAST(1'b0),
      .attn_y_TDATA(ay_d), .attn_y_TVALID(ay_v), .attn_y_TREADY(ay_r), .attn_y_TLAST(ay_l));

  // ---- the routes
  // x's rd_: host, LayerNorm (qkv) or acc_ (proj)
  assign host_rd_TDATA  = xr_d;
  assign host_rd_TLAST  = xr_l;
  assign host_rd_TVALID = host && xr_v;
  assign xr_r           = host ? host_rd_TREADY : qkv ? xr_ln_r : proj && acc_r;
  // h's rd_: attention's x_ (attention) or the engine's x_ (proj)
  assign hr_r = attn ? ax_r : proj && lx_r;
  // the engine's x_: LayerNorm's rows (qkv) or h's rd_ (proj)
  assign lx_d  = proj ? hr_d : lnw_d;
  assign lx_v  = proj ? hr_v : qkv && lnw_v;
  assign lnw_r = qkv && lx_r;
  // h's wr_: the engine's y_ (qkv) or attention's y_ (attention); x's wr_: the engine's y_ (proj) or the
  // host. Attention's y_ is valid only in its own route (its layer runs there, and the route changes
  // only with it idle), so its valid and ready need no route term: the route flag in front of the
  // slice's load enable was 3.34 ns.
  assign hw_d           = attn ? ay_d : ly_d;
  assign hw_v           = ay_v || (qkv && ly_v);
  assign ay_r           = hw_r;
  assign xw_d           = proj ? ly_d : host_wr_TDATA;
  assign xw_v           = proj ? ly_v : host && host_wr_TVALID;
  assign host_wr_TREADY = host && xw_r;
  assign ly_r           = qkv ? hw_r : proj && xw_r;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = ^{ln_keep, ln_strb, ln_yl, ly_l, ay_l, s_r, hr_l, gb_TLAST, host_wr_TLAST};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
