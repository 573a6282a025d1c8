"""RTL attention unit (rtl/src/attention.sv) against python_ref.kernels.attention.attention_raw under
cocotb + Verilator: the adversarial and random vector sets of cosim/attention_vectors.py, other token
counts, reset mid-layer, every stall pattern; on every unstalled run each layer's cycles equal the
cycle model (cosim/attention_schedule.py); a corrupted expectation must fail.

tiny in `make test` (unstalled with the exact-cycle check, and random source gaps + sink
backpressure); the other stall patterns, >= 10^5 output values of tiny, and the whole edge_moe
layer (32 x 32 array) behind @pytest.mark.slow."""
from __future__ import annotations

import pytest

from cosim.attention_schedule import Geometry, predict
from cosim.runner import CosimError, run_unit
from python_ref.config import load_config

pytestmark = pytest.mark.cosim

NOT_REAL = ["test_adversarial", "test_random", "test_tokens", "test_reset_mid_layer"]

# (config, stall, random layers, slow)
RUNS = [("tiny", "none", 2, False), ("tiny", "both", 2, False),
        ("tiny", "gaps", 2, True), ("tiny", "backpressure", 2, True),
        ("tiny", "none", 200, True),                       # >= 10^5 output values (544 per layer)
        ("edge_moe", "none", 2, True), ("edge_moe", "both", 2, True)]


def run(config, stall, n, run_name, testcase=NOT_REAL, **kw):
    return run_unit("attention", config, stall=stall, n_random=n, run_name=run_name, testcase=testcase, **kw)


@pytest.mark.parametrize("config,stall,n", [
    pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in RUNS])
def test_attention_cosim(config, stall, n):
    cfg = load_config(config)
    r = run(config, stall, n, f"{stall}_{n}", testcase=NOT_REAL if n < 100 else "test_random")
    assert r["mismatches"] == 0 and r["tests_run"] == (4 if n < 100 else 1)
    layers = r["layers"]
    assert r["out_values"] == sum(x["T"] for x in layers) * cfg.model.dim
    if n < 100:
        ts = {x["T"] for x in layers}
        assert {1, cfg.model.tokens} <= ts and len(ts) >= 4, ts
    if stall == "none":
        # the cycle model equals the measurement on every unstalled layer (every T run)
        geom = Geometry.from_config(cfg)
        assert [(x["T"], x["cycles"]) for x in layers] == [(x["T"], predict(geom, x["T"]).cycles) for x in layers]
    else:
        stalls = r.get("input_stall_cycles", 0) + r.get("output_stall_cycles", 0)
        assert stalls > 0
    if n >= 100:
        assert r["out_values"] >= 100_000


def test_attention_scoreboard_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run("tiny", "none", 1, "corrupt", testcase="test_random", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


@pytest.mark.slow
@pytest.mark.published
def test_attention_real_layers():
    """The published layer-0 and layer-1 qkv (129 tokens): bit-exact, cycle-exact."""
    r = run("edge_moe", "none", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == 2 * 129
    g = Geometry.from_config(load_config("edge_moe"))
    assert all(x["cycles"] == predict(g, x["T"]).cycles for x in r["layers"])
