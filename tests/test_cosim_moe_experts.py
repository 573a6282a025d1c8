"""RTL MoE expert executor (rtl/src/moe_experts.sv: the descriptor stream's engine calls on
rtl/src/linear.sv, the x / h / moe_acc buffers and the call sequencer) against python_ref
(run_schedule of the decoded descriptor stream) under cocotb + Verilator on tiny.yaml: every routing
case (seeded weights, then full-range x and weights), random layers, stall patterns none / both /
reactive on every stream, malformed descriptor streams, the engine calls' cycles against
cosim.linear_schedule.Sequence, a corrupted expectation and broken copies of the RTL that must fail."""
from __future__ import annotations

import re

import pytest

from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit

pytestmark = pytest.mark.cosim

NOT_CYCLES = ["test_routings", "test_random", "test_bad_descriptors"]


def run(stall: str, runs: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("moe_experts", "tiny", stall=stall, n_random=runs, run_name=run_name, testcase=testcase, **kw)


# make test: the stalled run (tests/test_cosim_moe_layer.py runs the unit again behind the router);
# the unstalled and reactive runs in make test-full
RUNS = [("none", 6), ("both", 4), ("reactive", 2)]


@pytest.mark.parametrize("stall,runs", [pytest.param(s, n, marks=[pytest.mark.slow] if s != "both" else [])
                                        for s, n in RUNS], ids=[s for s, _ in RUNS])
def test_moe_experts_cosim(stall, runs):
    r = run(stall, runs, f"{stall}_{runs}", testcase=NOT_CYCLES)
    assert r["mismatches"] == 0 and r["bad_streams"] == 6
    print(f"moe_experts {stall}: {r['runs']} layers, {r['calls']} engine calls, {r['out_values']} values")
    if stall == "both":
        assert r["output_stall_cycles"] > 100 and r["input_stall_cycles"] > 0
    if stall == "reactive":
        assert r["output_stall_cycles"] > 0


def test_moe_experts_cycles():
    """Unstalled layers of T_max tokens (all tokens to one expert, every expert active, a random
    gate): every engine call's ap_ready and ap_done cycle equals cosim.linear_schedule.Sequence with
    the calls offered at once and the first call's x_ from the cycle the unit first offers it (after
    the layer's x rows are in): no other wait, in particular no read-after-write wait on h or
    moe_acc. Against the model with x_ there from the start the expert phase is longer by exactly
    that first wait."""
    r = run("none", 1, "cycles", testcase="test_cycles")
    assert r["mismatches"] == 0 and len(r["cycle_layers"]) == 3
    for layer in r["cycle_layers"]:
        for c in layer["calls"]:
            assert (c["ready"], c["done"]) == (c["model_ready"], c["model_done"]), (layer["layer"], c)
        assert layer["expert_phase"] == layer["model_phase"]
        first = layer["calls"][0]
        wait = layer["expert_phase"] - layer["ideal_phase"]
        assert wait > 0 and all(c["done"] - c["ideal_done"] == wait for c in layer["calls"]), layer
        assert first["ideal_done"] + 1 == first["isolated"]
        assert layer["y_beats"] == 17 * 8 and layer["last_done_to_last_y"] == 17 * 8 + 1
        print(f"moe_experts cycles {layer['layer']}: expert phase {layer['expert_phase']} (model "
              f"{layer['model_phase']}, x_ there at once {layer['ideal_phase']}, calls one at a time "
              f"{layer['isolated_sum']}), first x_ offer {layer['first_x_offer']}, layer {layer['layer_cycles']}")


def test_moe_experts_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("none", 1, "corrupt", testcase="test_random", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


# Broken copies of rtl/src/moe_experts.sv, each must fail the stalled bench, with the message that
# names its defect: fc2 reading h rows without waiting for fc1's writes (the h rule), fc1 reading x
# before the layer's rows are in (the x rule), the first fc2 reading moe_acc before it is zeroed (the
# acc rule): the RTL's read-after-write monitor stops the simulation; the scores one row off: the
# scoreboard.
MOE_EXPERTS_BROKEN = {
    # r_src is registered as two cofactors on the row end (r_src_e, r_src_m): both are broken
    "h_before_write": ([("r_src_e <= rp ? h_call_ok && (RW+1)'(h_rows) > rk_p1 : filled_d;", "r_src_e <= rp ? 1'b1 : filled_d;"),
                        ("r_src_m <= rp ? h_call_ok && h_rows > rk : filled_d;", "r_src_m <= rp ? 1'b1 : filled_d;")], "h entry"),
    "x_before_fill": ([("r_src_e <= rp ? h_call_ok && (RW+1)'(h_rows) > rk_p1 : filled_d;",
                        "r_src_e <= rp ? h_call_ok && (RW+1)'(h_rows) > rk_p1 : run_on;"),
                       ("r_src_m <= rp ? h_call_ok && h_rows > rk : filled_d;", "r_src_m <= rp ? h_call_ok && h_rows > rk : run_on;")],
                      "x entry"),
    "acc_before_zero": ([("a_issue = a_have && filled &&", "a_issue = a_have &&")], "zeroed after a read"),
    "score_index": ([("ls_data <= tb_s[sk];", "ls_data <= tb_s[sk_last ? sk : sk + 1'b1];")], "MISMATCH"),
    # the drain's block wrap from ab_last, which lags ab by a cycle while draining: a row's block 0 is
    # read past the row's end
    "drain_wrap": ([("ab_wrap = drain ? ab == BW'(ND - 1) : ab_last;", "ab_wrap = ab_last;")], "MISMATCH"),
}


# the broken copies (each a Verilator build of its own) in `make test-full`
@pytest.mark.slow   # make test keeps the scoreboard check
@pytest.mark.parametrize("bug", sorted(MOE_EXPERTS_BROKEN))
def test_moe_experts_broken_copies_fail(bug, tmp_path):
    edits, message = MOE_EXPERTS_BROKEN[bug]
    with pytest.raises(CosimError, match="mismatch|failed") as err:
        run("both", 1, f"broken_{bug}", testcase="test_routings", variant=f"broken_{bug}",
            replace=broken_copy(tmp_path, "moe_experts.sv", edits))
    assert_failed_with(err.value, re.escape(message), bug)
    print(f"broken copy {bug}: fails with {message!r}")
