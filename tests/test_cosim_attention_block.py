"""rtl/src/attention_block.sv: an attention block on its two buffers and one MAC array
(cosim/test_attention_block.py): x after x + proj(attention(qkv(LN1(x)))) bit-exact against python_ref, a
realistic and a full-range round, qkv waiting in the narrow hidden buffer (K and V rounded to odd); the
projection's cycles on cosim.linear_schedule's model and attention's on cosim.attention_schedule's; a
corrupt run, K and V stored rounded half up (fails), a broken copy. tiny (the array at 4 x 4, LayerNorm's 2 lanes through a split and a join)."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit

pytestmark = pytest.mark.cosim


def test_attention_block_tiny():
    r = run_unit("attention_block", "tiny", run_name="rounds")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 2 * 17 * 32
    assert [c["call"] for c in r["calls"]] == ["round0_qkv", "round0_proj", "round1_qkv", "round1_proj"]
    exact = [c for c in r["calls"] if c["exact_model"]]
    assert [c["call"] for c in exact] == ["round0_proj", "round1_proj"]
    assert [c["cycles"] for c in exact] == [c["predicted_cycles"] for c in exact]
    assert [a["cycles"] for a in r["attention"]] == [a["predicted_cycles"] for a in r["attention"]]



@pytest.mark.slow
def test_attention_block_edge_moe():
    """edge_moe's shapes (the 32 x 32 array, LayerNorm's 32 lanes = L: no converter, T = 129): bit-exact,
    and every call on its model, qkv included (LayerNorm's rows reach the engine a beat a cycle)."""
    r = run_unit("attention_block", "edge_moe", run_name="edge")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 2 * 129 * 192
    assert all(c["exact_model"] for c in r["calls"]) and len(r["calls"]) == 4
    assert [c["cycles"] for c in r["calls"]] == [c["predicted_cycles"] for c in r["calls"]]
    assert [a["cycles"] for a in r["attention"]] == [a["predicted_cycles"] for a in r["attention"]]

def test_attention_block_comparison_can_fail():
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("attention_block", "tiny", run_name="corrupt", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


def test_attention_block_kv_rounded_fails():
    """K and V stored rounded half up (as Q): attention then sees a second rounding on some values, and
    the block's output differs from python_ref's: the odd store is what makes the hidden buffer exact."""
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("attention_block", "tiny", run_name="kv_rounded", kv_rounded=1)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] > 0


# A broken copy: attention's output not stored (the hidden buffer's write from the engine in every route)
ATTENTION_BLOCK_BROKEN = {
    "attn_out_lost": ("attention_block.sv", [("assign hw_d           = attn ? ay_d : ly_d;", "assign hw_d           = ly_d;")]),
}


@pytest.mark.parametrize("bug", sorted(ATTENTION_BLOCK_BROKEN))
def test_attention_block_broken_fails(bug, tmp_path):
    file, edits = ATTENTION_BLOCK_BROKEN[bug]
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("attention_block", "tiny", run_name="broken", variant=f"broken_{bug}",
                 replace=broken_copy(tmp_path, file, edits))
    assert_failed_with(exc.value, r"x\[\d+\]\[\d+\] = .*python_ref", f"attention_block broken copy {bug}")
