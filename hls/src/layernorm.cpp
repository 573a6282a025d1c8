#include "layernorm.h"

static_assert(FEATURE_DIM >= 2 && FEATURE_DIM <= layernorm_config::max_dim, "layernorm: dim outside [2, 256]");
static_assert(layernorm_config::eps_v >= 1, "layernorm: eps rounds to 0");

void layernorm_top(hls::stream<act_t>& x, hls::stream<act_t>& y, const norm_param_t gamma[FEATURE_DIM],
                   const norm_param_t beta[FEATURE_DIM]) {
#pragma HLS interface mode=axis port=x
#pragma HLS interface mode=axis port=y
#pragma HLS interface mode=m_axi port=gamma bundle=gmem_param offset=slave depth=FEATURE_DIM
#pragma HLS interface mode=m_axi port=beta bundle=gmem_param offset=slave depth=FEATURE_DIM
#pragma HLS interface mode=s_axilite port=return bundle=control
    constexpr int W = act_t::width;
    act_t row[FEATURE_DIM];
    ap_int<W + 9> s1 = 0;          // |S1| < 2^(W-1) * 256
    ap_uint<2 * W + 8> s2 = 0;     // S2 <= 256 * 2^(2W-2)
LN_SUMS:
    for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
        act_t v = x.read();
        row[i] = v;
        ap_int<W> r = v.range(W - 1, 0);
        s1 += r;
        s2 += ap_uint<2 * W>(r * r);
    }
    const layernorm_stats_t st = layernorm_stats<layernorm_config>(s1, s2);
LN_APPLY:
    for (int i = 0; i < FEATURE_DIM; i++) {
#pragma HLS pipeline II=1
        y.write(layernorm_apply<layernorm_config>(row[i], gamma[i], beta[i], st));
    }
}
