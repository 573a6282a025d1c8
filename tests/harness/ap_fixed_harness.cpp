// Test harness: the real ap_fixed headers (C simulation) on raw integers, driven from pytest through
// ctypes by tests/test_fixed_equivalence.py, which proves python_ref/fixed.py bit-exact against it.
//
// ap_fixed types are compile-time templates, so the test writes the extern "C" functions it needs
// (one per type combination, instantiating the templates below) into "apfx_cases.h", included at
// the end of this file, and compiles this file once per such list. Raw values cross the ctypes
// boundary as int64: the .V bits of a type, sign-extended for ap_fixed and zero-extended for
// ap_ufixed, so every type used here is <= 64 bits (<= 63 for ap_ufixed).
//
// ap_private's default constructor normalises its (deliberately uninitialised) value, which g++
// reports through every inlined ap_fixed temporary; the values read are always overwritten.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <ap_fixed.h>

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace apfx {

constexpr ap_q_mode kQuant[7] = {AP_TRN,         AP_TRN_ZERO, AP_RND,     AP_RND_ZERO,
                                 AP_RND_MIN_INF, AP_RND_INF,  AP_RND_CONV};
constexpr ap_o_mode kOverflow[4] = {AP_WRAP, AP_SAT, AP_SAT_ZERO, AP_SAT_SYM};
// Output order is quant-major: mode k is (kQuant[k / 4], kOverflow[k % 4]).
constexpr int kModes = 7 * 4;

// Type of ap_fixed<W,I,Q,O> (S) or ap_ufixed<W,I,Q,O> (!S).
template <int W, int I, bool S, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
using fx_t = typename std::conditional<S, ap_fixed<W, I, Q, O>, ap_ufixed<W, I, Q, O>>::type;

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline int64_t to_raw(const ap_fixed_base<W, I, S, Q, O, N>& x) {
  static_assert(W <= 64 && (S || W <= 63), "raw value must fit int64");
  uint64_t u = x.V.to_uint64();
  if (W < 64) {
    const uint64_t mask = (uint64_t(1) << (W % 64)) - 1;
    u &= mask;
    if (S && ((u >> (W - 1)) & 1)) u |= ~mask;
  }
  return static_cast<int64_t>(u);
}

template <class T>
inline T from_raw(int64_t v) {
  T x;
  x.V = static_cast<ap_slong>(v);  // ap_private keeps the low W bits
  return x;
}

// Static facts about a type: {width, int bits, signed}.
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline void type_info(const ap_fixed_base<W, I, S, Q, O, N>&, int32_t* info) {
  info[0] = W;
  info[1] = I;
  info[2] = S;
}

// The five operations whose exact (full-precision) result type comes from ap_fixed's RType, and
// Cast, which passes an operand through unchanged.
struct Neg {
  template <class X, class Y> auto operator()(const X& x, const Y&) const { return -x; }
};
struct Add {
  template <class X, class Y> auto operator()(const X& x, const Y& y) const { return x + y; }
};
struct Sub {
  template <class X, class Y> auto operator()(const X& x, const Y& y) const { return x - y; }
};
struct Mul {
  template <class X, class Y> auto operator()(const X& x, const Y& y) const { return x * y; }
};
struct Div {
  template <class X, class Y> auto operator()(const X& x, const Y& y) const { return x / y; }
};
struct Cast {  // the operand itself: "R r = a;"
  template <class X, class Y> X operator()(const X& x, const Y&) const { return x; }
};

// Assign every value to R<RW,RI,RS> in mode k ("R r = x;", i.e. ap_fixed_base::operator=).
// noinline: inlining all 28 modes into one function makes g++ -O builds ~5x slower.
template <int RW, int RI, bool RS, int K, class Src>
__attribute__((noinline)) void assign_mode(const std::vector<Src>& x, int64_t* out) {
  using R = fx_t<RW, RI, RS, kQuant[K / 4], kOverflow[K % 4]>;
  for (size_t i = 0; i < x.size(); ++i) {
    R r = x[i];
    out[i] = to_raw(r);
  }
}

template <int RW, int RI, bool RS, class Src, int... K>
void assign_all(const std::vector<Src>& x, int64_t* out, std::integer_sequence<int, K...>) {
  (assign_mode<RW, RI, RS, K>(x, out + static_cast<long>(K) * static_cast<long>(x.size())), ...);
}

template <int W, int I, bool S>
struct Target {
  template <class Src>
  static void assign(const std::vector<Src>& x, int64_t* out) {
    assign_all<W, I, S>(x, out, std::make_integer_sequence<int, kModes>{});
  }
};

// full[i] = raw of op(a[i], b[i]) in its RType; out = [target][mode][i] raws after assignment.
template <class A, class B, class Op, class... Targets>
void run_op(const int64_t* a, const int64_t* b, long n, int64_t* full, int64_t* out) {
  using Full = decltype(Op{}(A(), B()));
  std::vector<Full> v(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) {
    v[i] = Op{}(from_raw<A>(a[i]), from_raw<B>(b[i]));
    full[i] = to_raw(v[i]);
  }
  long t = 0;
  ((Targets::assign(v, out + (t++) * kModes * n)), ...);
}

template <class A, class B, class Op>
void op_info(int32_t* info) {
  type_info(decltype(Op{}(A(), B())){}, info);  // unevaluated: never divides by a zero B()
}

// R r = d; (ap_fixed_base(double)) for every d, into [target][mode][i].
template <class... Targets>
void run_from_double(const double* d, long n, int64_t* out) {
  long t = 0;
  ((Targets::assign(std::vector<double>(d, d + n), out + (t++) * kModes * n)), ...);
}

}  // namespace apfx

// The generated apfx_cases.h holds the exported extern "C" functions, one per case, e.g.
//   extern "C" void c3(const int64_t* a, const int64_t* b, long n, int64_t* full, int64_t* out) {
//     apfx::run_op<apfx::fx_t<16, 5, true>, apfx::fx_t<16, 2, true>, apfx::Mul,
//                  apfx::Target<8, 3, true>, apfx::Target<8, 3, false>>(a, b, n, full, out);
//   }
//   extern "C" void c3_info(int32_t* info) { apfx::op_info<...same A, B, Op...>(info); }
//   extern "C" void c9(const double* d, long n, int64_t* out) {
//     apfx::run_from_double<apfx::Target<8, 3, true>>(d, n, out);
//   }
#include "apfx_cases.h"
