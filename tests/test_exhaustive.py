"""Exhaustive RTL sweeps (cosim/exhaustive.py): exp, GELU and the reciprocal under a Verilator C++
driver at full rate, compared value by value with python_ref; and the proof that they catch rare
bugs (one-constant mutants of the RTL that the cocotb regressions miss).

`make test` runs every exp input in [-32.25, 0] (135M) and every GELU input in [-8, 8) (67M) for
both configs, the reciprocal families, and both mutants; `make test-full` adds the slow sweeps
(all 2^32 GELU inputs, the LayerNorm reciprocal's whole domain, a dense reciprocal subset).
Figures and coverage: docs/exhaustive.md.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cosim import exhaustive as ex
from python_ref.config import load_config

CONFIGS = ["edge_moe", "tiny"]
# make test sweeps tiny; edge_moe (the same exp/GELU arithmetic on its own tables) in make test-full
FAST_CONFIGS = [pytest.param("edge_moe", marks=pytest.mark.slow), "tiny"]

pytestmark = pytest.mark.cosim


def _report(r: ex.SweepResult) -> None:
    print("\n" + r.summary())


def _expected_count(segments) -> int:
    total = 0
    for s in segments:
        total += s.count if isinstance(s, ex.Range) else s.source.size
    return total


# ---- the sweeps


@pytest.mark.parametrize("config", FAST_CONFIGS)
def test_exp_every_input(config):
    u = ex.unit("exp", config)
    segs = ex.exp_domain(u)
    r = ex.run_sweep(u, segments=segs, timeout=1800)
    _report(r)
    assert r.mismatches == 0, r.summary()
    assert r.values == _expected_count(segs) > (1 << 27) + (1 << 20)


@pytest.mark.parametrize("config", FAST_CONFIGS)
def test_gelu_every_input_in_table_region(config):
    u = ex.unit("gelu", config)
    segs = ex.gelu_domain(u)
    r = ex.run_sweep(u, segments=segs, timeout=1800)
    _report(r)
    assert r.mismatches == 0, r.summary()
    assert r.values == _expected_count(segs) > 1 << 26


@pytest.mark.parametrize("name", ["reciprocal", "reciprocal_ln"])
def test_reciprocal_families(name):
    """The reciprocal does not read model_pkg (its instances are fixed by the softmax and the
    LayerNorm): one config covers it."""
    u = ex.unit(name, "edge_moe")
    segs = ex.reciprocal_families(u)
    r = ex.run_sweep(u, segments=segs, jobs=2, timeout=1800)
    _report(r)
    assert r.mismatches == 0, r.summary()
    assert r.values == _expected_count(segs) > 800_000


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS)
def test_gelu_every_activation(config):
    """All 2^32 activations (minutes: python_ref's gelu_raw is the slower side)."""
    u = ex.unit("gelu", config)
    r = ex.run_sweep(u, segments=ex.gelu_domain(u, full=True), jobs=2, timeout=4 * 3600)
    _report(r)
    assert r.mismatches == 0 and r.values == 1 << 32, r.summary()


@pytest.mark.slow
def test_reciprocal_ln_every_sigma():
    """The LayerNorm instance over its whole domain, sigma in [2^29, 2^30) (537M divisions)."""
    u = ex.unit("reciprocal_ln", "edge_moe")
    r = ex.run_sweep(u, segments=[ex.reciprocal_domain_range(u)], jobs=2, timeout=4 * 3600)
    _report(r)
    assert r.mismatches == 0 and r.values == 1 << 29, r.summary()


@pytest.mark.slow
def test_reciprocal_dense():
    """The softmax instance: bigger families, s in [1, 1 + 1/16) and [255, 256) entirely, and 2^24
    random s."""
    u = ex.unit("reciprocal", "edge_moe")
    segs = ex.reciprocal_families(u, radius=1 << 14, n_random=1 << 24, n_ties=1 << 20)
    segs += [ex.Range(1 << 24, 1 << 20, 1, "s in [1, 1 + 1/16)"), ex.Range(255 << 24, 1 << 24, 1, "s in [255, 256)")]
    r = ex.run_sweep(u, segments=segs, jobs=2, timeout=4 * 3600)
    _report(r)
    assert r.mismatches == 0, r.summary()


# ---- the sweeps catch rare bugs


def test_exp_rounding_mutant_is_caught(tmp_path):
    """The issue's bug: q1's rounding constant 2^23 -> 2^22 in rtl/src/exp_core.sv. It alters 267
    of the 2^27 + 1 outputs on [-32, 0] and passes tests/test_cosim_exp.py; the sweep finds it."""
    u = ex.unit("exp", "edge_moe")
    r = ex.run_sweep(u, segments=ex.exp_domain(u, corners=False), replace=ex.exp_mutant(tmp_path),
                     tag="mutant-q1-rounding", timeout=1800)
    _report(r)
    assert 0 < r.mismatches < 1000, r.summary()  # a rare bug: under 1 in 100,000 inputs
    assert all(-(32 << 22) <= m.x <= 0 for m in r.first)
    assert all(abs(m.got - m.expected) == 1 for m in r.first)  # one output LSB


def test_gelu_table_mutant_is_caught(tmp_path):
    """One LSB more in a GELU table entry inside a run of equal entries changes exactly two of the
    2^32 inputs, x = +-k/2^S; the [-8, 8) sweep finds both."""
    cfg = load_config("edge_moe")
    k = ex.gelu_flat_node(cfg)
    u = ex.unit("gelu", cfg)
    r = ex.run_sweep(u, segments=ex.gelu_domain(u, corners=False),
                     replace=ex.gelu_table_mutant(cfg, k, +1, tmp_path), tag=f"mutant-table{k}", timeout=1800)
    _report(r)
    node = k << (cfg.fmt("act").frac - cfg.hardware.gelu.table_step_log2)
    assert r.mismatches == 2, r.summary()
    assert sorted(m.x for m in r.first) == [-node, node]
    assert all(m.expected - m.got == 1 << (cfg.fmt("act").frac - cfg.hardware.gelu.table_format.frac)
               for m in r.first)  # the delta subtracted one table LSB more


# ---- the harness itself


def test_comparison_is_real():
    """A reference with one wrong value yields exactly that mismatch (input, expected, got)."""
    u = ex.unit("exp", "edge_moe")
    bad_x = -12345

    def wrong(x):
        y = ex.exp_neg_raw(x, 22)
        return np.where(x == bad_x, y + 1, y)

    u2 = dataclasses.replace(u, reference=wrong)
    r = ex.run_sweep(u2, segments=[ex.Range(-20000, 20001)], timeout=300)
    assert r.mismatches == 1 and r.values == 20001
    m = r.first[0]
    assert m.x == bad_x and m.expected == m.got + 1 == int(ex.exp_neg_raw(np.array([bad_x]), 22)[0]) + 1


def test_piped_values_and_partial_beats():
    """Explicit values through the pipe, in an order and a count (not a multiple of the lanes)
    the counter never produces, give python_ref's results; a Range with a step too."""
    u = ex.unit("gelu", "tiny")
    rng = np.random.default_rng(1)
    vals = rng.integers(-(1 << 31), 1 << 31, size=12_345, dtype=np.int64)
    segs = [ex.Values("random", vals), ex.Range(-(1 << 31), 1 << 16, 1 << 16, "every 2^16th"),
            ex.Values("three", np.array([0, -1, 1]))]
    r = ex.run_sweep(u, segments=segs, chunk=1000, timeout=300)
    assert r.mismatches == 0 and r.values == 12_345 + (1 << 16) + 3


def test_inputs_outside_the_unit_are_rejected():
    u = ex.unit("reciprocal", "edge_moe")
    with pytest.raises(ex.ExhaustiveError, match="outside the unit's raw input range"):
        ex.run_sweep(u, segments=[ex.Values("negative", np.array([5, -1]))], timeout=300)
    with pytest.raises(ex.ExhaustiveError, match="outside the unit's raw input range"):
        ex.run_sweep(u, segments=[ex.Range((1 << 32) - 2, 3)], timeout=300)


def test_unknown_unit_and_replacement_are_named():
    with pytest.raises(ex.ExhaustiveError, match="no sweepable unit named 'softmax'"):
        ex.unit("softmax", "tiny")
    with pytest.raises(ex.ExhaustiveError, match="cannot replace"):
        ex.sweep_sources(ex.unit("exp", "tiny"), {"nothing.sv": ex.RTL_SRC / "exp.sv"})
