"""RTL LayerNorm (rtl/src/layernorm.sv) against python_ref under cocotb + Verilator: adversarial rows
(zero / tiny variance, identical values), random rows of every scale, (edge_moe, no stalls) the real
layer-0/1 LayerNorm inputs; every stall pattern; latency and cycles per row."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit
from python_ref.config import load_config

STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
CONFIGS = ["edge_moe", "tiny"]
ROW_OVERHEAD = 154  # cycles per row beyond 2 D: documented in the header of rtl/src/layernorm.sv

pytestmark = pytest.mark.cosim

# (one Verilator build per config: the default set builds edge_moe only)
RUNS = [("edge_moe", "none", 20, False), ("edge_moe", "both", 6, False), ("edge_moe", "reactive", 3, False)]
RUNS += [(c, s, 10, True) for c in CONFIGS for s in STALLS if (c, s) not in {(r[0], r[1]) for r in RUNS}]
RUNS += [("edge_moe", "none", 530, True), ("tiny", "none", 3200, True)]  # >= 100k values each


def run(config: str, stall: str, rows: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("layernorm", config, stall=stall, n_random=rows, run_name=run_name, testcase=testcase, **kw)


NOT_REAL = ["test_adversarial", "test_random", "test_latency_throughput"]  # test_real: its own run


@pytest.mark.parametrize("config,stall,rows", [
    pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in RUNS])
def test_layernorm_cosim(config, stall, rows):
    d = load_config(config).model.dim
    r = run(config, stall, rows, f"{stall}_{rows}", testcase=NOT_REAL)
    assert r["mismatches"] == 0 and r["out_values"] == r["beats"] >= rows * d
    assert r["cycles_per_row"] == [2 * d + ROW_OVERHEAD]
    if rows >= 500:
        assert r["out_values"] >= 100_000
    if stall in ("backpressure", "both"):
        assert r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0


def test_layernorm_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("edge_moe", "none", 2, "corrupt", testcase="test_adversarial", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


@pytest.mark.published
def test_layernorm_real_rows():
    """The LayerNorm inputs of layers 0 and 1 on the published weights (4 x 129 rows): bit-exact."""
    r = run("edge_moe", "none", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == 4 * 129
