// Reciprocal unit: round(2^(FI+FO) / x) ties up, by an exact restoring division of the power of two
// 2^K (K = FI + FO + 1) by x, one quotient bit per step, then one rounding bit; saturates to the
// largest output when the quotient does not fit (and for x = 0: no division by zero).
// The numerical definition is python_ref/kernels/reciprocal.py; this file must equal it bit for bit.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "model_config.h"

// Softmax instance (reciprocal_config, generated from python_ref/kernels/reciprocal.py):
// s in [1, 255] (24 fraction bits) -> 1/s in (1/256, 1] (31 fraction bits).
typedef reciprocal_config::sum_t softmax_sum_t;
typedef reciprocal_config::recip_t softmax_recip_t;

// Integer core: WI-bit x, K = FI + FO + 1, WO-bit result.
template <int WI, int K, int WO>
ap_uint<WO> reciprocal_core(ap_uint<WI> x) {
#pragma HLS inline
    static_assert(K >= 1 && K <= reciprocal_config::max_k, "reciprocal: 2^K must fit 63 bits");
    static_assert(WO >= 1 && WO <= 62, "reciprocal: output width out of range");
    const ap_uint<WO> top = ~ap_uint<WO>(0);
    if (x == 0) return top;
    ap_uint<WI + 1> rem = 0;  // invariant: rem < x before each shift
    ap_uint<K + 1> q = 0;     // floor(2^K / x)
RECIP_STEPS:
    for (int i = K; i >= 0; i--) {
#pragma HLS unroll
        rem = (rem << 1) | ap_uint<WI + 1>(i == K ? 1 : 0);  // next dividend bit of 2^K
        q = q << 1;
        if (rem >= x) {
            rem -= x;
            q[0] = 1;
        }
    }
    ap_uint<K + 1> r = (ap_uint<K + 2>(q) + 1) >> 1;  // round half up
    if (r > ap_uint<K + 1>(top)) return top;
    return ap_uint<WO>(r);
}

// The softmax instance: CONFIG_T::sum_t in, CONFIG_T::recip_t out (unsigned ap_ufixed both).
template <class CONFIG_T>
typename CONFIG_T::recip_t reciprocal(typename CONFIG_T::sum_t x) {
#pragma HLS inline
    typedef typename CONFIG_T::sum_t in_t;
    typedef typename CONFIG_T::recip_t out_t;
    constexpr int WI = in_t::width, FI = in_t::width - in_t::iwidth;
    constexpr int WO = out_t::width, FO = out_t::width - out_t::iwidth;
    static_assert(WI == CONFIG_T::softmax_wi && WO == CONFIG_T::softmax_wo && FI + FO + 1 == CONFIG_T::softmax_k,
                  "reciprocal: the formats disagree with the generated geometry");
    ap_uint<WI> xr = x.range(WI - 1, 0);
    out_t y;
    y.range(WO - 1, 0) = reciprocal_core<WI, CONFIG_T::softmax_k, WO>(xr);
    return y;
}

// Stream top (the softmax instance): one value per call.
void reciprocal_top(hls::stream<softmax_sum_t>& x, hls::stream<softmax_recip_t>& y);
