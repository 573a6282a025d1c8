// MoE router: from the LN2 rows x of one MoE layer and the task, the gate logits, the two-pass
// softmax over the experts, top-k by logit, the scores and the per-expert token queues with the
// list of active experts. The numerical definition is python_ref/kernels/moe.py (gate_logits and
// route; docs/moe.md); this file equals it bit for bit:
//   logit[t][e] = act_t(sum_i operand_t(x[t][i]) * W_gate[task][e][i])  the linear engine's exact
//                 rule (python_ref/kernels/linear.py, numerics.linear_sum: exact) with a zero bias
//   p[t][.]     = the two-pass softmax of logit[t][.] (softmax.h: softmax_row, the softmax_top rule)
//   topk[t][j]  = the j-th largest logit of token t, equal logits to the lower expert index; every
//                 slot is assigned (an insertion network whose slots start EMPTY, not at a minimum
//                 value: Edge-MoE's defect (a)), the k experts are distinct
//   score[t][j] = act_t(p[t][topk[t][j]])  (PROB -> act with act's quantization / overflow modes)
//   queues      = one pass over the tokens ascending, each appending itself to its k experts'
//                 queues: per expert its tokens ascending (explicit lists also when an expert has all
//                 T tokens: Edge-MoE's defect (b)); active = experts with a non-empty queue,
//                 ascending, num_active >= 1 (with k >= 1 there is always one: defect (c))
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>

#include "model_config.h"
#include "softmax.h"

static_assert(TOP_K >= 1 && TOP_K <= NUM_EXPERTS, "model.moe.top_k must be in 1..experts");
static_assert(NUM_TOKENS <= 255 && NUM_EXPERTS <= 255, "8-bit token and expert indices");
static_assert(ACT_I >= 2, "act_t holds a probability of 1.0");

constexpr int moe_bits(int n) { return n == 0 ? 0 : 1 + moe_bits(n >> 1); }

typedef ap_uint<8> moe_expert_t;  // an expert index
typedef ap_uint<8> moe_token_t;   // a token index
typedef ap_uint<9> moe_count_t;   // a queue length 0..NUM_TOKENS (<= 255) or an expert count
typedef ap_uint<8> moe_task_t;

// The gate's exact sum: every product operand_t x gate_weight_t (OPERAND_F + GATE_WEIGHT_F fraction
// bits) exactly, and FEATURE_DIM of them without overflow (one guard bit more than needed).
constexpr int MOE_ACC_F = (OPERAND_W - OPERAND_I) + (GATE_WEIGHT_W - GATE_WEIGHT_I);
constexpr int MOE_ACC_I = OPERAND_I + GATE_WEIGHT_I + moe_bits(FEATURE_DIM) + 1;
typedef ap_fixed<MOE_ACC_I + MOE_ACC_F, MOE_ACC_I> moe_acc_t;
static_assert(MOE_ACC_I + MOE_ACC_F <= 128, "the gate's exact sum fits an ap_fixed");

// Top-k of one row of logits: idx[0..K-1], slot 0 the largest, equal logits to the lower index.
// An insertion network over the experts in ascending order: expert e goes to the first slot that
// is empty or holds a strictly smaller logit, the slots below it shift down by one.
inline void moe_top_k(const act_t logit[NUM_EXPERTS], moe_expert_t idx[TOP_K]) {
#pragma HLS inline
    act_t v[TOP_K];
    bool full[TOP_K];
#pragma HLS array_partition variable=v complete
#pragma HLS array_partition variable=full complete
MOE_TOPK_INIT:
    for (int j = 0; j < TOP_K; j++) {
#pragma HLS unroll
        v[j] = 0;
        full[j] = false;
        idx[j] = 0;
    }
MOE_TOPK_EXPERT:
    for (int e = 0; e < NUM_EXPERTS; e++) {
#pragma HLS pipeline II=1
        const act_t x = logit[e];
        bool take[TOP_K];  // slot j takes e (the first slot that is empty or smaller)
        bool shift[TOP_K];  // slot j takes slot j-1's entry (an earlier slot took e)
        bool before = false;
    MOE_TOPK_CMP:
        for (int j = 0; j < TOP_K; j++) {
#pragma HLS unroll
            const bool here = !full[j] || x > v[j];
            take[j] = here && !before;
            shift[j] = before;
            before = before || here;
        }
    MOE_TOPK_MOVE:
        for (int j = TOP_K - 1; j >= 0; j--) {
#pragma HLS unroll
            const int up = j > 0 ? j - 1 : 0;  // shift[0] is never set
            if (shift[j]) {
                v[j] = v[up];
                idx[j] = idx[up];
                full[j] = full[up];
            } else if (take[j]) {
                v[j] = x;
                idx[j] = e;
                full[j] = true;
            }
        }
    }
}

// moe_top's m_axi depths (whole arguments) as names: UG1399 documents a const / constexpr name or a
// number as a pragma's value, so the pragmas use these, never an expression.
constexpr int MOE_X_DEPTH = NUM_TOKENS * FEATURE_DIM;
constexpr int MOE_GATE_DEPTH = NUM_TASKS * NUM_EXPERTS * FEATURE_DIM;
constexpr int MOE_ROW_DEPTH = NUM_TOKENS * NUM_EXPERTS;    // logits, p
constexpr int MOE_TOPK_DEPTH = NUM_TOKENS * TOP_K;         // topk_idx, topk_score
constexpr int MOE_QUEUE_DEPTH = NUM_EXPERTS * NUM_TOKENS;  // queue_token, queue_score

// One MoE layer's routing. x: NUM_TOKENS rows of FEATURE_DIM act_t (row-major); w_gate: NUM_TASKS
// gates of NUM_EXPERTS x FEATURE_DIM gate_weight_t (row-major, gate of task t first at
// t * NUM_EXPERTS * FEATURE_DIM); task: 0..NUM_TASKS-1. Outputs, row-major: logits and p
// (NUM_TOKENS x NUM_EXPERTS), topk_idx and topk_score (NUM_TOKENS x TOP_K), queue_len
// (NUM_EXPERTS), queue_token and queue_score (expert e's queue in entries e * NUM_TOKENS ..
// e * NUM_TOKENS + queue_len[e] - 1), active[0 .. num_active-1] (ascending).
// Returns through status: 0 = routed; 1 = task out of range (nothing else is written).
void moe_top(const act_t x[NUM_TOKENS * FEATURE_DIM], const gate_weight_t w_gate[NUM_TASKS * NUM_EXPERTS * FEATURE_DIM],
             unsigned task, act_t logits[NUM_TOKENS * NUM_EXPERTS], softmax_prob_t p[NUM_TOKENS * NUM_EXPERTS],
             moe_expert_t topk_idx[NUM_TOKENS * TOP_K], act_t topk_score[NUM_TOKENS * TOP_K],
             moe_count_t queue_len[NUM_EXPERTS], moe_token_t queue_token[NUM_EXPERTS * NUM_TOKENS],
             act_t queue_score[NUM_EXPERTS * NUM_TOKENS], moe_expert_t active[NUM_EXPERTS], moe_count_t& num_active,
             unsigned& status);
