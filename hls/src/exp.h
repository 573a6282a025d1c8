// exp unit for x <= 0: base-2 range reduction, a 128-entry table of 2^(-j/128), a quadratic
// correction for the last 17 bits of the reduced argument and a shift. The numerical definition
// (every width and rounding) is python_ref/kernels/exp.py; this file must equal it bit for bit.
// x > 0 saturates to exp(0) = 1; x <= -32 (or 2^-t < 2^-26) gives 0.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#include "model_config.h"

// exp output: [0, 1] with 24 fraction bits (exp(0) = 1.0 exactly).
typedef ap_ufixed<25, 1> exp_out_t;
// The softmax's argument: the exact difference of two activations (one more integer bit).
typedef ap_fixed<act_t::width + 1, act_t::iwidth + 1> exp_in_t;

struct exp_config {
    static const int out_frac = 24;
    static const int log2e_frac = 31;
    static const unsigned long long log2e_raw = 3098164009ULL;  // round(log2(e) * 2^31)
    static const int t_frac = 24;                               // t = u * log2(e)
    static const int table_bits = 7;                            // 128 entries
    static const int table_frac = 28;
    static const int r_bits = t_frac - table_bits;  // 17
    static const int poly_frac = 28;
    static const unsigned c1_raw = 186065279;  // round(ln2 * 2^28)
    static const unsigned c2_raw = 64485312;   // round(ln2^2 / 2 * 2^28)
    static const int input_limit_log2 = 5;     // x <= -32 -> 0
    static const int n_zero = 26;              // 2^-t, t >= 26 -> 0
};

// T[j] = round(2^(-j/128) * 2^28): python_ref.kernels.exp.exp_table() (tests/test_exp.py checks it).
static const ap_uint<29> EXP_TABLE[128] = {
    268435456, 266985750, 265543873, 264109783, 262683438, 261264796, 259853815, 258450455,
    257054673, 255666430, 254285684, 252912394, 251546522, 250188026, 248836866, 247493003,
    246156398, 244827012, 243504805, 242189739, 240881774, 239580874, 238286999, 237000112,
    235720175, 234447150, 233181000, 231921688, 230669177, 229423431, 228184412, 226952085,
    225726413, 224507360, 223294891, 222088970, 220889561, 219696630, 218510142, 217330061,
    216156353, 214988984, 213827920, 212673126, 211524568, 210382214, 209246029, 208115979,
    206992033, 205874157, 204762318, 203656483, 202556621, 201462698, 200374683, 199292545,
    198216250, 197145768, 196081067, 195022116, 193968884, 192921341, 191879454, 190843195,
    189812531, 188787434, 187767873, 186753818, 185745240, 184742109, 183744395, 182752069,
    181765103, 180783466, 179807131, 178836069, 177870251, 176909649, 175954235, 175003981,
    174058859, 173118840, 172183899, 171254007, 170329136, 169409261, 168494353, 167584386,
    166679334, 165779170, 164883866, 163993399, 163107740, 162226864, 161350745, 160479358,
    159612677, 158750677, 157893331, 157040616, 156192507, 155348977, 154510003, 153675560,
    152845623, 152020169, 151199172, 150382609, 149570457, 148762690, 147959286, 147160220,
    146365470, 145575012, 144788823, 144006880, 143229160, 142455640, 141686297, 140921110,
    140160054, 139403109, 138650252, 137901461, 137156714, 136415988, 135679263, 134946517
};

// exp(x) for any signed ap_fixed x with at most 25 fraction bits.
template <class in_t>
exp_out_t exp_neg(in_t x) {
#pragma HLS inline
    typedef exp_config C;
    constexpr int W = in_t::width;
    constexpr int F = in_t::width - in_t::iwidth;
    static_assert(F >= 0 && F <= 25, "exp: u * log2(e) must fit 62 bits (at most 25 input fraction bits)");
    constexpr int UB = F + C::input_limit_log2;  // u < 2^UB
    constexpr int TS = F + C::log2e_frac - C::t_frac;
    static_assert(TS >= 1, "exp: the input needs >= 0 fraction bits");

    ap_int<W> xr = x.range(W - 1, 0);
    ap_int<W + 1> neg = -ap_int<W + 1>(xr);  // exact -x
    exp_out_t y = 0;
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
