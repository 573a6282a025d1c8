// Raw integers <-> ap_fixed / ap_ufixed values, for the C-simulation testbenches: the vector files
// (tb_io.h) hold each value as its raw integer, two's complement for ap_fixed, plain for ap_ufixed.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include <string>
#include <type_traits>
#include <vector>

#include "tb_io.h"

template <class F>
struct is_signed_fx : std::true_type {};
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct is_signed_fx<ap_ufixed<W, I, Q, O, N>> : std::false_type {};

// The F whose raw bits are the low F::width bits of v (v in F's raw range: tb_check_raw).
template <class F>
F from_raw(long long v) {
    F f;
    f.range(F::width - 1, 0) = ap_int<F::width>(v);
    return f;
}

template <class F>
long long raw_of(const F& f) {
    if (is_signed_fx<F>::value) return ap_int<F::width>(f.range(F::width - 1, 0)).to_int64();
    return (long long)ap_uint<F::width>(f.range(F::width - 1, 0)).to_uint64();
}

// Exit 2 naming `where`, the index and the value if a value of v is outside the raw range of F
// (`type_name`): from_raw would silently drop its high bits.
template <class F>
void tb_check_raw(const std::string& where, const std::vector<long long>& v, const char* type_name) {
    const long long lo = is_signed_fx<F>::value ? -(1LL << (F::width - 1)) : 0;
    const long long hi = is_signed_fx<F>::value ? (1LL << (F::width - 1)) - 1 : (1LL << F::width) - 1;
    for (size_t i = 0; i < v.size(); i++)
        if (v[i] < lo || v[i] > hi)
            tb_fail(where + ": value " + std::to_string(i) + " = " + std::to_string(v[i]) +
                    " outside the raw range of " + type_name);
}

// The raw outputs of a one-in, one-out stream top called once per input value (the scalar units'
// testbenches: exp, reciprocal).
template <class In, class Out>
std::vector<long long> tb_each_value(const std::vector<long long>& in, void (*top)(hls::stream<In>&, hls::stream<Out>&)) {
    hls::stream<In> x;
    hls::stream<Out> y;
    std::vector<long long> out;
    out.reserve(in.size());
    for (long long v : in) {
        x.write(from_raw<In>(v));
        top(x, y);
        out.push_back(raw_of(y.read()));
    }
    return out;
}
