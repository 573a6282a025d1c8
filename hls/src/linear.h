// Unified compute unit: one LINEAR_OUT x LINEAR_IN array of multiply-accumulates per cycle for QKV,
// the attention projection, MLP fc1/fc2, every MoE expert and the patch embedding. The numerical
// definition is python_ref/kernels/linear.py (numerics.linear_sum: exact); this file equals it bit
// for bit:
//   xo[i] = operand_t(x[i])                      assignment to formats.operand (RND, SAT_SYM)
//   y[o]  = act_t(b[o] + sum_i xo[i] * W[o][i])  the exact sum in acc_t, ONE assignment to act_t
//   y     = gelu ? GELU(y) : y;  then store / accumulate / scaled accumulate (output modes)
// Every product (27 x 18 bits: one DSP48E2) and the sum are exact, so the tile size, the schedule and
// the adder tree HLS builds cannot change a bit.
//
// The synthesizable top is linear_top (one engine call = one layer); docs/linear.md, section "HLS
// top", has the interface, the schedule and the expected cycle counts. External memory (m_axi,
// AXI_WIDTH-bit words, little-endian lanes):
//   weights     pack_matrix_axi: W[out][in] row-major, rows padded to whole words (E = AXI_WIDTH /
//               WEIGHT_W per word); patch weights: the conv weight seen as (dim, C*P*P).
//   biases      pack_vector_axi: dense, AXI_WIDTH / BIAS_W per word.
//   activations pack_matrix_axi of act_t: row r of a matrix with n columns in words r*R .. r*R+R-1,
//               R = ceil(n / LINEAR_A_PER_WORD) (rows padded to whole words; no padding for any
//               shipped layer shape). Inputs x, destination dst and the position embedding pos.
//   image       pack_vector_axi of pixel_t[C][H][W] (LINEAR_P_PER_WORD pixels per word).
//   gather, scatter (unsigned) and scores (act_t): one entry per processed row.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "gelu.h"
#include "model_config.h"

constexpr int linear_ceildiv(int a, int b) { return (a + b - 1) / b; }
constexpr int linear_max(int a, int b) { return a > b ? a : b; }
constexpr int linear_tiles(int out_dim, int in_dim) {
    return linear_ceildiv(out_dim, LINEAR_OUT) * linear_ceildiv(in_dim, LINEAR_IN);
}

// Layer shapes served by the engine (out x in): QKV, projection, fc1, fc2, expert fc1/fc2, patch.
constexpr int LINEAR_MAX_TILES = linear_max(
    linear_max(linear_max(linear_tiles(3 * FEATURE_DIM, FEATURE_DIM), linear_tiles(FEATURE_DIM, FEATURE_DIM)),
               linear_max(linear_tiles(MLP_HIDDEN_DIM, FEATURE_DIM), linear_tiles(FEATURE_DIM, MLP_HIDDEN_DIM))),
    linear_max(linear_max(linear_tiles(EXPERT_HIDDEN_DIM, FEATURE_DIM), linear_tiles(FEATURE_DIM, EXPERT_HIDDEN_DIM)),
               linear_tiles(FEATURE_DIM, PATCH_IN_DIM)));
constexpr int LINEAR_MAX_IN_BLOCKS = linear_ceildiv(LINEAR_MAX_IN, LINEAR_IN);
constexpr int LINEAR_MAX_OUT_BLOCKS = linear_ceildiv(LINEAR_MAX_OUT, LINEAR_OUT);

typedef linear_config::w_t linear_w_t;      // weight operand: holds weight_t and patch_weight_t exactly
typedef linear_config::acc_t linear_acc_t;  // the exact sum (sized in python_ref: linear.acc_format)
typedef ap_uint<AXI_WIDTH> axi_word_t;

// The loader moves segments of LINEAR_SEG weights: a word holds LINEAR_SEGS_PER_WORD, a tile row
// LINEAR_SEGS_PER_TILE of them.
constexpr int LINEAR_SEG = LINEAR_W_PER_WORD < LINEAR_IN ? LINEAR_W_PER_WORD : LINEAR_IN;
constexpr int LINEAR_SEGS_PER_WORD = LINEAR_W_PER_WORD / LINEAR_SEG;
constexpr int LINEAR_SEGS_PER_TILE = LINEAR_IN / LINEAR_SEG;
// Activation words per input block / output block.
constexpr int LINEAR_IN_WORDS = LINEAR_IN / LINEAR_A_PER_WORD;
constexpr int LINEAR_OUT_WORDS = LINEAR_OUT / LINEAR_A_PER_WORD;

static_assert(LINEAR_IN >= 1 && LINEAR_OUT >= 1, "the MAC tile needs at least one input and one output");
static_assert(AXI_WIDTH % WEIGHT_W == 0 && WEIGHT_W == PATCH_WEIGHT_W, "one weight memory layout");
static_assert(AXI_WIDTH % BIAS_W == 0 && BIAS_W == ATTN_BIAS_W, "one bias memory layout");
static_assert(LINEAR_W_PER_WORD % LINEAR_IN == 0 || LINEAR_IN % LINEAR_W_PER_WORD == 0,
              "a tile row must be a whole number of words or a word a whole number of tile rows");
static_assert(LINEAR_A_PER_WORD * ACT_W == AXI_WIDTH && LINEAR_IN % LINEAR_A_PER_WORD == 0 &&
                  LINEAR_OUT % LINEAR_A_PER_WORD == 0,
              "input and output blocks are whole words of activations (python_ref linear.check_config)");
static_assert(LINEAR_P_PER_WORD * PIXEL_W == AXI_WIDTH && LINEAR_P_PER_WORD % PATCH_SIZE == 0 &&
                  LINEAR_IN % PATCH_SIZE == 0 && IMAGE_WIDTH % PATCH_SIZE == 0 && IMAGE_HEIGHT % PATCH_SIZE == 0,
              "a patch row (PATCH_SIZE pixels) lies inside one word and inside one input block");
static_assert(NUM_PATCHES == (IMAGE_HEIGHT / PATCH_SIZE) * (IMAGE_WIDTH / PATCH_SIZE) && NUM_TOKENS == NUM_PATCHES + 1,
              "one CLS token in front of the patches");
// Exactness of the conversions (each is an assignment that cannot round or overflow):
static_assert(OPERAND_W - OPERAND_I >= PIXEL_W - PIXEL_I && OPERAND_I >= PIXEL_I + (PIXEL_SIGNED ? 0 : 1),
              "pixels convert to operand_t exactly");
static_assert(ACT_W - ACT_I >= BIAS_W - BIAS_I && ACT_I >= BIAS_I && ACT_W - ACT_I >= ATTN_BIAS_W - ATTN_BIAS_I &&
                  ACT_I >= ATTN_BIAS_I,
              "biases convert to act_t exactly");
// acc_t: F_op + F_w fraction bits (every product and the bias are on its grid), and wide enough
// for (max_in + 1) terms of magnitude < 2^max(P, B) (python_ref/kernels/linear.py: acc_format).
constexpr int LINEAR_ACC_F = linear_acc_t::width - linear_acc_t::iwidth;
constexpr int LINEAR_PROD_BITS = OPERAND_W + LINEAR_W_W - 2;
constexpr int LINEAR_BIAS_BITS = ACT_W - 1 + LINEAR_ACC_F - (ACT_W - ACT_I);
constexpr int linear_bit_length(int n) { return n == 0 ? 0 : 1 + linear_bit_length(n >> 1); }
static_assert(LINEAR_ACC_F == (OPERAND_W - OPERAND_I) + (LINEAR_W_W - LINEAR_W_I), "acc_t holds every product exactly");
static_assert(LINEAR_ACC_F >= ACT_W - ACT_I, "acc_t holds the bias (act_t) exactly");
static_assert(linear_acc_t::width >= linear_max(LINEAR_PROD_BITS, LINEAR_BIAS_BITS) + linear_bit_length(LINEAR_MAX_IN) + 1,
              "acc_t is wide enough for the exact sum of LINEAR_MAX_IN products and the bias");
static_assert(linear_acc_t::width <= 64, "the exact sum fits 64 bits");

struct linear_in_block_t { operand_t v[LINEAR_IN]; };
struct linear_out_block_t { act_t v[LINEAR_OUT]; };

// Which format the words of the weight / bias memory hold (selected per call).
enum linear_weight_kind { LINEAR_W_WEIGHT = 0, LINEAR_W_PATCH = 1 };
enum linear_bias_kind { LINEAR_B_BIAS = 0, LINEAR_B_ATTN = 1 };
// Output stage: store y[k] in row k; dst[t] += y[k]; dst[t] += act_t(score[k] * y[k]) with
// t = scatter[k] (or k without scatter). The score is act_t (a gate probability).
enum linear_out_mode { LINEAR_STORE = 0, LINEAR_ACCUMULATE = 1, LINEAR_ACCUMULATE_SCALED = 2 };

// One engine call (one layer). Scalars (s_axilite): out_dim, in_dim (1 .. LINEAR_MAX_OUT / _IN,
// at most LINEAR_MAX_TILES tiles), rows (1 .. LINEAR_MAX_ROWS processed rows), w_kind, b_kind,
// mode, use_gelu, use_gather, use_scatter, is_patch. is_patch: the rows are the NUM_PATCHES im2col
// rows of `image` (x is not read), the output accumulates onto `pos` (dst[0] = pos[0],
// dst[1+p] = pos[1+p] + y[p]; mode, gather and scatter are ignored). Otherwise row k of the call is
// row gather[k] of x (row k without gather); the destination row t = scatter[k] (or k) must be
// distinct within one call in the accumulate modes (the spec's contract). With ap_ctrl_chain, the
// weight loader of call n+1 overlaps the engine of call n (the weight buffer is a ping-pong channel).
void linear_top(const axi_word_t w[LINEAR_W_WORDS], const axi_word_t b[LINEAR_B_WORDS],
                const axi_word_t x[LINEAR_X_WORDS], const axi_word_t image[LINEAR_IMAGE_WORDS],
                const axi_word_t pos[LINEAR_POS_WORDS], axi_word_t dst[LINEAR_Y_WORDS],
                const unsigned gather[LINEAR_MAX_ROWS], const unsigned scatter[LINEAR_MAX_ROWS],
                const act_t scores[LINEAR_MAX_ROWS], unsigned out_dim, unsigned in_dim, unsigned rows,
                unsigned w_kind, unsigned b_kind, unsigned mode, bool use_gelu, bool use_gather,
                bool use_scatter, bool is_patch);
