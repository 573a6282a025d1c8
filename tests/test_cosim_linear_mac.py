"""RTL MAC array of the unified compute unit (rtl/src/linear_mac.sv) against python_ref under
cocotb + Verilator, through cosim.runner: every layer shape of the config, full-range odd shapes
with idle cycles, exact cycle counts (one tile per cycle + the documented latency)."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit
from python_ref.config import load_config

LATENCY = 3  # in_valid -> out_valid, documented in rtl/src/linear_mac.sv

pytestmark = pytest.mark.cosim


def run_mac(config: str, run_name: str, testcase=None, **kw) -> dict:
    """The RTL derives its weight format (WW, WF) from model_pkg; the testbench checks it against
    python_ref.kernels.linear.weight_port_format (the HLS linear_w_t) through the dut's parameters."""
    return run_unit("linear_mac", config, run_name=run_name, testcase=testcase, **kw)


@pytest.mark.parametrize("config", ["tiny", pytest.param("edge_moe", marks=pytest.mark.slow)])
def test_linear_mac_cosim(config):
    """tiny in `make test`; edge_moe (16x16 array, ~90 s Verilator build) in `make test-full`."""
    r = run_mac(config, "default")
    cfg = load_config(config)
    assert r["mismatches"] == 0 and r["tests_run"] == 2
    assert r["layers"] == 7 + 4
    for c in r["cycles"]:
        if not c["gaps"]:
            assert c["cycles"] == c["tiles"] - 1 + LATENCY
    qkv = next(c for c in r["cycles"] if c["layer"] == "qkv")
    lo, li = cfg.hardware.linear_out, cfg.hardware.linear_in
    assert qkv["tiles"] == 2 * (3 * cfg.model.dim // lo) * (cfg.model.dim // li)


def test_linear_mac_scoreboard_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_mac("tiny", "corrupt", testcase="test_layer_shapes", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1
