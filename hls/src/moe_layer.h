// The MoE layer: from LN2(x) of one MoE layer, that layer's packed weights and the task, moe_acc,
// the MoE output before the residual add. The numerical definition is python_ref/kernels/moe.py
// (moe_raw(h, weights, task, cfg).moe_acc: gate_logits, route, expert_schedule, run_schedule;
// docs/moe.md); this file equals it bit for bit by composing the kernels' own functions only:
//   route       = moe_top(h, W_gate, task)               gate, softmax, top-k, queues, active list
//   moe_acc     = 0; per active expert e, ascending:
//     hid       = GELU(fc1_e(h[queue_e]))                 linear_top: gather, GELU, store
//     moe_acc[queue_e] += act(score * fc2_e(hid))         linear_top: scaled scatter-accumulate
// moe_layer is that path on on-chip activations, the one copy of it: backbone_top's odd layers
// (then x = act(x + moe_acc)) and moe_layer_top both call it.
//
// The weights are the MoE part of a MoE layer of backbone_top's weight image (backbone.h's table,
// one layout): words BB_GATE .. BB_MOE_LAYER_WORDS - 1 of the layer, i.e. every task's gate
// (pack_matrix_axi of gate_weight_t[NUM_TASKS * NUM_EXPERTS][FEATURE_DIM]) and then each expert's
// W1, b1, W2, b2 (BB_X_* inside an expert, BB_EXPERT_WORDS each). Activations (h, moe_acc) are
// NUM_TOKENS rows of FEATURE_DIM act_t in AXI words, the engine's row layout (pack_matrix_axi).
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>

#include "backbone.h"
#include "linear.h"
#include "model_config.h"
#include "moe.h"

// Offsets inside the MoE part (relative to the layer's BB_GATE) and its size.
constexpr int MOE_LAYER_GATE = BB_GATE - BB_GATE;
constexpr int MOE_LAYER_EXPERTS = BB_EXPERTS - BB_GATE;
constexpr int MOE_LAYER_WEIGHT_WORDS = BB_MOE_LAYER_WORDS - BB_GATE;
// h and moe_acc: a T x D activation matrix; the experts' hidden rows: T x Hx.
constexpr int MOE_LAYER_ACT_WORDS = BB_X_WORDS;
constexpr int MOE_LAYER_HIDDEN_WORDS = NUM_TOKENS * bb_row_words(EXPERT_HIDDEN_DIM);

static_assert(MOE_LAYER_GATE == 0 && MOE_LAYER_EXPERTS > 0, "the gate comes first in the MoE part (backbone.h)");
static_assert(MOE_LAYER_WEIGHT_WORDS == MOE_LAYER_EXPERTS + NUM_EXPERTS * BB_EXPERT_WORDS, "experts back to back");
static_assert(BB_WIDE_WORDS >= MOE_LAYER_HIDDEN_WORDS, "backbone_top's wide memory holds the expert hidden rows");
static_assert(NUM_TOKENS <= LINEAR_MAX_ROWS, "an expert queue (at most every token) is one engine call");
static_assert(EXPERT_HIDDEN_DIM <= LINEAR_MAX_OUT && EXPERT_HIDDEN_DIM <= LINEAR_MAX_IN &&
                  FEATURE_DIM <= LINEAR_MAX_OUT && FEATURE_DIM <= LINEAR_MAX_IN,
              "the expert shapes are engine shapes");
static_assert(FEATURE_DIM % BB_A_PER_WORD == 0, "an activation row is whole words");

// The MoE path on on-chip memories. h: LN2(x) (read); w: the layer's MoE part (above); task:
// 0..NUM_TASKS-1 (the caller checks it); moe: moe_acc (written completely); hid: the expert hidden
// rows (scratch); rows, scores: the engine's gather / scatter list and scores (scratch); image, pos:
// the engine's patch-embedding ports, never read here (is_patch is false) but bound at every call
// of the one linear_top instance. Inlined into its caller, so that its engine calls share that
// caller's one linear_top (its allocation pragma).
void moe_layer(const axi_word_t h[MOE_LAYER_ACT_WORDS], const axi_word_t w[MOE_LAYER_WEIGHT_WORDS], unsigned task,
               axi_word_t moe[MOE_LAYER_ACT_WORDS], axi_word_t hid[MOE_LAYER_HIDDEN_WORDS],
               unsigned rows[LINEAR_MAX_ROWS], act_t scores[LINEAR_MAX_ROWS],
               const axi_word_t image[LINEAR_IMAGE_WORDS], const axi_word_t pos[LINEAR_POS_WORDS]);

// The top. External memory (m_axi, AXI_WIDTH-bit words): h (MOE_LAYER_ACT_WORDS), weights
// (MOE_LAYER_WEIGHT_WORDS), moe_acc (MOE_LAYER_ACT_WORDS). Scalars (s_axilite): task, status
// (0 = done; 1 = task out of range: nothing is read or written).
void moe_layer_top(const axi_word_t h[MOE_LAYER_ACT_WORDS], const axi_word_t weights[MOE_LAYER_WEIGHT_WORDS],
                   axi_word_t moe_acc[MOE_LAYER_ACT_WORDS], unsigned task, unsigned& status);
