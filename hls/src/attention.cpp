#include "attention.h"
#include "mac_tile.h"
#include "flat_loop.h"

constexpr int AT_LI = LINEAR_IN, AT_LO = LINEAR_OUT;   // the MAC array: LO outputs x LI inputs per cycle
constexpr int at_ceildiv(int a, int b) { return (a + b - 1) / b; }
constexpr int at_max(int a, int b) { return a > b ? a : b; }
constexpr int at_bit_length(int n) { return n == 0 ? 0 : 1 + at_bit_length(n >> 1); }
constexpr int AT_T = ATTENTION_MAX_TOKENS;
constexpr int AT_KPAD = at_ceildiv(AT_T, AT_LO) * AT_LO;  // keys rounded up to whole QK^T output blocks
constexpr int AT_JPAD = at_ceildiv(AT_T, AT_LI) * AT_LI;  // keys rounded up to whole AV input blocks
constexpr int AT_SPAD = at_max(AT_KPAD, AT_JPAD);
constexpr int AT_SPART = at_max(AT_LI, AT_LO);            // score / exp buffer banks
constexpr int AT_CB = HEAD_DIM / AT_LI;                    // QK^T input blocks (dims)
constexpr int AT_DB = HEAD_DIM / AT_LO;                    // AV output blocks (dims)
typedef attention_config::q_t at_q_t;    // q on the A port (numerics.attention_q, else operand_t)
typedef attention_config::kv_t at_kv_t;  // K and V on the B port (numerics.attention_kv, else operand_t)
constexpr int AT_F_Q = at_q_t::width - at_q_t::iwidth;
constexpr int AT_F_KV = at_kv_t::width - at_kv_t::iwidth;
constexpr int AT_F_EXP = exp_out_t::width - exp_out_t::iwidth;

static_assert(HEAD_DIM * NUM_HEADS == FEATURE_DIM && HEAD_DIM == (1 << (2 * ATTENTION_HEAD_SHIFT)), "d = 4^g");
static_assert(HEAD_DIM % AT_LI == 0 && HEAD_DIM % AT_LO == 0 && HEAD_DIM % ATTENTION_A_PER_WORD == 0 &&
                  (AT_LI % AT_LO == 0 || AT_LO % AT_LI == 0),
              "the array tiles a head exactly (python_ref attention.check_config)");
static_assert(AT_LO % ATTENTION_A_PER_WORD == 0, "the output buffer banks serve one word per cycle");
static_assert(AT_T <= softmax_config::max_row, "a softmax row fits the sum format");
// Exactness of every intermediate (each an assignment that cannot round or overflow):
static_assert(at_q_t::width <= OPERAND_W && at_kv_t::width <= OPERAND_W, "q, K and V fit the port type (at_port_t)");
static_assert(attention_s_acc_t::width - attention_s_acc_t::iwidth == AT_F_Q + AT_F_KV, "S: F_q + F_kv fraction bits");
static_assert(attention_s_acc_t::width >= at_q_t::width + at_kv_t::width - 2 + at_bit_length(HEAD_DIM) + 1,
              "S holds d products");
static_assert(attention_s_scaled_t::width == attention_s_acc_t::width &&
                  attention_s_scaled_t::iwidth == attention_s_acc_t::iwidth - ATTENTION_HEAD_SHIFT,
              "S * 2^-g is the same raw integer");
static_assert(attention_u_acc_t::width - attention_u_acc_t::iwidth == AT_F_EXP + AT_F_KV, "U: F_exp + F_kv fraction bits");
static_assert(attention_u_acc_t::width >= exp_out_t::width + at_kv_t::width - 1 + at_bit_length(AT_T) + 1,
              "U holds T products");
static_assert(exp_in_t::width >= score_t::width + 1 && exp_in_t::iwidth >= score_t::iwidth + 1 &&
                  exp_in_t::width - exp_in_t::iwidth == score_t::width - score_t::iwidth,
              "s - m is exact in the exp unit's input format");
static_assert(softmax_sum_t::width - softmax_sum_t::iwidth == AT_F_EXP, "sigma + e is exact (same fraction bits)");
static_assert(exp_out_t::width <= OPERAND_W - 1, "e fits the array's signed A port");

// The array's operands as raw integers: A = q (QK^T) or e (AV, e <= 2^24), B = k or v. (The RTL array
// takes K and V whole when they fit its 18-bit B port, else split hi / lo; exact sums either way.)
typedef ap_int<OPERAND_W> at_port_t;
constexpr int AT_TILE_W = 2 * (OPERAND_W - 1) + at_bit_length(AT_LI) + 1;  // LI products, exact
typedef ap_int<AT_TILE_W> at_tile_sum_t;
typedef mac_tile_t<at_tile_sum_t, AT_LO> at_tile_t;

static at_tile_t attention_tile(const at_port_t a[AT_LI], const at_port_t b[AT_LO][AT_LI]) {
#pragma HLS inline
    return mac_tile<at_tile_sum_t, AT_LO, AT_LI>(a, b);
}

template <class T>
static at_port_t raw_operand(const T& x) {
#pragma HLS inline
    ap_int<T::width> r;
    r = x.range(T::width - 1, 0);
    return at_port_t(r);  // sign-extended
}

// Process 1: head h's q, k, v from the qkv memory, converted to at_q_t / at_kv_t (one word per cycle).
static void attention_load(const attention_word_t qkv[ATTENTION_QKV_WORDS], int h, unsigned tokens,
                           at_q_t q[AT_T][HEAD_DIM], at_kv_t k[AT_KPAD][HEAD_DIM], at_kv_t v[AT_JPAD][HEAD_DIM]) {
#pragma HLS inline off
    unsigned i = 0, blk = 0, w = 0;
load_words:
    for (unsigned it = 0; it < tokens * 3 * ATTENTION_HEAD_WORDS; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=AT_T * 3 * ATTENTION_HEAD_WORDS
        const attention_word_t word =
            qkv[i * ATTENTION_QKV_ROW_WORDS + blk * ATTENTION_OUT_ROW_WORDS + h * ATTENTION_HEAD_WORDS + w];
    load_lanes:
        for (int j = 0; j < ATTENTION_A_PER_WORD; j++) {
#pragma HLS unroll
            act_t a;
            a.range(ACT_W - 1, 0) = word(j * ACT_W + ACT_W - 1, j * ACT_W);
            const int c = w * ATTENTION_A_PER_WORD + j;
            // one assignment from act_t each (the formats' modes: shipped RND, SAT_SYM)
            if (blk == 0) q[i][c] = at_q_t(a);
            else if (blk == 1) k[i][c] = at_kv_t(a);
            else v[i][c] = at_kv_t(a);
        }
        if (flat_next(w, ATTENTION_HEAD_WORDS) && flat_next(blk, 3)) i++;  // blk: q, k, v
    }
}

// Process 2: one head. Three pipelined loops (II=1): QK^T on the array with the row maximum, the
// exp pass (LI exp units) with the exact row sum and the reciprocal, AV on the array with the
// deferred normalisation.
static void attention_head(const at_q_t q[AT_T][HEAD_DIM], const at_kv_t k[AT_KPAD][HEAD_DIM],
                           const at_kv_t v[AT_JPAD][HEAD_DIM], unsigned tokens, act_t o_buf[AT_T][HEAD_DIM]) {
#pragma HLS inline off
    score_t s_buf[AT_T][AT_SPAD];  // the head's scores, on chip
#pragma HLS array_partition variable=s_buf cyclic factor=AT_SPART dim=2
    exp_out_t e_buf[AT_T][AT_SPAD];
#pragma HLS array_partition variable=e_buf cyclic factor=AT_SPART dim=2
    score_t m_buf[AT_T];
    softmax_recip_t r_buf[AT_T];
    const unsigned kb_n = at_ceildiv(tokens, AT_LO), jb_n = at_ceildiv(tokens, AT_LI);

    // (a) S = q k^T, exact; s = score(S 2^-g); m = row maximum. Order (i, key block kb, dim block cb).
    ap_int<attention_s_acc_t::width> sacc[AT_LO];
#pragma HLS array_partition variable=sacc complete
    score_t mrow = 0;
    unsigned i = 0, kb = 0, cb = 0;
qk_tiles:
    for (unsigned it = 0; it < tokens * kb_n * AT_CB; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=AT_T * (AT_KPAD / AT_LO) * AT_CB
        at_port_t a[AT_LI], b[AT_LO][AT_LI];
    qk_operands:
        for (int c = 0; c < AT_LI; c++) {
#pragma HLS unroll
            a[c] = raw_operand(q[i][cb * AT_LI + c]);
            for (int o = 0; o < AT_LO; o++) {
#pragma HLS unroll
                const unsigned j = kb * AT_LO + o;
                b[o][c] = j < tokens ? raw_operand(k[j][cb * AT_LI + c]) : at_port_t(0);
            }
        }
        const at_tile_t t = attention_tile(a, b);
        score_t bmax = 0;
        bool any = false;
    qk_accumulate:
        for (int o = 0; o < AT_LO; o++) {
#pragma HLS unroll
            sacc[o] = (cb == 0 ? ap_int<attention_s_acc_t::width>(0) : sacc[o]) + t.v[o];  // exact
            if (cb == AT_CB - 1) {
                const unsigned j = kb * AT_LO + o;
                attention_s_scaled_t sc;
                sc.range(attention_s_acc_t::width - 1, 0) = sacc[o];
                const score_t s = sc;  // the one rounding of the score (RND, SAT)
                s_buf[i][j] = s;
                if (j < tokens && (!any || s > bmax)) {
                    bmax = s;
                    any = true;
                }
            }
        }
        if (cb == AT_CB - 1) {
            mrow = (kb == 0 || bmax > mrow) ? bmax : mrow;  // exact maximum (order-free)
            if (kb == kb_n - 1) m_buf[i] = mrow;
        }
        if (flat_next(cb, AT_CB) && flat_next(kb, kb_n)) i++;
    }

    // (b) e = exp(s - m) (the exact difference), sigma = sum e (exact), r = 1/sigma. LI lanes.
    softmax_sum_t sigma = 0;
    i = 0;
    unsigned jb = 0;
exp_blocks:
    for (unsigned it = 0; it < tokens * jb_n; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=AT_T * (AT_JPAD / AT_LI)
        const score_t m = m_buf[i];
        softmax_sum_t bsum = 0;
    exp_lanes:
        for (int c = 0; c < AT_LI; c++) {
#pragma HLS unroll
            const unsigned j = jb * AT_LI + c;
            const exp_in_t d = s_buf[i][j] - m;  // exact, <= 0
            const exp_out_t e = j < tokens ? exp_neg<exp_config>(d) : exp_out_t(0);
            e_buf[i][j] = e;
            bsum += e;  // exact
        }
        sigma = (jb == 0 ? softmax_sum_t(0) : sigma) + bsum;  // exact: sigma <= tokens <= 255
        if (jb == jb_n - 1) r_buf[i] = reciprocal<reciprocal_config>(sigma);
        if (flat_next(jb, jb_n)) i++;
    }

    // (c) U = e v, exact; o = act(r U), the exact product assigned once. Order (i, dim block db, key block jb).
    ap_int<attention_u_acc_t::width> uacc[AT_LO];
#pragma HLS array_partition variable=uacc complete
    i = 0;
    jb = 0;
    unsigned db = 0;
av_tiles:
    for (unsigned it = 0; it < tokens * AT_DB * jb_n; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=AT_T * AT_DB * (AT_JPAD / AT_LI)
        at_port_t a[AT_LI], b[AT_LO][AT_LI];
    av_operands:
        for (int c = 0; c < AT_LI; c++) {
#pragma HLS unroll
            const unsigned j = jb * AT_LI + c;
            at_port_t ea = 0;
            ea(exp_out_t::width - 1, 0) = e_buf[i][j].range(exp_out_t::width - 1, 0);  // e >= 0: zero-extended
            a[c] = ea;
            for (int o = 0; o < AT_LO; o++) {
#pragma HLS unroll
                b[o][c] = j < tokens ? raw_operand(v[j][db * AT_LO + o]) : at_port_t(0);
            }
        }
        const at_tile_t t = attention_tile(a, b);
    av_accumulate:
        for (int o = 0; o < AT_LO; o++) {
#pragma HLS unroll
            uacc[o] = (jb == 0 ? ap_int<attention_u_acc_t::width>(0) : uacc[o]) + t.v[o];  // exact
            if (jb == jb_n - 1) {
                attention_u_acc_t u;
                u.range(attention_u_acc_t::width - 1, 0) = uacc[o];
                o_buf[i][db * AT_LO + o] = act_t(r_buf[i] * u);  // exact product, one assignment to act
            }
        }
        if (flat_next(jb, jb_n) && flat_next(db, AT_DB)) i++;
    }
}

// Process 3: head h's columns of attn_out (one word per cycle).
static void attention_store(const act_t o_buf[AT_T][HEAD_DIM], int h, unsigned tokens,
                            attention_word_t out[ATTENTION_OUT_WORDS]) {
#pragma HLS inline off
    unsigned i = 0, w = 0;
store_words:
    for (unsigned it = 0; it < tokens * ATTENTION_HEAD_WORDS; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=AT_T * ATTENTION_HEAD_WORDS
        attention_word_t word = 0;
    store_lanes:
        for (int j = 0; j < ATTENTION_A_PER_WORD; j++) {
#pragma HLS unroll
            word(j * ACT_W + ACT_W - 1, j * ACT_W) = o_buf[i][w * ATTENTION_A_PER_WORD + j].range(ACT_W - 1, 0);
        }
        out[i * ATTENTION_OUT_ROW_WORDS + h * ATTENTION_HEAD_WORDS + w] = word;
        if (flat_next(w, ATTENTION_HEAD_WORDS)) i++;
    }
}

// The top: a dataflow loop over the heads (canonical form: the loop is the function's only
// statement), so loading head h+1 and storing head h-1 overlap computing head h; the per-head
// buffers are ping-pong channels between the three processes.
void attention_top(const attention_word_t qkv[ATTENTION_QKV_WORDS], attention_word_t out[ATTENTION_OUT_WORDS],
                   unsigned tokens) {
#pragma HLS interface mode=m_axi port=qkv bundle=gmem_qkv offset=slave depth=ATTENTION_QKV_WORDS
#pragma HLS interface mode=m_axi port=out bundle=gmem_out offset=slave depth=ATTENTION_OUT_WORDS
#pragma HLS interface mode=s_axilite port=tokens bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
#pragma HLS bind_storage variable=EXP_TABLE type=rom_np impl=lutram
attention_heads:
    for (int h = 0; h < NUM_HEADS; h++) {
#pragma HLS dataflow
        at_q_t q[AT_T][HEAD_DIM];
#pragma HLS array_partition variable=q cyclic factor=AT_LI dim=2
        at_kv_t k[AT_KPAD][HEAD_DIM];
#pragma HLS array_partition variable=k cyclic factor=AT_LO dim=1
#pragma HLS array_partition variable=k cyclic factor=AT_LI dim=2
        at_kv_t v[AT_JPAD][HEAD_DIM];
#pragma HLS array_partition variable=v cyclic factor=AT_LI dim=1
#pragma HLS array_partition variable=v cyclic factor=AT_LO dim=2
        act_t o_buf[AT_T][HEAD_DIM];
#pragma HLS array_partition variable=o_buf cyclic factor=AT_LO dim=2
        attention_load(qkv, h, tokens, q, k, v);
        attention_head(q, k, v, tokens, o_buf);
        attention_store(o_buf, h, tokens, out);
    }
}
