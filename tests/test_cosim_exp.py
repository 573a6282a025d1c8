"""RTL exp (rtl/src/exp.sv) against python_ref under cocotb + Verilator, through cosim.runner.

Each run builds the config's Verilator model once (cached in build/cosim/<config>/exp) and runs the
three cocotb tests of cosim/test_exp.py: directed corners, random values under one stall pattern,
and exact latency / throughput without stalls.
"""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit

STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
LATENCY_CYCLES = 13  # documented in the header of rtl/src/exp.sv (exp_core 12 + the output slice)
BIG, SMALL = 100_000, 5_000

pytestmark = pytest.mark.cosim


def run_exp(config: str, stall: str, n_random: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("exp", config, stall=stall, n_random=n_random, run_name=run_name, testcase=testcase, **kw)


# default: unstalled and fully stalled 5k (every input of exp's domain goes through the RTL in
# tests/test_exhaustive.py); `make test-full`: every pattern and the 100k sweep
RUNS = [("none", SMALL, False), ("both", SMALL, False), ("reactive", 2_000, False), ("gaps", SMALL, True),
        ("backpressure", SMALL, True), ("none", BIG, True)]


@pytest.mark.parametrize("stall,n", [pytest.param(s, n, marks=[pytest.mark.slow] if slow else [], id=f"{s}-{n}")
                                     for s, n, slow in RUNS])
def test_exp_cosim(stall, n):
    """exp depends on the activation format only (the same in every shipped config): edge_moe."""
    r = run_exp("edge_moe", stall, n, run_name=f"{stall}_{n}")
    assert r["kernel"] == "exp" and r["stall"] == stall and r["mismatches"] == 0
    assert r["vectors"] >= n + n // 2 + 2048 + 200
    assert r["beats"] == r["vectors"]
    assert r["latency_cycles"] == LATENCY_CYCLES and r["cycles_per_beat"] == 1.0
    if stall in ("backpressure", "both"):
        assert r["input_stall_cycles"] > 100 and r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0
    if stall == "none":
        assert r["input_stall_cycles"] == 0 and r["output_stall_cycles"] == 0


def test_exp_scoreboard_can_fail():
    """One flipped expected bit must fail the run (the comparison is real)."""
    with pytest.raises(CosimError) as err:
        run_exp("edge_moe", "none", 200, run_name="corrupt", testcase="test_directed", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1
