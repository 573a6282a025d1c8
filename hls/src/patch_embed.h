// Patch embedding on the unified compute unit (python_ref/kernels/linear.py: patch_embed).
// conv C x P x P, stride P, is a linear layer over the im2col rows (patch p = py * (W/P) + px,
// column c*P*P + ky*P + kx); linear_top (is_patch) runs it with pixel inputs and accumulates onto
// the position embedding (dst[0] = pos[0], dst[1+p] = pos[1+p] + y[p]).
#pragma once

#include "linear.h"

// The im2col rows of the image (pack_vector_axi of pixel_t[C][H][W]) as the engine's input blocks:
// one word read per patch row segment (PATCH_SIZE pixels, inside one word), pixel_t -> operand_t
// exactly (static_assert in linear.h), zeros past PATCH_IN_DIM. One block per LI / PATCH_SIZE cycles.
void patch_read_rows(const axi_word_t image[LINEAR_IMAGE_WORDS], hls::stream<linear_in_block_t>& xs);
