// GELU unit: GELU(x) = ReLU(x) - delta(|x|), delta(u) = u * Phi(-u) tabulated at step 2^-S and
// interpolated linearly; ReLU for |x| >= range. The numerical definition (evaluation order and
// every rounding) is python_ref/kernels/gelu.py; this file must equal it bit for bit.
#pragma once

#include <ap_axi_sdata.h>
#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "gelu_tables.h"
#include "model_config.h"

template <class T>
struct is_ufixed { static const bool value = false; };
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct is_ufixed<ap_ufixed<W, I, Q, O, N> > { static const bool value = true; };

// One AXI-Stream beat: gelu_config::lanes activations, lane i in bits [i*W, (i+1)*W).
typedef hls::axis<ap_uint<gelu_config::lanes * act_t::width>, 0, 0, 0> gelu_axis_t;

template <class Config>
typename Config::data_t gelu(typename Config::data_t x) {
#pragma HLS inline
    typedef typename Config::data_t data_t;
    typedef typename Config::table_t table_t;
    constexpr int W = data_t::width;
    constexpr int I = data_t::iwidth;
    constexpr int F = W - I;
    constexpr int T_BITS = F - (int)Config::step_log2;  // bits of |x| below the table step
    static_assert(T_BITS > 0, "the activation format needs more fraction bits than the table step");
    static_assert(table_t::width - table_t::iwidth <= F,
                  "relu - delta must be exact: the table cannot have more fraction bits than data_t");
    static_assert(is_ufixed<table_t>::value, "the delta table is unsigned");

    data_t relu = x;
    if (x < 0) relu = 0;

    // |x| in one more bit, so that negating the most negative value does not wrap.
    ap_fixed<W + 1, I + 1> ax = x;
    if (ax < 0) ax = -ax;
    ap_uint<W + 1> a_bits = ax.range(W, 0);
    if (a_bits >= (ap_uint<W + 1>(Config::range_steps) << T_BITS)) return relu;

    ap_uint<W + 1 - T_BITS> k = a_bits >> T_BITS;  // table index: |x| / step, floored
    ap_ufixed<T_BITS, 0> t;                          // interpolation weight: the remaining bits
    t.range(T_BITS - 1, 0) = a_bits(T_BITS - 1, 0);

    table_t lo, hi;
    lo.range(table_t::width - 1, 0) = GELU_DELTA_TABLE[k];
    hi.range(table_t::width - 1, 0) = GELU_DELTA_TABLE[k + 1];
    // Exact expression, a single rounding on assignment to table_t (its Q/O modes).
    table_t delta = lo + t * (hi - lo);
    return relu - delta;  // exact: delta has no more fraction bits than data_t
}

// Stream top: one beat per call, II=1; ports x_TDATA/x_TVALID/x_TREADY/x_TLAST, y_..., ap_clk,
// ap_rst_n, as rtl/src/gelu.sv names them.
void gelu_top(hls::stream<gelu_axis_t>& x, hls::stream<gelu_axis_t>& y);
