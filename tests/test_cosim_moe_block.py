"""rtl/src/moe_block.sv: a MoE block on its three buffers (cosim/test_moe_block.py): the router's descriptor
words equal python_ref's word for word, and x after x + MoE(LN2(x)) is bit-exact against python_ref, a
realistic and a full-range round, every engine call's cycles on cosim.linear_schedule's model; a corrupt
run; two broken copies. tiny (LayerNorm's 2 lanes: the engine at 2 x 2)."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit

pytestmark = pytest.mark.cosim


def test_moe_block_tiny():
    r = run_unit("moe_block", "tiny", run_name="rounds")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 2 * 17 * 32
    calls = [c["call"] for c in r["calls"]]
    for rnd, active in enumerate(r["active_experts"]):
        assert active, "a round without an active expert checks no expert call"
        want = [f"round{rnd}_gate"] + [f"round{rnd}_e{e}_{fc}" for e in active for fc in ("fc1", "fc2")]
        assert [c for c in calls if c.startswith(f"round{rnd}_")] == want
    # every call's cycles, from the cycle its x_ came, on the engine's model (cosim.linear_schedule)
    assert [(c["call"], c["cycles"]) for c in r["calls"]] == [(c["call"], c["predicted_cycles"]) for c in r["calls"]]
    # GATE, LOAD, per active expert two headers, and each token's k slots in fc1's and fc2's rows
    assert r["descriptor_words"] == sum(2 + 2 * len(a) + 2 * 2 * 17 for a in r["active_experts"])



@pytest.mark.slow
def test_moe_block_edge_moe():
    """edge_moe's shapes (the 32 x 32 engine, 16 experts, T = 129): the router's words, x bit-exact, every
    call on the engine's model."""
    r = run_unit("moe_block", "edge_moe", run_name="edge")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 2 * 129 * 192
    assert all(r["active_experts"])
    assert [(c["call"], c["cycles"]) for c in r["calls"]] == [(c["call"], c["predicted_cycles"]) for c in r["calls"]]

def test_moe_block_comparison_can_fail():
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("moe_block", "tiny", run_name="corrupt", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


# Broken copies: LN2(x) not kept (h's write from the engine in the gate route, so the experts' fc1 read
# other rows), the logits' lanes split high lane first (the router sees other logits: its words differ).
MOE_BLOCK_BROKEN = {
    "ln2_not_kept": ("moe_block.sv", [("assign hw_d           = gate ? ln_y : y_d;", "assign hw_d           = y_d;")]),
    "split_order": ("axis_lane_split.sv", [("data_q <= data_q >> (N_OUT * W);", "data_q <= data_q << (N_OUT * W);")]),
}
MOE_BLOCK_REASON = {
    "ln2_not_kept": r"x\[\d+\]\[\d+\] = .*python_ref",
    "split_order": r"descriptor words differ from python_ref's",
}


@pytest.mark.parametrize("bug", sorted(MOE_BLOCK_BROKEN))
def test_moe_block_broken_fails(bug, tmp_path):
    file, edits = MOE_BLOCK_BROKEN[bug]
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("moe_block", "tiny", run_name="broken", variant=f"broken_{bug}",
                 replace=broken_copy(tmp_path, file, edits))
    assert_failed_with(exc.value, MOE_BLOCK_REASON[bug], f"moe_block broken copy {bug}")
