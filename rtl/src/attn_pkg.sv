// What the attn_* modules share: the layout of the step tag that attn_issue puts on every MAC step
// and attn_score / attn_norm read back, and the constant multiplies of the address arithmetic (a
// head's first word = head * DB, a token's first word = row * WPR, a row's first score = row *
// KBMAX): shifts and adds of the constant's set bits, so synthesis builds adders from constants and
// never a DSP48E2.
`default_nettype none

package attn_pkg;
  // The step tag (acc_user / in_user), LSB first: is_av, last block (the last key block of a score
  // row, the last output block of a context row), the row r, the block, then above them the head (HW
  // bits) and r's reciprocal value on top.
  localparam int U_ROW_W = 8, U_BLK_W = 4, U_RV_W = 32;
  typedef struct packed {
    logic [U_BLK_W-1:0] blk;
    logic [U_ROW_W-1:0] row;
    logic               last;
    logic               av;
  } step_tag_t;
  localparam int U_HEAD = $bits(step_tag_t);   // the head's first bit
  function automatic int user_w(input int hw);
    return U_HEAD + hw + U_RV_W;
  endfunction

  // Array passes per K / V value (python_ref.kernels.attention.single_pass): 2 when K and V are wider
  // than the 18-bit B port (hi 2^10 + lo, the shipped configs), 1 when they fit it whole
  // (numerics.attention_kv at most 18 bits). A bank of the stationary store holds KV_PASSES entries per
  // dim block (QK^T) or key block (AV).
  localparam int KV_PASSES = model_pkg::ATTENTION_KV_SPLIT != 0 ? 2 : 1;
  // the stationary store's depth: two banks of KV_PASSES * max(DB, KBMAX) entries (attention_core,
  // attention.sv and linear_attention.sv size the array's store with it)
  function automatic int stationary_depth(input int db, input int kbmax);
    return 2 * KV_PASSES * (db > kbmax ? db : kbmax);
  endfunction

  // The per-row units' default widths for an L x L array (attention_core, attention.sv and
  // linear_attention.sv; cosim.attention_schedule.Geometry.from_config mirrors them). They keep pace
  // with the array: a score row takes KB DB NP steps, and per row the exp pass needs about
  // (KB - 1) L / EL chunk cycles, the reciprocal units one result every ~58 / RU cycles, and the
  // normaliser L / NL cycles per AV beat (an AV row has KB NP steps). One pass per product halves the
  // array's steps, so it doubles the exp lanes, reciprocal units and normalisation lanes (edge_moe:
  // 16, 8, 8 instead of 8, 4, 4); with fewer, the array idles in every AV phase.
  function automatic int default_el(input int l);   // exp lanes
    return l >= 16 ? (KV_PASSES == 1 ? l / 2 : l / 4) : 2;
  endfunction
  function automatic int default_ru(input int l);   // reciprocal units
    return l >= 16 ? (KV_PASSES == 1 ? 8 : 4) : (KV_PASSES == 1 ? 4 : 2);
  endfunction
  function automatic int default_nl(input int l);   // normalisation lanes (6 DSP48E2 each)
    return l >= 16 ? (KV_PASSES == 1 ? l / 4 : l / 8) : 2;
  endfunction

  // The phase order (attn_phase): phase p of a layer of nh heads is QK0 QK1 AV0 QK2 AV1 ... AV(nh-1),
  // i.e. p = 0: QK0, p = 2 nh - 1: AV(nh-1), other odd p: QK((p + 1) / 2), other even p: AV(p / 2 - 1).
  function automatic int phase_av(input int nh, input int p);     // 1: phase p is an AV phase
    return (p == 2 * nh - 1 || (p != 0 && p % 2 == 0)) ? 1 : 0;
  endfunction
  function automatic int phase_head(input int nh, input int p);
    return p == 2 * nh - 1 ? nh - 1 : p % 2 == 1 ? (p + 1) / 2 : p == 0 ? 0 : p / 2 - 1;
  endfunction
  // The input stream's segments (attn_qkv_store) in the order the phases consume them: a QK phase
  // its head's Q, then K; an AV phase its head's V. Segment i (0 .. 3 nh - 1) is Q / K / V (seg_sel
  // 0 / 1 / 2) of head seg_head; past the last, 0.
  function automatic int seg_sel(input int nh, input int i);
    int n;
    n = 0;
    for (int p = 0; p < 2 * nh; p++) begin
      if (phase_av(nh, p) != 0) begin
        if (n == i) return 2;
        n += 1;
      end else begin
        if (n == i) return 0;
        if (n + 1 == i) return 1;
        n += 2;
      end
    end
    return 0;
  endfunction
  function automatic int seg_head(input int nh, input int i);
    int n;
    n = 0;
    for (int p = 0; p < 2 * nh; p++) begin
      if (i >= n && i < n + 2 - phase_av(nh, p)) return phase_head(nh, p);
      n += 2 - phase_av(nh, p);
    end
    return 0;
  endfunction

  localparam int MUL_W = 32;

  // x * k modulo 2^MUL_W. A caller keeps the low bits it needs: the low n bits of a product depend
  // only on the low n bits of x, so truncating afterwards equals multiplying in n bits.
  function automatic logic [MUL_W-1:0] mul_const(input logic [MUL_W-1:0] x, input int unsigned k);
    logic [MUL_W-1:0] sum;
    sum = '0;
    for (int b = 0; b < MUL_W; b++) if (((k >> b) & 1) != 0) sum = sum + (x << b);
    return sum;
  endfunction
endpackage

`default_nettype wire
