"""Reciprocal unit (python_ref/kernels/reciprocal.py): exact rounding over its domain, saturation,
and bit-exactness of the C simulation of hls/src/reciprocal.h."""
from fractions import Fraction

import numpy as np
import pytest

from cosim.csim import VectorSet, build_tb, run_tb
from cosim.vectors import recip_directed
from python_ref.fixed import FixedPointError
from python_ref.kernels.reciprocal import (SOFTMAX_RECIP_FORMAT, SOFTMAX_SUM_FORMAT, reciprocal_raw,
                                           softmax_reciprocal_raw)

FI, FO, WI, WO = SOFTMAX_SUM_FORMAT.frac, SOFTMAX_RECIP_FORMAT.frac, SOFTMAX_SUM_FORMAT.width, SOFTMAX_RECIP_FORMAT.width


def _exactly_rounded(x, r, k):
    """|r - 2^k / x| <= 1/2 in integers: |2 r x - 2^(k+1)| <= x, and ties (== x) rounded up."""
    x = x.astype(object)
    r = r.astype(object)
    d = 2 * r * x - (1 << (k + 1))
    return np.all((d <= x) & (d > -x))


def test_softmax_instance_exactly_rounded_over_its_domain():
    """s in [1, 255]: 1M random raws plus every integer and +-1 LSB; error <= half an LSB (2^-32)."""
    rng = np.random.default_rng(41)
    x = np.concatenate([rng.integers(1 << FI, 1 << WI, 1_000_000), recip_directed(FI, WI)])
    x = x[x >= (1 << FI)]
    r = softmax_reciprocal_raw(x)
    assert _exactly_rounded(x, r, FI + FO)
    err = np.abs(r / 2.0 ** FO - 2.0 ** FI / x)
    assert err.max() <= 2.0 ** -(FO + 1)
    assert r.max() == 1 << FO and r.min() >= 1 << (FO - 8)  # [1/256, 1] after rounding


def test_against_an_independent_rational_reference():
    rng = np.random.default_rng(42)
    x = rng.integers(1, 1 << WI, 3000)
    want = [int(Fraction(1 << (FI + FO), int(v)) + Fraction(1, 2)) for v in x]  # floor(q + 1/2)
    want = np.minimum(np.array(want, dtype=object), (1 << WO) - 1).astype(np.int64)
    assert np.array_equal(softmax_reciprocal_raw(x), want)


def test_saturation_and_zero():
    top = (1 << WO) - 1
    half = 1 << (FI - 1)
    r = softmax_reciprocal_raw(np.array([0, 1, half - 1, half, half + 1, 1 << FI]))
    assert list(r[:4]) == [top, top, top, top]  # 1/x >= 2 does not fit ap_ufixed<32,1>
    assert r[4] == round(2.0 ** (FI + FO) / (half + 1)) and r[5] == 1 << FO


def test_layernorm_instance_exactly_rounded():
    """sigma in [2^29, 2^30) -> round(2^59 / sigma) in (2^29, 2^30], 31 bits."""
    rng = np.random.default_rng(43)
    x = np.concatenate([rng.integers(1 << 29, 1 << 30, 300_000), [1 << 29, (1 << 29) + 1, (1 << 30) - 1]])
    r = reciprocal_raw(x, 0, 31, 59)
    assert _exactly_rounded(x, r, 59) and r.max() == 1 << 30 and r.min() > 1 << 29


def test_rejects_bad_input():
    with pytest.raises(FixedPointError, match="unsigned"):
        softmax_reciprocal_raw(np.array([-1]))
    with pytest.raises(FixedPointError, match="must be in"):
        reciprocal_raw(np.array([1]), 40, 32, 31)
    with pytest.raises(FixedPointError, match="integers"):
        softmax_reciprocal_raw(np.array([1.5]))


def test_argument_edges():
    """The smallest and largest legal K = frac_in + frac_out + 1 and width_out work, one step outside
    raises; Python integers in an object array are integers too."""
    assert list(reciprocal_raw(np.array([1, 2, 3]), 0, 4, 0)) == [1, 1, 0]       # K = 1: round(1/x), tie up
    assert list(reciprocal_raw(np.array([1, 2]), 0, 1, 0)) == [1, 1]             # width_out = 1
    assert int(reciprocal_raw(np.array([1]), 30, 62, 31)[0]) == 1 << 61          # K = 62 = MAX_K, width_out = 62
    for frac_in, width_out, frac_out in [(-1, 4, 0), (31, 62, 31), (0, 0, 0), (0, 63, 0)]:
        with pytest.raises(FixedPointError, match="must be in"):
            reciprocal_raw(np.array([1]), frac_in, width_out, frac_out)
    assert list(reciprocal_raw(np.array([3, 5], dtype=object), 0, 8, 4)) == [5, 3]
    with pytest.raises(FixedPointError, match="integers"):
        reciprocal_raw(np.array([3, 0.5], dtype=object), 0, 8, 4)


@pytest.mark.csim
def test_csim_bit_exact(tmp_path):
    """reciprocal_top (C++ restoring division) equals python_ref on corners (every integer s and
    +-1 LSB, 0, below 1/2) and 200k random inputs over the domain plus 20k below it.
    The unit depends on no configuration field."""
    exe = build_tb("reciprocal", "edge_moe")
    rng = np.random.default_rng(44)
    x = np.concatenate([recip_directed(FI, WI), rng.integers(1 << FI, 1 << WI, 200_000),
                        rng.integers(0, 1 << FI, 20_000)]).astype(np.int64)
    want = softmax_reciprocal_raw(x)
    got = run_tb(exe, VectorSet("reciprocal", {"values": x.size}, {"in.txt": x}, want), tmp_path).out
    bad = np.flatnonzero(got != want)
    assert got.shape == want.shape and bad.size == 0, f"{bad.size} differ; x={x[bad[:5]]} got={got[bad[:5]]}"
    assert x.size >= 220_000
