#include "softmax.h"

// Three passes over an on-chip row buffer, each pipelined at one score per cycle: read (and the
// running maximum: a compare, no arithmetic in the loop), exp and the exact sum (one integer add
// carried), probabilities; one reciprocal per row between the second and the third.
void softmax_top(hls::stream<act_t>& scores, hls::stream<softmax_prob_t>& probs,
                 hls::stream<softmax_stats_t>& stats, softmax_len_t n) {
#pragma HLS interface mode=axis port=scores
#pragma HLS interface mode=axis port=probs
#pragma HLS interface mode=axis port=stats
#pragma HLS interface mode=s_axilite port=n bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
#pragma HLS bind_storage variable=EXP_TABLE type=rom_np impl=lutram
    constexpr int N = softmax_config::max_row;
    const unsigned len = n;
    if (len == 0) return;  // no row: nothing read, nothing written
    act_t x[N];
    exp_out_t e[N];
    act_t m = 0;
SOFTMAX_READ:
    for (unsigned i = 0; i < len; i++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount min=1 max=N
        const act_t v = scores.read();
        x[i] = v;
        if (i == 0 || v > m) m = v;
    }
    const softmax_stats_t st = softmax_exp_pass<N>(x, len, m, e);
SOFTMAX_PROB:
    for (unsigned i = 0; i < len; i++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount min=1 max=N
        probs.write(softmax_prob_of<softmax_config>(e[i], st.r));
    }
    stats.write(st);
}
