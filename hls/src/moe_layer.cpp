#include "moe_layer.h"

// The router on h with this task's gate, then the expert loop into moe (zero first), the active
// experts ascending (python_ref expert_schedule's order): per expert its queue as the gather list
// of fc1 and the scatter list of fc2, its scores as fc2's scales.
void moe_layer(const axi_word_t h[MOE_LAYER_ACT_WORDS], const axi_word_t w[MOE_LAYER_WEIGHT_WORDS], unsigned task,
               axi_word_t moe[MOE_LAYER_ACT_WORDS], axi_word_t hid[MOE_LAYER_HIDDEN_WORDS],
               unsigned rows[LINEAR_MAX_ROWS], act_t scores[LINEAR_MAX_ROWS],
               const axi_word_t image[LINEAR_IMAGE_WORDS], const axi_word_t pos[LINEAR_POS_WORDS]) {
#pragma HLS inline
    constexpr int D = FEATURE_DIM, T = NUM_TOKENS, E = NUM_EXPERTS, R = bb_row_words(FEATURE_DIM);
    act_t hx[T * D];
    gate_weight_t w_gate[NUM_TASKS * E * D];
moe_unpack_h:
    for (int i = 0; i < T * D; i++) {
#pragma HLS pipeline II=1
        hx[i] = bb_get(h, i / D, i % D, R);
    }
moe_load_gate:
    for (int i = 0; i < E * D; i++) {  // only the selected task's gate is fetched
#pragma HLS pipeline II=1
        const int e = i / D, c = i % D;
        const axi_word_t word =
            w[MOE_LAYER_GATE + (task * E + e) * linear_ceildiv(D, BB_G_PER_WORD) + c / BB_G_PER_WORD];
        const int lane = c % BB_G_PER_WORD;
        w_gate[task * E * D + i].range(GATE_WEIGHT_W - 1, 0) =
            word(lane * GATE_WEIGHT_W + GATE_WEIGHT_W - 1, lane * GATE_WEIGHT_W);
    }
    act_t logits[T * E];
    softmax_prob_t p[T * E];
    moe_expert_t topk_idx[T * TOP_K];
    act_t topk_score[T * TOP_K];
    moe_count_t queue_len[E];
    moe_token_t queue_token[E * T];
    act_t queue_score[E * T];
    moe_expert_t active[E];
    moe_count_t num_active = 0;
    unsigned routed = 0;  // 0: the caller has checked the task
    moe_top(hx, w_gate, task, logits, p, topk_idx, topk_score, queue_len, queue_token, queue_score, active,
            num_active, routed);
moe_acc_clear:
    for (int i = 0; i < MOE_LAYER_ACT_WORDS; i++) {
#pragma HLS pipeline II=1
        moe[i] = 0;
    }
moe_experts:
    for (unsigned a = 0; a < num_active; a++) {
#pragma HLS loop_tripcount max=NUM_EXPERTS
        const unsigned e = active[a];
        const unsigned n = queue_len[e];
    moe_queue:
        for (unsigned k = 0; k < n; k++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=NUM_TOKENS
            rows[k] = queue_token[e * T + k];
            scores[k] = queue_score[e * T + k];
        }
        const axi_word_t* xw = w + MOE_LAYER_EXPERTS + e * BB_EXPERT_WORDS;
        linear_top(xw + BB_X_W1, xw + BB_X_B1, h, image, pos, hid, rows, rows, scores, EXPERT_HIDDEN_DIM, D, n,
                   LINEAR_W_WEIGHT, LINEAR_B_BIAS, LINEAR_STORE, true, true, false, false);
        linear_top(xw + BB_X_W2, xw + BB_X_B2, hid, image, pos, moe, rows, rows, scores, D, EXPERT_HIDDEN_DIM, n,
                   LINEAR_W_WEIGHT, LINEAR_B_BIAS, LINEAR_ACCUMULATE_SCALED, false, false, true, false);
    }
}

// One layer per call: h into on-chip memory, moe_layer, moe_acc out. The activations stay on chip
// as in backbone_top (the engine's gather reads h at random rows); the weights are read where they
// lie, each active expert's once per call, the inactive experts' never.
void moe_layer_top(const axi_word_t h[MOE_LAYER_ACT_WORDS], const axi_word_t weights[MOE_LAYER_WEIGHT_WORDS],
                   axi_word_t moe_acc[MOE_LAYER_ACT_WORDS], unsigned task, unsigned& status) {
#pragma HLS interface mode=m_axi port=h bundle=gmem_in offset=slave depth=MOE_LAYER_ACT_WORDS
#pragma HLS interface mode=m_axi port=weights bundle=gmem_w offset=slave depth=MOE_LAYER_WEIGHT_WORDS max_read_burst_length=64
#pragma HLS interface mode=m_axi port=moe_acc bundle=gmem_out offset=slave depth=MOE_LAYER_ACT_WORDS
#pragma HLS interface mode=s_axilite port=task bundle=control
#pragma HLS interface mode=s_axilite port=status bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
// one compute unit shared by every expert call (fc1 and fc2 of each expert), as in backbone_top
#pragma HLS allocation function instances=linear_top limit=1
#pragma HLS allocation function instances=moe_top limit=1
    if (task >= (unsigned)NUM_TASKS) {
        status = 1;  // no gate for this task: nothing is read or written
        return;
    }
    axi_word_t x[MOE_LAYER_ACT_WORDS];        // h on chip
    axi_word_t acc[MOE_LAYER_ACT_WORDS];      // moe_acc
    axi_word_t hid[MOE_LAYER_HIDDEN_WORDS];   // an expert's hidden rows
    unsigned rows[LINEAR_MAX_ROWS];
    act_t scores[LINEAR_MAX_ROWS];
moe_layer_init:
    for (int k = 0; k < LINEAR_MAX_ROWS; k++) {
#pragma HLS pipeline II=1
        rows[k] = 0;
        scores[k] = 0;
    }
moe_layer_load:
    for (int i = 0; i < MOE_LAYER_ACT_WORDS; i++) {
#pragma HLS pipeline II=1
        x[i] = h[i];
    }
    // image and pos: the engine's patch ports, not read by expert calls; bound to the weight bundle
    moe_layer(x, weights, task, acc, hid, rows, scores, weights, weights);
moe_layer_store:
    for (int i = 0; i < MOE_LAYER_ACT_WORDS; i++) {
#pragma HLS pipeline II=1
        moe_acc[i] = acc[i];
    }
    status = 0;
}
