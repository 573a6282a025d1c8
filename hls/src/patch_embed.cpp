#include "patch_embed.h"
#include "flat_loop.h"

static_assert(PATCH_IN_DIM == IMAGE_CHANNELS * PATCH_SIZE * PATCH_SIZE, "patch row length");
static_assert(PATCH_IN_DIM <= LINEAR_MAX_IN && FEATURE_DIM <= LINEAR_MAX_OUT, "patch layer fits the engine");

void patch_read_rows(const axi_word_t image[LINEAR_IMAGE_WORDS], hls::stream<linear_in_block_t>& xs) {
#pragma HLS inline off
    constexpr int PW = IMAGE_WIDTH / PATCH_SIZE;
    constexpr int RUNS = IMAGE_CHANNELS * PATCH_SIZE;       // (c, ky) runs of PATCH_SIZE pixels per patch
    constexpr int RUNS_PER_BLOCK = LINEAR_IN / PATCH_SIZE;
    constexpr int RUNS_PER_ROW = linear_ceildiv(PATCH_IN_DIM, LINEAR_IN) * RUNS_PER_BLOCK;
    linear_in_block_t blk;
#pragma HLS array_partition variable=blk.v complete
    unsigned p = 0, r = 0;
patch_runs:
    for (unsigned it = 0; it < NUM_PATCHES * RUNS_PER_ROW; it++) {
#pragma HLS pipeline II=1
        const unsigned c = r / PATCH_SIZE, ky = r % PATCH_SIZE;
        const unsigned y = (p / PW) * PATCH_SIZE + ky, x0 = (p % PW) * PATCH_SIZE;
        const unsigned idx = (c * IMAGE_HEIGHT + y) * IMAGE_WIDTH + x0;  // first pixel of the run
        const axi_word_t word = r < RUNS ? image[idx / LINEAR_P_PER_WORD] : axi_word_t(0);
        const unsigned lane0 = idx % LINEAR_P_PER_WORD;
    patch_lanes:
        for (int j = 0; j < PATCH_SIZE; j++) {
#pragma HLS unroll
            pixel_t px;
            px.range(PIXEL_W - 1, 0) = word((lane0 + j) * PIXEL_W + PIXEL_W - 1, (lane0 + j) * PIXEL_W);
            blk.v[(r % RUNS_PER_BLOCK) * PATCH_SIZE + j] = r < RUNS ? operand_t(px) : operand_t(0);
        }
        if (r % RUNS_PER_BLOCK == RUNS_PER_BLOCK - 1) xs.write(blk);
        if (flat_next(r, RUNS_PER_ROW)) p++;
    }
}
