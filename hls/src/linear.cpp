#include "linear.h"

#include "patch_embed.h"

// Ping-pong weight and bias buffers (on-chip): layer n reads one pair while layer n+1 loads the other.
linear_w_tile_t linear_weights_ping[LINEAR_MAX_TILES];
linear_w_tile_t linear_weights_pong[LINEAR_MAX_TILES];
linear_bias_block_t linear_bias_ping[LINEAR_MAX_OUT_BLOCKS];
linear_bias_block_t linear_bias_pong[LINEAR_MAX_OUT_BLOCKS];

static linear_w_t weight_lane(const axi_word_t& word, int lane, linear_weight_kind kind) {
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

void load_linear_weights(linear_w_tile_t dst[LINEAR_MAX_TILES], const axi_word_t src[], unsigned out_dim,
                         unsigned in_dim, linear_weight_kind kind) {
#pragma HLS inline off
    // Rows arrive in order; the segments of the current LINEAR_OUT rows are cached until the last
    // row of the block completes a tile, which is then written in one cycle (tile-major order).
    static linear_w_t cache[LINEAR_OUT][LINEAR_MAX_IN_BLOCKS * LINEAR_SEGS_PER_TILE][LINEAR_SEG];
#pragma HLS array_partition variable=cache complete dim=1
#pragma HLS array_partition variable=cache cyclic factor=LINEAR_SEGS_PER_TILE dim=2
#pragma HLS array_partition variable=cache complete dim=3

    const unsigned words_per_row = linear_ceildiv(in_dim, LINEAR_W_PER_WORD);
    const unsigned segs_per_row = words_per_row * LINEAR_SEGS_PER_WORD;
    const unsigned valid_segs = linear_ceildiv(in_dim, LINEAR_SEG);  // segments holding a column < in_dim
    const unsigned in_blocks = linear_ceildiv(in_dim, LINEAR_IN);
    const unsigned iters = out_dim * segs_per_row;

    unsigned row = 0, seg = 0, word_idx = 0;
    axi_word_t word = 0;
load_weights_segments:
    for (unsigned it = 0; it < iters; it++) {
#pragma HLS pipeline II=1
        const unsigned seg_in_word = seg % LINEAR_SEGS_PER_WORD;
        if (seg_in_word == 0) word = src[word_idx++];
        const unsigned r = row % LINEAR_OUT;
        if (seg < valid_segs) {
        load_weights_lanes:
            for (int j = 0; j < LINEAR_SEG; j++) {
#pragma HLS unroll
                const unsigned col = seg * LINEAR_SEG + j;
                cache[r][seg][j] =
                    (col < in_dim) ? weight_lane(word, seg_in_word * LINEAR_SEG + j, kind) : linear_w_t(0);
            }
            const bool last_row_of_block = (r == LINEAR_OUT - 1) || (row == out_dim - 1);
            const bool last_seg_of_tile =
                (seg % LINEAR_SEGS_PER_TILE == LINEAR_SEGS_PER_TILE - 1) || (seg == valid_segs - 1);
            if (last_row_of_block && last_seg_of_tile) {
                const unsigned ob = row / LINEAR_OUT;
                const unsigned ib = seg / LINEAR_SEGS_PER_TILE;
                linear_w_tile_t tile;
            load_weights_tile_rows:
                for (int tr = 0; tr < LINEAR_OUT; tr++) {
#pragma HLS unroll
                load_weights_tile_cols:
                    for (int tc = 0; tc < LINEAR_IN; tc++) {
#pragma HLS unroll
                        const unsigned s = ib * LINEAR_SEGS_PER_TILE + tc / LINEAR_SEG;
                        const bool inside = (ob * LINEAR_OUT + tr < out_dim) && (ib * LINEAR_IN + tc < in_dim);
                        tile.w[tr][tc] = inside ? cache[tr][s][tc % LINEAR_SEG] : linear_w_t(0);
                    }
                }
                dst[ob * in_blocks + ib] = tile;
            }
        }
        if (seg == segs_per_row - 1) {
            seg = 0;
            row++;
        } else {
            seg++;
        }
    }
}

void load_linear_bias(linear_bias_block_t dst[LINEAR_MAX_OUT_BLOCKS], const axi_word_t src[], unsigned out_dim,
                      linear_bias_kind kind) {
#pragma HLS inline off
    const unsigned out_blocks = linear_ceildiv(out_dim, LINEAR_OUT);
    linear_bias_block_t block;
    axi_word_t word = 0;
load_bias_elements:
    for (unsigned i = 0; i < out_blocks * LINEAR_OUT; i++) {
#pragma HLS pipeline II=1
        const unsigned lane = i % LINEAR_B_PER_WORD;
        if (lane == 0 && i < out_dim) word = src[i / LINEAR_B_PER_WORD];
        ap_uint<BIAS_W> bits = word(lane * BIAS_W + BIAS_W - 1, lane * BIAS_W);
        act_t b = 0;
        if (i < out_dim) {
            if (kind == LINEAR_B_ATTN) {
                attn_bias_t v;
                v.range(ATTN_BIAS_W - 1, 0) = bits;
                b = v;  // assignment to act_t: the spec's act(b)
            } else {
                bias_t v;
                v.range(BIAS_W - 1, 0) = bits;
                b = v;
            }
        }
        block.b[i % LINEAR_OUT] = b;
        if (i % LINEAR_OUT == LINEAR_OUT - 1) dst[i / LINEAR_OUT] = block;
    }
}

// Stage 1: stream the processed rows as LINEAR_IN-wide input blocks (zero past in_dim).
static void linear_read(hls::stream<linear_in_block_t>& in, const act_t src[], unsigned in_dim, unsigned rows,
                        const unsigned gather[LINEAR_MAX_ROWS], bool use_gather) {
#pragma HLS inline off
    const unsigned in_blocks = linear_ceildiv(in_dim, LINEAR_IN);
    unsigned k = 0, ib = 0;
linear_read_blocks:
    for (unsigned it = 0; it < rows * in_blocks; it++) {
#pragma HLS pipeline II=1
        const unsigned r = use_gather ? gather[k] : k;
        linear_in_block_t blk;
    linear_read_lanes:
        for (int j = 0; j < LINEAR_IN; j++) {
#pragma HLS unroll
            const unsigned col = ib * LINEAR_IN + j;
            blk.v[j] = (col < in_dim) ? src[r * in_dim + col] : act_t(0);
        }
        in.write(blk);
        if (ib == in_blocks - 1) {
            ib = 0;
            k++;
        } else {
            ib++;
        }
    }
}

// Stage 2: the MAC array. One iteration = one LINEAR_OUT x LINEAR_IN tile of one row (II=1);
// iteration order: row k, output block ob, input block ib (the tile schedule of the spec).
static void linear_mac(hls::stream<linear_out_block_t>& out, hls::stream<linear_in_block_t>& in,
                       const linear_w_tile_t weights[LINEAR_MAX_TILES],
                       const linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS], unsigned out_dim, unsigned in_dim,
                       unsigned rows, bool use_gelu) {
#pragma HLS inline off
    linear_in_block_t x_row[LINEAR_MAX_IN_BLOCKS];  // the current row, reused for every output block
    act_t acc[LINEAR_OUT];
#pragma HLS array_partition variable=acc complete
    const unsigned in_blocks = linear_ceildiv(in_dim, LINEAR_IN);
    const unsigned out_blocks = linear_ceildiv(out_dim, LINEAR_OUT);
    unsigned ob = 0, ib = 0, tile = 0;
linear_mac_tiles:
    for (unsigned it = 0; it < rows * out_blocks * in_blocks; it++) {
#pragma HLS pipeline II=1
        if (ob == 0) x_row[ib] = in.read();
        const linear_in_block_t x = x_row[ib];
        const linear_w_tile_t w = weights[tile];
        if (ib == 0) {
        linear_mac_bias:
            for (int o = 0; o < LINEAR_OUT; o++) {
#pragma HLS unroll
                acc[o] = bias[ob].b[o];
            }
        }
    linear_mac_inputs:
        for (int i = 0; i < LINEAR_IN; i++) {
#pragma HLS unroll
        linear_mac_outputs:
            for (int o = 0; o < LINEAR_OUT; o++) {
#pragma HLS unroll
                acc[o] += act_t(x.v[i] * w.w[o][i]);  // product quantized to act_t, then added (spec)
            }
        }
        if (ib == in_blocks - 1) {
            linear_out_block_t y;
        linear_mac_gelu:
            for (int o = 0; o < LINEAR_OUT; o++) {
#pragma HLS unroll
                y.v[o] = use_gelu ? gelu<gelu_config>(acc[o]) : acc[o];
            }
            out.write(y);
        }
        tile++;
        if (ib == in_blocks - 1) {
            ib = 0;
            if (ob == out_blocks - 1) {
                ob = 0;
                tile = 0;
            } else {
                ob++;
            }
        } else {
            ib++;
        }
    }
}

// Stage 3: store, accumulate or scaled scatter-accumulate each output block.
static void linear_write(act_t dst[], hls::stream<linear_out_block_t>& out, unsigned out_dim, unsigned rows,
                         const unsigned scatter[LINEAR_MAX_ROWS], bool use_scatter,
                         const act_t scores[LINEAR_MAX_ROWS], linear_out_mode mode) {
#pragma HLS inline off
    const unsigned out_blocks = linear_ceildiv(out_dim, LINEAR_OUT);
    unsigned k = 0, ob = 0;
linear_write_blocks:
    for (unsigned it = 0; it < rows * out_blocks; it++) {
#pragma HLS pipeline II=1
        // The engine's contract (python_ref/kernels/linear.py, enforced by the spec and the
        // testbenches): the targets of one call are distinct, so the read-modify-write of one row
        // never depends on another row's write.
#pragma HLS dependence variable=dst inter false
        const linear_out_block_t y = out.read();
        const unsigned t = (mode != LINEAR_STORE && use_scatter) ? scatter[k] : k;
        const act_t score = scores[k];
    linear_write_lanes:
        for (int j = 0; j < LINEAR_OUT; j++) {
#pragma HLS unroll
            const unsigned o = ob * LINEAR_OUT + j;
            if (o < out_dim) {
                const unsigned a = t * out_dim + o;
                if (mode == LINEAR_STORE) {
                    dst[a] = y.v[j];
                } else {
                    const act_t addend = (mode == LINEAR_ACCUMULATE_SCALED) ? act_t(score * y.v[j]) : y.v[j];
                    dst[a] = dst[a] + addend;
                }
            }
        }
        if (ob == out_blocks - 1) {
            ob = 0;
            k++;
        } else {
            ob++;
        }
    }
}

void compute_linear(act_t dst[], const act_t src[], const linear_w_tile_t weights[LINEAR_MAX_TILES],
                    const linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS], unsigned out_dim, unsigned in_dim,
                    unsigned rows, const unsigned gather[LINEAR_MAX_ROWS], bool use_gather,
                    const unsigned scatter[LINEAR_MAX_ROWS], bool use_scatter,
                    const act_t scores[LINEAR_MAX_ROWS], linear_out_mode mode, bool use_gelu) {
#pragma HLS inline off
#pragma HLS dataflow
    hls::stream<linear_in_block_t> in_stream;
#pragma HLS stream variable=in_stream depth=LINEAR_MAX_IN_BLOCKS
    hls::stream<linear_out_block_t> out_stream;
#pragma HLS stream variable=out_stream depth=LINEAR_MAX_OUT_BLOCKS
    linear_read(in_stream, src, in_dim, rows, gather, use_gather);
    linear_mac(out_stream, in_stream, weights, bias, out_dim, in_dim, rows, use_gelu);
    linear_write(dst, out_stream, out_dim, rows, scatter, use_scatter, scores, mode);
}

static void linear_run_job(const linear_job_t& job, const linear_w_tile_t weights[LINEAR_MAX_TILES],
                           const linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS], act_t dst[], const act_t src[],
                           const pixel_t image[], const act_t pos[], const unsigned gather[LINEAR_MAX_ROWS],
                           const unsigned scatter[LINEAR_MAX_ROWS], const act_t scores[LINEAR_MAX_ROWS]) {
#pragma HLS inline off
    if (job.is_patch) {
        patch_embed(dst, image, pos, weights, bias);
    } else {
        compute_linear(dst, src, weights, bias, job.out_dim, job.in_dim, job.rows, gather, job.use_gather, scatter,
                       job.use_scatter, scores, job.mode, job.use_gelu);
    }
}

static void linear_load_next(const linear_next_t& next, linear_w_tile_t weights[LINEAR_MAX_TILES],
                             linear_bias_block_t bias[LINEAR_MAX_OUT_BLOCKS], const axi_word_t w[],
                             const axi_word_t b[]) {
#pragma HLS inline off
    if (next.load) {
        load_linear_weights(weights, w, next.out_dim, next.in_dim, next.w_kind);
        load_linear_bias(bias, b, next.out_dim, next.b_kind);
    }
}

// One dataflow region per direction: the compute process only reads `cur_*`, the load process
// only writes `nxt_*`, so they run concurrently.
static void linear_step(const linear_job_t& job, const linear_w_tile_t cur_w[LINEAR_MAX_TILES],
                        const linear_bias_block_t cur_b[LINEAR_MAX_OUT_BLOCKS], linear_w_tile_t nxt_w[LINEAR_MAX_TILES],
                        linear_bias_block_t nxt_b[LINEAR_MAX_OUT_BLOCKS], act_t dst[], const act_t src[],
                        const pixel_t image[], const act_t pos[], const unsigned gather[LINEAR_MAX_ROWS],
                        const unsigned scatter[LINEAR_MAX_ROWS], const act_t scores[LINEAR_MAX_ROWS],
                        const linear_next_t& next, const axi_word_t next_w[], const axi_word_t next_b[]) {
#pragma HLS dataflow
    linear_load_next(next, nxt_w, nxt_b, next_w, next_b);
    linear_run_job(job, cur_w, cur_b, dst, src, image, pos, gather, scatter, scores);
}

void linear_pingpong_step(bool ping, const linear_job_t& job, act_t dst[], const act_t src[],
                          const pixel_t image[], const act_t pos[], const unsigned gather[LINEAR_MAX_ROWS],
                          const unsigned scatter[LINEAR_MAX_ROWS], const act_t scores[LINEAR_MAX_ROWS],
                          const linear_next_t& next, const axi_word_t next_w[], const axi_word_t next_b[]) {
    if (ping) {
        linear_step(job, linear_weights_ping, linear_bias_ping, linear_weights_pong, linear_bias_pong, dst, src,
                    image, pos, gather, scatter, scores, next, next_w, next_b);
    } else {
        linear_step(job, linear_weights_pong, linear_bias_pong, linear_weights_ping, linear_bias_ping, dst, src,
                    image, pos, gather, scatter, scores, next, next_w, next_b);
    }
}

void linear_load_first(unsigned out_dim, unsigned in_dim, linear_weight_kind w_kind, linear_bias_kind b_kind,
                       const axi_word_t w[], const axi_word_t b[]) {
    load_linear_weights(linear_weights_ping, w, out_dim, in_dim, w_kind);
    load_linear_bias(linear_bias_ping, b, out_dim, b_kind);
}
