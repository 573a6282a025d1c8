// Patch embedding on the unified compute unit (python_ref/kernels/linear.py: patch_embed).
// conv C x P x P, stride P, is a linear layer over the im2col rows (patch p = py * (W/P) + px,
// column c*P*P + ky*P + kx); the engine accumulates it onto the position embedding (unscaled
// scatter-accumulate into rows 1..NUM_PATCHES) and row 0 (CLS) is pos[0].
#pragma once

#include "linear.h"

// image: pixel_t[C][H][W] row-major; pos, dst: act_t[NUM_TOKENS][FEATURE_DIM];
// weights/bias: the patch-embedding tiles (loaded with LINEAR_W_PATCH / LINEAR_B_BIAS).
void patch_embed(act_t dst[NUM_TOKENS * FEATURE_DIM], const pixel_t image[IMAGE_CHANNELS * IMAGE_HEIGHT * IMAGE_WIDTH],
                 const act_t pos[NUM_TOKENS * FEATURE_DIM], const linear_w_tile_t weights[LINEAR_MAX_TILES],
                 const linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS]);
