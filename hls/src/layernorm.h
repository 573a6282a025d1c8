// LayerNorm over the feature dimension: y = (x - mean) / sqrt(var + eps) * gamma + beta, computed
// without dividing by D and without rounding the mean or the variance:
//   S1 = sum x, S2 = sum x^2 (exact, one pass), c_i = D x_i - S1, v = D S2 - S1^2 + EPS_V,
//   z_i = c_i / sqrt(v) via normalisation (v = v_n 4^k), an exact restoring square root of v_n and
//   the reciprocal unit, then y_i = round(z_i * gamma_i + beta_i).
// The numerical definition is python_ref/kernels/layernorm.py; this file must equal it bit for bit.
// Zero variance gives y = beta exactly; v >= EPS_V >= 1 so nothing divides by zero or wraps.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "model_config.h"
#include "reciprocal.h"

// layernorm_config (formats, dim, eps_v and the datapath constants) is generated from
// python_ref/kernels/layernorm.py.

// Number of significant bits of v (0 for v = 0).
template <int W>
int ln_bit_length(ap_uint<W> v) {
#pragma HLS inline
    int L = 0;
LN_LZC:
    for (int i = 0; i < W; i++) {
#pragma HLS unroll
        if (v[i]) L = i + 1;
    }
    return L;
}

// floor(sqrt(v)) of a 2*N-bit integer: restoring square root, one result bit per step.
template <int N>
ap_uint<N> ln_isqrt(ap_uint<2 * N> v) {
#pragma HLS inline
    ap_uint<N + 2> rem = 0;
    ap_uint<N> root = 0;
LN_SQRT_STEPS:
    for (int i = N - 1; i >= 0; i--) {
#pragma HLS unroll
        rem = (rem << 2) | ap_uint<N + 2>(v(2 * i + 1, 2 * i));
        ap_uint<N + 2> trial = (ap_uint<N + 2>(root) << 2) | 1;
        root = root << 1;
        if (rem >= trial) {
            rem -= trial;
            root |= ap_uint<N>(1);  // (not root[0] = 1: a bit reference takes any nonzero value as 1)
        }
    }
    return root;
}

// Row statistics: 1/sqrt(v) as (k, r) with 1/sqrt(v) ~ r * 2^-(59 + k).
struct layernorm_stats_t {
    ap_int<48> s1;
    ap_int<8> k;
    ap_uint<layernorm_config::recip_width> r;
};

template <class Config>
layernorm_stats_t layernorm_stats(ap_int<Config::data_t::width + 9> s1, ap_uint<2 * Config::data_t::width + 8> s2) {
#pragma HLS inline
    typedef Config L;
    constexpr int W = Config::data_t::width;
    constexpr int D = Config::dim;
    constexpr int VW = 2 * W + 2 * 8 + 2;  // D S2 < 2^(2W-2+16), S1^2, + EPS_V
    ap_int<VW + 1> vs = ap_int<VW + 1>(s2) * D - ap_int<VW + 1>(s1) * s1 + ap_int<VW + 1>(Config::eps_v);
    ap_uint<VW> v = vs;
    int len = ln_bit_length<VW>(v);
    int t = len - L::v_bits + 1;
    int k = t >= 0 ? t / 2 : -((-t + 1) / 2);  // floor(t / 2) = ceil((len - 60) / 2)
    ap_uint<VW + 2 * L::v_bits> vw = v;
    ap_uint<L::v_bits> vn = k >= 0 ? ap_uint<L::v_bits>(vw >> (2 * k)) : ap_uint<L::v_bits>(vw << (-2 * k));
    ap_uint<L::sigma_bits> sigma = ln_isqrt<L::sigma_bits>(vn);
    layernorm_stats_t st;
    st.s1 = s1;
    st.k = k;
    st.r = reciprocal_core<L::sigma_bits, L::recip_frac + 1, L::recip_width>(sigma);
    return st;
}

template <class Config>
typename Config::data_t layernorm_apply(typename Config::data_t x, typename Config::param_t gamma,
                                        typename Config::param_t beta, const layernorm_stats_t& st) {
#pragma HLS inline
    typedef Config L;
    typedef typename Config::data_t data_t;
    typedef typename Config::param_t param_t;
    constexpr int W = data_t::width, F = data_t::width - data_t::iwidth;
    constexpr int PW = param_t::width, PF = param_t::width - param_t::iwidth;
    constexpr int YS = L::z_frac + PF - F;  // 13: z*gamma (35 fraction bits) to F
    static_assert(YS >= 1, "layernorm: norm_param needs more fraction bits");
    ap_int<W> xr = x.range(W - 1, 0);
    ap_int<W + 10> c = ap_int<W + 10>(xr) * Config::dim - st.s1;  // D x - S1, exact
    int sh = st.k.to_int() + L::a_extra;
    ap_int<64> cw = c;
    ap_int<32> a = sh > 0 ? ap_int<32>((cw + (ap_int<64>(1) << (sh - 1))) >> sh) : ap_int<32>(cw << (-sh));
    ap_int<64> ar = ap_int<64>(a) * ap_int<64>(st.r);
    constexpr int ZS = L::recip_frac - L::a_extra - L::z_frac;  // 31
    ap_int<32> z = (ar + (ap_int<64>(1) << (ZS - 1))) >> ZS;
    ap_int<PW> g = gamma.range(PW - 1, 0), b = beta.range(PW - 1, 0);
    ap_int<64> acc = ap_int<64>(z) * g + (ap_int<64>(b) << L::z_frac);
    ap_int<64> yr = (acc + (ap_int<64>(1) << (YS - 1))) >> YS;
    const ap_int<64> lo = -(ap_int<64>(1) << (W - 1)), hi = (ap_int<64>(1) << (W - 1)) - 1;
    if (yr < lo) yr = lo;  // saturation (unreachable with the shipped formats: |y| < 272)
    if (yr > hi) yr = hi;
    data_t y;
    y.range(W - 1, 0) = ap_int<W>(yr);
    return y;
}

// One row per call: D activations in, D normalised activations out. gamma/beta are the layer's
// norm_param vectors (ROMs/registers loaded with the weights).
void layernorm_top(hls::stream<act_t>& x, hls::stream<act_t>& y, const norm_param_t gamma[FEATURE_DIM],
                   const norm_param_t beta[FEATURE_DIM]);
