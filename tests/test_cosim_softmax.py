"""RTL online softmax (rtl/src/softmax_stats.sv + rtl/src/softmax_prob.sv) against python_ref under
cocotb + Verilator: every row's arrival order is an input of the scoreboard; adversarial, attention-
like, gate and (edge_moe, no stalls) real rows; every stall pattern; latency and throughput."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_cosim
from cosim.toolchain import RTL_DIR

SRC = RTL_DIR / "src"
STATS_SOURCES = [SRC / "exp_core.sv", SRC / "reciprocal.sv", SRC / "softmax_stats.sv"]
PROB_SOURCES = [SRC / n for n in ("axis_skid.sv", "axis_pipe_ctrl.sv", "exp_core.sv", "softmax_prob.sv")]
STALLS = ["none", "gaps", "backpressure", "both"]
CONFIGS = ["edge_moe", "tiny"]

pytestmark = pytest.mark.cosim


def run(top: str, config: str, stall: str, rows: int, run_name: str, testcase=None, **env) -> dict:
    sources = STATS_SOURCES if top == "softmax_stats" else PROB_SOURCES
    return run_cosim(top, config, top, sources, f"cosim.test_{top}", testcase=testcase, run_name=run_name,
                     extra_env={"COSIM_STALL": stall, "COSIM_RANDOM_VECTORS": rows, **env})


# (config, stall, attention-like rows, slow): the default set is one unstalled and one fully stalled
# run per unit; `make test-full` adds every stall pattern per config and the >= 100k-score sweeps.
# (one Verilator build per unit and config: the default set builds edge_moe only)
RUNS = [("edge_moe", "none", 40, False), ("edge_moe", "both", 12, False)]
RUNS += [(c, s, 12, True) for c in CONFIGS for s in STALLS if (c, s) not in (("edge_moe", "none"), ("edge_moe", "both"))]
RUNS += [("edge_moe", "none", 800, True), ("tiny", "none", 6000, True)]  # >= 100k scores each
STATS_LATENCY = 69  # documented in the header of rtl/src/softmax_stats.sv
PROB_LATENCY = 12  # documented in the header of rtl/src/softmax_prob.sv
K = 56  # reciprocal steps - 1


def _params(runs):
    return [pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in runs]


@pytest.mark.parametrize("config,stall,rows", _params(RUNS))
def test_softmax_stats_cosim(config, stall, rows):
    r = run("softmax_stats", config, stall, rows, f"{stall}_{rows}")
    assert r["mismatches"] == 0 and r["out_values"] > 0 and r["out_values"] % 3 == 0
    assert r["vectors"] >= rows * (129 if config == "edge_moe" else 17)
    assert r["latency_cycles"] == STATS_LATENCY
    if config == "edge_moe":
        assert r["cycles_per_beat"] == 1.0  # 129-score rows: one score per cycle, the reciprocal keeps up
    else:  # 17-score rows: limited by one K+3-cycle division per row
        assert 1.0 < r["cycles_per_beat"] <= (K + 3) / 17
    if stall == "none":  # short rows (gate, tiny) wait for the divider: input stalls, never output stalls
        assert r["output_stall_cycles"] == 0
    if rows >= 800:
        assert r["vectors"] >= 100_000
    if stall in ("backpressure", "both"):
        assert r["output_stall_cycles"] > 20


@pytest.mark.parametrize("config,stall,rows", _params(RUNS))
def test_softmax_prob_cosim(config, stall, rows):
    r = run("softmax_prob", config, stall, rows, f"{stall}_{rows}")
    assert r["mismatches"] == 0 and r["out_values"] == r["beats"] >= rows * (129 if config == "edge_moe" else 17)
    assert r["latency_cycles"] == PROB_LATENCY and r["cycles_per_beat"] == 1.0
    if rows >= 800:
        assert r["beats"] >= 100_000
    if stall in ("backpressure", "both"):
        assert r["input_stall_cycles"] > 100 and r["output_stall_cycles"] > 100


def test_softmax_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("softmax_stats", "edge_moe", "none", 4, "corrupt", testcase="test_adversarial", COSIM_CORRUPT_EXPECTED=1)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1
