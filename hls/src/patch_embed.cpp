#include "patch_embed.h"

static_assert(IMAGE_HEIGHT % PATCH_SIZE == 0 && IMAGE_WIDTH % PATCH_SIZE == 0,
              "the image must be a whole number of patches");
static_assert(NUM_PATCHES == (IMAGE_HEIGHT / PATCH_SIZE) * (IMAGE_WIDTH / PATCH_SIZE), "patch count");
static_assert(NUM_TOKENS == NUM_PATCHES + 1, "one CLS token in front of the patches");
static_assert(PATCH_IN_DIM <= LINEAR_MAX_IN && FEATURE_DIM <= LINEAR_MAX_OUT, "patch layer fits the engine");

void patch_embed(act_t dst[NUM_TOKENS * FEATURE_DIM], const pixel_t image[IMAGE_CHANNELS * IMAGE_HEIGHT * IMAGE_WIDTH],
                 const act_t pos[NUM_TOKENS * FEATURE_DIM], const linear_w_tile_t weights[LINEAR_MAX_TILES],
                 const linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS]) {
#pragma HLS inline off
    constexpr int PW = IMAGE_WIDTH / PATCH_SIZE;
    // im2col rows in act_t (pixel_t -> act_t is exact: static_assert in linear.h).
    static act_t patches[NUM_PATCHES * PATCH_IN_DIM];
patch_im2col:
    for (int p = 0; p < NUM_PATCHES; p++) {
    patch_im2col_channels:
        for (int c = 0; c < IMAGE_CHANNELS; c++) {
        patch_im2col_rows:
            for (int ky = 0; ky < PATCH_SIZE; ky++) {
            patch_im2col_cols:
                for (int kx = 0; kx < PATCH_SIZE; kx++) {
#pragma HLS pipeline II=1
                    int y = (p / PW) * PATCH_SIZE + ky;
                    int x = (p % PW) * PATCH_SIZE + kx;
                    patches[p * PATCH_IN_DIM + (c * PATCH_SIZE + ky) * PATCH_SIZE + kx] =
                        act_t(image[(c * IMAGE_HEIGHT + y) * IMAGE_WIDTH + x]);
                }
            }
        }
    }
    // The position embedding is the accumulator's starting value; row 0 (CLS) stays pos[0].
patch_pos_copy:
    for (int i = 0; i < NUM_TOKENS * FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
        dst[i] = pos[i];
    }
    static const unsigned no_index[LINEAR_MAX_ROWS] = {};
    static const act_t no_score[LINEAR_MAX_ROWS] = {};
    compute_linear(dst + FEATURE_DIM, patches, weights, bias, FEATURE_DIM, PATCH_IN_DIM, NUM_PATCHES, no_index,
                   false, no_index, false, no_score, LINEAR_ACCUMULATE, false);
}
