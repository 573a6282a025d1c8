// Single-pass (online) softmax, Edge-MoE's formulation: per row a running maximum m and sum s,
// updated once per score in ARRIVAL order (the result depends on that order because every product
// is rounded); then r = 1/s; the probability stage computes p_i = exp(x_i - m) * r.
// The numerical definition is python_ref/kernels/softmax.py; this file must equal it bit for bit.
// The same unit serves attention rows (NUM_TOKENS scores) and the MoE gate (NUM_EXPERTS logits).
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "exp.h"
#include "model_config.h"
#include "reciprocal.h"

// softmax_config (formats, max_row) is generated from python_ref/kernels/softmax.py.
typedef softmax_config::prob_t softmax_prob_t;  // p in [0, 1], 24 fraction bits
static_assert(NUM_TOKENS <= softmax_config::max_row, "attention rows exceed the softmax sum format");
static_assert(NUM_EXPERTS <= softmax_config::max_row, "gate rows exceed the softmax sum format");
static_assert(exp_out_t::width - exp_out_t::iwidth == softmax_sum_t::width - softmax_sum_t::iwidth,
              "s + e must be exact: the sum and exp formats share their fraction bits");

// Per-row statistics leaving the statistics stage.
struct softmax_stats_t {
    act_t m;
    softmax_sum_t s;
    softmax_recip_t r;
};

// One online update of (m, s) with score x (the first score of a row initialises them).
template <class Config>
void softmax_update(typename Config::score_t x, bool first, typename Config::score_t& m, typename Config::sum_t& s) {
#pragma HLS inline
    typedef typename Config::sum_t sum_t;
    constexpr int SW = sum_t::width;
    constexpr int EF = exp_out_t::width - exp_out_t::iwidth;  // 24
    const ap_uint<SW> one = ap_uint<SW>(1) << (sum_t::width - sum_t::iwidth);
    ap_uint<SW> s_raw = s.range(SW - 1, 0);
    if (first) {
        m = x;
        s_raw = one;
    } else {
        bool new_max = x > m;
        exp_in_t d = new_max ? exp_in_t(m - x) : exp_in_t(x - m);  // exact, <= 0
        ap_uint<exp_out_t::width> e = exp_neg<exp_config>(d).range(exp_out_t::width - 1, 0);
        if (new_max) {
            ap_uint<SW + exp_out_t::width> prod = s_raw * e;  // 48 fraction bits
            s_raw = ((prod + (ap_uint<SW + exp_out_t::width>(1) << (EF - 1))) >> EF) + one;
            m = x;
        } else {
            s_raw = s_raw + e;
        }
    }
    s.range(SW - 1, 0) = s_raw;
}

// p = round(exp(x - m) * r): 24 + 31 fraction bits rounded to 24.
template <class Config>
typename Config::prob_t softmax_prob(typename Config::score_t x, const softmax_stats_t& st) {
#pragma HLS inline
    typedef typename Config::recip_t recip_t;
    typedef typename Config::prob_t prob_t;
    constexpr int EW = exp_out_t::width, RW = recip_t::width, PW = prob_t::width;
    constexpr int SH = (EW - exp_out_t::iwidth) + (RW - recip_t::iwidth) - (PW - prob_t::iwidth);  // 31
    ap_uint<EW> e = exp_neg<exp_config>(exp_in_t(x - st.m)).range(EW - 1, 0);
    ap_uint<RW> r = st.r.range(RW - 1, 0);
    ap_uint<EW + RW> prod = e * r;
    ap_uint<EW + RW + 1> pr = (ap_uint<EW + RW + 1>(prod) + (ap_uint<EW + RW + 1>(1) << (SH - 1))) >> SH;
    prob_t p;
    p.range(PW - 1, 0) = pr(PW - 1, 0);  // p <= 1: e <= 1 and r <= 1
    return p;
}

// Statistics stage: n scores of one row in arrival order in, (m, s, 1/s) out.
void softmax_stats_top(hls::stream<act_t>& scores, hls::stream<softmax_stats_t>& stats, unsigned n);
// Probability stage: the row's statistics, then n scores in any order, n probabilities out.
void softmax_prob_top(hls::stream<act_t>& scores, hls::stream<softmax_stats_t>& stats,
                      hls::stream<softmax_prob_t>& probs, unsigned n);
