#include "backbone.h"

#include "moe_layer.h"

// ---------------------------------------------------------------------------------------------
// Data movement only (no arithmetic): lanes of AXI words to and from typed values (bb_get: backbone.h).

// One layer's LayerNorm parameters (pack_vector_axi of norm_param_t) from the weight image.
static void bb_load_norm(const axi_word_t w[BB_NORM_WORDS], norm_param_t v[FEATURE_DIM]) {
#pragma HLS inline off
bb_norm_words:
    for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
        const axi_word_t word = w[i / BB_N_PER_WORD];
        const int lane = i % BB_N_PER_WORD;
        v[i].range(NORM_PARAM_W - 1, 0) = word(lane * NORM_PARAM_W + NORM_PARAM_W - 1, lane * NORM_PARAM_W);
    }
}

// LayerNorm of every row of a T x D matrix: layernorm_top once per row (its own row loop and
// arithmetic), the row streamed in and out of the on-chip memories.
static void bb_layernorm(const axi_word_t x[BB_X_WORDS], axi_word_t y[BB_X_WORDS], const norm_param_t gamma[FEATURE_DIM],
                         const norm_param_t beta[FEATURE_DIM]) {
#pragma HLS inline off
    constexpr int R = bb_row_words(FEATURE_DIM);
bb_ln_rows:
    for (int t = 0; t < NUM_TOKENS; t++) {
        hls::stream<act_t> xs("bb_ln_x"), ys("bb_ln_y");
#pragma HLS stream variable=xs depth=FEATURE_DIM
#pragma HLS stream variable=ys depth=FEATURE_DIM
    bb_ln_in:
        for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
            xs.write(bb_get(x, t, i, R));
        }
        layernorm_top(xs, ys, gamma, beta);
        axi_word_t word = 0;
    bb_ln_out:
        for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
            const act_t v = ys.read();
            const int lane = i % BB_A_PER_WORD;
            word(lane * ACT_W + ACT_W - 1, lane * ACT_W) = v.range(ACT_W - 1, 0);
            if (lane == BB_A_PER_WORD - 1) y[t * R + i / BB_A_PER_WORD] = word;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One frame.

static void bb_frame(const axi_word_t image[BACKBONE_IMAGE_WORDS], const axi_word_t weights[BACKBONE_WEIGHT_WORDS],
                     axi_word_t out[BACKBONE_OUT_WORDS], unsigned task, unsigned layers) {
#pragma HLS inline off
// One compute unit (and one of each other unit) shared by every layer and every call site. The
// pragmas sit here, not in backbone_top: ALLOCATION limits the instances in the body of the function
// it is written in (UG1399), and every call site is in this body (moe_layer is inlined into it);
// backbone_top only calls bb_frame, which is not inlined.
#pragma HLS allocation function instances=linear_top limit=1
#pragma HLS allocation function instances=attention_top limit=1
#pragma HLS allocation function instances=moe_top limit=1
#pragma HLS allocation function instances=bb_layernorm limit=1
    constexpr int D = FEATURE_DIM, T = NUM_TOKENS;
    axi_word_t x[BB_X_WORDS];        // the residual stream
    axi_word_t h[BB_X_WORDS];        // LN output, then the attention output
    axi_word_t wide[BB_WIDE_WORDS];  // qkv, or the dense / expert hidden rows
    axi_word_t moe[BB_X_WORDS];      // moe_acc
    unsigned rows[LINEAR_MAX_ROWS];  // an expert's queue: gathered by fc1, scattered to by fc2
    act_t scores[LINEAR_MAX_ROWS];   // its scores
    norm_param_t gamma[D], beta[D];
    const axi_word_t* pos = weights + BB_POS;
    for (int k = 0; k < LINEAR_MAX_ROWS; k++) {
        rows[k] = 0;
        scores[k] = 0;
    }

    // Patch embedding: x[0] = pos[0], x[1 + p] = act(pos[1 + p] + y[p]).
    linear_top(weights + BB_PATCH_W, weights + BB_PATCH_B, h, image, pos, x, rows, rows, scores, D, PATCH_IN_DIM,
               NUM_PATCHES, LINEAR_W_PATCH, LINEAR_B_BIAS, LINEAR_ACCUMULATE, false, false, false, true);

    unsigned base = BB_LAYER0;
bb_layers:
    for (unsigned L = 0; L < layers; L++) {
        const axi_word_t* lw = weights + base;
        // attention: x = act(x + proj(attention(qkv(LN1(x)))))
        bb_load_norm(lw + BB_LN1_G, gamma);
        bb_load_norm(lw + BB_LN1_B, beta);
        bb_layernorm(x, h, gamma, beta);
        linear_top(lw + BB_QKV_W, lw + BB_QKV_B, h, image, pos, wide, rows, rows, scores, 3 * D, D, T,
                   LINEAR_W_WEIGHT, LINEAR_B_ATTN, LINEAR_STORE, false, false, false, false);
        attention_top(wide, h, T);
        linear_top(lw + BB_PROJ_W, lw + BB_PROJ_B, h, image, pos, x, rows, rows, scores, D, D, T, LINEAR_W_WEIGHT,
                   LINEAR_B_ATTN, LINEAR_ACCUMULATE, false, false, false, false);
        bb_load_norm(lw + BB_LN2_G, gamma);
        bb_load_norm(lw + BB_LN2_B, beta);
        bb_layernorm(x, h, gamma, beta);
        if (!bb_is_moe_layer(L)) {
            // dense MLP: x = act(x + fc2(GELU(fc1(h))))
            linear_top(lw + BB_FC1_W, lw + BB_FC1_B, h, image, pos, wide, rows, rows, scores, MLP_HIDDEN_DIM, D, T,
                       LINEAR_W_WEIGHT, LINEAR_B_BIAS, LINEAR_STORE, true, false, false, false);
            linear_top(lw + BB_FC2_W, lw + BB_FC2_B, wide, image, pos, x, rows, rows, scores, D, MLP_HIDDEN_DIM, T,
                       LINEAR_W_WEIGHT, LINEAR_B_BIAS, LINEAR_ACCUMULATE, false, false, false, false);
        } else {
            // mixture of experts: moe_acc from h (moe_layer.cpp, the path moe_layer_top runs too)
            moe_layer(h, lw + BB_GATE, task, moe, wide, rows, scores, image, pos);
            // the residual add: x = act(x + moe_acc), act's quantization and overflow modes
        bb_moe_residual:
            for (int i = 0; i < BB_X_WORDS; i++) {
#pragma HLS pipeline II=1
                axi_word_t word = 0;
                for (int j = 0; j < BB_A_PER_WORD; j++) {
#pragma HLS unroll
                    act_t a, b;
                    a.range(ACT_W - 1, 0) = x[i](j * ACT_W + ACT_W - 1, j * ACT_W);
                    b.range(ACT_W - 1, 0) = moe[i](j * ACT_W + ACT_W - 1, j * ACT_W);
                    const act_t s = a + b;
                    word(j * ACT_W + ACT_W - 1, j * ACT_W) = s.range(ACT_W - 1, 0);
                }
                x[i] = word;
            }
        }
        base += bb_layer_words(L);
    }
bb_store:
    for (int i = 0; i < BACKBONE_OUT_WORDS; i++) {
#pragma HLS pipeline II=1
        out[i] = x[i];
    }
}

// ---------------------------------------------------------------------------------------------
// The top: `images` frames with the same task, each from its image to its output.

void backbone_top(const axi_word_t image[BACKBONE_IMAGE_DEPTH],
                  const axi_word_t weights[BACKBONE_WEIGHT_WORDS],
                  axi_word_t out[BACKBONE_OUT_DEPTH], unsigned task, unsigned images,
                  unsigned layers, unsigned& status) {
#pragma HLS interface mode=m_axi port=image bundle=gmem_in offset=slave depth=BACKBONE_IMAGE_DEPTH
#pragma HLS interface mode=m_axi port=weights bundle=gmem_w offset=slave depth=BACKBONE_WEIGHT_WORDS max_read_burst_length=64
#pragma HLS interface mode=m_axi port=out bundle=gmem_out offset=slave depth=BACKBONE_OUT_DEPTH
#pragma HLS interface mode=s_axilite port=task bundle=control
#pragma HLS interface mode=s_axilite port=images bundle=control
#pragma HLS interface mode=s_axilite port=layers bundle=control
#pragma HLS interface mode=s_axilite port=status bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
    if (task >= (unsigned)NUM_TASKS) {
        status = 1;
        return;
    }
    if (images < 1 || images > (unsigned)BACKBONE_MAX_IMAGES) {
        status = 2;
        return;
    }
    if (layers > (unsigned)NUM_LAYERS) {
        status = 3;
        return;
    }
bb_frames:
    for (unsigned f = 0; f < images; f++) {
#pragma HLS loop_tripcount max=BACKBONE_MAX_IMAGES
        bb_frame(image + f * BACKBONE_IMAGE_WORDS, weights, out + f * BACKBONE_OUT_WORDS, task, layers);
    }
    status = 0;
}
