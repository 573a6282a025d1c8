#include "moe.h"

// Per token: the gate row (E exact dot products of length D, pipelined over the inputs: the loop
// carries one exact add, no multiply), the two-pass softmax of the row, top-k, the scores, and the
// token appended to its k experts' queues. Then the active list. The queues are written at
// e * NUM_TOKENS + len[e]: a queue of all T tokens is an explicit list like any other.
void moe_top(const act_t x[NUM_TOKENS * FEATURE_DIM], const gate_weight_t w_gate[NUM_TASKS * NUM_EXPERTS * FEATURE_DIM],
             unsigned task, act_t logits[NUM_TOKENS * NUM_EXPERTS], softmax_prob_t p[NUM_TOKENS * NUM_EXPERTS],
             moe_expert_t topk_idx[NUM_TOKENS * TOP_K], act_t topk_score[NUM_TOKENS * TOP_K],
             moe_count_t queue_len[NUM_EXPERTS], moe_token_t queue_token[NUM_EXPERTS * NUM_TOKENS],
             act_t queue_score[NUM_EXPERTS * NUM_TOKENS], moe_expert_t active[NUM_EXPERTS], moe_count_t& num_active,
             unsigned& status) {
#pragma HLS interface mode=m_axi port=x bundle=gmem0 depth=MOE_X_DEPTH
#pragma HLS interface mode=m_axi port=w_gate bundle=gmem1 depth=MOE_GATE_DEPTH
#pragma HLS interface mode=m_axi port=logits bundle=gmem2 depth=MOE_ROW_DEPTH
#pragma HLS interface mode=m_axi port=p bundle=gmem2 depth=MOE_ROW_DEPTH
#pragma HLS interface mode=m_axi port=topk_idx bundle=gmem3 depth=MOE_TOPK_DEPTH
#pragma HLS interface mode=m_axi port=topk_score bundle=gmem3 depth=MOE_TOPK_DEPTH
#pragma HLS interface mode=m_axi port=queue_len bundle=gmem4 depth=NUM_EXPERTS
#pragma HLS interface mode=m_axi port=queue_token bundle=gmem4 depth=MOE_QUEUE_DEPTH
#pragma HLS interface mode=m_axi port=queue_score bundle=gmem4 depth=MOE_QUEUE_DEPTH
#pragma HLS interface mode=m_axi port=active bundle=gmem4 depth=NUM_EXPERTS
#pragma HLS interface mode=s_axilite port=task bundle=control
#pragma HLS interface mode=s_axilite port=num_active bundle=control
#pragma HLS interface mode=s_axilite port=status bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
#pragma HLS bind_storage variable=EXP_TABLE type=rom_np impl=lutram
    if (task >= (unsigned)NUM_TASKS) {
        status = 1;  // no gate for this task: nothing is routed or written
        num_active = 0;
        return;
    }
    const unsigned wbase = task * NUM_EXPERTS * FEATURE_DIM;
    moe_count_t len[NUM_EXPERTS];
#pragma HLS array_partition variable=len complete
MOE_CLEAR:
    for (int e = 0; e < NUM_EXPERTS; e++) {
#pragma HLS unroll
        len[e] = 0;
    }
MOE_TOKEN:
    for (int t = 0; t < NUM_TOKENS; t++) {
        operand_t xo[FEATURE_DIM];
    MOE_READ:
        for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
            xo[i] = operand_t(x[t * FEATURE_DIM + i]);  // the engine's operand(.) (RND, SAT_SYM)
        }
        act_t row[NUM_EXPERTS];
    MOE_GATE:
        for (int e = 0; e < NUM_EXPERTS; e++) {
            moe_acc_t acc = 0;
        MOE_DOT:
            for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
                acc += xo[i] * w_gate[wbase + e * FEATURE_DIM + i];  // exact product, exact sum
            }
            row[e] = act_t(acc);  // one assignment to act_t (zero bias)
            logits[t * NUM_EXPERTS + e] = row[e];
        }
        softmax_prob_t prob[NUM_EXPERTS];
        softmax_row<softmax_config, NUM_EXPERTS>(row, NUM_EXPERTS, prob);
    MOE_PROB:
        for (int e = 0; e < NUM_EXPERTS; e++) {
#pragma HLS pipeline II=1
            p[t * NUM_EXPERTS + e] = prob[e];
        }
        moe_expert_t idx[TOP_K];
        moe_top_k(row, idx);
    MOE_SLOT:
        for (int j = 0; j < TOP_K; j++) {
#pragma HLS pipeline II=1
            const moe_expert_t e = idx[j];
            const act_t score = act_t(prob[e]);
            topk_idx[t * TOP_K + j] = e;
            topk_score[t * TOP_K + j] = score;
            queue_token[e * NUM_TOKENS + len[e]] = t;
            queue_score[e * NUM_TOKENS + len[e]] = score;
            len[e]++;
        }
    }
    moe_count_t n = 0;
MOE_ACTIVE:
    for (int e = 0; e < NUM_EXPERTS; e++) {
#pragma HLS pipeline II=1
        queue_len[e] = len[e];
        if (len[e] != 0) active[n++] = e;
    }
    num_active = n;
    status = 0;
}
