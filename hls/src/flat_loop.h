// The counters of a hand-flattened loop nest: one pipelined loop over every iteration (II=1, no
// cycles lost at inner-loop exits) keeps the nest's indices as digits of an odometer.
#pragma once

// Advance digit c, which counts 0 .. n-1; true when it wraps to 0, i.e. the next digit advances:
// `if (flat_next(inner, n_inner) && flat_next(middle, n_middle)) outer++;`
template <class C, class N>
bool flat_next(C& c, N n) {
#pragma HLS inline
    if (c == n - 1) {
        c = 0;
        return true;
    }
    c++;
    return false;
}
