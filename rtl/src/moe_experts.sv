// The MoE expert executor: runs one MoE layer's call-descriptor stream (rtl/src/moe_router.sv's y_,
// format in docs/moe.md) on the linear engine (rtl/src/linear.sv, instantiated unchanged), bit-exact
// to python_ref.kernels.moe.run_schedule(x, weights, decode_descriptors(words)): it returns moe_acc
// (T x D act, starting at 0); the residual add x + moe_acc is the network's next step, not done here.
//
//   d_  64-bit descriptor words: GATE (T = its rows), LOAD, then per call a CALL header and its ROW
//       words (fc1: k = i, token = the x row gathered; fc2: k = the h row, token = the moe_acc row,
//       score). TLAST ignored (the unit counts).
//   x_  LN2(x) of the layer: T rows, ND = ceil(D/L) beats of L act lanes each, taken after the GATE
//       word (row-major; lanes past D are stored and ignored by the engine). TLAST ignored.
//   w_, b_  passed to the engine: per call the weight image (pack_matrix_axi) and the bias image
//       (pack_vector_axi), in call order (fc1 of each active expert ascending, then its fc2: what
//       rtl/src/weight_fifo.sv delivers).
//   y_  moe_acc after the last call: rows 0..T-1, ND beats of L act lanes each (lanes past D are 0),
//       TLAST on the last beat of the layer.
//   err high (sticky until reset) when the descriptor stream breaks the format (a kind out of order,
//       T outside 1..NUM_TOKENS, rows outside 1..T, a token >= T, a k >= rows, the layer, GELU or mode
//       not fc1 / fc2's, fc2's rows not fc1's, last on an fc1); the unit then stops taking words (at
//       most one more after a bad ROW word) and never drains.
//
// Inside: the engine, an x buffer (T x ND entries), (GATE_CALL) the logits buffer gbuf (T x E act), an h buffer (fc1's rows, T x NH entries, GELU
// applied by the engine), the moe_acc buffer (T x ND, zeroed while x is taken), two row tables (table 0
// holds the current fc1's rows, table 1 the current fc2's: calls alternate fc1, fc2 so the table is the
// call's parity) and four sequencers, each walking the calls in order:
//   parser  d_ -> engine arguments (ap_start held until ap_ready) and the call's ROW words -> its table
//   x reader  fc1: x[token] rows; fc2: h[k] rows (in-blocks ascending) -> engine x_
//   s / acc readers  fc2: the scores (k ascending), moe_acc[token] blocks in (ob, k) order -> s_, acc_
//   writer  engine y_ (ob, k) -> fc1: h[k] block ob; fc2: moe_acc[token] block ob (one register stage)
// then the drain: moe_acc rows 0..T-1 -> y_.
//
// Read-after-write rule (the engine's register slices take up to two beats of the next call's x_,
// acc_ and s_ before the call starts, so the readers run ahead of the engine): a buffer entry is read
// only at an edge after the write it depends on landed. Concretely:
//   (x)   fc1 reads x only once the whole layer's x rows are written (and moe_acc zeroed);
//   (h)   fc2 call n reads h row k only once its fc1's last output block has written row k
//         (h_call == n - 1 and h_rows > k: h_rows counts the rows of fc1 call h_call whose last block
//         landed and restarts at the next fc1's first write, which comes after the fc2 that reads
//         the rows took all its inputs);
//   (acc) fc2 call n reads moe_acc only once the layer's zeros are written (the first fc2's rows are
//         parsed long before: an explicit wait) and call n-2's (the previous fc2's) writes have landed
//         (implied: its rows enter table 1 only after the writer freed table 1, at the edge call n-2's
//         last write lands, and the acc reader reads from table 1);
//   (tables) a call's ROW words enter its table only once the writer finished the call before it of
//         the same parity (every reader of that call finished earlier: the engine takes a call's
//         inputs before its last output).
// The write-after-read cases are ordered by the engine (a call's outputs follow its inputs, the next
// call computes only after this one's last output). A simulation check below records every read's
// call and fails on a write that lands after a later call (or the drain) read the entry.
//
// Gate call (GATE_CALL = 1, rtl/src/moe_layer_gate.sv): the layer starts from x_ instead of the GATE
// word. T comes with the first x beat (x_TUSER[7:0], the whole TUSER kept on run_user for the top);
// the x fill starts at once, the parser writes an identity table 0 (row i: x row i, h row i) and
// starts the gate call on the same engine: call 0, fc1-like (in D, out NUM_EXPERTS, rows T, no
// GELU, store), its weight and (zero) bias images the next words on w_ / b_. Its out-block (the
// logits of a row; NUM_EXPERTS <= LINEAR_OUT) lands in h row k like an fc1's and in gbuf[k]; the
// logits reader streams gbuf rows (each once its write landed) through the lane adapter onto g_
// (moe_router's x_: ceil(E/SOFTMAX_LANES) beats per token). The descriptor stream then comes as
// without the gate, its GATE word's T checked against the layer's T (err otherwise). The call
// numbers skip 1 (the experts' calls are 2, 3, ...: fc1 even, fc2 odd, tables and parities as
// without the gate), so every sequencer treats the gate call as an fc1 with one out-block.
//
// Cycles: cosim/test_moe_experts.py measures each engine call's ap_ready / ap_done against
// cosim.linear_schedule.Sequence (docs/moe.md, "RTL expert executor"; the gate call:
// cosim/test_moe_layer_gate.py, "RTL MoE layer").
`default_nettype none

module moe_experts
  import model_pkg::*;
#(
    parameter int W_BITS = LINEAR_W_BITS,  // w_ word (linear's W_BITS, hardware.weight_word.bits)
    parameter int W_ROWS = LINEAR_W_ROWS,  // rows per w_ word (linear's W_ROWS)
    // 1: the layer starts from x_ (T in x_TUSER[7:0]) and runs the gate call first; its logits leave
    // on g_ (see "Gate call" above); 0: the layer starts from the GATE word, x_TUSER and g_TREADY unused
    parameter bit GATE_CALL = 1'b0,
    parameter int XU_W = 8                // x_TUSER: T in bits 7:0, the rest returned on run_user
) (
    input  logic                          ap_clk,
    input  logic                          ap_rst_n,   // synchronous, active low
    input  logic [63:0]                   d_TDATA,
    input  logic                          d_TVALID,
    output logic                          d_TREADY,
    input  logic                          d_TLAST,    // ignored
    input  logic [LINEAR_IN*ACT_W-1:0]    x_TDATA,
    input  logic                          x_TVALID,
    output logic                          x_TREADY,
    input  logic                          x_TLAST,    // ignored
    input  logic [XU_W-1:0]               x_TUSER,    // GATE_CALL: sampled with the layer's first beat
    output logic [XU_W-1:0]               run_user,   // GATE_CALL: that x_TUSER (held until the next layer)
    output logic [SOFTMAX_LANES*ACT_W-1:0] g_TDATA,   // GATE_CALL: the gate logits (moe_router's x_)
    output logic                          g_TVALID,
    input  logic                          g_TREADY,
    input  logic [W_BITS-1:0]             w_TDATA,
    input  logic                          w_TVALID,
    output logic                          w_TREADY,
    input  logic                          w_TLAST,
    input  logic [AXI_WIDTH-1:0]          b_TDATA,
    input  logic                          b_TVALID,
    output logic                          b_TREADY,
    input  logic                          b_TLAST,
    output logic [LINEAR_OUT*ACT_W-1:0]   y_TDATA,
    output logic                          y_TVALID,
    input  logic                          y_TREADY,
    output logic                          y_TLAST,
    output logic                          err
);
  localparam int L     = LINEAR_IN;
  localparam int W     = L * ACT_W;
  localparam int TMAX  = NUM_TOKENS;
  localparam int D     = FEATURE_DIM;
  localparam int H     = EXPERT_HIDDEN_DIM;
  localparam int ND    = (D + L - 1) / L;            // blocks of an x / moe_acc row
  localparam int NH    = (H + L - 1) / L;            // blocks of an h row
  localparam int XDEP  = TMAX * ND;                  // x and moe_acc entry: t * ND + block
  localparam int HDEP  = TMAX * NH;                  // h entry: k * NH + block
  localparam int XAW   = $clog2(XDEP);
  localparam int HAW   = $clog2(HDEP);
  localparam int AW    = XAW > HAW ? XAW : HAW;      // the writer's address (h or moe_acc)
  localparam int RW    = $clog2(TMAX + 1);           // rows, row indices, T
  localparam int BW    = $clog2((NH > ND ? NH : ND) + 1);
  // calls: fc1, fc2 of each active expert (0, 1, ...); with GATE_CALL the gate is call 0, call 1 is
  // never run (its number skipped, so fc1 stays even: table and parity as without the gate) and the
  // experts' calls are 2, 3, ...
  localparam int NCALL = 2 * NUM_EXPERTS + (GATE_CALL ? 2 : 0);
  localparam int CW    = $clog2(NCALL + 2);          // call indices 0 .. NCALL (+1 for the acc reader)
  localparam int C0    = GATE_CALL ? 2 : 0;          // the first expert call
  localparam int SL    = SOFTMAX_LANES;
  localparam int NB    = (NUM_EXPERTS + SL - 1) / SL; // router beats per token
  localparam int GW    = NUM_EXPERTS * ACT_W;        // a token's logits (the gate call's one out-block)

  if (LINEAR_IN != LINEAR_OUT || ND < 2 || NH < 2 || D > LINEAR_MAX_IN || H > LINEAR_MAX_IN || TMAX > LINEAR_MAX_ROWS ||
      TMAX > 255 || ACT_W > MOE_R_SCORE_W) begin : g_chk
    $error("moe_experts: needs a square tile (LINEAR_IN = LINEAR_OUT: h rows are written as y_ blocks and read as x_ blocks), at least two blocks per x and h row (the registered row flags), dim and expert_hidden <= LINEAR_MAX_IN, tokens <= LINEAR_MAX_ROWS and 255, act <= the 32-bit score field");
  end
  if (GATE_CALL && (NUM_EXPERTS > LINEAR_OUT || XU_W < 8)) begin : g_chk_gate
    $error("moe_experts: GATE_CALL needs NUM_EXPERTS <= LINEAR_OUT (the logits of a token in one output block of the gate call) and XU_W >= 8 (T in x_TUSER[7:0])");
  end

  // ------------------------------------------------------------------------------------------
  // Input register slices (every TREADY a flip-flop)
  logic [63:0] dw;
  logic        dv, dr;
  logic [W-1:0] xw;
  logic [XU_W-1:0] xu;
  logic        xv, xr;
  axis_skid #(.WIDTH(64)) u_d (.clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(d_TDATA), .s_axis_tvalid(d_TVALID),
                               .s_axis_tready(d_TREADY), .m_axis_tdata(dw), .m_axis_tvalid(dv), .m_axis_tready(dr));
  axis_skid #(.WIDTH(W + XU_W)) u_x (.clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata({x_TUSER, x_TDATA}),
                                     .s_axis_tvalid(x_TVALID), .s_axis_tready(x_TREADY), .m_axis_tdata({xu, xw}),
                                     .m_axis_tvalid(xv), .m_axis_tready(xr));

  // descriptor fields (docs/moe.md)
  wire [MOE_H_KIND_W-1:0]  f_kind  = dw[MOE_H_KIND_LSB +: MOE_H_KIND_W];
  wire [MOE_H_LAYER_W-1:0] f_layer = dw[MOE_H_LAYER_LSB +: MOE_H_LAYER_W];
  wire [MOE_H_ROWS_W-1:0]  f_rows  = dw[MOE_H_ROWS_LSB +: MOE_H_ROWS_W];
  wire                     f_gelu  = dw[MOE_H_GELU_LSB];
  wire [MOE_H_MODE_W-1:0]  f_mode  = dw[MOE_H_MODE_LSB +: MOE_H_MODE_W];
  wire                     f_last  = dw[MOE_H_LAST_LSB];
  wire [MOE_R_K_W-1:0]     f_k     = dw[MOE_R_K_LSB +: MOE_R_K_W];
  wire [MOE_R_TOKEN_W-1:0] f_tok   = dw[MOE_R_TOKEN_LSB +: MOE_R_TOKEN_W];
  wire [ACT_W-1:0]         f_score = dw[MOE_R_SCORE_LSB +: ACT_W];

  // ------------------------------------------------------------------------------------------
  // Engine
  logic              ap_start, ap_done, ap_idle, ap_ready;
  logic              a_fc2, a_gelu, a_gate;
  logic [1:0]        a_mode;
  logic [15:0]       a_rows;
  logic [W-1:0]      lx_data, la_data, ly_data;
  logic              lx_valid, lx_ready, la_valid, la_ready, ls_valid, ls_ready, ly_valid, ly_last;
  logic [ACT_W-1:0]  ls_data;

  // WB_FREE_LOAD: in the MoE tops w_TVALID / b_TVALID are weight_fifo's filtered head (h_valid && h_kept),
  // which reached the w_ slice's data enable through 4 LUT (h_kept -> the slice's CE, 3.04 ns in
  // moe_layer on edge_moe); loading on a free slot takes the valid off the enable of those wide registers
  linear #(.W_BITS(W_BITS), .W_ROWS(W_ROWS), .WB_FREE_LOAD(1'b1)) u_lin (
      .ap_clk, .ap_rst_n, .ap_start, .ap_done, .ap_idle, .ap_ready,
      .in_dim(a_fc2 ? 16'(H) : 16'(D)), .out_dim(GATE_CALL && a_gate ? 16'(NUM_EXPERTS) : a_fc2 ? 16'(D) : 16'(H)), .rows(a_rows),
      .w_kind(1'b0), .b_kind(1'b0), .use_gelu(a_gelu), .mode(a_mode),   // weight_t, bias_t: expert layers and
      // the gate (gate_weight = weight: python_ref.kernels.moe.check_config)
      .x_TDATA(lx_data), .x_TVALID(lx_valid), .x_TREADY(lx_ready), .x_TLAST(1'b0),
      .w_TDATA, .w_TVALID, .w_TREADY, .w_TLAST,
      .b_TDATA, .b_TVALID, .b_TREADY, .b_TLAST,
      .acc_TDATA(la_data), .acc_TVALID(la_valid), .acc_TREADY(la_ready), .acc_TLAST(1'b0),
      .s_TDATA(ls_data), .s_TVALID(ls_valid), .s_TREADY(ls_ready), .s_TLAST(1'b0),
      .y_TDATA(ly_data), .y_TVALID(ly_valid), .y_TREADY(1'b1), .y_TLAST(ly_last));

  // ------------------------------------------------------------------------------------------
  // Row tables: entry i of a call: its token's first x / moe_acc entry (token * ND), its h row's
  // first entry (k * NH) and (table 1) its score. One memory per table and field (tb_tok0 = table 0's
  // token entries, ...): every read names its table by a constant, so each is a one-dimensional
  // memory with asynchronous reads (distributed RAM). As [2][TMAX] arrays Yosys kept two words of
  // TMAX entries each in flip-flops, read through TMAX-way multiplexers (9 LUT from rk to r_b, 4.59 ns
  // in moe_layer_gate on edge_moe).
  logic [XAW-1:0]   tb_tok0 [TMAX];
  logic [XAW-1:0]   tb_tok1 [TMAX];
  logic [HAW-1:0]   tb_k0   [TMAX];
  logic [HAW-1:0]   tb_k1   [TMAX];
  logic [ACT_W-1:0] tb_s   [TMAX];
  logic [RW-1:0]    t_rm1  [2];          // the table's rows - 1
  logic             t_last;              // table 1's call is the layer's last
  logic [1:0]       t_busy;              // the table holds a call the writer has not finished
  logic             pq_busy;             // t_busy[pq] in a flip-flop of its own (the parser's row take)

  // ------------------------------------------------------------------------------------------
  // Parser and run control. Every format check is registered (GATE and header: a check state before
  // the header's effects; ROW: in the table-write stage), so the checks reach a few flip-flops only.
  // The parser's state, one-hot (ps[P_ROWS]: parsing a call's rows), written out rather than left to
  // Yosys's FSM extraction (which recoded it one-hot anyway): each bit's next value is its own entry and
  // stay terms, and the reset and the table-write error override are the flip-flops' synchronous
  // set / reset. As the extracted FSM every transition carried ap_rst_n and tw_err, and ABC chained the
  // descriptor's valid through 6 LUT into the state (dv -> ps, 3.19 ns in moe_layer_gate on edge_moe).
  localparam int P_GATE = 0, P_GCHK = 1, P_LOAD = 2, P_HDR = 3, P_HCHK = 4, P_ROWS = 5, P_RUN = 6, P_ERR = 7;
  localparam int NPS = 8;
  (* fsm_encoding = "none" *) logic [NPS-1:0] ps;
  logic [RW-1:0] n_tok, prow, hrm1;       // T, the row being parsed, the call's rows - 1
  logic [MOE_H_ROWS_W-1:0] prev_rows;     // the previous header's rows (fc2's must equal its fc1's)
  logic          hlast, pq, g_bad, h_bad; // pq: the parity (table) of the call being parsed: 0 fc1, 1 fc2
  logic          prow_last;               // prow == hrm1 in a flip-flop of its own (below)
  logic [RW-1:0] prow_p1;                 // prow + 1 (RW bits, as the compare it replaces), its own register
  logic [CW-1:0] pc;                      // calls whose rows are all in their table
  logic [XAW-1:0] f_lastent;              // T * ND - 1: the last x / moe_acc entry of the layer
  // T * ND is registered where T is taken (f_tnd: the multiply between two registers), and f_lastent
  // and f_lastm1 (T * ND - 2, the fill flags' compare) are loaded from it in every cycle: T is taken
  // at P_GATE / G_TOK, and the fill starts two edges later (after P_GCHK / G_TCHK), when both hold.
  // As one expression the multiply and its subtract made one path (3.12 ns in moe_layer_gate on
  // edge_moe), and fx + 1 == f_lastent an adder before the compare (3.23 ns).
  logic [XAW-1:0] f_tnd, f_lastm1;
  logic          x_fill, z_fill, run_on, run_end, filled;   // filled: x rows in, moe_acc zeroed
  logic [XAW-1:0] fx, fz;
  logic          fx_last, fz_last;        // fx == f_lastent, fz == f_lastent (registered, below)
  // the table-write stage: one ROW word
  logic          tw_v, tw_p, tw_end, tw_last, tw_bad;
  logic          tw_err;                  // tw_v && tw_bad in a flip-flop of its own (the parser's state input)
  logic [RW-1:0] tw_i, tw_rm1;
  logic [ACT_W-1:0] tw_s;
  logic          tw_g;                    // the write is the gate call's identity table (pc skips call 1)
  // The stage's entries (token * ND, k * NH) are registered products, one per source (the ROW word's
  // fields; GATE_CALL's identity row prow), selected by tw_g where the tables are written: each multiply
  // by the constant is a DSP48E2 whose P output goes straight to its register. (With the select before
  // the register the path was DSP48E2 -> LUT3 -> flip-flop, 3.00 ns in moe_layer_gate on edge_moe.)
  logic [XAW-1:0] tw_tok_r, tw_tok_g;
  logic [HAW-1:0] tw_k_r, tw_k_g;
  wire  [XAW-1:0] tw_tok = GATE_CALL && tw_g ? tw_tok_g : tw_tok_r;
  wire  [HAW-1:0] tw_k   = GATE_CALL && tw_g ? tw_k_g : tw_k_r;
  // GATE_CALL's sequencer: G_TOK waits for the layer's first x beat (T in its TUSER), G_TCHK checks T
  // and starts the x fill, G_ID writes the gate call's identity rows into table 0 (row i: x row i,
  // h row i) and starts the gate call, G_RUN until the layer ends
  typedef enum logic [1:0] {G_TOK, G_TCHK, G_ID, G_RUN} gstate_t;
  gstate_t       gs;
  logic          t_bad;
  wire gid_take = GATE_CALL && gs == G_ID;
  // the layer's start: counters and fill pointers restart here
  wire p_init   = GATE_CALL ? gs == G_TOK : ps[P_GATE];

  // with GATE_CALL the GATE word must carry the T of the layer's x (taken at G_TOK)
  wire gate_ok = f_kind == MOE_H_KIND_W'(MOE_KIND_GATE) && f_rows != '0 && 32'(f_rows) <= TMAX &&
                 (!GATE_CALL || 32'(f_rows) == 32'(n_tok));
  wire call_ok = f_kind == MOE_H_KIND_W'(MOE_KIND_CALL) && f_rows != '0 && 32'(f_rows) <= 32'(n_tok) &&
                 f_layer == (pq ? MOE_H_LAYER_W'(2) : MOE_H_LAYER_W'(1)) && f_gelu == !pq &&
                 f_mode == (pq ? MOE_H_MODE_W'(MOE_MODE_SCALED) : MOE_H_MODE_W'(MOE_MODE_STORE)) &&
                 (pq ? f_rows == prev_rows : !f_last);
  wire row_ok  = f_kind == MOE_H_KIND_W'(MOE_KIND_ROW) && 32'(f_tok) < 32'(n_tok) && 32'(f_k) <= 32'(hrm1) &&
                 (pq || 32'(f_k) == 32'(prow));
  wire row_take = ps[P_ROWS] && dv && !pq_busy;
  // filled's next value (the x reader registers its go from it)
  // in_chk: the check state (GATE_CALL ? gs == G_TCHK : ps[P_GCHK]) in a flip-flop of its own, set
  // on the move into it (both leave it after one cycle): the state registers fan out to the whole
  // parser, and filled_d feeds the x reader's r_src (3.28 ns through ps's decode)
  logic in_chk;
  wire filled_d = run_on && !run_end && (x_fill ? xv && fx_last : 1'b1) && (z_fill ? fz_last : 1'b1) && !in_chk;
  wire hdr_take = ps[P_HDR] && dv && !ap_start;   // the previous call's arguments are taken (ap_ready seen)

  assign dr = ps[P_GATE] || ps[P_LOAD] || (ps[P_HDR] && !ap_start) || (ps[P_ROWS] && !pq_busy);

  logic wr_end_land, wr_end_par;          // the writer's last write of a call lands (below)
  logic run_calls_done;                   // the layer's last call's last write landed

  // pq_busy's next value: t_busy's next entry at pq's next value. As the select t_busy[pq] it sat at
  // the head of row_take, which ABC built as a LUT4 -> LUT2 -> LUT2 chain shared by ps, prow and the
  // table-write stage (pq -> ps 6 LUT, 3.18 ns in moe_layer_gate).
  logic [1:0] t_busy_n;
  always_comb begin
    t_busy_n = t_busy;
    if (tw_v && !tw_bad && tw_end) t_busy_n[tw_p] = 1'b1;
    if (wr_end_land) t_busy_n[wr_end_par] = 1'b0;
  end
  wire pq_n = ps[P_GATE] ? 1'b0 : pq ^ (row_take && prow_last);
  (* keep *) wire pl_row = prow_p1 == hrm1;              // prow + 1 == hrm1
  (* keep *) wire pl_hdr = RW'(f_rows) == RW'(1);        // RW'(f_rows - 1) == 0

  // The parser's transitions: P_GATE -> P_GCHK on the GATE word; P_GCHK -> P_LOAD, or P_ERR on a bad
  // GATE word; P_LOAD -> P_HDR on a LOAD word (P_ERR on another kind); P_HDR -> P_HCHK on a header taken;
  // P_HCHK -> P_ROWS (the call starts), or P_ERR on a bad header; P_ROWS -> P_HDR / P_RUN (the layer's
  // last call) on its last row taken; P_RUN -> P_GATE at the layer's end; P_ERR holds. A table-write
  // error (tw_err) overrides every state with P_ERR; GATE_CALL's bad T (g_err) moves P_GATE to P_ERR
  // when no GATE word moves it on (G_TCHK follows G_TOK, which needs P_GATE, by one cycle: the parser
  // is then at P_GATE or P_GCHK, which leaves anyway; a GATE word taken with it fails its check).
  wire k_load    = f_kind == MOE_H_KIND_W'(MOE_KIND_LOAD);
  wire rows_done = dv && !pq_busy && prow_last;   // P_ROWS: the call's last row is taken
  wire hdr_go    = dv && !ap_start;               // P_HDR: hdr_take
  wire g_err     = GATE_CALL && gs == G_TCHK && t_bad;
  logic [NPS-1:0] ps_n;
  always_comb begin
    ps_n         = '0;
    ps_n[P_GATE] = (ps[P_GATE] && !dv && !g_err) || (ps[P_RUN] && run_end);
    ps_n[P_GCHK] = ps[P_GATE] && dv;
    ps_n[P_LOAD] = (ps[P_GCHK] && !g_bad) || (ps[P_LOAD] && !dv);
    ps_n[P_HDR]  = (ps[P_LOAD] && dv && k_load) || (ps[P_HDR] && !hdr_go) || (ps[P_ROWS] && rows_done && !hlast);
    ps_n[P_HCHK] = ps[P_HDR] && hdr_go;
    ps_n[P_ROWS] = (ps[P_HCHK] && !h_bad) || (ps[P_ROWS] && !rows_done);
    ps_n[P_RUN]  = (ps[P_ROWS] && rows_done && hlast) || (ps[P_RUN] && !run_end);
    ps_n[P_ERR]  = ps[P_ERR] || (ps[P_GATE] && !dv && g_err) || (ps[P_GCHK] && g_bad) ||
                   (ps[P_LOAD] && dv && !k_load) || (ps[P_HCHK] && h_bad);
  end
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) ps <= NPS'(1) << P_GATE;
    else if (tw_err) ps <= NPS'(1) << P_ERR;
    else ps <= ps_n;
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      err      <= 1'b0;
      ap_start <= 1'b0;
      run_on   <= 1'b0;
      filled   <= 1'b0;
      x_fill   <= 1'b0;
      z_fill   <= 1'b0;
      pc       <= '0;
      t_busy   <= '0;
      pq_busy  <= 1'b0;
      tw_v     <= 1'b0;
      tw_err   <= 1'b0;
      gs       <= G_TOK;
      in_chk   <= 1'b0;
    end else begin
      in_chk   <= GATE_CALL ? gs == G_TOK && xv && ps[P_GATE] : ps[P_GATE] && dv && !tw_err;
      if (ap_ready) ap_start <= 1'b0;
      tw_v <= row_take || gid_take;
      tw_err <= row_take && !gid_take && !row_ok;   // == the next tw_v && tw_bad
      if (GATE_CALL) begin
        case (gs)
          G_TOK: if (xv && ps[P_GATE]) gs <= G_TCHK;
          G_TCHK: if (t_bad) begin   // the parser moves to P_ERR (ps_n)
            gs <= G_RUN;
          end else begin
            run_on <= 1'b1;
            x_fill <= 1'b1;
            z_fill <= 1'b1;
            pc     <= '0;
            gs     <= G_ID;
          end
          G_ID: if (prow_last) begin
            ap_start <= 1'b1;          // the gate call (arguments below)
            gs       <= G_RUN;
          end
          default: if (run_end) gs <= G_TOK;
        endcase
      end
      if (!GATE_CALL && ps[P_GCHK] && !g_bad) begin
        run_on <= 1'b1;
        x_fill <= 1'b1;
        z_fill <= 1'b1;
        pc     <= '0;
      end
      if (ps[P_HCHK] && !h_bad) ap_start <= 1'b1;
      if (ps[P_RUN] && run_end) run_on <= 1'b0;   // (GATE_CALL: gs returns to G_TOK at the same edge)
      if (ps[P_ERR]) err <= 1'b1;
      if (tw_v && !tw_bad && tw_end) begin
        t_busy[tw_p] <= 1'b1;
        pc <= pc + (tw_g ? CW'(2) : CW'(1));
      end
      // the layer's x rows and the moe_acc zeros, one entry per cycle each
      if (x_fill && xv && fx_last) x_fill <= 1'b0;
      if (z_fill && fz_last) z_fill <= 1'b0;
      filled <= filled_d;
      if (wr_end_land) t_busy[wr_end_par] <= 1'b0;
      pq_busy <= pq_n ? t_busy_n[1] : t_busy_n[0];
    end
  end

  // Registers loaded whatever the checks say (a failed check moves the parser to P_ERR before any of
  // them is used).
  always_ff @(posedge ap_clk) begin
    if (ps[P_GATE]) begin
      if (!GATE_CALL) begin
        n_tok     <= RW'(f_rows);
        f_tnd     <= XAW'(32'(f_rows) * ND);
      end
      g_bad     <= !gate_ok;
      pq        <= 1'b0;
    end
    if (GATE_CALL && gs == G_TOK && xv) begin
      n_tok     <= RW'(xu[7:0]);
      f_tnd     <= XAW'(32'(xu[7:0]) * ND);
      t_bad     <= xu[7:0] == '0 || 32'(xu[7:0]) > TMAX;
      run_user  <= xu;
    end
    if (GATE_CALL && gs == G_TCHK) begin
      prow  <= '0;
      prow_p1 <= RW'(1);
      hrm1  <= RW'(32'(n_tok) - 1);
      hlast <= 1'b0;
    end
    if (gid_take && prow_last) begin   // the gate call: x (D) -> logits (E) of every token, no GELU
      a_fc2  <= 1'b0;
      a_gate <= 1'b1;
      a_gelu <= 1'b0;
      a_mode <= 2'(MOE_MODE_STORE);
      a_rows <= 16'(n_tok);
    end
    if (hdr_take) begin
      a_gate    <= 1'b0;
      a_fc2     <= pq;
      a_gelu    <= f_gelu;
      a_mode    <= 2'(f_mode);
      a_rows    <= 16'(f_rows);
      hrm1      <= RW'(32'(f_rows) - 1);
      hlast     <= f_last;
      prev_rows <= f_rows;
      h_bad     <= !call_ok;
      prow      <= '0;
      prow_p1   <= RW'(1);
    end
    if (row_take || gid_take) begin
      prow    <= prow_p1;
      prow_p1 <= prow_p1 + 1'b1;
    end
    // prow_last: the row being parsed is the call's last, loaded with prow and hrm1 (a compare of
    // flip-flops when prow steps). As the compare it fed ps's next state, where ABC put it (and the
    // reset) at the head of a 6-LUT chain (3.44 ns in moe_layer_gate). hdr_take (ps == P_HDR) never
    // meets a row step (ps == P_ROWS, or G_ID, which ends before the router's first word exists).
    if (GATE_CALL && gs == G_TCHK) prow_last <= n_tok == RW'(1);   // RW'(n_tok - 1) == 0 (n_tok < 2^RW)
    // Both compares are kept nodes of flip-flops (prow_p1, hrm1; the descriptor's rows), so the
    // state's decode only selects between them: as `prow + 1 == hrm1` and `RW'(f_rows - 1) == 0`
    // ABC rippled the compare through the select (ps -> 7 LUT -> prow_last, 3.50 ns in moe_layer on
    // edge_moe)
    if (hdr_take) prow_last <= pl_hdr;
    if (row_take || gid_take) prow_last <= pl_row;
    if (row_take && prow_last) pq <= !pq;
    tw_p   <= pq;
    tw_i   <= prow;
    tw_tok_r <= XAW'(32'(f_tok) * ND);
    tw_k_r   <= HAW'(32'(f_k) * NH);
    // G_ID: the identity row prow (pq is 0: x row prow in, h row prow out)
    tw_tok_g <= XAW'(32'(prow) * ND);
    tw_k_g   <= HAW'(32'(prow) * NH);
    tw_s   <= f_score;
    tw_end <= prow_last;
    tw_rm1 <= hrm1;
    tw_last <= hlast;
    tw_bad <= !gid_take && !row_ok;
    tw_g   <= gid_take;
    if (tw_v) begin
      if (tw_p) begin
        tb_tok1[tw_i] <= tw_tok;
        tb_k1[tw_i]   <= tw_k;
      end else begin
        tb_tok0[tw_i] <= tw_tok;
        tb_k0[tw_i]   <= tw_k;
      end
      if (tw_p) tb_s[tw_i] <= tw_s;
      if (tw_end) begin
        t_rm1[tw_p] <= tw_rm1;
        if (tw_p) t_last <= tw_last;
      end
    end
    if (p_init) begin
      fx <= '0;
      fz <= '0;
    end else begin
      if (x_fill && xv) fx <= fx + 1'b1;
      if (z_fill) fz <= fz + 1'b1;
    end
    // the fill pointers' last-entry flags, loaded with the pointers: the x handshake is the
    // flip-flop's clock enable, and its D a compare of flip-flops (as a mux select ABC folded the
    // handshake into the head of a 7-LUT compare chain, 3.52 ns). At p_init the pointers restart
    // at 0, and f_lastent = T * ND - 1 >= 1 for every T the parser accepts.
    if (p_init) begin
      fx_last <= 1'b0;
      fz_last <= 1'b0;
    end else begin
      if (x_fill && xv) fx_last <= fx == f_lastm1;
      if (z_fill) fz_last <= fz == f_lastm1;
    end
  end
  assign xr = x_fill;

  // ------------------------------------------------------------------------------------------
  // Buffers: simple dual-port memories with a registered read (block RAM)
  logic [W-1:0] xbuf [XDEP];
  logic [W-1:0] hbuf [HDEP];
  logic [W-1:0] abuf [XDEP];
  logic [W-1:0] xq, hq, aq;

  // The sequencers' conditions are flip-flops: "have" (the call's rows are in its table: pc > the
  // call) and the counters' "last" flags are registered, each computed ahead for a step (from the
  // current values) and recomputed from the current values in every cycle without one. A call's last
  // step forces one idle cycle (have low), in which the flags of the next call are recomputed; a row
  // of the x reader has at least two beats (ND, NH >= 2), so its row flag (recomputed every cycle,
  // never ahead) is fresh when next needed.

  // ------------------------------------------------------------------------------------------
  // x reader: call rn, row rk, block rb. A beat read lands in xq / hq (valid qv) and waits there until
  // the engine takes it, or moves to the hold slot xs (valid sv) when the next beat lands behind it.
  // The reader issues while fewer than two beats are held (a credit: sv, qv are flip-flops), so the
  // engine's ready only moves beats between the slots and never reaches the reader's counters, its
  // flags or the buffers' read enables. With both slots the engine sees a beat in every cycle it can
  // take one, as it did when the reader issued on its ready. The call's read-after-write wait (h_ok_d
  // or filled_d, by the parity) is registered too (r_src: r_have is low in the cycle after a call's
  // end, so the parity before it is enough), so the issue is one LUT of flip-flops.
  // The row's first entry (r_base) is read from the table a cycle ahead into two registers used in
  // turn: r_b[r_sel] the current row's, reloaded from rk in every cycle, the other the next row's,
  // read at rkn (rk's successor, one cycle old after a row end: a row has at least two beats, so it
  // is fresh at the next row end, the only edge whose read is used). A row end only toggles r_sel,
  // so the issue drives one flip-flop and no wide select (the reads are selected by r_sel, a
  // flip-flop). The call's rows - 1 are registered too (r_rm1 = t_rm1[rp]: one cycle old after a
  // call's end, which is followed by an idle cycle, and t_rm1 is written with pc, a cycle before
  // r_have can rise), so rk_last and rkn are compares of flip-flops.
  logic [CW-1:0] rn;
  logic [RW-1:0] rk, rkn, r_rm1, h_rows;
  logic [RW:0]   rk_p1;                         // rk + 1, its own register: h_ok_d compares flip-flops
  logic [CW-1:0] h_call;                        // the fc1 call whose rows h_rows counts
  logic [CW-1:0] w_call;                        // the call of the write landing (writer, below)
  logic [BW-1:0] rb;
  logic [AW-1:0] r_b [2];                       // row rk's first x / h entry (r_b[r_sel]), row rkn's
  logic [W-1:0]  xs;
  logic          qv, sv, lxsel, r_have, rb_last, rk_last, r_sel;
  // lxv: qv || sv in a flip-flop of its own, the engine's x valid: it enables the engine's input
  // register slice (LINEAR_IN * ACT_W bits), which waited for the OR (sv -> 3 LUT, 3.04 ns on edge_moe)
  logic          lxv;
  // sv_nd: !sv in a flip-flop of its own, for the datapath only: xs's enable and lx_data's select
  // (2 x LINEAR_IN * ACT_W loads), so that sv itself drives the control only (sv's net of ~2,000 loads
  // sat in r_have's path: sv -> r_end_c -> r_have, 3.02 ns on edge_moe). The complement, as axis_skid's
  // m_empty_d: a copy of sv itself is merged back by Yosys, keep or not.
  (* keep *) logic sv_nd;
  // r_src is registered as its two cofactors on r_rowend (the row ends now, or not) and selected by
  // r_rowend's own register: the compares of h_ok_d then do not wait for the issue (x_issue ->
  // r_rowend -> h_ok_d -> r_src was 6 LUT, 3.46 ns)
  logic          r_src_e, r_src_m, r_end_q;
  wire           r_src   = r_end_q ? r_src_e : r_src_m;
  logic          r_g;                           // GATE_CALL: call 0 (the gate) is being read
  wire  [AW-1:0] r_base  = r_b[r_sel];
  wire           rp      = rn[0];
  wire           x_issue = r_have && r_src && !(qv && sv);
  wire           r_rowend = x_issue && rb_last;
  // The call's end without r_src, and "a call is left" (run_on && pc > rn), as kept nodes of flip-flops:
  // r_have's next value and rn's enable are then one LUT of them and r_src's three flip-flops. As one
  // cone ABC chained r_have -> x_issue -> r_callend -> r_have through 5 LUT (3.06 ns on edge_moe).
  (* keep *) wire r_end_c = r_have && !(qv && sv) && rb_last && rk_last;
  (* keep *) wire r_more  = run_on && pc > rn;
  wire           r_callend = r_end_c && r_src;              // == r_rowend && rk_last
  // h_ok_d (r_src's fc2 term: h_call_ok && h_rows > the row after this cycle, rk_p1 at a row end, else
  // rk): fc2's row landed: h_rows counts the call before (h_call + 1 == rn) and exceeds that row (a
  // count one cycle old is safe: it only grows until the writer starts the next fc1, which comes after
  // this fc2's inputs are all in)
  wire           h_call_ok = h_call + 1'b1 == rn;
  // the slots' next valids: the engine takes the held beat (xs if sv, else the landed one) when lx_ready
  wire           sv_n    = sv ? !lx_ready : x_issue && qv && !lx_ready;
  wire           qv_n    = x_issue || (qv && !(lx_ready && !sv));
  wire [XAW-1:0] x_ra    = XAW'(r_base) + XAW'(rb);
  wire [HAW-1:0] h_ra    = HAW'(r_base) + HAW'(rb);
  wire [W-1:0]   lq_data = lxsel ? hq : xq;
  logic          h_inc, h_start;                // a row of fc1's last block landed; fc1's first write

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      qv     <= 1'b0;
      sv     <= 1'b0;
      sv_nd  <= 1'b1;
      lxv    <= 1'b0;
      h_rows <= '0;
      r_have <= 1'b0;
    end else begin
      sv <= sv_n;
      qv <= qv_n;
      lxv <= qv_n || sv_n;
      sv_nd <= !sv_n;
      if (h_start) h_rows <= '0;
      else if (h_inc) h_rows <= h_rows + 1'b1;
      r_have <= !r_callend && r_more;
    end
  end
  always_ff @(posedge ap_clk) begin
    if (p_init) begin
      rn    <= '0;
      rk    <= '0;
      rk_p1 <= (RW+1)'(1);
      rb    <= '0;
      r_sel <= 1'b0;
    end else if (x_issue) begin
      lxsel <= rp;
      rb    <= rb_last ? '0 : rb + 1'b1;
      if (rb_last) begin
        r_sel <= !r_sel;
        rk <= rk_last ? '0 : rk + 1'b1;
        rk_p1 <= rk_last ? (RW+1)'(1) : rk_p1 + 1'b1;
        if (rk_last) rn <= rn + (r_g ? CW'(2) : CW'(1));   // after the gate: call 2 (1 is skipped)
      end
    end
    r_g <= GATE_CALL && rn == '0;   // one cycle old after rn moves: the gate's last issue is far later
    rb_last <= x_issue ? !rb_last && rb == (rp ? BW'(NH - 2) : BW'(ND - 2)) : rb == (rp ? BW'(NH - 1) : BW'(ND - 1));
    r_rm1   <= t_rm1[rp];
    rk_last <= rk == r_rm1;       // one cycle old after a row's end: needed again two beats later
    r_src_e <= rp ? h_call_ok && (RW+1)'(h_rows) > rk_p1 : filled_d;
    r_src_m <= rp ? h_call_ok && h_rows > rk : filled_d;
    r_end_q <= r_rowend;
    rkn     <= rk == r_rm1 ? '0 : rk + 1'b1;
    for (int i = 0; i < 2; i++) begin
      if (r_sel == i[0]) r_b[i] <= rp ? AW'(tb_k1[rk]) : AW'(tb_tok0[rk]);
      else r_b[i] <= rp ? AW'(tb_k1[rkn]) : AW'(tb_tok0[rkn]);
    end
    if (h_start) h_call <= w_call;
    if (x_issue && !rp) xq <= xbuf[x_ra];
    if (x_issue && rp) hq <= hbuf[h_ra];
    if (sv_nd) xs <= lq_data;     // (!sv) follows the landed beat until it parks there
  end
  assign lx_valid = lxv;
  assign lx_data  = sv_nd ? lq_data : xs;   // sv ? xs : lq_data

  // ------------------------------------------------------------------------------------------
  // s reader (fc2 calls: call sn, row sk) and acc reader (fc2 calls: call an, block ab, row ak)
  // The acc reader's row base is read from the table a cycle ahead like the x reader's, but its row
  // changes at every beat: a_base is table 1's entry at akn (the row after ak, kept current: after an
  // issue from akn itself, otherwise from ak) when it issues, else at ak.
  logic [CW-1:0] sn, an;
  logic [RW-1:0] sk, ak, akn;
  logic [XAW-1:0] a_base;
  logic [BW-1:0] ab;
  logic          lsv, lav, ydv, ydl, drain, s_have, sk_last, a_have, ak_last, ab_last;
  // The rows' "last" flags from compares of flip-flops against the table's rows - 1, kept: the
  // flag's next value is then one LUT6 of them, the issue's inputs (the engine's ready among them)
  // and the flag. sk + 1 is a register of its own (sk_p1: sk < TMAX <= 2^RW - 1, no wrap), and akn is
  // ak's successor whenever the acc reader issues (asserted below), so after an issue ak_last is
  // akn's compare. (As `32'(sk) + 1 == t_rm1[1]` and a select on the issue ABC chained the ready
  // through 6 LUT into sk_last, 3.11 ns, and ak's adder through 5 into ak_last, 3.07 ns, on edge_moe.)
  logic [RW-1:0] sk_p1;
  (* keep *) wire sk_eq   = sk == t_rm1[1];
  (* keep *) wire sk_eq_p = sk_p1 == t_rm1[1];
  (* keep *) wire ak_eq   = ak == t_rm1[1];
  (* keep *) wire ak_eq_n = akn == t_rm1[1];
  logic [XAW-1:0] dc, dbase;           // the drain: entry dc = dbase + ab (row base, block ab)
  wire           s_issue = s_have && (!lsv || ls_ready);
  wire           a_issue = a_have && filled && (!lav || la_ready);
  wire           a_rowend = a_issue && ak_last;
  wire           d_issue = drain && (!ydv || y_TREADY);
  wire [XAW-1:0] a_ra    = (drain ? dbase : a_base) + XAW'(ab);
  // ab's advance and next value as kept nodes. ab steps at a drain beat or at the acc reader's row
  // end (never both, and the acc reader never issues while draining: asserted below) and wraps at
  // ND - 1 while draining, at ab_last otherwise (ab_last, from ab == ND - 1 a cycle late, lags the drain). The
  // wrap, the increment and the select are then flip-flops only, and the engine's ready reaches ab
  // through the advance alone. (As one always_ff on d_issue / a_issue ABC chained la_ready ->
  // a_issue -> ak_last -> ab's data through 5 LUT: 3.05 ns in moe_layer_gate on edge_moe.)
  (* keep *) wire          ab_adv  = d_issue || a_rowend;
  (* keep *) wire          ab_wrap = drain ? ab == BW'(ND - 1) : ab_last;
  (* keep *) wire [BW-1:0] ab_nx   = ab_wrap ? '0 : ab + 1'b1;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      lsv    <= 1'b0;
      lav    <= 1'b0;
      ydv    <= 1'b0;
      drain  <= 1'b0;
      s_have <= 1'b0;
      a_have <= 1'b0;
    end else begin
      if (s_issue) lsv <= 1'b1;
      else if (ls_ready) lsv <= 1'b0;
      if (a_issue) lav <= 1'b1;
      else if (la_ready) lav <= 1'b0;
      if (d_issue) ydv <= 1'b1;
      else if (y_TREADY) ydv <= 1'b0;
      if (run_calls_done && !err && !ps[P_ERR]) drain <= 1'b1;
      else if (d_issue && dc == f_lastent) drain <= 1'b0;
      s_have <= !(s_issue && sk_last) && run_on && pc > sn;
      a_have <= !(a_rowend && ab_last) && run_on && pc > an;
    end
  end
  always_ff @(posedge ap_clk) begin
    if (p_init) begin
      sn <= CW'(C0 + 1);
      sk <= '0;
      sk_p1 <= RW'(1);
      an <= CW'(C0 + 1);
      ak <= '0;
      ab <= '0;
      dc <= '0;
      dbase <= '0;
    end else begin
      if (s_issue) begin
        ls_data <= tb_s[sk];
        sk <= sk_last ? '0 : sk_p1;
        sk_p1 <= sk_last ? RW'(1) : sk_p1 + 1'b1;
        if (sk_last) sn <= sn + CW'(2);
      end
      if (ab_adv) ab <= ab_nx;
      if (d_issue && ab_wrap) dbase <= dbase + XAW'(ND);
      if (a_rowend && ab_wrap) an <= an + CW'(2);
      if (a_issue) ak <= ak_last ? '0 : ak + 1'b1;
      if (d_issue) begin
        dc  <= dc + 1'b1;
        ydl <= dc == f_lastent;
      end
    end
    sk_last <= s_issue ? !sk_last && sk_eq_p : sk_eq;
    ak_last <= a_issue ? ak_eq_n : ak_eq;
    akn     <= a_issue ? (ak_eq_n ? '0 : akn + 1'b1) : (ak_eq ? '0 : ak + 1'b1);
    a_base  <= a_issue ? tb_tok1[akn] : tb_tok1[ak];
    ab_last <= a_rowend ? !ab_last && ab == BW'(ND - 2) : ab == BW'(ND - 1);
    if (a_issue || d_issue) aq <= abuf[a_ra];
  end
  assign ls_valid = lsv;
  assign la_valid = lav;
  assign la_data  = aq;
  assign y_TVALID = ydv;
  assign y_TDATA  = aq;
  assign y_TLAST  = ydl;
  assign run_end  = ydv && y_TREADY && ydl;

  // ------------------------------------------------------------------------------------------
  // Writer: engine y_ beat (ob = wb, row wk) of call wc -> one register stage -> h or moe_acc.
  // The next call's first beat comes at least the engine's output pipeline after ap_done, so the
  // flags are recomputed before it. The call's row count is registered ahead too (w_rm1 = t_rm1[wp],
  // w_rm2 = w_rm1 - 1, w_z: w_rm1 == 0; one cycle old after wc moves, and t_rm1[wp] does not change
  // during the call's beats), so wk_last's next value is a compare of flip-flops, not the table
  // select, an increment and a compare.
  logic [CW-1:0] wc;
  logic [RW-1:0] wk, w_rm1, w_rm2;
  logic [BW-1:0] wb;
  logic          w_v, w_h, w_hinc, w_hfirst, w_end, w_par, w_runend, wk_last, wb_last, w_first, w_z;
  logic          w_g, w_gw;                     // GATE_CALL: call 0 (the gate: one out-block, logits kept)
  // w_acc: w_v && !w_h (a moe_acc write lands) in a flip-flop of its own. It selects the address and
  // data of abuf's write port between the writer and the zero fill (never at once, asserted); the
  // address reaches every block RAM of the LINEAR_IN * ACT_W-bit row (3 LUT from w_v, 3.13 ns on edge_moe)
  logic          w_acc;
  logic [RW-1:0] w_gk;
  logic [AW-1:0] w_a;
  logic [W-1:0]  w_d;
  wire           wp      = wc[0];
  wire           w_rowend = ly_valid && wk_last;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      w_v   <= 1'b0;
      w_acc <= 1'b0;
    end else begin
      w_v   <= ly_valid;
      w_acc <= ly_valid && wp;      // w_h <= !wp below
    end
  end
  always_ff @(posedge ap_clk) begin
    if (p_init) begin
      wc <= '0;
      wk <= '0;
      wb <= '0;
    end else if (ly_valid) begin
      wk <= wk_last ? '0 : wk + 1'b1;
      if (wk_last) begin
        wb <= wb_last ? '0 : wb + 1'b1;
        if (wb_last) wc <= wc + (w_g ? CW'(2) : CW'(1));   // after the gate: call 2
      end
    end
    w_g      <= GATE_CALL && wc == '0;   // one cycle old after wc moves (no beat follows at once)
    w_rm1    <= t_rm1[wp];
    w_rm2    <= t_rm1[wp] - 1'b1;   // all ones when t_rm1 is 0: never a row index (wk < TMAX <= 2^RW - 1)
    w_z      <= t_rm1[wp] == '0;
    wk_last  <= ly_valid ? (wk_last ? w_z : wk == w_rm2) : wk == w_rm1;
    // the gate call has one out-block (NUM_EXPERTS <= LINEAR_OUT): every beat ends its row's blocks
    wb_last  <= w_g || (w_rowend ? !wb_last && wb == (wp ? BW'(ND - 2) : BW'(NH - 2)) :
                                   wb == (wp ? BW'(ND - 1) : BW'(NH - 1)));
    w_h      <= !wp;
    w_a      <= wp ? AW'(tb_tok1[wk] + XAW'(wb)) : AW'(tb_k0[wk] + HAW'(wb));
    w_d      <= ly_data;
    w_call   <= wc;
    w_hinc   <= ly_valid && !wp && wb_last;
    w_hfirst <= ly_valid && !wp && w_first;
    w_gw     <= w_g;
    w_gk     <= wk;
    if (p_init || (w_rowend && wb_last)) w_first <= 1'b1;
    else if (ly_valid) w_first <= 1'b0;
    w_end    <= w_rowend && wb_last;
    w_par    <= wp;
    w_runend <= w_rowend && wb_last && wp && t_last;
  end
  assign h_inc          = w_v && w_hinc;
  assign h_start        = w_v && w_hfirst;
  assign wr_end_land    = w_v && w_end;
  assign wr_end_par     = w_par;
  assign run_calls_done = w_v && w_runend;

  // the gate call's beats also land in h rows 0..T-1 (harmless: no fc2 reads them before its fc1
  // rewrote them); its logits are read from gbuf, which keeps the x reader's h read port as it is
  logic [GW-1:0] gbuf [TMAX];
  always_ff @(posedge ap_clk) begin
    if (w_v && w_gw) gbuf[w_gk] <= w_d[GW-1:0];
    if (w_v && w_h) hbuf[w_a[HAW-1:0]] <= w_d;
    if (w_acc) abuf[w_a[XAW-1:0]] <= w_d;
    else if (z_fill) abuf[fz] <= '0;
    if (x_fill && xv) xbuf[fx] <= xw;
  end

  // ------------------------------------------------------------------------------------------
  // Logits reader (GATE_CALL): gbuf row gk, once the gate call's write of that row landed (g_rows
  // counts them; g_ok registered like h_ok_d) -> gq (the read register) -> gt (the token, lanes past
  // NUM_EXPERTS zero) -> NB beats of SL lanes, lane i of beat b = expert b*SL + i (moe_router's x_), in
  // the output register slice u_g (g_TDATA). One read in flight (gqv); a token's beats leave while the
  // next token waits in gq, so the router (a token every NB + 1 cycles at best) is never starved.
  // The slice (axis_skid) takes the router's ready: everything behind it sees the slice's registered
  // ready (g_rdy), so the reader's control and gt's NB * SL * ACT_W-bit load enable are functions of
  // flip-flops only. With the ready itself behind them, ABC shared the emit's high-fan-out node and
  // chained LUT2s into those enables whatever form they were written in (gtv -> 5 LUT -> gt, 3.52 ns
  // in moe_layer_gate on edge_moe with gt rotated; 3.08 and 3.24 on tiny with it loaded only, from
  // the ready's cofactors or from registered next values). The slice's output register replaces the
  // reader's own, so a beat reaches the router in the cycle after it leaves gt, as before.
  logic [RW-1:0]      gk, g_rows;
  logic               g_on, g_ok, gqv, gtv, g_rdy;
  // gk is the token's last: a compare of flip-flops, not a register of gk's next value (the issue,
  // whose net enables gq's bits, then an adder: 3.07 ns). n_tok - 1 is a register of its own (g_tm1,
  // loaded every cycle; n_tok only changes at G_TOK, cycles before g_on): the subtract's carry chain
  // sat in front of g_on's enable (3.51 ns in moe_layer_gate on edge_moe).
  logic [RW-1:0]      g_tm1;
  wire                g_klast = gk == g_tm1;
  logic [GW-1:0]      gq;
  logic [NB*SL*ACT_W-1:0] gt;             // the token, loaded from gq and read by beat (gb), never shifted
  localparam int GBW = $clog2(NB + 1);
  logic [GBW-1:0]     gb;
  // gb_last: gb == NB - 1, registered with gb, so that no compare sits in front of g_load, the enable
  // of gt's NB * SL * ACT_W bits (3.23 ns on edge_moe with the compare)
  logic               gb_last;
  wire                g_issue = g_on && g_ok && !gqv;
  wire                g_emit  = gtv && g_rdy;
  wire                g_tend  = g_emit && gb_last;
  wire                g_load  = gqv && (!gtv || g_tend);
  // gt's load enable from complement copies of gqv, gtv and gb_last that feed nothing else (kept; a
  // plain copy Yosys merges back): from the shared nodes g_emit and g_tend ABC built the 4-input
  // enable as a chain of four LUT2s (3.09 ns on tiny, its NB * SL * ACT_W loads at the end)
  (* keep *) logic    gqv_x, gtv_x, gbl_x;
  wire                gt_ld = !gqv_x && (gtv_x || (g_rdy && !gbl_x));   // == g_load
  // next values, shared by each flag and its complement copy
  wire                gqv_n = g_issue || (gqv && !g_load);
  wire                gtv_n = g_load || (gtv && !g_tend);
  wire                gbl_n = g_tend ? NB == 1 : 32'(gb) == NB - 2;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n || !GATE_CALL) begin
      g_on <= 1'b0;
      gqv  <= 1'b0;
      gtv  <= 1'b0;
      gqv_x <= 1'b1;
      gtv_x <= 1'b1;
    end else begin
      if (gs == G_TCHK && !t_bad) g_on <= 1'b1;
      else if (g_issue && g_klast) g_on <= 1'b0;
      gqv <= gqv_n;
      gtv <= gtv_n;
      gqv_x <= !gqv_n;
      gtv_x <= !gtv_n;
    end
  end
  always_ff @(posedge ap_clk) begin
    if (p_init) begin
      gk     <= '0;
      g_rows <= '0;
      gb     <= '0;
      gb_last <= NB == 1;
      gbl_x   <= NB != 1;
    end else begin
      if (g_issue) gk <= gk + 1'b1;
      if (w_v && w_gw) g_rows <= g_rows + 1'b1;
      if (g_emit) begin
        gb      <= g_tend ? '0 : gb + 1'b1;
        gb_last <= gbl_n;
        gbl_x   <= !gbl_n;
      end
    end
    g_ok    <= g_issue ? 32'(g_rows) > 32'(gk) + 1 : g_rows > gk;   // g_rows only grows in the gate call
    if (g_issue) gq <= gbuf[gk];
    f_lastent <= f_tnd - 1'b1;
    f_lastm1  <= f_tnd - XAW'(2);
    g_tm1   <= n_tok - 1'b1;
    if (gt_ld) gt <= (NB * SL * ACT_W)'(gq);
  end
  if (GATE_CALL) begin : g_gate_out
    // FREE_LOAD: the output register's enable is the router's ready and one flip-flop (gtv, the beat's
    // valid, stays off the wide enable)
    axis_skid #(.WIDTH(SL * ACT_W), .FREE_LOAD(1'b1)) u_g (
        .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(gt[32'(gb) * SL * ACT_W +: SL * ACT_W]),   // gb < NB
        .s_axis_tvalid(gtv), .s_axis_tready(g_rdy),
        .m_axis_tdata(g_TDATA), .m_axis_tvalid(g_TVALID), .m_axis_tready(g_TREADY));
  end else begin : g_no_gate_out
    assign g_rdy    = 1'b0;
    assign g_TDATA  = '0;
    assign g_TVALID = 1'b0;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_gate = g_TREADY ^ ^gt;   // no logits stream without the gate call
    /* verilator lint_on UNUSEDSIGNAL */
  end

`ifndef SYNTHESIS
  // The read-after-write rule, checked from the outside: every read records its call (the drain as
  // NCALL + 1); a write that lands after a later call (or the drain) read the entry, or at the edge
  // it reads it, fails, as does a moe_acc zero or an x write after a read of this layer.
  int h_rd [HDEP];
  int a_rd [XDEP];
  bit x_rd [XDEP];
  wire [HAW-1:0] s_wh = w_a[HAW-1:0];
  wire [XAW-1:0] s_wa = w_a[XAW-1:0];
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n) begin
      if (GATE_CALL ? gs == G_TCHK && !t_bad : ps[P_GCHK] && !g_bad) begin
        for (int i = 0; i < HDEP; i++) h_rd[i] <= 0;
        for (int i = 0; i < XDEP; i++) begin
          a_rd[i] <= 0;
          x_rd[i] <= 1'b0;
        end
      end
      if (x_issue && !rp) x_rd[x_ra] <= 1'b1;
      if (x_issue && rp) h_rd[h_ra] <= int'(rn) + 1;
      if (a_issue) a_rd[a_ra] <= int'(an) + 1;
      if (d_issue) a_rd[a_ra] <= NCALL + 2;
      if (w_v && w_h && (h_rd[s_wh] > int'(w_call) + 1 || (x_issue && rp && h_ra == s_wh && rn > w_call)))
        $error("moe_experts: h entry %0d written by call %0d after (or as) a later call read it", s_wh, w_call);
      if (w_v && !w_h && (a_rd[s_wa] > int'(w_call) + 1 || (a_issue && a_ra == s_wa && an > w_call) ||
                          (d_issue && a_ra == s_wa)))
        $error("moe_experts: moe_acc entry %0d written by call %0d after (or as) a later call read it", s_wa, w_call);
      if (!(w_v && !w_h) && z_fill && (a_rd[fz] != 0 || ((a_issue || d_issue) && a_ra == fz)))
        $error("moe_experts: moe_acc entry %0d zeroed after a read", fz);
      if (w_v && !w_h && z_fill) $error("moe_experts: a moe_acc write while the layer is being zeroed");
      if (x_fill && xv && (x_rd[fx] || (x_issue && !rp && x_ra == fx)))
        $error("moe_experts: x entry %0d written after a read of this layer", fx);
      if (a_issue && d_issue) $error("moe_experts: the acc reader and the drain read at once");
      if (a_issue && drain) $error("moe_experts: the acc reader issues while the layer drains");
      if (ly_valid && wk_last != (wk == t_rm1[wp]))
        $error("moe_experts: the writer's wk_last differs from its definition");
      if (x_issue && r_base != (rp ? AW'(tb_k1[rk]) : AW'(tb_tok0[rk])))
        $error("moe_experts: the x reader's row base differs from its table entry");
      if (rk_p1 != (RW+1)'(rk) + 1'b1) $error("moe_experts: rk_p1 differs from rk + 1");
      if (gt_ld != g_load) $error("moe_experts: gt's load enable differs from g_load");
      if (GATE_CALL && (gqv_x != !gqv || gtv_x != !gtv || gbl_x != !gb_last))
        $error("moe_experts: gqv_x / gtv_x / gbl_x differ from !gqv / !gtv / !gb_last");
      if (GATE_CALL && gb_last != (32'(gb) == NB - 1)) $error("moe_experts: gb_last differs from gb == NB - 1");
      if (g_on && g_tm1 != n_tok - 1'b1) $error("moe_experts: g_tm1 differs from n_tok - 1");
      if (in_chk != (GATE_CALL ? gs == G_TCHK : ps[P_GCHK])) $error("moe_experts: in_chk differs from the check state");
      if (tw_err != (tw_v && tw_bad)) $error("moe_experts: tw_err differs from tw_v && tw_bad");
      if (pq_busy != t_busy[pq]) $error("moe_experts: pq_busy differs from t_busy[pq]");
      if (w_acc != (w_v && !w_h)) $error("moe_experts: w_acc differs from w_v && !w_h");
      if (lxv != (qv || sv)) $error("moe_experts: lxv differs from qv || sv");
      if (sv_nd != !sv) $error("moe_experts: sv_nd differs from !sv");
      if (!$onehot(ps)) $error("moe_experts: the parser's state %b is not one-hot", ps);
      if (GATE_CALL && gs == G_TCHK && !(ps[P_GATE] || ps[P_GCHK]))
        $error("moe_experts: the parser is past P_GCHK while T is checked");
      if (s_have && sk_p1 != sk + 1'b1) $error("moe_experts: sk_p1 differs from sk + 1");
      if (s_have && sk_last != sk_eq) $error("moe_experts: sk_last differs from sk == t_rm1[1]");
      if (a_have && ak_last != ak_eq) $error("moe_experts: ak_last differs from ak == t_rm1[1]");
      if (a_issue && akn != (ak_eq ? '0 : ak + 1'b1)) $error("moe_experts: akn is not ak's successor at an issue");
      if ((ps[P_ROWS] || (GATE_CALL && gs == G_ID)) && prow_last != (prow == hrm1))
        $error("moe_experts: prow_last differs from prow == hrm1");
      if ((ps[P_ROWS] || (GATE_CALL && gs == G_ID)) && prow_p1 != prow + 1'b1)
        $error("moe_experts: prow_p1 differs from prow + 1");
      if ((x_fill && fx_last != (fx == f_lastent)) || (z_fill && fz_last != (fz == f_lastent)))
        $error("moe_experts: fx_last / fz_last differ from their compares");
      if ((x_fill || z_fill || drain) && (f_lastent != f_tnd - 1'b1 || f_lastm1 != f_tnd - XAW'(2)))
        $error("moe_experts: f_lastent / f_lastm1 differ from T * ND - 1 / - 2");
    end
  end
`endif

  wire unused_ok = &{1'b0, d_TLAST, x_TLAST, ap_done, ap_idle, ly_last};
endmodule

`default_nettype wire
