#include "linear.h"
#include "flat_loop.h"
#include "mac_tile.h"

#include "patch_embed.h"

// ---------------------------------------------------------------------------------------------
// Process 1 of linear_top: the weight and bias loader (fills the ping-pong channel of the engine).

static linear_w_t weight_lane(const axi_word_t& word, int lane, unsigned kind) {
#pragma HLS inline
    ap_uint<WEIGHT_W> bits = word(lane * WEIGHT_W + WEIGHT_W - 1, lane * WEIGHT_W);
    if (kind == LINEAR_W_PATCH) {
        patch_weight_t w;
        w.range(PATCH_WEIGHT_W - 1, 0) = bits;
        return linear_w_t(w);  // exact: linear_w_t covers patch_weight_t
    }
    weight_t w;
    w.range(WEIGHT_W - 1, 0) = bits;
    return linear_w_t(w);  // exact: linear_w_t covers weight_t
}

// Tile-major on-chip weights: tile (ob, ib) at index ob * ceil(in/LI) + ib holds
// W[ob*LO + r][ib*LI + c] at wbuf[tile][r][c], zero outside the matrix. Every tile of the layer is
// written completely (rows past out_dim and columns past in_dim as zeros), one tile row (LI weights)
// per LINEAR_SEGS_PER_TILE cycles: one word per LINEAR_SEGS_PER_WORD cycles (II=1).
static void linear_load(const axi_word_t w[LINEAR_W_WORDS], const axi_word_t b[LINEAR_B_WORDS],
                        linear_w_t wbuf[LINEAR_MAX_TILES][LINEAR_OUT][LINEAR_IN],
                        act_t bbuf[LINEAR_MAX_OUT_BLOCKS][LINEAR_OUT], unsigned out_dim, unsigned in_dim,
                        unsigned w_kind, unsigned b_kind) {
#pragma HLS inline off
    const unsigned words_per_row = linear_ceildiv(in_dim, LINEAR_W_PER_WORD);
    const unsigned in_blocks = linear_ceildiv(in_dim, LINEAR_IN);
    const unsigned out_blocks = linear_ceildiv(out_dim, LINEAR_OUT);
    const unsigned segs_per_row = in_blocks * LINEAR_SEGS_PER_TILE;
    linear_w_t trow[LINEAR_IN];
#pragma HLS array_partition variable=trow complete
    axi_word_t word = 0;
    unsigned o = 0, s = 0;
load_weight_segments:
    for (unsigned it = 0; it < out_blocks * LINEAR_OUT * segs_per_row; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_TILES * LINEAR_OUT * LINEAR_SEGS_PER_TILE
        const unsigned c0 = s * LINEAR_SEG;  // first column of this segment
        const unsigned seg_in_word = s % LINEAR_SEGS_PER_WORD;
        const bool inside = o < out_dim && c0 < in_dim;
        if (inside && seg_in_word == 0) word = w[o * words_per_row + c0 / LINEAR_W_PER_WORD];
    load_weight_lanes:
        for (int j = 0; j < LINEAR_SEG; j++) {
#pragma HLS unroll
            const bool valid = inside && c0 + j < in_dim;
            trow[(s % LINEAR_SEGS_PER_TILE) * LINEAR_SEG + j] =
                valid ? weight_lane(word, seg_in_word * LINEAR_SEG + j, w_kind) : linear_w_t(0);
        }
        if (s % LINEAR_SEGS_PER_TILE == LINEAR_SEGS_PER_TILE - 1) {
            const unsigned tile = (o / LINEAR_OUT) * in_blocks + s / LINEAR_SEGS_PER_TILE;
        load_weight_row:
            for (int c = 0; c < LINEAR_IN; c++) {
#pragma HLS unroll
                wbuf[tile][o % LINEAR_OUT][c] = trow[c];
            }
        }
        if (flat_next(s, segs_per_row)) o++;
    }
    axi_word_t bword = 0;
load_bias:
    for (unsigned i = 0; i < out_blocks * LINEAR_OUT; i++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_OUT_BLOCKS * LINEAR_OUT
        const unsigned lane = i % LINEAR_B_PER_WORD;
        if (lane == 0 && i < out_dim) bword = b[i / LINEAR_B_PER_WORD];
        ap_uint<BIAS_W> bits = bword(lane * BIAS_W + BIAS_W - 1, lane * BIAS_W);
        act_t v = 0;
        if (i < out_dim) {
            if (b_kind == LINEAR_B_ATTN) {
                attn_bias_t a;
                a.range(ATTN_BIAS_W - 1, 0) = bits;
                v = a;  // exact (static_assert in linear.h)
            } else {
                bias_t a;
                a.range(BIAS_W - 1, 0) = bits;
                v = a;
            }
        }
        bbuf[i / LINEAR_OUT][i % LINEAR_OUT] = v;
    }
}

// ---------------------------------------------------------------------------------------------
// Process 2 of linear_top: the engine, itself a dataflow of read -> MAC array -> write.

// Activation rows (or the patch rows, patch_embed.cpp) as LI-wide blocks of operand_t: the
// assignment act_t -> operand_t is the exact rule's operand(.) (RND, SAT_SYM); zeros past in_dim.
static void linear_read(const axi_word_t x[LINEAR_X_WORDS], const axi_word_t image[LINEAR_IMAGE_WORDS],
                        const unsigned gather[LINEAR_MAX_ROWS], hls::stream<linear_in_block_t>& xs,
                        unsigned in_dim, unsigned rows, bool use_gather, bool is_patch) {
#pragma HLS inline off
    if (is_patch) {
        patch_read_rows(image, xs);
        return;
    }
    unsigned src_row[LINEAR_MAX_ROWS];
read_gather:
    for (unsigned k = 0; k < rows; k++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_ROWS
        src_row[k] = use_gather ? gather[k] : k;
    }
    const unsigned words_per_row = linear_ceildiv(in_dim, LINEAR_A_PER_WORD);
    const unsigned words_per_block_row = linear_ceildiv(in_dim, LINEAR_IN) * LINEAR_IN_WORDS;
    linear_in_block_t blk;
#pragma HLS array_partition variable=blk.v complete
    unsigned k = 0, wi = 0;
read_words:
    for (unsigned it = 0; it < rows * words_per_block_row; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_ROWS * LINEAR_MAX_IN_BLOCKS * LINEAR_IN_WORDS
        const axi_word_t word = wi < words_per_row ? x[src_row[k] * words_per_row + wi] : axi_word_t(0);
    read_lanes:
        for (int j = 0; j < LINEAR_A_PER_WORD; j++) {
#pragma HLS unroll
            act_t a;
            a.range(ACT_W - 1, 0) = word(j * ACT_W + ACT_W - 1, j * ACT_W);
            blk.v[(wi % LINEAR_IN_WORDS) * LINEAR_A_PER_WORD + j] =
                wi * LINEAR_A_PER_WORD + j < in_dim ? operand_t(a) : operand_t(0);
        }
        if (wi % LINEAR_IN_WORDS == LINEAR_IN_WORDS - 1) xs.write(blk);
        if (flat_next(wi, words_per_block_row)) k++;
    }
}

// The MAC array: LO exact sums of LI exact products (27 x 18 bits each: one DSP48E2), one tile
// per call. It has ONE call site (linear_mac), so HLS builds exactly one array; the sum of a tile
// is formed before it meets the accumulator, so the loop-carried path is one acc_t adder.
typedef mac_tile_t<linear_acc_t, LINEAR_OUT> linear_tile_sum_t;
static linear_tile_sum_t linear_mac_tile(const operand_t x[LINEAR_IN], const linear_w_t w[LINEAR_OUT][LINEAR_IN]) {
#pragma HLS inline
    // exact product, exact sum (acc_t: static_assert in linear.h)
    return mac_tile<linear_acc_t, LINEAR_OUT, LINEAR_IN>(x, w);
}

// One iteration = one LO x LI tile of one row (II=1), order (row k, out-block ob, in-block ib); the
// row's input blocks are kept on chip on ob = 0 and reused for every output block.
static void linear_mac(hls::stream<linear_in_block_t>& xs,
                       const linear_w_t wbuf[LINEAR_MAX_TILES][LINEAR_OUT][LINEAR_IN],
                       const act_t bbuf[LINEAR_MAX_OUT_BLOCKS][LINEAR_OUT], hls::stream<linear_out_block_t>& ys,
                       unsigned out_dim, unsigned in_dim, unsigned rows) {
#pragma HLS inline off
    operand_t x_row[LINEAR_MAX_IN_BLOCKS][LINEAR_IN];
#pragma HLS array_partition variable=x_row complete dim=2
    linear_acc_t acc[LINEAR_OUT];
#pragma HLS array_partition variable=acc complete
    const unsigned in_blocks = linear_ceildiv(in_dim, LINEAR_IN);
    const unsigned out_blocks = linear_ceildiv(out_dim, LINEAR_OUT);
    unsigned ob = 0, ib = 0, tile = 0;
mac_tiles:
    for (unsigned it = 0; it < rows * out_blocks * in_blocks; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_ROWS * LINEAR_MAX_TILES
        operand_t xv[LINEAR_IN];
#pragma HLS array_partition variable=xv complete
        if (ob == 0) {
            const linear_in_block_t blk = xs.read();
        mac_keep_row:
            for (int i = 0; i < LINEAR_IN; i++) {
#pragma HLS unroll
                xv[i] = blk.v[i];
                x_row[ib][i] = blk.v[i];
            }
        } else {
        mac_reuse_row:
            for (int i = 0; i < LINEAR_IN; i++) {
#pragma HLS unroll
                xv[i] = x_row[ib][i];
            }
        }
        const linear_tile_sum_t t = linear_mac_tile(xv, wbuf[tile]);
    mac_accumulate:
        for (int o = 0; o < LINEAR_OUT; o++) {
#pragma HLS unroll
            acc[o] = (ib == 0 ? linear_acc_t(bbuf[ob][o]) : acc[o]) + t.v[o];  // exact (bias on the acc grid)
        }
        if (ib == in_blocks - 1) {
            linear_out_block_t y;
        mac_round:
            for (int o = 0; o < LINEAR_OUT; o++) {
#pragma HLS unroll
                y.v[o] = act_t(acc[o]);  // the one rounding: act's quantization and overflow modes
            }
            ys.write(y);
        }
        tile++;
        if (flat_next(ib, in_blocks) && flat_next(ob, out_blocks)) tile = 0;
    }
}

// Output stage, one activation word (LINEAR_A_PER_WORD values) per cycle: GELU (as many lanes as a
// word holds), then store / accumulate / scaled accumulate into row t of dst; the patch
// embedding accumulates onto pos (dst[0] = pos[0]).
static void linear_write(hls::stream<linear_out_block_t>& ys, const axi_word_t pos[LINEAR_POS_WORDS],
                         axi_word_t dst[LINEAR_Y_WORDS], const unsigned scatter[LINEAR_MAX_ROWS],
                         const act_t scores[LINEAR_MAX_ROWS], unsigned out_dim, unsigned rows, unsigned mode,
                         bool use_gelu, bool use_scatter, bool is_patch) {
#pragma HLS inline off
    unsigned dst_row[LINEAR_MAX_ROWS];
    act_t score[LINEAR_MAX_ROWS];
write_targets:
    for (unsigned k = 0; k < rows; k++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_ROWS
        dst_row[k] = is_patch ? k + 1 : (mode != LINEAR_STORE && use_scatter) ? scatter[k] : k;
        score[k] = (!is_patch && mode == LINEAR_ACCUMULATE_SCALED) ? scores[k] : act_t(0);
    }
    const unsigned words_per_row = linear_ceildiv(out_dim, LINEAR_A_PER_WORD);
    if (is_patch) {
    write_cls_row:
        for (unsigned wi = 0; wi < words_per_row; wi++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_OUT / LINEAR_A_PER_WORD
            dst[wi] = pos[wi];
        }
    }
    const bool accumulate = is_patch || mode != LINEAR_STORE;
    const unsigned words_per_block_row = linear_ceildiv(out_dim, LINEAR_OUT) * LINEAR_OUT_WORDS;
    linear_out_block_t y;
#pragma HLS array_partition variable=y.v complete
    unsigned k = 0, wi = 0;
write_words:
    for (unsigned it = 0; it < rows * words_per_block_row; it++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount max=LINEAR_MAX_ROWS * LINEAR_MAX_OUT_BLOCKS * LINEAR_OUT_WORDS
        // The engine's contract (python_ref/kernels/linear.py): the destination rows of one call are
        // distinct, and each word of a row is read and written once, so no iteration reads a word
        // another iteration writes: the read-modify-write carries no dependence across iterations.
#pragma HLS dependence variable=dst inter false
        if (wi % LINEAR_OUT_WORDS == 0) y = ys.read();
        if (wi < words_per_row) {
            const unsigned a = dst_row[k] * words_per_row + wi;
            axi_word_t prev = 0;
            if (accumulate) prev = is_patch ? pos[a] : dst[a];
            axi_word_t out = 0;
        write_lanes:
            for (int j = 0; j < LINEAR_A_PER_WORD; j++) {
#pragma HLS unroll
                act_t v = y.v[(wi % LINEAR_OUT_WORDS) * LINEAR_A_PER_WORD + j];
                if (use_gelu) v = gelu<gelu_config>(v);
                if (mode == LINEAR_ACCUMULATE_SCALED && !is_patch) v = act_t(score[k] * v);
                if (accumulate) {
                    act_t p;
                    p.range(ACT_W - 1, 0) = prev(j * ACT_W + ACT_W - 1, j * ACT_W);
                    v = p + v;  // act(dst + addend): act's modes
                }
                // lanes past out_dim stay 0 (the row padding of the layout)
                if (wi * LINEAR_A_PER_WORD + j < out_dim) out(j * ACT_W + ACT_W - 1, j * ACT_W) = v.range(ACT_W - 1, 0);
            }
            dst[a] = out;
        }
        if (flat_next(wi, words_per_block_row)) k++;
    }
}

static void linear_engine(const linear_w_t wbuf[LINEAR_MAX_TILES][LINEAR_OUT][LINEAR_IN],
                          const act_t bbuf[LINEAR_MAX_OUT_BLOCKS][LINEAR_OUT], const axi_word_t x[LINEAR_X_WORDS],
                          const axi_word_t image[LINEAR_IMAGE_WORDS], const axi_word_t pos[LINEAR_POS_WORDS],
                          axi_word_t dst[LINEAR_Y_WORDS], const unsigned gather[LINEAR_MAX_ROWS],
                          const unsigned scatter[LINEAR_MAX_ROWS], const act_t scores[LINEAR_MAX_ROWS],
                          unsigned out_dim, unsigned in_dim, unsigned rows, unsigned mode, bool use_gelu,
                          bool use_gather, bool use_scatter, bool is_patch) {
#pragma HLS inline off
#pragma HLS dataflow
    hls::stream<linear_in_block_t> xs("linear_xs");
#pragma HLS stream variable=xs depth=LINEAR_MAX_IN_BLOCKS
    hls::stream<linear_out_block_t> ys("linear_ys");
#pragma HLS stream variable=ys depth=2
    linear_read(x, image, gather, xs, in_dim, rows, use_gather, is_patch);
    linear_mac(xs, wbuf, bbuf, ys, out_dim, in_dim, rows);
    linear_write(ys, pos, dst, scatter, scores, out_dim, rows, mode, use_gelu, use_scatter, is_patch);
}

// ---------------------------------------------------------------------------------------------
// The top: a dataflow of the loader and the engine. The weight and bias buffers are local arrays
// written by the loader and read by the engine: ping-pong (PIPO) channels, so with ap_ctrl_chain the
// loader fills one half with call n+1's layer while the engine computes call n from the other.

void linear_top(const axi_word_t w[LINEAR_W_WORDS], const axi_word_t b[LINEAR_B_WORDS],
                const axi_word_t x[LINEAR_X_WORDS], const axi_word_t image[LINEAR_IMAGE_WORDS],
                const axi_word_t pos[LINEAR_POS_WORDS], axi_word_t dst[LINEAR_Y_WORDS],
                const unsigned gather[LINEAR_MAX_ROWS], const unsigned scatter[LINEAR_MAX_ROWS],
                const act_t scores[LINEAR_MAX_ROWS], unsigned out_dim, unsigned in_dim, unsigned rows,
                unsigned w_kind, unsigned b_kind, unsigned mode, bool use_gelu, bool use_gather,
                bool use_scatter, bool is_patch) {
#pragma HLS interface mode=m_axi port=w bundle=gmem_w offset=slave depth=LINEAR_W_WORDS max_read_burst_length=64
#pragma HLS interface mode=m_axi port=b bundle=gmem_w offset=slave depth=LINEAR_B_WORDS
#pragma HLS interface mode=m_axi port=x bundle=gmem_x offset=slave depth=LINEAR_X_WORDS
#pragma HLS interface mode=m_axi port=image bundle=gmem_x offset=slave depth=LINEAR_IMAGE_WORDS
#pragma HLS interface mode=m_axi port=gather bundle=gmem_x offset=slave depth=LINEAR_MAX_ROWS
#pragma HLS interface mode=m_axi port=pos bundle=gmem_y offset=slave depth=LINEAR_POS_WORDS
#pragma HLS interface mode=m_axi port=dst bundle=gmem_y offset=slave depth=LINEAR_Y_WORDS
#pragma HLS interface mode=m_axi port=scatter bundle=gmem_y offset=slave depth=LINEAR_MAX_ROWS
#pragma HLS interface mode=m_axi port=scores bundle=gmem_y offset=slave depth=LINEAR_MAX_ROWS
#pragma HLS interface mode=s_axilite port=out_dim bundle=control
#pragma HLS interface mode=s_axilite port=in_dim bundle=control
#pragma HLS interface mode=s_axilite port=rows bundle=control
#pragma HLS interface mode=s_axilite port=w_kind bundle=control
#pragma HLS interface mode=s_axilite port=b_kind bundle=control
#pragma HLS interface mode=s_axilite port=mode bundle=control
#pragma HLS interface mode=s_axilite port=use_gelu bundle=control
#pragma HLS interface mode=s_axilite port=use_gather bundle=control
#pragma HLS interface mode=s_axilite port=use_scatter bundle=control
#pragma HLS interface mode=s_axilite port=is_patch bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
#pragma HLS interface mode=ap_ctrl_chain port=return bundle=control
#pragma HLS bind_storage variable=GELU_DELTA_TABLE type=rom_np impl=lutram
#pragma HLS dataflow
    // LO memories (one per tile row) of LI weights each: a whole tile is read per cycle.
    linear_w_t wbuf[LINEAR_MAX_TILES][LINEAR_OUT][LINEAR_IN];
#pragma HLS array_partition variable=wbuf complete dim=2
#pragma HLS array_reshape variable=wbuf complete dim=3
    act_t bbuf[LINEAR_MAX_OUT_BLOCKS][LINEAR_OUT];
#pragma HLS array_partition variable=bbuf complete dim=2
    linear_load(w, b, wbuf, bbuf, out_dim, in_dim, w_kind, b_kind);
    linear_engine(wbuf, bbuf, x, image, pos, dst, gather, scatter, scores, out_dim, in_dim, rows, mode, use_gelu,
                  use_gather, use_scatter, is_patch);
}
