"""rtl/src/residual_layernorm.sv: LayerNorm's rows from the residual buffer into the linear engine
(cosim/test_residual_layernorm.py): qkv, fc1 with GELU, the gate and a gathered call bit-exact against
compute_linear(layernorm_raw(x, gamma, beta)), LayerNorm's input from the buffer and its output into the
engine a beat a cycle inside every call; a corrupt run. tiny (LayerNorm's 2 lanes, the engine at LI 2)."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit

pytestmark = pytest.mark.cosim


def test_residual_layernorm_tiny():
    r = run_unit("residual_layernorm", "tiny", run_name="calls")
    assert r["mismatches"] == 0
    calls = r["calls"]
    assert [c["call"].split("_", 2)[2] for c in calls] == ["qkv", "fc1", "gate", "gathered"]
    assert all(c["ln_in_gap_cycles"] == 0 and c["xn_gap_cycles"] == 0 for c in calls), calls
    assert r["out_values"] == 17 * (3 * 32 + 128 + 4) + 8 * 9


def test_residual_layernorm_comparison_can_fail():
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("residual_layernorm", "tiny", run_name="corrupt", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1
