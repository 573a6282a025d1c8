// MoE router: gate logits in, the layer's engine-call descriptor stream out, word for word
// python_ref.kernels.moe.descriptor_words(route(logits), expert_schedule(...), task) (docs/moe.md).
//
// Ports (Vitis stream naming, ap_ctrl_none):
//   task_id   the gate's task (MOE_H_TASK_W bits), taken at a run's first input beat.
//   n_tokens  T, tokens of the run (8 bits), taken at a run's first input beat; a run starts only
//             when 1 <= n_tokens <= NUM_TOKENS (otherwise x_TREADY stays low).
//   x_        the gate logits, token by token in ascending order: NB = ceil(E/L) beats per token of
//             L act lanes (the softmax's input format: lane i of beat b = expert b*L + i; lanes past
//             E ignored). x_TLAST is ignored (the unit counts E and T).
//   x_hold_next
//             the caller closes x_ in the next cycle (x_TREADY low then): a function of the caller's
//             next state, registered here into the ready, so that the caller gates neither x_TVALID
//             nor x_TREADY (moe_layer's route hold); 0 when unused.
//   y_        64-bit descriptor words: GATE, LOAD, then per active expert (ascending) the fc1 CALL
//             header and its rows, the fc2 CALL header and its rows; y_TLAST on the last word. The
//             stream starts after the run's last token has been routed; the next run's first beat is
//             taken once the last word has been issued to the output FIFO.
//   route_we, route_active
//             the run's routing for the weight prefetch FIFO (rtl/src/weight_fifo.sv's route_we /
//             route_active; the top adds the layer): route_we is high for one cycle once the last
//             token's last slot is in its queue, with route_active[e] = expert e has a token. Both
//             are flip-flops; route_active holds until the next run starts. The pulse comes
//             before the run's first descriptor word (cosim/test_moe_router.py checks it for
//             every run), so the FIFO drops and skips inactive experts before the engine's first
//             expert call can ask for a word.
// Structure:
//   input stage: beats to the softmax (rtl/src/softmax.sv, p over all E experts) and to a row
//     register; a token starts only with a credit in the top-k FIFO (TKD tokens);
//   moe_topk: rank-based top-k by logit (3 cycles), results into the top-k FIFO;
//   p collector: the softmax's p lanes of a token, double-buffered (collect / hold);
//   join: per token K cycles, slot j: expert idx[j], score = act(p[idx[j]]), appended to the expert's
//     queue {token, score} at queue RAM address {expert, count[expert]}: one ascending pass;
//   emitter: after the last token's last write, one word per cycle (headers from the counts, rows
//     read from the queue RAM) through a 1-cycle read stage into the output FIFO (credits).
// Cycles (unstalled): a token every max(NB + 1, K, softmax row rate) cycles in steady state
// (MOE_TOKEN_CYCLES bounds it); the stream of 2 + 2*A + 2*K*T words (A active experts) leaves one
// word per cycle. cosim/test_moe_router.py measures both and the latency.
`default_nettype none

module moe_router
  import model_pkg::*;
#(
    parameter int L   = SOFTMAX_LANES,
    parameter int E   = NUM_EXPERTS,
    parameter int K   = TOP_K,
    parameter int TM  = NUM_TOKENS,
    parameter int TKD = 32                  // top-k FIFO depth (tokens between input and join)
) (
    input  logic                    ap_clk,
    input  logic                    ap_rst_n,   // synchronous, active low
    input  logic [MOE_H_TASK_W-1:0] task_id,
    input  logic [7:0]              n_tokens,
    input  logic [L*ACT_W-1:0]      x_TDATA,
    input  logic                    x_TVALID,
    output logic                    x_TREADY,
    input  logic                    x_TLAST,    // ignored
    input  logic                    x_hold_next,   // 1: x_TREADY low in the next cycle (see the header)
    input  logic [L*ACT_W/8-1:0]    x_TKEEP,    // ignored
    input  logic [L*ACT_W/8-1:0]    x_TSTRB,    // ignored
    output logic [63:0]             y_TDATA,
    output logic                    y_TVALID,
    input  logic                    y_TREADY,
    output logic                    y_TLAST,
    output logic [7:0]              y_TKEEP,
    output logic [7:0]              y_TSTRB,
    output logic                    route_we,
    output logic [E-1:0]            route_active
);
  localparam int W    = ACT_W;
  localparam int NB   = (E + L - 1) / L;                 // beats per token
  localparam int EB   = E > 1 ? $clog2(E) : 1;           // expert index bits
  localparam int TB   = TM > 1 ? $clog2(TM) : 1;         // token index bits (queue slot)
  localparam int CW   = $clog2(TM + 1);                  // queue length bits
  localparam int KB   = K > 1 ? $clog2(K) : 1;
  localparam int TKW  = $clog2(TKD + 1);
  localparam int ACT_F = ACT_W - ACT_I;
  localparam int PF   = 24;                              // PROB_FORMAT fraction bits
  localparam int OD   = 8;                               // output FIFO depth
  localparam int OCW  = $clog2(OD + 1);

  if (E > 255 || TM > 255 || 2 * E > 256 || K < 1 || K > E || ACT_W > 32) begin : g_chk
    $error("moe_router: the descriptors need E, T <= 255, 2E steps <= 256, 1 <= K <= E, act <= 32 bits");
  end
  if (ACT_QUANT != 0 || ACT_F > PF || ACT_I < 2) begin : g_chk_act
    $error("moe_router: score = act(p) is built for a TRN act with <= 24 fraction bits that holds 1.0");
  end
  if (MOE_R_SCORE_W != 32 || MOE_H_EXPERT_W != 8 || MOE_R_TOKEN_W != 8) begin : g_chk_fmt
    $error("moe_router: descriptor field widths changed");
  end

  // =============================================================================================
  // input stage. x_TREADY = rdy (a register, computed from the next state) && the softmax's
  // registered x_TREADY; n_tokens / task_id are registered (n_r, tid_r) and a run takes n_r, tid_r
  // at its first beat: they must be stable from the cycle before that beat.
  logic            busy;          // a run is open (from its first beat to its last word's issue)
  logic [7:0]      t_total;       // T of the open run
  logic [7:0]      t_left;        // tokens of the open run whose first beat is still to come
  logic [MOE_H_TASK_W-1:0] task_r, tid_r;
  logic [7:0]      n_r;
  logic [NB-1:0]   beat_oh;       // beat of the token being received, one-hot (its decodes are flip-flops)
  logic [TKW-1:0]  tk_used;       // tokens started and not yet joined (top-k FIFO credits)
  logic            sm_x_ready, rdy;
  logic            join_done_tok; // the join finished a token (credit return)
  logic            run_start, run_start_r;
  logic            emit_done;     // the last word issued: the run closes

  // The handshake terms are each one LUT from flip-flops: rdy_b0 = rdy && beat_oh[0] and
  // rdy_bl = rdy && beat_oh[NB-1] are registered copies (computed with rdy_n), so tok_first,
  // run_start and tok_last do not chain through hs (a chain of shared LUT2 that ABC kept, 3.1 ns).
  // acc is kept as a node of its own: ABC sees it as an input at time 0 and builds the handshake
  // terms after it, instead of one chain of shared LUT2 through the caller's x_TVALID gate
  logic            rdy_b0, rdy_bl;
  (* keep *) wire  acc       = x_TVALID && sm_x_ready;
  assign x_TREADY  = rdy && sm_x_ready;
  wire hs        = acc && rdy;
  wire tok_first = acc && rdy_b0;
  wire tok_last  = acc && rdy_bl;
  assign run_start = acc && rdy_b0 && !busy;

  // rdy uses busy before emit_done (a new run's first beat waits one more cycle; keeps the
  // emitter out of rdy's path)
  // (emit_done only while busy; the decrement's operand is selected from flip-flops, tok_first last)
  wire             busy_n    = busy ? !emit_done : tok_first;
  wire [7:0]       t_sel     = busy ? t_left : n_r;
  wire [7:0]       t_left_n  = tok_first ? t_sel - 8'd1 : t_left;
  wire [TKW-1:0]   tk_used_n = tk_used + TKW'(tok_first) - TKW'(join_done_tok);
  wire             start_ok  = n_tokens != 8'd0 && n_tokens <= 8'(TM);   // n_r of the next cycle
  // rdy_n = beat_n != 0 || (a token may start: tokens left in the run (or a valid new run) and a
  // top-k credit). Written as its two cofactors on the handshake, each from flags registered for
  // this purpose (t_left != 0, t_left != 1, n_r != 1; tk_used == TKD, == TKD - 1), join_done_tok
  // and n_tokens (which the caller holds), so that hs is the last select.
  //   t_left_n != 0:      a first beat taken now: busy ? t_left != 1 : n_r != 1; else busy ? t_left != 0 : start_ok
  //   tk_used_n != TKD:   taken now: join_done_tok ? tk_used != TKD : tk_used != TKD - 1
  //                       else:      join_done_tok || tk_used != TKD   (tk_used <= TKD)
  logic            t_nz, t_ne1, n_ne1;   // t_left != 0, t_left != 1, n_r != 1
  logic            tk_full, tk_full1;    // tk_used == TKD, tk_used == TKD - 1
  wire             tk_ok_take = join_done_tok ? !tk_full : !tk_full1;
  wire             tk_ok_keep = join_done_tok || !tk_full;
  wire             t_ok_take  = busy ? t_ne1 : n_ne1;
  wire             t_ok_keep  = busy ? t_nz : start_ok;
  wire             ok_keep    = t_ok_keep && tk_ok_keep;
  // a handshake on a token's first beat only ends its beat 0 when NB = 1 (one beat per token, no
  // shipped config); otherwise a taken beat leaves beat 0 unless it was the last (keep's terms)
  wire             rdy_hs     = NB == 1 ? t_ok_take && tk_ok_take : !beat_oh[NB-1] || ok_keep;
  wire             rdy_idle   = !beat_oh[0] || ok_keep;
  wire             rdy_n      = hs ? rdy_hs : rdy_idle;
  // the beat after a handshake: rotate left by one (beat NB-1 -> 0, NB-2 -> NB-1)
  localparam int   BPL        = (2 * NB - 2) % NB;
  wire             rdy_b0_n   = hs ? rdy_hs && beat_oh[NB-1] : rdy_idle && beat_oh[0];
  wire             rdy_bl_n   = hs ? rdy_hs && beat_oh[BPL] : rdy_idle && beat_oh[NB-1];
  // the flags' next values, cofactors on tok_first / join_done_tok of compares of flip-flops
  wire             t_nz_n     = tok_first ? t_sel != 8'd1 : t_nz;
  wire             t_ne1_n    = tok_first ? t_sel != 8'd2 : t_ne1;
  wire             up         = tok_first && !join_done_tok, down = !tok_first && join_done_tok;
  wire             tk_full_n  = up ? tk_used == TKW'(TKD - 1) : !down && tk_full;
  wire             tk_full1_n = up ? tk_used == TKW'(TKD - 2) : down ? tk_full : tk_full1;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      busy        <= 1'b0;
      t_left      <= '0;
      beat_oh     <= NB'(1);
      tk_used     <= '0;
      rdy         <= 1'b0;
      rdy_b0      <= 1'b0;
      rdy_bl      <= 1'b0;
      run_start_r <= 1'b0;
      t_nz        <= 1'b0;
      t_ne1       <= 1'b1;
      tk_full     <= TKD == 0;
      tk_full1    <= TKD == 1;
    end else begin
      busy        <= busy_n;
      t_left      <= t_left_n;
      if (hs) beat_oh <= NB'({beat_oh, beat_oh} >> (NB - 1));   // rotate left by one
      tk_used     <= tk_used_n;
      rdy         <= rdy_n && !x_hold_next;
      rdy_b0      <= rdy_b0_n && !x_hold_next;
      rdy_bl      <= rdy_bl_n && !x_hold_next;
      run_start_r <= run_start;
      t_nz        <= t_nz_n;
      t_ne1       <= t_ne1_n;
      tk_full     <= tk_full_n;
      tk_full1    <= tk_full1_n;
    end
    n_r   <= n_tokens;
    n_ne1 <= n_tokens != 8'd1;
    tid_r <= task_id;
    if (run_start) begin
      t_total <= n_r;
      task_r  <= tid_r;
    end
  end

  // row register for the top-k (lanes past E dropped). Beat b's slot follows x_TDATA in every cycle
  // of beat b, handshake or not (its enable is a flip-flop, not hs): the last load before the beat
  // moves on is the handshake's, and the top-k reads the row in the cycle after the token's last
  // beat (xrow_valid), before any slot of the next token can be loaded (slot 0 at that cycle's edge).
  logic [E*W-1:0] xrow;
  logic           xrow_valid;
  always_ff @(posedge ap_clk) begin
    for (int i = 0; i < L; i++)
      for (int b = 0; b < NB; b++)
        if (b * L + i < E && beat_oh[b]) xrow[(b*L+i)*W +: W] <= x_TDATA[i*W +: W];
    if (!ap_rst_n) xrow_valid <= 1'b0;
    else xrow_valid <= tok_last;
  end

  // =============================================================================================
  // softmax: p of every expert
  logic [(L+3)*32-1:0] sm_y;
  logic                sm_y_valid, sm_y_ready, sm_y_last;
  logic [(L+3)*4-1:0]  sm_keep, sm_strb;
  softmax #(.L(L)) u_softmax (
      .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .n(SOFTMAX_ROW_BITS'(E)),
      .x_TDATA(x_TDATA), .x_TVALID(x_TVALID && rdy), .x_TREADY(sm_x_ready), .x_TLAST(1'b0),
      .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(sm_y), .y_TVALID(sm_y_valid), .y_TREADY(sm_y_ready), .y_TLAST(sm_y_last),
      .y_TKEEP(sm_keep), .y_TSTRB(sm_strb));

  // =============================================================================================
  // top-k and its FIFO
  logic              tk_out_valid, tk_valid, tk_pop;
  logic [K*EB-1:0]   tk_out_idx, tk_idx;
  logic              tk_freed;
  moe_topk #(.E(E), .K(K), .W(W), .EB(EB)) u_topk (
      .clk(ap_clk), .rst_n(ap_rst_n), .in_valid(xrow_valid), .in_x(xrow), .out_valid(tk_out_valid),
      .out_idx(tk_out_idx));
  axis_fifo #(.WIDTH(K*EB), .DEPTH(TKD)) u_tk_fifo (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(tk_out_idx), .s_axis_tvalid(tk_out_valid),
      .m_axis_tdata(tk_idx), .m_axis_tvalid(tk_valid), .m_axis_tready(tk_pop), .freed(tk_freed));

  // =============================================================================================
  // p collector (collect + hold)
  logic [24:0]   pcol [E];
  logic [24:0]   phold [E];
  logic          pcol_full, phold_valid;
  logic [NB-1:0] pbeat_oh;       // the p beat being collected, one-hot
  logic          join_release;
  logic          slot_last;      // slot == K - 1, registered with slot
  assign sm_y_ready = !pcol_full;
  wire   p_hs = sm_y_valid && sm_y_ready;
  // == pcol_full && (!phold_valid || join_release), join_release without its phold_valid term
  wire   p_move = pcol_full && (!phold_valid || (tk_valid && slot_last));

  // Beat b's slot follows the softmax's output in every cycle of p beat b while the collector is not
  // full, handshake or not: the last load before the beat moves on is the handshake's, and a full
  // collector (its content moved to phold at the edge that clears pcol_full) loads nothing.
  always_ff @(posedge ap_clk) begin
    for (int i = 0; i < L; i++)
      for (int b = 0; b < NB; b++)
        if (b * L + i < E && pbeat_oh[b] && !pcol_full) pcol[b*L+i] <= sm_y[i*32 +: 25];
    if (p_move) phold <= pcol;
    if (!ap_rst_n) begin
      pcol_full   <= 1'b0;
      phold_valid <= 1'b0;
      pbeat_oh    <= NB'(1);
    end else begin
      if (p_hs) pbeat_oh <= NB'({pbeat_oh, pbeat_oh} >> (NB - 1));   // rotate left by one
      if (p_hs && pbeat_oh[NB-1]) pcol_full <= 1'b1;
      else if (p_move) pcol_full <= 1'b0;
      if (p_move) phold_valid <= 1'b1;
      else if (join_release) phold_valid <= 1'b0;
    end
  end

  // =============================================================================================
  // join: K queue appends per token
  logic [KB-1:0] slot;
  logic [7:0]    j_tok;
  wire  join_go = phold_valid && tk_valid;
  assign join_release = join_go && slot_last;
  assign tk_pop = join_release;
  assign join_done_tok = join_release;

  // J1: the slot's expert and score
  logic          j1_valid, j1_last;
  logic [EB-1:0] j1_e;
  logic [7:0]    j1_tok;
  logic [W-1:0]  j1_score;
  wire  [EB-1:0] sel_e = tk_idx[slot*EB +: EB];
  always_ff @(posedge ap_clk) begin
    j1_e     <= sel_e;
    j1_tok   <= j_tok;
    j1_score <= W'(phold[sel_e] >> (PF - ACT_F));
    j1_last  <= j_tok == t_total - 8'd1 && slot_last;
    if (!ap_rst_n) begin
      j1_valid  <= 1'b0;
      slot      <= '0;
      slot_last <= K == 1;
      j_tok     <= '0;
    end else begin
      j1_valid <= join_go;
      if (join_go) begin
        slot      <= slot_last ? '0 : slot + KB'(1);
        slot_last <= K == 1 || slot == KB'(K - 2);
      end
      if (run_start_r) j_tok <= '0;
      else if (join_release) j_tok <= j_tok + 8'd1;
    end
  end

`ifndef SYNTHESIS
  // rdy_n against its direct form (beat_n != 0, or a token may start)
  wire busy_ref   = run_start ? 1'b1 : emit_done ? 1'b0 : busy;
  wire [7:0] t_left_ref = run_start ? n_r - 8'd1 : tok_first ? t_left - 8'd1 : t_left;
  wire rdy_ref = (hs ? !beat_oh[NB-1] : !beat_oh[0]) ||
                 (((busy || run_start) ? t_left_ref != 8'd0 : start_ok) && tk_used_n != TKW'(TKD));
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && rdy_n != rdy_ref) $error("moe_router: rdy_n differs from its direct form");
    if (ap_rst_n && (busy_n != busy_ref || t_left_n != t_left_ref))
      $error("moe_router: busy_n / t_left_n differ from their direct forms");
    if (ap_rst_n && (rdy_b0 != (rdy && beat_oh[0]) || rdy_bl != (rdy && beat_oh[NB-1])))
      $error("moe_router: rdy_b0 / rdy_bl differ from rdy && beat_oh");
    if (ap_rst_n && (t_nz != (t_left != 8'd0) || t_ne1 != (t_left != 8'd1) || n_ne1 != (n_r != 8'd1)))
      $error("moe_router: t_nz / t_ne1 / n_ne1 differ from their compares");
    if (ap_rst_n && (tk_full != (tk_used == TKW'(TKD)) || tk_full1 != (tk_used == TKW'(TKD - 1))))
      $error("moe_router: tk_full / tk_full1 differ from their compares");
    if (ap_rst_n && !$onehot(beat_oh)) $error("moe_router: beat_oh is not one-hot");
    if (ap_rst_n && !$onehot(pbeat_oh)) $error("moe_router: pbeat_oh is not one-hot");
    if (ap_rst_n && slot_last != (slot == KB'(K - 1))) $error("moe_router: slot_last differs from slot == K - 1");
    if (ap_rst_n && p_move != (pcol_full && (!phold_valid || join_release)))
      $error("moe_router: p_move differs from its definition");
  end
`endif

  // J2: append to the queue
  logic [8+W-1:0]  qmem [E * (1 << TB)];
  logic [CW-1:0]   cnt [E];
  logic [E-1:0]    act_mask;
  logic            emit_go;
  always_ff @(posedge ap_clk) begin
    if (j1_valid) qmem[{j1_e, TB'(cnt[j1_e])}] <= {j1_tok, j1_score};
  end
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n || run_start_r) begin
      for (int e = 0; e < E; e++) cnt[e] <= '0;
      act_mask <= '0;
    end else if (j1_valid) begin
      cnt[j1_e] <= cnt[j1_e] + CW'(1);
      act_mask[j1_e] <= 1'b1;
    end
    if (!ap_rst_n) emit_go <= 1'b0;
    else emit_go <= j1_valid && j1_last;
  end
  assign route_we     = emit_go;      // act_mask is complete in emit_go's cycle (same edge)
  assign route_active = act_mask;

  // =============================================================================================
  // emitter
  // one-hot states: the word below is an AND-OR of state bits (no decode chain before m_word)
  localparam int I_IDLE = 0, I_GATE = 1, I_LOAD = 2, I_H1 = 3, I_R1 = 4, I_H2 = 5, I_R2 = 6;
  typedef enum logic [6:0] {S_IDLE = 7'b1 << I_IDLE, S_GATE = 7'b1 << I_GATE, S_LOAD = 7'b1 << I_LOAD,
                            S_H1 = 7'b1 << I_H1, S_R1 = 7'b1 << I_R1, S_H2 = 7'b1 << I_H2,
                            S_R2 = 7'b1 << I_R2} state_t;
  state_t        st;
  logic [EB-1:0] cur, first_e, nxt_e;
  logic          nxt_valid;
  logic [CW-1:0] len, ri, rem;   // rows: index, rows left after this one
  logic          row_end;        // registered: the row issued now is the call's last
  logic [7:0]    step;
  logic [OCW-1:0] ocred;
  logic           o_freed;

  // first active expert, and the next active one above cur in two stages (mask, then priority
  // encoder): nxt_e follows a change of cur by 2 cycles and is first used 2 cycles after it (H2)
  logic [E-1:0] above;
  logic [CW-1:0] len_first, len_nxt;
  always_ff @(posedge ap_clk) begin
    first_e <= '0;
    for (int e = E - 1; e >= 0; e--) if (act_mask[e]) first_e <= EB'(e);
    for (int e = 0; e < E; e++) above[e] <= act_mask[e] && EB'(e) > cur;
    nxt_valid <= |above;
    nxt_e <= '0;
    for (int e = E - 1; e >= 0; e--) if (above[e]) nxt_e <= EB'(e);
    len_first <= cnt[first_e];   // one cycle after first_e: ready at LOAD (>= 2 cycles after the last append)
    len_nxt   <= cnt[nxt_e];     // 3 cycles after a change of cur: first used at the end of R2 (>= 3)
  end

  logic ocred_ok;                 // ocred != 0, registered
  wire issue = !st[I_IDLE] && ocred_ok;

  // a header word; every argument is as wide as its field
  function automatic logic [63:0] hdr(logic [MOE_H_KIND_W-1:0] kind, logic [MOE_H_STEP_W-1:0] stp,
                                      logic [MOE_H_EXPERT_W-1:0] ex, logic [MOE_H_LAYER_W-1:0] layer,
                                      logic [MOE_H_BUFFER_W-1:0] buffer, logic [MOE_H_GELU_W-1:0] gelu,
                                      logic [MOE_H_MODE_W-1:0] md, logic [MOE_H_ROWS_W-1:0] nrows,
                                      logic [MOE_H_PF_VALID_W-1:0] pfv, logic [MOE_H_PF_EXPERT_W-1:0] pfe,
                                      logic [MOE_H_PF_LAYER_W-1:0] pfl, logic [MOE_H_LAST_W-1:0] last,
                                      logic [MOE_H_TASK_W-1:0] tsk);
    logic [63:0] w;
    w = '0;
    w[MOE_H_KIND_LSB +: MOE_H_KIND_W]           = kind;
    w[MOE_H_STEP_LSB +: MOE_H_STEP_W]           = stp;
    w[MOE_H_EXPERT_LSB +: MOE_H_EXPERT_W]       = ex;
    w[MOE_H_LAYER_LSB +: MOE_H_LAYER_W]         = layer;
    w[MOE_H_BUFFER_LSB +: MOE_H_BUFFER_W]       = buffer;
    w[MOE_H_GELU_LSB +: MOE_H_GELU_W]           = gelu;
    w[MOE_H_MODE_LSB +: MOE_H_MODE_W]           = md;
    w[MOE_H_ROWS_LSB +: MOE_H_ROWS_W]           = nrows;
    w[MOE_H_PF_VALID_LSB +: MOE_H_PF_VALID_W]   = pfv;
    w[MOE_H_PF_EXPERT_LSB +: MOE_H_PF_EXPERT_W] = pfe;
    w[MOE_H_PF_LAYER_LSB +: MOE_H_PF_LAYER_W]   = pfl;
    w[MOE_H_LAST_LSB +: MOE_H_LAST_W]           = last;
    w[MOE_H_TASK_LSB +: MOE_H_TASK_W]           = tsk;
    return w;
  endfunction

  localparam logic [MOE_H_KIND_W-1:0] K_GATE = MOE_H_KIND_W'(MOE_KIND_GATE), K_LOAD = MOE_H_KIND_W'(MOE_KIND_LOAD),
                                      K_CALL = MOE_H_KIND_W'(MOE_KIND_CALL);
  localparam logic [MOE_H_MODE_W-1:0] M_STORE = MOE_H_MODE_W'(MOE_MODE_STORE), M_SCALED = MOE_H_MODE_W'(MOE_MODE_SCALED);
  localparam logic [1:0] L_GATE = 2'd0, L_FC1 = 2'd1, L_FC2 = 2'd2;
  wire [7:0] cur8 = 8'(cur), first8 = 8'(first_e), nxt8 = nxt_valid ? 8'(nxt_e) : 8'd0, len8 = 8'(len);

  // the word issued this cycle (rows: token and score are added from the queue RAM one cycle later)
  logic [63:0] word;
  logic        w_row, w_score, w_last;
  logic [63:0] row_word;
  always_comb begin
    row_word = '0;
    row_word[MOE_R_KIND_LSB +: MOE_R_KIND_W] = MOE_R_KIND_W'(MOE_KIND_ROW);
    row_word[MOE_R_K_LSB +: MOE_R_K_W]       = MOE_R_K_W'(ri);
    word = ({64{st[I_GATE]}} & hdr(K_GATE, 8'd0, 8'd0, L_GATE, 1'b0, 1'b0, M_STORE, t_total, 1'b0, 8'd0, 2'd0, 1'b0,
                                   task_r))
         | ({64{st[I_LOAD]}} & hdr(K_LOAD, 8'd0, first8, L_FC1, 1'b0, 1'b0, 2'd0, 8'd0, 1'b0, 8'd0, 2'd0, 1'b0, '0))
         | ({64{st[I_H1]}} & hdr(K_CALL, step, cur8, L_FC1, 1'b0, 1'b1, M_STORE, len8, 1'b1, cur8, L_FC2, 1'b0, '0))
         | ({64{st[I_H2]}} & hdr(K_CALL, step, cur8, L_FC2, 1'b1, 1'b0, M_SCALED, len8, nxt_valid, nxt8,
                                 nxt_valid ? L_FC1 : 2'd0, !nxt_valid, '0))
         | ({64{st[I_R1] || st[I_R2]}} & row_word);
    w_row   = st[I_R1] || st[I_R2];
    w_score = st[I_R2];
    w_last  = st[I_R2] && row_end && !nxt_valid;
  end

  // next state, bit by bit from the one-hot state (no decode of the state vector)
  wire adv = issue;
  wire done_rows = adv && row_end;
  logic [6:0] st_n;
  always_comb begin
    st_n = '0;
    st_n[I_IDLE] = (st[I_IDLE] && !emit_go) || (st[I_R2] && done_rows && !nxt_valid);
    st_n[I_GATE] = emit_go || (st[I_GATE] && !adv);
    st_n[I_LOAD] = (st[I_GATE] && adv) || (st[I_LOAD] && !adv);
    st_n[I_H1]   = (st[I_LOAD] && adv) || (st[I_H1] && !adv) || (st[I_R2] && done_rows && nxt_valid);
    st_n[I_R1]   = (st[I_H1] && adv) || (st[I_R1] && !done_rows);
    st_n[I_H2]   = (st[I_R1] && done_rows) || (st[I_H2] && !adv);
    st_n[I_R2]   = (st[I_H2] && adv) || (st[I_R2] && !done_rows);
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) st <= S_IDLE;
    else st <= state_t'(st_n);
    if (adv && st[I_GATE]) step <= '0;
    if (adv && (st[I_H1] || st[I_H2])) begin
      step    <= step + 8'd1;
      ri      <= '0;
      rem     <= len - CW'(1);
      row_end <= len == CW'(1);
    end
    if (adv && (st[I_R1] || st[I_R2])) begin
      ri      <= ri + CW'(1);
      rem     <= rem - CW'(1);
      row_end <= rem == CW'(1);
    end
    if (adv && st[I_LOAD]) begin
      cur <= first_e;
      len <= len_first;
    end
    if (adv && st[I_R2] && row_end) begin
      cur <= nxt_e;
      len <= len_nxt;
    end
  end
  assign emit_done = issue && st[I_R2] && row_end && !nxt_valid;

  // read stage: the queue RAM (registered read) and the word template
  logic [8+W-1:0] q_rd;
  logic [63:0]    m_word;
  logic           m_valid, m_row, m_score, m_last;
  always_ff @(posedge ap_clk) begin
    q_rd    <= qmem[{cur, TB'(ri)}];
    m_word  <= word;
    m_row   <= w_row;
    m_score <= w_score;
    m_last  <= w_last;
    if (!ap_rst_n) m_valid <= 1'b0;
    else m_valid <= issue;
  end
  logic [63:0] o_word;
  always_comb begin
    o_word = m_word;
    if (m_row) begin
      o_word[MOE_R_TOKEN_LSB +: MOE_R_TOKEN_W] = q_rd[W +: 8];
      if (m_score) o_word[MOE_R_SCORE_LSB +: MOE_R_SCORE_W] = q_rd[W-1:0];
    end
  end

  // output FIFO: a credit per memory entry, taken at issue, returned when the entry leaves
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      ocred    <= OCW'(OD);
      ocred_ok <= 1'b0;
    end else begin
      ocred    <= ocred - OCW'(issue) + OCW'(o_freed);
      ocred_ok <= ocred - OCW'(issue) + OCW'(o_freed) != '0;
    end
  end
  logic [64:0] o_data;
  axis_fifo #(.WIDTH(65), .DEPTH(OD)) u_out_fifo (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata({m_last, o_word}), .s_axis_tvalid(m_valid),
      .m_axis_tdata(o_data), .m_axis_tvalid(y_TVALID), .m_axis_tready(y_TREADY), .freed(o_freed));
  assign y_TDATA = o_data[63:0];
  assign y_TLAST = o_data[64];
  assign y_TKEEP = '1;
  assign y_TSTRB = '1;

  wire unused_ok = &{1'b0, x_TLAST, x_TKEEP, x_TSTRB, sm_y[(L+3)*32-1:0], sm_y_last, sm_keep, sm_strb, tk_freed};
endmodule

`default_nettype wire
