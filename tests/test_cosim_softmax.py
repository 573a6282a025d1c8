"""RTL online softmax (rtl/src/softmax_stats.sv + rtl/src/softmax_prob.sv) against python_ref under
cocotb + Verilator: every row's arrival order is an input of the scoreboard; adversarial, attention-
like, gate and (edge_moe, no stalls) real rows; every stall pattern; latency and throughput."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit

STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
CONFIGS = ["edge_moe", "tiny"]

pytestmark = pytest.mark.cosim


def run(top: str, config: str, stall: str, rows: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit(top, config, stall=stall, n_random=rows, run_name=run_name, testcase=testcase, **kw)


# (config, stall, attention-like rows, slow): the default set is one unstalled and one fully stalled
# run per unit; `make test-full` adds every stall pattern per config and the >= 100k-score sweeps.
# (one Verilator build per unit and config: the default set builds edge_moe only)
RUNS = [("edge_moe", "none", 40, False), ("edge_moe", "both", 12, False), ("edge_moe", "reactive", 4, False)]
RUNS += [(c, s, 12, True) for c in CONFIGS for s in STALLS if (c, s) not in {(r[0], r[1]) for r in RUNS}]
RUNS += [("edge_moe", "none", 800, True), ("tiny", "none", 6000, True)]  # >= 100k scores each
STATS_LATENCY = 72  # documented in the header of rtl/src/softmax_stats.sv
PROB_LATENCY = 15  # documented in the header of rtl/src/softmax_prob.sv
K = 56  # reciprocal steps - 1
NOT_REAL = ["test_adversarial", "test_random", "test_latency_throughput"]  # test_real: its own run


def _params(runs):
    return [pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in runs]


@pytest.mark.parametrize("config,stall,rows", _params(RUNS))
def test_softmax_stats_cosim(config, stall, rows):
    r = run("softmax_stats", config, stall, rows, f"{stall}_{rows}", testcase=NOT_REAL)
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
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0


@pytest.mark.parametrize("config,stall,rows", _params(RUNS))
def test_softmax_prob_cosim(config, stall, rows):
    r = run("softmax_prob", config, stall, rows, f"{stall}_{rows}")
    assert r["mismatches"] == 0 and r["out_values"] == r["beats"] >= rows * (129 if config == "edge_moe" else 17)
    assert r["latency_cycles"] == PROB_LATENCY and r["cycles_per_beat"] == 1.0
    if rows >= 800:
        assert r["beats"] >= 100_000
    if stall in ("backpressure", "both"):
        assert r["input_stall_cycles"] > 100 and r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0


def test_softmax_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("softmax_stats", "edge_moe", "none", 4, "corrupt", testcase="test_adversarial", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


@pytest.mark.published
def test_softmax_stats_real_rows():
    """The published layer-0/1 score rows (3 heads x 129 rows each) and the layer-1 gate logits of both
    tasks (129 rows each), random arrival orders, no stalls: bit-exact."""
    r = run("softmax_stats", "edge_moe", "none", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == 2 * 3 * 129 + 2 * 129
