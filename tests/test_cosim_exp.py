"""RTL exp (rtl/src/exp.sv) against python_ref under cocotb + Verilator, through cosim.runner.

Each run builds the config's Verilator model once (cached in build/cosim/<config>/exp) and runs the
three cocotb tests of cosim/test_exp.py: directed corners, random values under one stall pattern,
and exact latency / throughput without stalls.
"""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, check_wrapped_lint, run_unit

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


# exp_core's parameter guard at its edges: F (the input's fraction bits) in [1, EXP_MAX_FRAC_IN] and
# IW >= F + 6 elaborate and lint clean, one step outside each hits the guard. No shipped config
# reaches the edges (F = 22 on both), so a guard off by one would otherwise pass every test.
_CORE_WRAPPER = """module exp_core_edge (input logic clk, input logic ce, input logic signed [{iw1}:0] x,
                      output logic [24:0] y);
  exp_core #(.IW({iw}), .F({f})) u (.*);
endmodule
"""


@pytest.mark.parametrize("f,iw,ok", [(1, 7, True), (25, 31, True), (22, 28, True),
                                     (0, 6, False), (26, 32, False), (22, 27, False)])
def test_exp_core_parameter_edges(f, iw, ok, tmp_path):
    from python_ref.kernels.exp import MAX_FRAC_IN
    assert MAX_FRAC_IN == 25, "the cases above assume exp's 25 input fraction bits at most"
    check_wrapped_lint(tmp_path, "exp_core_edge", _CORE_WRAPPER.format(iw=iw, iw1=iw - 1, f=f), ["exp_core.sv"],
                       None if ok else "exp_core: needs 1..25 fraction bits")
