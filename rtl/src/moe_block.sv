// A MoE block of the frame in RTL: x <- x + MoE(LN2(x)), with x in the residual buffer, LN2(x) and an
// expert's hidden rows in the hidden buffer and the gate logits in the logits buffer (three
// rtl/src/act_buffer.sv, the frame's layout: cosim.frame_schedule.activation_layout's "MoE" phase),
// LayerNorm, the linear engine and moe_router between them. Bit-exact to python_ref's fixed-point
// network: x + moe_raw(LN2(x)).moe_acc (python_ref/model/fixed_model.py), where the experts' fc2
// scatter-accumulate straight onto x: under act's WRAP the sum of residues does not depend on the
// order (python_ref/kernels/moe.py, "Order over experts"), so x + moe_acc equals x accumulated onto by
// every expert in turn (with a saturating act it would not; the bench refuses such a config).
//
// One beat width L throughout (LayerNorm's lanes = the engine's LI = LO = the residual and hidden
// buffers' lanes; edge_moe 32, tiny's 2 lanes make a 2 x 2 engine here, as in rtl/src/mlp_block.sv).
// The logits buffer has GL = min(L, E) lanes (edge_moe: E = 16, the frame's one beat a token); its
// reads pass axis_lane_split into moe_router's SOFTMAX_LANES, and the router's descriptor words leave
// on d_ (the frame's controller decodes them into the experts' calls and the buffers' commands).
// `route` (change it only with the buffers and the engine idle; it takes effect a cycle later) steers
// the buffers' ports:
//   0 host: x's wr_ from host_wr_, x's rd_ to host_rd_ (the previous and the next unit of the frame)
//   1 gate: x's rd_ (row-major) + {beta, gamma} -> LayerNorm -> the engine's x_ AND h's wr_ (LN2(x)
//           in beats 0 .. ND-1, kept for the experts' fc1); engine y_ -> g's wr_ (the gate call)
//   2 fc1:  h's rd_ (an expert's listed rows, beats 0 .. ND-1) -> engine x_; y_ -> h's wr_ (the
//           expert's hidden rows 0 .. n-1, beats ND ..)
//   3 fc2:  h's rd_ (hidden rows) -> engine x_; x's rd_ (listed, block-major) -> acc_; the scores on
//           s_; engine y_ -> x's wr_ (listed, block-major: the scaled scatter-accumulate onto x)
// g's rd_ always feeds the router (task_id, n_tokens: moe_router's, stable from the cycle before the
// first logits beat). The caller issues the buffers' commands and the engine's calls, as
// cosim/test_moe_block.py does; every wr_ port passes a register slice (as in mlp_block.sv).
`default_nettype none

module moe_block
  import model_pkg::*;
#(
    localparam int L = LAYERNORM_LANES,     // layernorm.sv's lanes (the package's)
    parameter int W_BITS = LINEAR_W_BITS,
    // the config's two-row words fit its own tile; at another L the words are row-major
    // (layernorm_linear.sv's rule; tiny: 2 lanes against LINEAR_IN 4)
    parameter int W_ROWS = L == LINEAR_IN ? LINEAR_W_ROWS : 1,
    parameter int ROWS = NUM_TOKENS,
    localparam int E  = NUM_EXPERTS,
    localparam int GL = L < E ? L : E,      // the logits buffer's lanes
    localparam int SL = SOFTMAX_LANES,      // moe_router's lanes
    localparam int ND = (FEATURE_DIM + L - 1) / L,
    // the hidden buffer: LN2(x) in beats 0 .. ND-1, an expert's hidden rows after them
    localparam int HIDDEN = ND * L + EXPERT_HIDDEN_DIM
) (
    input  logic                    ap_clk,
    input  logic                    ap_rst_n,   // synchronous, active low
    input  logic                    ap_start,
    output logic                    ap_done,
    output logic                    ap_idle,
    output logic                    ap_ready,
    input  logic [15:0]             in_dim,
    input  logic [15:0]             out_dim,
    input  logic [15:0]             rows,
    input  logic                    use_gelu,
    input  logic [1:0]              mode,
    input  logic [1:0]              route,
    input  logic [MOE_H_TASK_W-1:0] task_id,
    input  logic [7:0]              n_tokens,
    input  logic [W_BITS-1:0]       w_TDATA,
    input  logic                    w_TVALID,
    output logic                    w_TREADY,
    input  logic                    w_TLAST,
    input  logic [AXI_WIDTH-1:0]    b_TDATA,
    input  logic                    b_TVALID,
    output logic                    b_TREADY,
    input  logic                    b_TLAST,
    input  logic [ACT_W-1:0]        s_TDATA,    // fc2's scores, one per row (the engine's s_)
    input  logic                    s_TVALID,
    output logic                    s_TREADY,
    input  logic                    s_TLAST,
    input  logic [63:0]             xb_cmd_TDATA,
    input  logic                    xb_cmd_TVALID,
    output logic                    xb_cmd_TREADY,
    input  logic                    xb_cmd_TLAST,
    input  logic [63:0]             hb_cmd_TDATA,
    input  logic                    hb_cmd_TVALID,
    output logic                    hb_cmd_TREADY,
    input  logic                    hb_cmd_TLAST,
    input  logic [63:0]             gb_cmd_TDATA,
    input  logic                    gb_cmd_TVALID,
    output logic                    gb_cmd_TREADY,
    input  logic                    gb_cmd_TLAST,
    output logic                    xb_idle,
    output logic                    hb_idle,
    output logic                    gb_idle,
    output logic                    xb_err,
    output logic                    hb_err,
    output logic                    gb_err,
    input  logic [L*ACT_W-1:0]      host_wr_TDATA,
    input  logic                    host_wr_TVALID,
    output logic                    host_wr_TREADY,
    input  logic                    host_wr_TLAST,
    output logic [L*ACT_W-1:0]      host_rd_TDATA,
    output logic                    host_rd_TVALID,
    input  logic                    host_rd_TREADY,
    output logic                    host_rd_TLAST,
    input  logic [L*32-1:0]         gb_TDATA,    // per lane {beta, gamma}, gamma in the low 16 bits
    input  logic                    gb_TVALID,
    output logic                    gb_TREADY,
    input  logic                    gb_TLAST,    // ignored (ND beats a load)
    output logic [63:0]             d_TDATA,     // moe_router's descriptor words
    output logic                    d_TVALID,
    input  logic                    d_TREADY,
    output logic                    d_TLAST,
    output logic                    route_we,    // moe_router's routing pulse (the weight FIFO's)
    output logic [E-1:0]            route_active
);
  if (FEATURE_DIM % L != 0 || EXPERT_HIDDEN_DIM % L != 0 || E % GL != 0 || GL % SL != 0) begin : g_chk
    $error("moe_block: L (%0d) must divide D and the expert hidden width, and the logits' %0d lanes E and be a multiple of SOFTMAX_LANES",
           L, GL);
  end
  localparam int MAX_IN = EXPERT_HIDDEN_DIM > FEATURE_DIM ? EXPERT_HIDDEN_DIM : FEATURE_DIM;
  // the route in one-hot flip-flops (rtl/src/route_onehot.sv: decoded from the port it was 3.85 ns)
  logic host, gate, fc1, fc2;
  route_onehot #(.N(4)) u_route (.clk(ap_clk), .rst_n(ap_rst_n), .route, .onehot({fc2, fc1, gate, host}));

  // ---- the buffers, each wr_ behind its register slice (WR_SLICE)
  logic [L*ACT_W-1:0]  xw_d, hw_d, xr_d, hr_d;
  logic [GL*ACT_W-1:0] gr_d;
  logic                xw_v, xw_r, hw_v, hw_r, gw_v, gw_r;
  logic [L*ACT_W-1:0]  ex_d, acc_d, y_d;           // the engine's x_, acc_ and y_
  logic                ex_v, ex_r, acc_v, acc_r, y_v, y_r, y_l;
  logic                xr_v, xr_r, xr_l, hr_v, hr_r, hr_l, gr_v, gr_r, gr_l;
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
  act_buffer #(.L(GL), .VALUES(E), .ROWS(ROWS), .NARROW(1'b0), .WR_SLICE(1'b1)) u_g (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .cmd_TDATA(gb_cmd_TDATA), .cmd_TVALID(gb_cmd_TVALID), .cmd_TREADY(gb_cmd_TREADY), .cmd_TLAST(gb_cmd_TLAST),
      .wr_TDATA(y_d[GL*ACT_W-1:0]), .wr_TVALID(gw_v), .wr_TREADY(gw_r), .wr_TLAST(1'b0),
      .rd_TDATA(gr_d), .rd_TVALID(gr_v), .rd_TREADY(gr_r), .rd_TLAST(gr_l), .idle(gb_idle), .err(gb_err));

  // ---- LayerNorm: x's rows zipped with the layer's {beta, gamma} (rtl/src/ln_param_zip.sv)
  logic [64*L-1:0]    ln_x;
  logic               ln_xv, ln_xr;
  logic [L*ACT_W-1:0] ln_y;
  logic [4*L-1:0]     ln_keep, ln_strb;
  logic               ln_yv, ln_yr, ln_yl;
  ln_param_zip #(.L(L)) u_gb (
      .clk(ap_clk), .rst_n(ap_rst_n), .gb_TDATA, .gb_TVALID, .gb_TREADY, .x_data(xr_d),
      .x_fire(ln_xv && ln_xr), .ln_data(ln_x));
  layernorm u_ln (
      .ap_clk, .ap_rst_n,
      .x_TDATA(ln_x), .x_TVALID(ln_xv), .x_TREADY(ln_xr), .x_TLAST(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(ln_y), .y_TVALID(ln_yv), .y_TREADY(ln_yr), .y_TLAST(ln_yl), .y_TKEEP(ln_keep), .y_TSTRB(ln_strb));

  // ---- the engine (w_kind / b_kind 0: weight_t and bias_t; the gate's weights must be weight_t)
  linear #(.LI(L), .LO(L), .MAX_IN(MAX_IN), .MAX_ROWS(ROWS), .W_BITS(W_BITS), .W_ROWS(W_ROWS)) u_linear (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready, .in_dim, .out_dim, .rows,
      .w_kind(1'b0), .b_kind(1'b0), .use_gelu, .mode,
      .x_TDATA(ex_d), .x_TVALID(ex_v), .x_TREADY(ex_r), .x_TLAST(1'b0), .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST,
      .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST,
      .acc_TDATA(acc_d), .acc_TVALID(acc_v), .acc_TREADY(acc_r), .acc_TLAST(1'b0),
      .s_TDATA, .s_TVALID, .s_TREADY, .s_TLAST,
      .y_TDATA(y_d), .y_TVALID(y_v), .y_TREADY(y_r), .y_TLAST(y_l));

  // ---- the router on the logits buffer's reads
  logic [SL*ACT_W-1:0] rx_d;
  logic                rx_v, rx_r;
  logic [7:0]          d_keep, d_strb;
  axis_lane_split #(.W(ACT_W), .N_IN(GL), .N_OUT(SL)) u_split (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_data(gr_d), .s_valid(gr_v), .s_ready(gr_r),
      .m_data(rx_d), .m_valid(rx_v), .m_ready(rx_r));
  moe_router u_router (
      .ap_clk, .ap_rst_n, .task_id, .n_tokens,
      .x_TDATA(rx_d), .x_TVALID(rx_v), .x_TREADY(rx_r), .x_TLAST(1'b0), .x_hold_next(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(d_TDATA), .y_TVALID(d_TVALID), .y_TREADY(d_TREADY), .y_TLAST(d_TLAST), .y_TKEEP(d_keep), .y_TSTRB(d_strb),
      .route_we, .route_active);

  // ---- the routes
  // x's rd_: host, LayerNorm (gate) or acc_ (fc2)
  assign host_rd_TDATA  = xr_d;
  assign host_rd_TLAST  = xr_l;
  assign host_rd_TVALID = host && xr_v;
  assign ln_xv          = gate && xr_v;
  assign acc_d          = xr_d;
  assign acc_v          = fc2 && xr_v;
  assign xr_r           = host ? host_rd_TREADY : gate ? ln_xr : fc2 && acc_r;
  // the engine's x_: LayerNorm's y_ (gate; a beat goes to the engine and h's wr_ slice at once, so
  // each valid waits for the other's ready: both readies are flip-flops) or h's rd_ (fc1, fc2)
  assign ex_d  = gate ? ln_y : hr_d;
  assign ex_v  = gate ? ln_yv && hw_r : (fc1 || fc2) && hr_v;
  assign ln_yr = gate && ex_r && hw_r;
  assign hr_r  = (fc1 || fc2) && ex_r;
  // the engine's y_: g (gate), h (fc1) or x (fc2); h's wr_ from LayerNorm (gate); x's wr_ from the host
  assign gw_v           = gate && y_v;
  assign hw_d           = gate ? ln_y : y_d;
  assign hw_v           = gate ? ln_yv && ex_r : fc1 && y_v;
  assign xw_d           = fc2 ? y_d : host_wr_TDATA;
  assign xw_v           = fc2 ? y_v : host && host_wr_TVALID;
  assign host_wr_TREADY = host && xw_r;
  assign y_r            = gate ? gw_r : fc1 ? hw_r : fc2 && xw_r;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = ^{ln_keep, ln_strb, ln_yl, y_l, hr_l, gr_l, gb_TLAST, host_wr_TLAST, d_keep, d_strb};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
