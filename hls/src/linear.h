// Unified compute unit: one tiled MAC engine (LINEAR_OUT x LINEAR_IN multiply-accumulates per
// cycle) for QKV, the attention projection, MLP fc1/fc2, every MoE expert and the patch
// embedding. The numerical definition is python_ref/kernels/linear.py; this file equals it bit
// for bit:
//   acc = act_t(b[o]);  for i ascending: acc += act_t(x[i] * W[o][i]);  y = gelu ? GELU(acc) : acc
// i.e. every product is quantized to the accumulator format act_t before it is added (as in
// Edge-MoE). Under AP_WRAP the additions are exact modulo 2^ACT_W, so the adder tree HLS builds
// over one tile gives the same bits as the sequential C order.
//
// External memory layout (AXI_WIDTH-bit words, little-endian lanes; docs/linear.md):
//   weights  W[out][in] row-major (PyTorch nn.Linear), E = AXI_WIDTH / WEIGHT_W weights per word,
//            row o in words o*R .. o*R+R-1 with R = ceil(in / E); weight i of row o is lane i % E
//            of word o*R + i/E, bits [lane*WEIGHT_W, lane*WEIGHT_W + WEIGHT_W), two's complement.
//            Rows are zero-padded to whole words (no padding for any shipped layer shape: every
//            in_dim is a multiple of E). Patch-embedding weights: the conv weight (dim, C, P, P)
//            seen as (dim, C*P*P), same layout.
//   biases   dense vector, E_b = AXI_WIDTH / BIAS_W per word, bias j in lane j % E_b of word j/E_b.
//   activations act_t x[row][dim] row-major (stride = the layer's in_dim / out_dim).
//
// On-chip tile buffers: linear_w_tile_t tiles in tile-major order, tile (ob, ib) at index
// ob * ceil(in/LINEAR_IN) + ib, holding W[ob*LO + r][ib*LI + c] at w[r][c] (zero outside the
// matrix); one tile is read per cycle by the MAC loop. Two such buffers (ping and pong) let the
// loader fill the next layer's weights while the engine computes with the current ones
// (linear_pingpong_step).
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

// Layer shapes served by the engine (out x in): QKV, projection, fc1, fc2, expert fc1/fc2, patch;
// LINEAR_MAX_IN / _OUT / _ROWS, LINEAR_W_PER_WORD / LINEAR_B_PER_WORD and linear_config::w_t are
// generated from python_ref/kernels/linear.py.
constexpr int LINEAR_MAX_TILES = linear_max(
    linear_max(linear_max(linear_tiles(3 * FEATURE_DIM, FEATURE_DIM), linear_tiles(FEATURE_DIM, FEATURE_DIM)),
               linear_max(linear_tiles(MLP_HIDDEN_DIM, FEATURE_DIM), linear_tiles(FEATURE_DIM, MLP_HIDDEN_DIM))),
    linear_max(linear_max(linear_tiles(EXPERT_HIDDEN_DIM, FEATURE_DIM), linear_tiles(FEATURE_DIM, EXPERT_HIDDEN_DIM)),
               linear_tiles(FEATURE_DIM, PATCH_IN_DIM)));
constexpr int LINEAR_MAX_IN_BLOCKS = linear_ceildiv(LINEAR_MAX_IN, LINEAR_IN);
constexpr int LINEAR_MAX_OUT_BLOCKS = linear_ceildiv(LINEAR_MAX_OUT, LINEAR_OUT);

// Weights of the engine: one multiplier format that holds weight_t and patch_weight_t exactly
// (edge_moe: ap_fixed<18,2>), so a single MAC array serves the linear layers and the patch
// embedding. The product x * w is exact either way, so the result is the spec's act(x * w).
typedef linear_config::w_t linear_w_t;
typedef ap_uint<AXI_WIDTH> axi_word_t;
// The loader moves segments of LINEAR_SEG weights: one word holds LINEAR_SEGS_PER_WORD of them,
// one tile row LINEAR_SEGS_PER_TILE.
constexpr int LINEAR_SEG = LINEAR_W_PER_WORD < LINEAR_IN ? LINEAR_W_PER_WORD : LINEAR_IN;
constexpr int LINEAR_SEGS_PER_WORD = LINEAR_W_PER_WORD / LINEAR_SEG;
constexpr int LINEAR_SEGS_PER_TILE = LINEAR_IN / LINEAR_SEG;

static_assert(LINEAR_IN >= 1 && LINEAR_OUT >= 1, "the MAC tile needs at least one input and one output");
static_assert(AXI_WIDTH % WEIGHT_W == 0, "weights must pack evenly into AXI words");
static_assert(WEIGHT_W == PATCH_WEIGHT_W, "linear and patch weights share one memory layout (lanes per word)");
static_assert(AXI_WIDTH % BIAS_W == 0, "biases must pack evenly into AXI words");
static_assert(BIAS_W == ATTN_BIAS_W, "attention and other biases share one memory layout (lanes per word)");
static_assert(LINEAR_W_PER_WORD % LINEAR_IN == 0 || LINEAR_IN % LINEAR_W_PER_WORD == 0,
              "a tile row must be a whole number of words or a word a whole number of tile rows");
static_assert(ACT_W - ACT_I >= PIXEL_W - PIXEL_I && ACT_I >= PIXEL_I + (PIXEL_SIGNED ? 0 : 1),
              "pixels must convert to act_t exactly (the patch embedding feeds them to the engine as act_t)");
static_assert(LINEAR_MAX_TILES >= 1 && LINEAR_MAX_IN_BLOCKS >= 1, "empty engine");

struct linear_in_block_t { act_t v[LINEAR_IN]; };
struct linear_out_block_t { act_t v[LINEAR_OUT]; };
struct linear_w_tile_t { linear_w_t w[LINEAR_OUT][LINEAR_IN]; };
struct linear_bias_block_t { act_t b[LINEAR_OUT]; };

// Which format the words of a weight / bias memory hold (one loader for all, selected at run time).
enum linear_weight_kind { LINEAR_W_WEIGHT = 0, LINEAR_W_PATCH = 1 };
enum linear_bias_kind { LINEAR_B_BIAS = 0, LINEAR_B_ATTN = 1 };
// Output stage: store y[k] in row k; dst[t] += y[k]; dst[t] += act_t(score[k] * y[k]) with
// t = scatter[k] (or k without scatter). The score is act_t (a gate probability).
enum linear_out_mode { LINEAR_STORE = 0, LINEAR_ACCUMULATE = 1, LINEAR_ACCUMULATE_SCALED = 2 };

// Weight-tile loader: W from the row-major word layout above into tile-major buffer tiles.
void load_linear_weights(linear_w_tile_t dst[LINEAR_MAX_TILES], const axi_word_t src[], unsigned out_dim,
                         unsigned in_dim, linear_weight_kind kind);
// Bias loader: converted to act_t (exact for bias_t and attn_bias_t) in LINEAR_OUT blocks.
void load_linear_bias(linear_bias_block_t dst[LINEAR_MAX_OUT_BLOCKS], const axi_word_t src[], unsigned out_dim,
                      linear_bias_kind kind);

// The engine. Processes `rows` rows: row gather[k] of src (row k without gather), in order.
void compute_linear(act_t dst[], const act_t src[], const linear_w_tile_t weights[LINEAR_MAX_TILES],
                    const linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS], unsigned out_dim, unsigned in_dim,
                    unsigned rows, const unsigned gather[LINEAR_MAX_ROWS], bool use_gather,
                    const unsigned scatter[LINEAR_MAX_ROWS], bool use_scatter,
                    const act_t scores[LINEAR_MAX_ROWS], linear_out_mode mode, bool use_gelu);

// One step of a layer sequence, the ping-pong schedule: compute layer n from one buffer pair
// while the loader fills the other pair with layer n+1's weights (no data dependence between
// the two, so they overlap in a dataflow region). `ping` selects which pair layer n reads.
struct linear_job_t {
    bool is_patch;  // patch embedding (src ignored, image + pos used) or a linear layer
    unsigned out_dim, in_dim, rows;
    bool use_gather, use_scatter, use_gelu;
    linear_out_mode mode;
};
struct linear_next_t {
    bool load;  // false on the last layer
    unsigned out_dim, in_dim;
    linear_weight_kind w_kind;
    linear_bias_kind b_kind;
};
void linear_pingpong_step(bool ping, const linear_job_t& job, act_t dst[], const act_t src[],
                          const pixel_t image[], const act_t pos[], const unsigned gather[LINEAR_MAX_ROWS],
                          const unsigned scatter[LINEAR_MAX_ROWS], const act_t scores[LINEAR_MAX_ROWS],
                          const linear_next_t& next, const axi_word_t next_w[], const axi_word_t next_b[]);

// Load the first layer's weights into the ping buffers (before the first step).
void linear_load_first(unsigned out_dim, unsigned in_dim, linear_weight_kind w_kind, linear_bias_kind b_kind,
                       const axi_word_t w[], const axi_word_t b[]);
