// The whole backbone in RTL: every unit of a frame on the frame's three activation buffers, so that a
// frame runs from pos and the pixels to the last layer's x with nothing but commands and weights from
// outside. Bit-exact to python_ref's fixed-point network (python_ref/kernels/backbone.py, FixedM3ViT)
// when driven as python_ref/kernels/frame_ctrl.py issues the frame (cosim/test_backbone.py).
//
// Inside: the residual x, the hidden rows and the gate logits in three rtl/src/act_buffer.sv (the shapes
// of rtl/src/act_buffers.sv, python_ref.kernels.act_buffer.BufferShape.frame); LayerNorm; the linear
// engine and attention on ONE MAC array (rtl/src/linear_attention.sv); moe_router on the logits. The
// per-layer pieces are the block tops' (rtl/src/attention_block.sv, mlp_block.sv, moe_block.sv), here on
// one engine and one set of buffers, with the patch embedding added.
//
// Lanes: L = the array's LI = LO (square, at least 4 for attention) on every buffer port and stream;
// LayerNorm has its own LNL = LAYERNORM_LANES and, when LNL < L, x's rows pass axis_lane_split into it
// and its rows axis_lane_join into the engine (tiny: 4 and 2). The logits buffer has GL = min(L, E)
// lanes (the low GL lanes of the gate call's y_ beat) and its reads pass axis_lane_split into
// moe_router's SOFTMAX_LANES.
//
// `route` (frame_ctrl's ROUTES, in order; change it only with the buffers and the units idle: it takes
// effect a cycle later) steers the ports; sel_req = attention:
//   0 host:      x's wr_ <- host_wr_ (pos), x's rd_ -> host_rd_ (the frame's output)
//   1 patch:     host_wr_ (the pixel rows, converted to act) -> engine x_; x's rd_ -> acc_; y_ -> x's wr_
//   2 ln:        x's rd_ + {beta, gamma} -> LayerNorm -> engine x_; y_ -> h's wr_ (qkv, a dense fc1)
//   3 gate:      as ln, LayerNorm's rows also -> h's wr_ (LN2(x) kept for the experts); y_ -> g's wr_;
//                g's rd_ -> moe_router -> d_ (its descriptor words)
//   4 hidden:    h's rd_ -> engine x_; y_ -> h's wr_ (an expert's fc1)
//   5 acc:       h's rd_ -> engine x_; x's rd_ -> acc_ (s_ from the host); y_ -> x's wr_ (proj, fc2, an
//                expert's fc2)
//   6 attention: h's rd_ -> attention x_; attention's y_ -> h's wr_
//   7            none: every port closed
// A caller (a host CPU, or a sequencer) issues the buffers' commands and the units' calls in the
// frame controller's steps (python_ref.kernels.frame_ctrl.Step); every wr_ port passes the buffer's
// register slice (WR_SLICE).
`default_nettype none

module backbone
  import model_pkg::*;
#(
    localparam int L   = LINEAR_IN,          // the array's LI = LO
    localparam int LNL = LAYERNORM_LANES,    // layernorm.sv's lanes
    parameter int ROWS = NUM_TOKENS,
    localparam int E   = NUM_EXPERTS,
    localparam int GL  = L < E ? L : E,      // the logits buffer's lanes
    localparam int SL  = SOFTMAX_LANES,      // moe_router's lanes
    localparam int ND  = (FEATURE_DIM + L - 1) / L,
    // the hidden rows (rtl/src/act_buffers.sv's H_VALUES): a dense MLP's hidden width, or LN2(x)'s
    // beats and an expert's hidden rows side by side; qkv and attention's output need 4 ND beats
    localparam int MOE_VALUES = NUM_LAYERS > 1 ? ND * L + EXPERT_HIDDEN_DIM : 0,
    localparam int HIDDEN = MLP_HIDDEN_DIM > MOE_VALUES ? MLP_HIDDEN_DIM : MOE_VALUES,
    // the weight prefetch FIFO (hardware.weight_fifo.depth words of hardware.weight_word.bits)
    localparam int WF_DEPTH = LINEAR_WEIGHT_FIFO_DEPTH > 1 ? LINEAR_WEIGHT_FIFO_DEPTH : 16,
    localparam int WF_EXPERTS = E > 1 ? E : 2,
    localparam int FIFO_EB = $clog2(WF_EXPERTS),
    localparam int LAYER_BITS = 4
) (
    input  logic                    ap_clk,
    input  logic                    ap_rst_n,   // synchronous, active low
    input  logic [2:0]              route,
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
    // the frame's weight words from the DMA into the weight prefetch FIFO (rtl/src/weight_fifo.sv's s
    // side: each MoE layer's experts tagged speculative with their layer and expert), in the order the
    // engine's calls take them; the router's routing pulse writes the FIFO's mask for layer moe_layer
    input  logic [LINEAR_W_BITS-1:0] ddr_TDATA,
    input  logic                    ddr_TVALID,
    output logic                    ddr_TREADY,
    input  logic                    ddr_TLAST,
    input  logic                    ddr_TUSER_spec,
    input  logic [LAYER_BITS-1:0]   ddr_TUSER_layer,
    input  logic [FIFO_EB-1:0]      ddr_TUSER_expert,
    input  logic [LAYER_BITS-1:0]   moe_layer,  // the gate step's layer (stable through its router call)
    output logic [$clog2(WF_DEPTH):0] wf_level,
    input  logic [AXI_WIDTH-1:0]    b_TDATA,
    input  logic                    b_TVALID,
    output logic                    b_TREADY,
    input  logic                    b_TLAST,
    input  logic [ACT_W-1:0]        s_TDATA,    // an expert fc2's scores, one per row (the engine's s_)
    input  logic                    s_TVALID,
    output logic                    s_TREADY,
    input  logic                    s_TLAST,
    // attention's layer (rtl/src/attention.sv's)
    input  logic                    attn_ap_start,
    output logic                    attn_ap_done,
    output logic                    attn_ap_idle,
    output logic                    attn_ap_ready,
    input  logic [7:0]              tokens,
    // the router (moe_router's scalars, stable from the cycle before the first logits beat)
    input  logic [MOE_H_TASK_W-1:0] task_id,
    input  logic [7:0]              n_tokens,
    output logic [63:0]             d_TDATA,    // its descriptor words
    output logic                    d_TVALID,
    input  logic                    d_TREADY,
    output logic                    d_TLAST,
    output logic                    route_we,   // its routing pulse (the weight FIFO's)
    output logic [E-1:0]            route_active,
    // the buffers
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
    input  logic [LNL*32-1:0]       gb_TDATA,    // per LayerNorm lane {beta, gamma}, gamma in the low 16 bits
    input  logic                    gb_TVALID,
    output logic                    gb_TREADY,
    input  logic                    gb_TLAST     // ignored (D / LNL beats a load)
);
  if (NUM_LAYERS > (1 << LAYER_BITS)) begin : g_chk_layers
    $error("backbone: %0d layers do not fit the weight FIFO's %0d-bit layer tag", NUM_LAYERS, LAYER_BITS);
  end
  if (FEATURE_DIM % L != 0 || HEAD_DIM % L != 0 || L % LNL != 0 || LINEAR_IN != LINEAR_OUT || L < 4
      || HIDDEN < 4 * ND * L || E % GL != 0 || GL % SL != 0) begin : g_chk
    $error("backbone: the square tile L (%0d) must be at least 4 and divide D and the head dim, LayerNorm's lanes (%0d) L, the logits' %0d lanes E and be a multiple of SOFTMAX_LANES; the hidden rows (%0d values) must hold 4 D",
           L, LNL, GL, HIDDEN);
  end

  // The route decoded into flip-flops, one per group of routes a mux or handshake tests (a port's
  // sources and sinks), so that each ready and valid below is one gate of flip-flops: with the routes'
  // one-hot flags and the groups formed after them (route_onehot.sv) the engine's x_ / y_ slices saw
  // 5 LUT levels (3.68 ns on tiny). The data selects have their own copies (kept: Yosys would merge
  // them), so the wide muxes' fan-out does not load the handshakes' nets. Reset: the host's route.
  localparam logic [2:0] R_HOST = 3'd0, R_PATCH = 3'd1, R_LN = 3'd2, R_GATE = 3'd3, R_HIDDEN = 3'd4, R_ACC = 3'd5,
                         R_ATTENTION = 3'd6;
  logic host, patch, ln, gate, attn;            // single routes
  logic to_ln, onto_x, from_h, y_to_h;          // ln | gate; patch | acc; hidden | acc; ln | hidden
  (* keep *) logic sel_from_h, sel_patch, sel_attn, sel_gate, sel_onto_x;   // the data selects' copies
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      {host, patch, ln, gate, attn, to_ln, onto_x, from_h, y_to_h} <= 9'b1_0000_0000;
      {sel_from_h, sel_patch, sel_attn, sel_gate, sel_onto_x}     <= '0;
    end else begin
      host       <= route == R_HOST;
      patch      <= route == R_PATCH;
      ln         <= route == R_LN;
      gate       <= route == R_GATE;
      attn       <= route == R_ATTENTION;
      to_ln      <= route == R_LN || route == R_GATE;
      onto_x     <= route == R_PATCH || route == R_ACC;
      from_h     <= route == R_HIDDEN || route == R_ACC;
      y_to_h     <= route == R_LN || route == R_HIDDEN;
      sel_from_h <= route == R_HIDDEN || route == R_ACC;
      sel_patch  <= route == R_PATCH;
      sel_attn   <= route == R_ATTENTION;
      sel_gate   <= route == R_GATE;
      sel_onto_x <= route == R_PATCH || route == R_ACC;
    end
  end

  // ---- the buffers, each wr_ behind its register slice (WR_SLICE)
  logic [L*ACT_W-1:0]  xw_d, hw_d, xr_d, hr_d;
  logic [GL*ACT_W-1:0] gr_d;
  logic                xw_v, xw_r, hw_v, hw_r, gw_v, gw_r;
  logic                xr_v, xr_r, xr_l, hr_v, hr_r, hr_l, gr_v, gr_r, gr_l;
  logic [L*ACT_W-1:0]  lx_d, ly_d, ay_d;      // the engine's x_ and y_ (at their slices), attention's y_
  logic                lx_v, lx_r, acc_r, ly_v, ly_r, ly_l, ax_r, ay_v, ay_r, ay_l;
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
      .wr_TDATA(ly_d[GL*ACT_W-1:0]), .wr_TVALID(gw_v), .wr_TREADY(gw_r), .wr_TLAST(1'b0),
      .rd_TDATA(gr_d), .rd_TVALID(gr_v), .rd_TREADY(gr_r), .rd_TLAST(gr_l), .idle(gb_idle), .err(gb_err));

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
    assign lnx_v   = to_ln && xr_v;
    assign xr_ln_r = ln_xr;
    assign lnw_d   = lny_d;
    assign lnw_v   = lny_v;
    assign lny_r   = lnw_r;
  end else begin : g_convert
    axis_lane_split #(.W(ACT_W), .N_IN(L), .N_OUT(LNL)) u_split (
        .clk(ap_clk), .rst_n(ap_rst_n), .s_data(xr_d), .s_valid(to_ln && xr_v), .s_ready(xr_ln_r),
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

  // ---- the engine and attention on one array. The engine's x_ and y_ pass a register slice each: the
  // routes' muxes in front of x_ (four sources) and behind y_ (three sinks) would otherwise reach into
  // the engine's call start and its output stall enable (o_ce) in one cycle (3.93 ns on tiny without
  // them). A slice costs its beat a cycle of latency and no throughput.
  logic [L*ACT_W-1:0] ex_d, ey_d;                // the engine's own x_ and y_
  logic               ex_v, ex_r, ey_v, ey_r;
  // x_'s slice loads its data whenever free (FREE_LOAD): the routes' valid reaches no data enable
  axis_skid #(.WIDTH(L * ACT_W), .FREE_LOAD(1'b1)) u_xs (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(lx_d), .s_axis_tvalid(lx_v), .s_axis_tready(lx_r),
      .m_axis_tdata(ex_d), .m_axis_tvalid(ex_v), .m_axis_tready(ex_r));
  axis_skid #(.WIDTH(L * ACT_W)) u_ys (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(ey_d), .s_axis_tvalid(ey_v), .s_axis_tready(ey_r),
      .m_axis_tdata(ly_d), .m_axis_tvalid(ly_v), .m_axis_tready(ly_r));
  // ---- the weight path: the DMA's words through the prefetch FIFO into the engine's w_. The FIFO's
  // head drops the words of experts the router's pulse marks inactive (route_we / route_active, the
  // router's registers); WB_FREE_LOAD as in rtl/src/linear_prefetch.sv (the FIFO's filtered head valid
  // reaches no data enable of the engine's w_ slice)
  logic [LINEAR_W_BITS-1:0] w_d;
  logic                     w_v, w_r, w_l;
  logic [WF_EXPERTS-1:0]    wf_active;
  assign wf_active = WF_EXPERTS'(route_active);
  weight_fifo #(.WIDTH(LINEAR_W_BITS), .DEPTH(WF_DEPTH), .EXPERTS(WF_EXPERTS), .LAYER_BITS(LAYER_BITS)) u_wf (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .s_axis_tdata(ddr_TDATA), .s_axis_tlast(ddr_TLAST), .s_axis_tvalid(ddr_TVALID), .s_axis_tready(ddr_TREADY),
      .s_axis_tuser_spec(ddr_TUSER_spec), .s_axis_tuser_layer(ddr_TUSER_layer), .s_axis_tuser_expert(ddr_TUSER_expert),
      .route_we, .route_layer(moe_layer), .route_active(wf_active),
      .m_axis_tdata(w_d), .m_axis_tlast(w_l), .m_axis_tvalid(w_v), .m_axis_tready(w_r), .level(wf_level));

  logic acc_v;
  linear_attention #(.LI(L), .LO(L), .MAX_ROWS(ROWS), .WB_FREE_LOAD(1'b1)) u_la (
      .ap_clk, .ap_rst_n, .sel_req(attn), .sel,
      .lin_ap_start(ap_start), .lin_ap_done(ap_done), .lin_ap_idle(ap_idle), .lin_ap_ready(ap_ready),
      .lin_in_dim(in_dim), .lin_out_dim(out_dim), .lin_rows(rows), .lin_w_kind(w_kind), .lin_b_kind(b_kind),
      .lin_use_gelu(use_gelu), .lin_mode(mode),
      .lin_x_TDATA(ex_d), .lin_x_TVALID(ex_v), .lin_x_TREADY(ex_r), .lin_x_TLAST(1'b0),
      .lin_w_TDATA(w_d), .lin_w_TVALID(w_v), .lin_w_TREADY(w_r), .lin_w_TLAST(w_l),
      .lin_b_TDATA(b_TDATA), .lin_b_TVALID(b_TVALID), .lin_b_TREADY(b_TREADY), .lin_b_TLAST(b_TLAST),
      .lin_acc_TDATA(xr_d), .lin_acc_TVALID(acc_v), .lin_acc_TREADY(acc_r), .lin_acc_TLAST(1'b0),
      .lin_s_TDATA(s_TDATA), .lin_s_TVALID(s_TVALID), .lin_s_TREADY(s_TREADY), .lin_s_TLAST(s_TLAST),
      .lin_y_TDATA(ey_d), .lin_y_TVALID(ey_v), .lin_y_TREADY(ey_r), .lin_y_TLAST(ly_l),
      .attn_ap_start, .attn_ap_done, .attn_ap_idle, .attn_ap_ready, .attn_tokens(tokens),
      .attn_x_TDATA(hr_d), .attn_x_TVALID(attn && hr_v), .attn_x_TREADY(ax_r), .attn_x_TLAST(1'b0),
      .attn_y_TDATA(ay_d), .attn_y_TVALID(ay_v), .attn_y_TREADY(ay_r), .attn_y_TLAST(ay_l));

  // ---- the router on the logits buffer's reads
  logic [SL*ACT_W-1:0] rx_d;
  logic                rx_v, rx_r;
  logic [7:0]          d_keep, d_strb;
  axis_lane_split #(.W(ACT_W), .N_IN(GL), .N_OUT(SL)) u_gsplit (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_data(gr_d), .s_valid(gr_v), .s_ready(gr_r),
      .m_data(rx_d), .m_valid(rx_v), .m_ready(rx_r));
  moe_router u_router (
      .ap_clk, .ap_rst_n, .task_id, .n_tokens,
      .x_TDATA(rx_d), .x_TVALID(rx_v), .x_TREADY(rx_r), .x_TLAST(1'b0), .x_hold_next(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(d_TDATA), .y_TVALID(d_TVALID), .y_TREADY(d_TREADY), .y_TLAST(d_TLAST), .y_TKEEP(d_keep), .y_TSTRB(d_strb),
      .route_we, .route_active);

  // ---- the routes (AND-OR of the flags above: each port's sources and sinks)
  // x's rd_: the host (host), LayerNorm (ln, gate) or acc_ (patch, acc)
  assign host_rd_TDATA  = xr_d;
  assign host_rd_TLAST  = xr_l;
  assign host_rd_TVALID = host && xr_v;
  assign acc_v          = onto_x && xr_v;
  assign xr_r           = (host && host_rd_TREADY) || (to_ln && xr_ln_r) || (onto_x && acc_r);
  // h's rd_: the engine's x_ (hidden, acc) or attention's x_ (attention)
  assign hr_r = (attn && ax_r) || (from_h && lx_r);
  // the engine's x_: LayerNorm's rows (ln; gate: a beat goes to the engine and h's wr_ slice at once,
  // so each valid waits for the other's ready, both flip-flops), h's rd_ (hidden, acc) or the host's
  // pixel rows (patch)
  assign lx_d = sel_from_h ? hr_d : sel_patch ? host_wr_TDATA : lnw_d;
  assign lx_v = (from_h && hr_v) || (patch && host_wr_TVALID) || (ln && lnw_v) || (gate && lnw_v && hw_r);
  assign lnw_r = (ln && lx_r) || (gate && lx_r && hw_r);
  // h's wr_: the engine's y_ (ln, hidden), LayerNorm's rows (gate) or attention's y_ (attention: valid
  // only in its own route, the layer runs there and the route changes only with it idle, so its valid
  // and ready need no route term)
  assign hw_d = sel_attn ? ay_d : sel_gate ? lnw_d : ly_d;
  assign hw_v = ay_v || (y_to_h && ly_v) || (gate && lnw_v && lx_r);
  assign ay_r = hw_r;
  // g's wr_: the engine's y_ (gate); x's wr_: the engine's y_ (patch, acc) or the host (host)
  assign gw_v           = gate && ly_v;
  assign xw_d           = sel_onto_x ? ly_d : host_wr_TDATA;
  assign xw_v           = (onto_x && ly_v) || (host && host_wr_TVALID);
  assign host_wr_TREADY = (host && xw_r) || (patch && lx_r);
  // the engine's y_: h (ln, hidden), g (gate) or x (patch, acc)
  assign ly_r = (y_to_h && hw_r) || (gate && gw_r) || (onto_x && xw_r);

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = ^{ln_keep, ln_strb, ln_yl, ly_l, ay_l, hr_l, gr_l, gb_TLAST, host_wr_TLAST, d_keep, d_strb};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
