// Two-pass softmax, the accelerator's softmax (the MoE gate's; the attention unit computes the same
// definition inside attention.cpp): per row
//   m = max_i x_i (exact)   e_i = exp(x_i - m)   s = sum_i e_i (exact)   r = 1/s   p_i = round(e_i * r)
// Nothing depends on the order in which a row's scores arrive. The numerical definition is
// python_ref/kernels/softmax.py (softmax_two_pass_raw); this file must equal it bit for bit.
// Rows have 1..255 scores (softmax_config::max_row: the sum format holds s <= 255); the row-length
// argument of softmax_top is ap_uint<softmax_config::row_bits> (8 bits), so no longer row can be
// asked for, and a length of 0 reads and writes nothing.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "exp.h"
#include "model_config.h"
#include "reciprocal.h"

// softmax_config (formats, max_row, row_bits) is generated from python_ref/kernels/softmax.py.
typedef softmax_config::prob_t softmax_prob_t;  // p in [0, 1], 24 fraction bits
typedef ap_uint<softmax_config::row_bits> softmax_len_t;
static_assert(NUM_TOKENS <= softmax_config::max_row, "attention rows exceed the softmax sum format");
static_assert(NUM_EXPERTS <= softmax_config::max_row, "gate rows exceed the softmax sum format");
static_assert(softmax_config::max_row == (1 << softmax_config::row_bits) - 1,
              "the row-length argument cannot exceed the longest row");
static_assert(exp_out_t::width - exp_out_t::iwidth == softmax_sum_t::width - softmax_sum_t::iwidth,
              "s + e is exact: the sum and exp formats share their fraction bits");

// Per-row statistics.
struct softmax_stats_t {
    act_t m;
    softmax_sum_t s;
    softmax_recip_t r;
};

// e = exp(x - m) for x <= m: the exact difference (ap_fixed<33,11>) into the exp unit.
inline exp_out_t softmax_exp(act_t x, act_t m) {
#pragma HLS inline
    return exp_neg<exp_config>(exp_in_t(x - m));
}

// p = round(e * r): 24 + 31 fraction bits rounded half up to 24. p <= 1 since e <= 1 and r <= 1.
template <class Config>
typename Config::prob_t softmax_prob_of(exp_out_t e_in, typename Config::recip_t r_in) {
#pragma HLS inline
    typedef typename Config::recip_t recip_t;
    typedef typename Config::prob_t prob_t;
    constexpr int EW = exp_out_t::width, RW = recip_t::width, PW = prob_t::width;
    constexpr int SH = (EW - exp_out_t::iwidth) + (RW - recip_t::iwidth) - (PW - prob_t::iwidth);  // 31
    ap_uint<EW> e = e_in.range(EW - 1, 0);
    ap_uint<RW> r = r_in.range(RW - 1, 0);
    ap_uint<EW + RW> prod = e * r;
    ap_uint<EW + RW + 1> pr = (ap_uint<EW + RW + 1>(prod) + (ap_uint<EW + RW + 1>(1) << (SH - 1))) >> SH;
    prob_t p;
    p.range(PW - 1, 0) = pr(PW - 1, 0);
    return p;
}

// The exp pass of a row x[0..n-1] with maximum m, one pass for softmax_row and softmax_top:
// e[i] = exp(x_i - m), their exact sum s and r = 1/s. II=1 as softmax_top always asked for;
// softmax_row's loop (the gate's rows) gets the same pragma.
template <int N>
softmax_stats_t softmax_exp_pass(const act_t x[N], unsigned n, act_t m, exp_out_t e[N]) {
#pragma HLS inline
    softmax_sum_t s = 0;
softmax_exp_sum:
    for (unsigned i = 0; i < n; i++) {
#pragma HLS pipeline II=1
#pragma HLS loop_tripcount min=1 max=N
        e[i] = softmax_exp(x[i], m);
        s += e[i];  // exact: s <= n <= 255
    }
    softmax_stats_t st;
    st.m = m;
    st.s = s;
    st.r = reciprocal<reciprocal_config>(s);
    return st;
}

// The whole two-pass softmax of a row held in x[0..n-1] (1 <= n <= N): statistics and p[0..n-1].
template <class Config, int N>
softmax_stats_t softmax_row(const act_t x[N], unsigned n, typename Config::prob_t p[N]) {
#pragma HLS inline
    act_t m = x[0];
softmax_row_max:
    for (unsigned i = 1; i < n; i++) {
#pragma HLS loop_tripcount min=0 max=N - 1
        if (x[i] > m) m = x[i];
    }
    exp_out_t e[N];
    const softmax_stats_t st = softmax_exp_pass<N>(x, n, m, e);
softmax_row_prob:
    for (unsigned i = 0; i < n; i++) {
#pragma HLS loop_tripcount min=1 max=N
        p[i] = softmax_prob_of<Config>(e[i], st.r);
    }
    return st;
}

// Stream top: a row of n scores in (any order of arrival gives the same result), its n
// probabilities out in the same positions, then its statistics. n = 0: nothing is read or written.
void softmax_top(hls::stream<act_t>& scores, hls::stream<softmax_prob_t>& probs,
                 hls::stream<softmax_stats_t>& stats, softmax_len_t n);
