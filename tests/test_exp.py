"""exp unit (python_ref/kernels/exp.py): accuracy against float64, properties, and bit-exactness of the
C simulation of hls/src/exp.h."""
import math

import numpy as np
import pytest

from cosim.csim import VectorSet, build_tb, run_tb
from cosim.vectors import exp_directed, exp_random
from python_ref.config import load_config
from python_ref.fixed import FixedPointError
from python_ref.kernels.exp import OUT_FORMAT, exp_neg_raw, exp_table

TARGET = 2.0 ** -18  # issue 3 design target
DOC_BOUND = 2.0 ** -23  # docs/nonlinear.md error budget
F = load_config("edge_moe").fmt("act").frac  # 22: the softmax feeds act differences (same fraction bits)


def _err(x_raw):
    y = OUT_FORMAT.to_float(exp_neg_raw(x_raw, F))
    return np.abs(y - np.exp(np.ldexp(x_raw.astype(np.float64), -F)))


def test_table():
    """T[j] = round(2^(-j/128) * 2^28), decreasing, exact to half an LSB (the C++ and the RTL read the
    generated copy of this table: tests/test_config.py checks that they agree)."""
    t = exp_table()
    assert t[0] == 1 << 28 and np.all(np.diff(t) < 0)
    assert np.all(np.abs(t / 2.0 ** 28 - np.exp2(-np.arange(128) / 128)) <= 2.0 ** -29)


def test_error_dense_sweep_meets_target():
    """Every 61st raw value of x in [-32, 0] plus every value in [-1, 0] (4M+ points)."""
    x = np.concatenate([-np.arange(0, (32 << F) + 1, 61, dtype=np.int64), -np.arange(0, 1 << F, dtype=np.int64)])
    err = _err(x)
    assert x.size > 4_000_000
    assert err.max() <= DOC_BOUND < TARGET, f"max error 2^{math.log2(err.max()):.2f} at x={x[err.argmax()]}"


@pytest.mark.slow
def test_error_exhaustive_over_the_activation_range():
    """Every activation-format x <= 0: [-32, 0] computed, below -32 the unit returns 0 (error < e^-32)."""
    worst = 0.0
    step = 1 << 22
    for start in range(0, (32 << F) + 1, step):
        x = -np.arange(start, min(start + step, (32 << F) + 1), dtype=np.int64)
        y = exp_neg_raw(x, F)
        worst = max(worst, float(_err(x).max()))
        if start:
            assert np.all(np.diff(y) <= 0), "exp is not monotone"
    assert worst <= DOC_BOUND
    assert np.all(exp_neg_raw(-np.arange(32 << F, 512 << F, 4093, dtype=np.int64), F) == 0)


def test_properties():
    one = 1 << OUT_FORMAT.frac
    assert exp_neg_raw(np.array([0]), F)[0] == one  # exp(0) = 1 exactly
    assert np.all(exp_neg_raw(np.array([1, 5, (1 << 31) - 1]), F) == one)  # x > 0 saturates to 1
    # underflow: 2^-t < 2^-26 gives 0, and the last nonzero value lies between -18.1 and -17
    x = -np.arange(17 << F, 19 << F, 997, dtype=np.int64)
    y = exp_neg_raw(x, F)
    last = x[np.flatnonzero(y)[-1]] / 2.0 ** F
    assert -18.1 < last < -17.0 and np.all(y[x < -(19 << F) + 1000] == 0)
    assert np.all(exp_neg_raw(np.array([-(32 << F), -(400 << F), -(1 << 32)]), F) == 0)
    # monotone non-increasing on [-1, 0] (exhaustively) and on a sorted stride sample of [-20, 0]
    for x in (-np.arange(0, 1 << F, dtype=np.int64), -np.arange(0, 20 << F, 1009, dtype=np.int64)):
        assert np.all(np.diff(exp_neg_raw(x, F)) <= 0)
    # other input fraction bits: the same function of the value
    x16 = -np.arange(0, 20 << 16, 7, dtype=np.int64)
    assert np.array_equal(exp_neg_raw(x16, 16), exp_neg_raw(x16 << (F - 16), F))


def test_rejects_bad_input():
    with pytest.raises(FixedPointError, match="fraction bits"):
        exp_neg_raw(np.array([0]), 26)
    with pytest.raises(FixedPointError, match="integers"):
        exp_neg_raw(np.array([0.5]), F)


@pytest.mark.csim
def test_csim_bit_exact(tmp_path):
    """exp_top (C++) equals python_ref on corners, 200k random x <= 0, positives and full-range raws.
    exp depends only on the activation format, identical in every shipped config."""
    exe = build_tb("exp", "edge_moe")
    rng = np.random.default_rng(31)
    w = 33  # exp_in_t = ap_fixed<33,11>
    sets = {
        "directed": exp_directed(F),
        "random (-40, 0]": exp_random(F, 200_000, 32),
        "random [-1, 0]": exp_random(F, 20_000, 33, limit=1.0),
        "positive (saturate)": rng.integers(1, 1 << 30, 2_000),
        "full raw range": rng.integers(-(1 << (w - 1)), 1 << (w - 1), 20_000),
    }
    x = np.concatenate(list(sets.values())).astype(np.int64)
    want = exp_neg_raw(x, F)
    got = run_tb(exe, VectorSet("exp", {"values": x.size}, {"in.txt": x}, want), tmp_path).out
    assert got.shape == want.shape == x.shape
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} of {x.size} differ; x={x[bad[:5]]} got={got[bad[:5]]} want={want[bad[:5]]}"
    assert x.size >= 240_000
