// One tile of a multiply-accumulate array: LO sums of LI products, every loop unrolled. The linear
// engine (linear_mac_tile) and the attention unit (attention_tile) are both built from it; each keeps
// its own operand and sum types, and its own check that Sum holds LI products exactly.
#pragma once

template <class Sum, int LO>
struct mac_tile_t {
    Sum v[LO];
};

// t.v[o] = sum over i of a[i] * b[o][i]
template <class Sum, int LO, int LI, class A, class B>
mac_tile_t<Sum, LO> mac_tile(const A a[LI], const B b[LO][LI]) {
#pragma HLS inline
    mac_tile_t<Sum, LO> t;
mac_tile_outputs:
    for (int o = 0; o < LO; o++) {
#pragma HLS unroll
        Sum s = 0;
    mac_tile_inputs:
        for (int i = 0; i < LI; i++) {
#pragma HLS unroll
            s += a[i] * b[o][i];  // exact product; exact sum where Sum is wide enough (the callers' checks)
        }
        t.v[o] = s;
    }
    return t;
}
