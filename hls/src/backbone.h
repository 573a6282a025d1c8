// The whole M3ViT backbone for one frame, as python_ref/model/fixed_model.py (FixedM3ViT.forward)
// defines it, composed ONLY of the kernels' own C++ functions (one numerical definition per kernel):
//
//   x = patch_embed(image)                       linear_top (is_patch), accumulated onto pos
//   per layer L < layers:
//     h   = LN1(x)                               layernorm_top, one row per call
//     qkv = linear(h, W_qkv, b_qkv)              linear_top, store
//     a   = attention(qkv)                       attention_top
//     x   = act(x + linear(a, W_p, b_p))         linear_top, accumulate
//     h   = LN2(x)
//     even L: x = act(x + fc2(GELU(fc1(h))))     linear_top (fc1 with GELU, store; fc2 accumulate)
//     odd L:  moe = moe_layer(h, MoE weights, task)   moe_layer.h, the path moe_layer_top runs too:
//               route = moe_top(h, W_gate, task) gate, softmax, top-k, queues (task selects the gate)
//               moe = 0; per active expert e, ascending:
//                 hid = GELU(fc1_e(h[queue_e]))  linear_top, gather, store
//                 moe[queue_e] += act(score * fc2_e(hid))   linear_top, scaled scatter-accumulate
//             x = act(x + moe)                   the residual add (an act_t assignment)
//   out = x (NUM_TOKENS x FEATURE_DIM act_t)
//
// The one compute unit: every linear layer is a call of linear_top, limited to one instance
// (allocation pragma in bb_frame, whose body holds every call); the attention unit, the router,
// LayerNorm and the GELU inside the engine's output stage are the kernels' tops and functions, called
// as sub-functions (their interface pragmas apply only when they are tops themselves). Activations
// stay on chip, in the engine's memory layout (rows of LINEAR_A_PER_WORD act_t lanes per AXI word).
//
// External memory (m_axi, AXI_WIDTH-bit words, little-endian lanes):
//   image    per frame, pack_vector_axi of pixel_t[C][H][W] (linear.h), frames back to back
//   weights  the packed weight image: its layout is the constexpr table below, the one definition;
//            cosim/backbone_vectors.py packs it from python_ref's FixedWeights and every testbench
//            run checks the two agree (layout.txt)
//   out      per frame, NUM_TOKENS rows of FEATURE_DIM act_t (pack_matrix_axi), frames back to back
// Scalars (s_axilite): task (which gate), images (frames in image / out), layers (0..NUM_LAYERS: the
// output after that many blocks; NUM_LAYERS = the network), status (0 = done; 1 = task, 2 = images,
// 3 = layers out of range: nothing is read or written).
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "attention.h"
#include "layernorm.h"
#include "linear.h"
#include "model_config.h"
#include "moe.h"

constexpr int BACKBONE_MAX_IMAGES = 4;  // frames per call (the m_axi depths for cosimulation)

constexpr int BB_W_PER_WORD = AXI_WIDTH / WEIGHT_W;        // weights and patch weights (same width, linear.h)
constexpr int BB_B_PER_WORD = AXI_WIDTH / BIAS_W;          // biases and attention biases (same width)
constexpr int BB_N_PER_WORD = AXI_WIDTH / NORM_PARAM_W;    // LayerNorm gamma / beta
constexpr int BB_G_PER_WORD = AXI_WIDTH / GATE_WEIGHT_W;   // gate weights
constexpr int BB_A_PER_WORD = LINEAR_A_PER_WORD;           // activations
static_assert(AXI_WIDTH % NORM_PARAM_W == 0 && AXI_WIDTH % GATE_WEIGHT_W == 0, "parameters pack evenly into words");

// pack_matrix_axi: rows padded to whole words; pack_vector_axi: dense, the last word padded.
constexpr int bb_matrix_words(int rows, int cols, int per_word) { return rows * linear_ceildiv(cols, per_word); }
constexpr int bb_vector_words(int n, int per_word) { return linear_ceildiv(n, per_word); }
constexpr int bb_row_words(int cols) { return linear_ceildiv(cols, BB_A_PER_WORD); }  // one activation row

// ---- The weight image (word offsets). Frame part, then the layers back to back.
constexpr int BB_PATCH_W = 0;                                                               // (D, C*P*P) patch_weight
constexpr int BB_PATCH_B = BB_PATCH_W + bb_matrix_words(FEATURE_DIM, PATCH_IN_DIM, BB_W_PER_WORD);  // (D,) bias
constexpr int BB_POS = BB_PATCH_B + bb_vector_words(FEATURE_DIM, BB_B_PER_WORD);           // (T, D) act
constexpr int BB_LAYER0 = BB_POS + bb_matrix_words(NUM_TOKENS, FEATURE_DIM, BB_A_PER_WORD);
// Inside a layer (relative to its first word): the block's common part ...
constexpr int BB_NORM_WORDS = bb_vector_words(FEATURE_DIM, BB_N_PER_WORD);
constexpr int BB_LN1_G = 0;
constexpr int BB_LN1_B = BB_LN1_G + BB_NORM_WORDS;
constexpr int BB_QKV_W = BB_LN1_B + BB_NORM_WORDS;                                          // (3D, D) weight
constexpr int BB_QKV_B = BB_QKV_W + bb_matrix_words(3 * FEATURE_DIM, FEATURE_DIM, BB_W_PER_WORD);  // attn_bias
constexpr int BB_PROJ_W = BB_QKV_B + bb_vector_words(3 * FEATURE_DIM, BB_B_PER_WORD);      // (D, D) weight
constexpr int BB_PROJ_B = BB_PROJ_W + bb_matrix_words(FEATURE_DIM, FEATURE_DIM, BB_W_PER_WORD);  // attn_bias
constexpr int BB_LN2_G = BB_PROJ_B + bb_vector_words(FEATURE_DIM, BB_B_PER_WORD);
constexpr int BB_LN2_B = BB_LN2_G + BB_NORM_WORDS;
constexpr int BB_MLP = BB_LN2_B + BB_NORM_WORDS;
// ... then a dense MLP (even layers) ...
constexpr int BB_FC1_W = BB_MLP;                                                            // (H, D) weight
constexpr int BB_FC1_B = BB_FC1_W + bb_matrix_words(MLP_HIDDEN_DIM, FEATURE_DIM, BB_W_PER_WORD);
constexpr int BB_FC2_W = BB_FC1_B + bb_vector_words(MLP_HIDDEN_DIM, BB_B_PER_WORD);         // (D, H) weight
constexpr int BB_FC2_B = BB_FC2_W + bb_matrix_words(FEATURE_DIM, MLP_HIDDEN_DIM, BB_W_PER_WORD);
constexpr int BB_DENSE_LAYER_WORDS = BB_FC2_B + bb_vector_words(FEATURE_DIM, BB_B_PER_WORD);
// ... or the MoE (odd layers): every task's gate (tasks*E, D), then the experts, one after the other.
constexpr int BB_GATE = BB_MLP;
constexpr int BB_EXPERTS = BB_GATE + bb_matrix_words(NUM_TASKS * NUM_EXPERTS, FEATURE_DIM, BB_G_PER_WORD);
constexpr int BB_X_W1 = 0;                                                                  // (Hx, D) weight
constexpr int BB_X_B1 = BB_X_W1 + bb_matrix_words(EXPERT_HIDDEN_DIM, FEATURE_DIM, BB_W_PER_WORD);
constexpr int BB_X_W2 = BB_X_B1 + bb_vector_words(EXPERT_HIDDEN_DIM, BB_B_PER_WORD);       // (D, Hx) weight
constexpr int BB_X_B2 = BB_X_W2 + bb_matrix_words(FEATURE_DIM, EXPERT_HIDDEN_DIM, BB_W_PER_WORD);
constexpr int BB_EXPERT_WORDS = BB_X_B2 + bb_vector_words(FEATURE_DIM, BB_B_PER_WORD);
constexpr int BB_MOE_LAYER_WORDS = BB_EXPERTS + NUM_EXPERTS * BB_EXPERT_WORDS;

constexpr bool bb_is_moe_layer(int layer) { return layer % 2 == 1; }  // python_ref Config.is_moe_layer: odd layers
constexpr int bb_layer_words(int layer) { return bb_is_moe_layer(layer) ? BB_MOE_LAYER_WORDS : BB_DENSE_LAYER_WORDS; }
constexpr int bb_layer_offset(int layer) {
    int off = BB_LAYER0;
    for (int l = 0; l < layer; l++) off += bb_layer_words(l);
    return off;
}
constexpr int BACKBONE_WEIGHT_WORDS = bb_layer_offset(NUM_LAYERS);
constexpr int BACKBONE_IMAGE_WORDS = LINEAR_IMAGE_WORDS;                                    // one frame
constexpr int BACKBONE_OUT_WORDS = NUM_TOKENS * bb_row_words(FEATURE_DIM);                  // one frame
// The m_axi depths (whole arguments) as names: UG1399 documents a const / constexpr name or a
// number as a pragma's value, so the pragmas use these, never an expression.
constexpr int BACKBONE_IMAGE_DEPTH = BACKBONE_MAX_IMAGES * BACKBONE_IMAGE_WORDS;
constexpr int BACKBONE_OUT_DEPTH = BACKBONE_MAX_IMAGES * BACKBONE_OUT_WORDS;

// On-chip activation memories (AXI words, the engine's row layout). Each holds every row an engine
// call reads or writes in it (T rows of at most BB_WIDE_COLS columns); an engine call touches only
// rows x ceil(dim / LINEAR_A_PER_WORD) words of its arguments, whatever their declared sizes.
constexpr int BB_WIDE_COLS = linear_max(linear_max(3 * FEATURE_DIM, MLP_HIDDEN_DIM), EXPERT_HIDDEN_DIM);
constexpr int BB_X_WORDS = NUM_TOKENS * bb_row_words(FEATURE_DIM);     // a T x D matrix
constexpr int BB_WIDE_WORDS = NUM_TOKENS * bb_row_words(BB_WIDE_COLS);  // qkv, or the MLP / expert hidden rows

static_assert(FEATURE_DIM % BB_A_PER_WORD == 0, "an activation row is whole words (attention_top's layout)");
static_assert(NUM_TOKENS <= LINEAR_MAX_ROWS && NUM_TOKENS <= ATTENTION_MAX_TOKENS, "a frame fits the units");
static_assert(BB_WIDE_WORDS >= ATTENTION_QKV_WORDS && BB_X_WORDS <= ATTENTION_OUT_WORDS, "attention's buffers");
static_assert(NUM_LAYERS >= 1, "at least one block");

// Element (row, col) of an activation matrix in the engine's row layout (row_words words a row).
// Data movement only; inline, shared by backbone.cpp and moe_layer.cpp.
inline act_t bb_get(const axi_word_t mem[], unsigned row, unsigned col, unsigned row_words) {
#pragma HLS inline
    const axi_word_t word = mem[row * row_words + col / BB_A_PER_WORD];
    const unsigned lane = col % BB_A_PER_WORD;
    act_t a;
    a.range(ACT_W - 1, 0) = word(lane * ACT_W + ACT_W - 1, lane * ACT_W);
    return a;
}

void backbone_top(const axi_word_t image[BACKBONE_IMAGE_DEPTH],
                  const axi_word_t weights[BACKBONE_WEIGHT_WORDS],
                  axi_word_t out[BACKBONE_OUT_DEPTH], unsigned task, unsigned images,
                  unsigned layers, unsigned& status);
