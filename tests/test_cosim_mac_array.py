"""The unified MAC array (rtl/src/mac_array.sv, one DSP48E2 per cell) against python_ref under
cocotb + Verilator, through cosim.runner: the linear layers of the config (compute_linear, the exact
rule), full-range odd shapes with idle cycles, the attention hi/lo split with the shifted
accumulation (exact_matmul), the documented latency on every result.

tiny (4 x 4) in `make test` (the linear and attention benches drive the array on edge_moe
shapes too); a reduced edge_moe array (8 x 4) and the full one (32 x 32) behind @pytest.mark.slow."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit
from python_ref.config import load_config
from python_ref.kernels.linear import max_in

pytestmark = pytest.mark.cosim


def array_params(config: str, li: int | None = None, lo: int | None = None) -> dict:
    """The array as the linear engine builds it: the config's tile (or a reduced one) and two
    banks of ceil(MAX_IN / LI) in-blocks (DEPTH)."""
    cfg = load_config(config)
    li = li or cfg.hardware.linear_in
    lo = lo or cfg.hardware.linear_out
    return {"LI": li, "LO": lo, "DEPTH": 2 * -(-max_in(cfg) // li)}


def run_array(config: str, run_name: str, params: dict, testcase=None, **kw) -> dict:
    return run_unit("mac_array", config, run_name=run_name, testcase=testcase, parameters=params, **kw)


# tiny 4 x 12: more columns than one copy of a row's activation register drives (A_FAN = 8), the last
# copy's group partial (make test; the 32-wide edge_moe array has four full groups)
@pytest.mark.parametrize("config,li,lo", [("tiny", None, None), ("tiny", 4, 12),
                                          pytest.param("edge_moe", 8, 4, marks=pytest.mark.slow),
                                          pytest.param("edge_moe", None, None, marks=pytest.mark.slow)])
def test_mac_array_cosim(config, li, lo):
    p = array_params(config, li, lo)
    r = run_array(config, "default", p, rows=2)
    assert r["mismatches"] == 0 and r["tests_run"] == 4
    assert (r["li"], r["lo"]) == (p["LI"], p["LO"]) and r["latency_cycles"] == p["LI"] + 3
    layers = [x for x in r["runs"] if not x["gaps"]]
    assert {x["label"] for x in layers} >= {"qkv", "proj", "fc1", "fc2", "expert_fc1", "expert_fc2", "patch"}
    assert all(x["latency"] == [p["LI"] + 3] for x in r["runs"])


def test_mac_array_scoreboard_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_array("tiny", "corrupt", array_params("tiny"), testcase="test_linear_full_range_gaps", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1
