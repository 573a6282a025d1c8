"""rtl/src/mlp_block.sv: a dense MLP block on its two buffers (cosim/test_mlp_block.py): x after
x + fc2(GELU(fc1(LN2(x)))) bit-exact against python_ref, two rounds, every call's cycles on
cosim.linear_schedule's model; a corrupt run. tiny (LayerNorm's 2 lanes: the engine at 2 x 2)."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit

pytestmark = pytest.mark.cosim


def test_mlp_block_tiny():
    r = run_unit("mlp_block", "tiny", run_name="rounds")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 2 * 17 * 32
    assert [c["call"] for c in r["calls"]] == ["round0_fc1", "round0_fc2", "round1_fc1", "round1_fc2"]
    # every call's cycles, from the cycle its x_ came, on the engine's model (cosim.linear_schedule)
    assert [c["cycles"] for c in r["calls"]] == [c["predicted_cycles"] for c in r["calls"]]



@pytest.mark.slow
def test_mlp_block_edge_moe():
    """edge_moe's shapes (the 32 x 32 engine, hidden 768, T = 129): x bit-exact, every call on its model."""
    r = run_unit("mlp_block", "edge_moe", run_name="edge")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 2 * 129 * 192
    assert [c["cycles"] for c in r["calls"]] == [c["predicted_cycles"] for c in r["calls"]]

def test_mlp_block_comparison_can_fail():
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("mlp_block", "tiny", run_name="corrupt", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1
