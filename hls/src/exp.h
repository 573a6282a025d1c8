// exp unit for x <= 0: base-2 range reduction, a 128-entry table of 2^(-j/128), a quadratic
// correction for the last 17 bits of the reduced argument and a shift. The numerical definition
// (every width and rounding) is python_ref/kernels/exp.py; this file must equal it bit for bit.
// x > 0 saturates to exp(0) = 1; x <= -32 (or 2^-t < 2^-26) gives 0.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "model_config.h"

#include "exp_tables.h"

// Constants (exp_config) and the table EXP_TABLE are generated from python_ref/kernels/exp.py.
typedef exp_config::out_t exp_out_t;  // exp(x) in [0, 1], 24 fraction bits (exp(0) = 1.0 exactly)
typedef exp_config::in_t exp_in_t;    // the softmax's argument: the exact difference of two activations

// exp(x) for any signed ap_fixed x with at most 25 fraction bits.
template <class CONFIG_T, class in_t>
typename CONFIG_T::out_t exp_neg(in_t x) {
#pragma HLS inline
    typedef CONFIG_T C;
    typedef typename CONFIG_T::out_t out_t;
    constexpr int W = in_t::width;
    constexpr int F = in_t::width - in_t::iwidth;
    static_assert(F >= 0 && F <= C::max_frac_in, "exp: u * log2(e) must fit 62 bits (at most 25 input fraction bits)");
    constexpr int UB = F + C::input_limit_log2;  // u < 2^UB
    constexpr int TS = F + C::log2e_frac - C::t_frac;
    static_assert(TS >= 1, "exp: the input needs >= 0 fraction bits");

    ap_int<W> xr = x.range(W - 1, 0);
    ap_int<W + 1> neg = -ap_int<W + 1>(xr);  // exact -x
    out_t y = 0;
    if (neg < 0) neg = 0;                    // x > 0 saturates to exp(0)
    if (neg >= (ap_int<W + 2>(1) << UB)) return y;
    ap_uint<UB> u = neg;

    ap_uint<UB + 32> prod = u * ap_uint<32>(C::log2e_raw);
    ap_uint<30> t = (ap_uint<UB + 33>(prod) + (ap_uint<UB + 33>(1) << (TS - 1))) >> TS;
    ap_uint<6> n = t >> C::t_frac;
    if (n >= C::n_zero) return y;
    ap_uint<C::table_bits> j = t(C::t_frac - 1, C::r_bits);
    ap_uint<C::r_bits> r = t(C::r_bits - 1, 0);

    // 2^-r ~ 1 - r * (C1 - r * C2), Horner, 28 fraction bits, each product rounded half up.
    ap_uint<44> p1 = r * ap_uint<26>(C::c2_raw);
    ap_uint<20> q1 = (p1 + (ap_uint<44>(1) << (C::t_frac - 1))) >> C::t_frac;
    ap_uint<28> a = ap_uint<28>(C::c1_raw) - q1;
    ap_uint<46> p2 = r * a;
    ap_uint<22> q2 = (p2 + (ap_uint<46>(1) << (C::t_frac - 1))) >> C::t_frac;
    ap_uint<29> p = (ap_uint<29>(1) << C::poly_frac) - q2;

    ap_uint<58> m = EXP_TABLE[j] * p;
    const int s = C::table_frac + C::poly_frac - C::out_frac + n.to_int();  // 32 + n
    ap_uint<59> yr = (ap_uint<59>(m) + (ap_uint<59>(1) << (s - 1))) >> s;
    y.range(24, 0) = yr(24, 0);
    return y;
}

// Stream top: one value per call, II=1.
void exp_top(hls::stream<exp_in_t>& x, hls::stream<exp_out_t>& y);
