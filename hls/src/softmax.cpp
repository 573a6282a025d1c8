#include "softmax.h"

void softmax_stats_top(hls::stream<act_t>& scores, hls::stream<softmax_stats_t>& stats, unsigned n) {
#pragma HLS interface mode=axis port=scores
#pragma HLS interface mode=axis port=stats
#pragma HLS interface mode=s_axilite port=n bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
#pragma HLS bind_storage variable=EXP_TABLE type=rom_np impl=lutram
    act_t m = 0;
    softmax_sum_t s = 0;
    // The (m, s) recurrence is carried from one score to the next: II=1 needs the exp and the
    // multiply in the same cycle or rows interleaved (see docs/nonlinear.md).
SOFTMAX_SCORES:
    for (unsigned i = 0; i < n; i++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount min=1 max=255
        softmax_update<softmax_config>(scores.read(), i == 0, m, s);
    }
    softmax_stats_t st;
    st.m = m;
    st.s = s;
    st.r = reciprocal<reciprocal_config>(s);
    stats.write(st);
}

void softmax_prob_top(hls::stream<act_t>& scores, hls::stream<softmax_stats_t>& stats,
                      hls::stream<softmax_prob_t>& probs, unsigned n) {
#pragma HLS interface mode=axis port=scores
#pragma HLS interface mode=axis port=stats
#pragma HLS interface mode=axis port=probs
#pragma HLS interface mode=s_axilite port=n bundle=control
#pragma HLS interface mode=s_axilite port=return bundle=control
#pragma HLS bind_storage variable=EXP_TABLE type=rom_np impl=lutram
    const softmax_stats_t st = stats.read();
SOFTMAX_PROBS:
    for (unsigned i = 0; i < n; i++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount min=1 max=255
        probs.write(softmax_prob<softmax_config>(scores.read(), st));
    }
}
