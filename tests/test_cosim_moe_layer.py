"""RTL MoE layer top (rtl/src/moe_layer.sv: moe_router -> descriptor stream -> moe_experts, the DDR
weight and bias words of every expert through two weight_fifo instances that drop the inactive
experts' words) against python_ref under cocotb + Verilator on tiny.yaml: routing cases, random
layers, three layers queued at once (the route hold), stall patterns none / both, the engine calls'
cycles against cosim.linear_schedule.Sequence with cosim.weight_fifo_schedule.WeightFifo, a corrupted
expectation and broken copies of the top that must fail."""
from __future__ import annotations


import pytest

from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit

pytestmark = pytest.mark.cosim


def run(stall: str, runs: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("moe_layer", "tiny", stall=stall, n_random=runs, run_name=run_name, testcase=testcase, **kw)


# The logits-in top runs in make test-full only (its own Verilator build): stall "both" with the two
# routing cases that leave experts unused (every DDR word of theirs dropped at the FIFOs' heads) and the
# consecutive group (the route hold), stall none and both with every routing case, random layers, every
# task, its cycles and scoreboard. make test drives the same module as moe_layer_gate (GATE_CALL = 1:
# router, experts, both FIFOs; below) and moe_experts on its own (tests/test_cosim_moe_experts.py).
DROP_CASES = ("all tokens to one expert", "all tokens to the same k experts")
RUNS = [("both", 0, 1, DROP_CASES), ("none", 3, 1, None), ("both", 8, 2, None)]


@pytest.mark.slow
@pytest.mark.parametrize("stall,runs,tasks,cases", RUNS,
                         ids=[f"{r[0]}_{r[1]}_{r[2]}" + ("_drop" if r[3] else "") for r in RUNS])
def test_moe_layer_cosim(stall, runs, tasks, cases):
    tests = ["test_routings"] + (["test_random"] if runs else []) + ["test_consecutive"]
    kw = {"cases": list(cases)} if cases else {}
    r = run(stall, runs, f"{stall}_{runs}_{tasks}" + ("_drop" if cases else ""), testcase=tests, tasks=tasks, **kw)
    # routing layers (at least the named cases, else every case of every task), random layers, the group of 3
    assert r["mismatches"] == 0 and r["runs"] >= (len(cases) if cases else 2 * tasks) + runs + 3
    if cases:
        assert r["runs"] == len(cases) * tasks + runs + 3
    assert r["dropped_words"] > 0
    print(f"moe_layer {stall}: {r['runs']} layers, {r['calls']} engine calls, {r['ddr_words']} DDR words "
          f"({r['dropped_words']} weight words dropped), {r['out_values']} values")
    if stall == "both":
        assert r["output_stall_cycles"] > 100 and r["input_stall_cycles"] > 0


@pytest.mark.slow
def test_moe_layer_cycles():
    """Unstalled layers of T_max tokens, DDR always valid: every engine call's ap_ready / ap_done
    equals cosim.linear_schedule.Sequence with the weight stream through the WeightFifo model (every
    expert's words pushed, the inactive ones dropped at the head)."""
    r = run("none", 1, "cycles", testcase="test_cycles")
    assert r["mismatches"] == 0 and len(r["cycle_layers"]) == 3
    for layer in r["cycle_layers"]:
        for c in layer["calls"]:
            assert (c["ready"], c["done"]) == (c["model_ready"], c["model_done"]), (layer["layer"], c)
        assert layer["expert_phase"] == layer["model_phase"]
        print(f"moe_layer cycles {layer['layer']}: layer {layer['layer_cycles']} (first logit -> first call "
              f"{layer['first_logit_to_first_ready']}, expert phase {layer['expert_phase']}, model "
              f"{layer['model_phase']}, engine alone with x_ at once {layer['ideal_phase']}, last done -> last y "
              f"{layer['last_done_to_last_y']}), {layer['dropped_words']} weight words dropped")


@pytest.mark.slow
def test_moe_layer_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("none", 1, "corrupt", testcase="test_random", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


# Broken copies of rtl/src/moe_layer.sv, each must fail with the message that names its defect: the
# weight FIFO keeps every expert (the route mask not connected): the engine computes with an
# inactive expert's weights (the scoreboard) or, when the active experts come first, leaves the
# inactive experts' words in the FIFO (the consumption check); the route layer not connected (mask layer 0, the bench
# tags layers from 1): the heads wait forever (the bench's timeout); no route hold: layer n+1's mask
# replaces layer n's while its words are still in the FIFO (weight_fifo's own checks: a route_we while
# the head holds a word of the routed layer, an offered word withdrawn; or a hang).
MOE_LAYER_BROKEN = {
    "mask_all_active": ([(".route_active(r_route_active),\n      .m_axis_tdata(w_data)",
                          ".route_active('1),\n      .m_axis_tdata(w_data)")],
                        "MISMATCH|did not consume the whole ddr_ stream", "test_routings"),
    "route_layer_zero": ([("if (g_hs && !in_run) layer_r <= layer_id;", "if (g_hs && !in_run) layer_r <= '0;")],
                         "timed out", "test_random"),
    "no_route_hold": ([("wire issue_n = GATE_CALL ? r_route_we : req && ok_r && !f_we;", "wire issue_n = r_route_we;")],
                      "while the head holds a word of routed layer|an offered word was withdrawn|timed out",
                      "test_consecutive"),
}


# each broken copy is a Verilator build of its own (a minute or more): slow
@pytest.mark.slow
@pytest.mark.parametrize("bug", sorted(MOE_LAYER_BROKEN))
def test_moe_layer_broken_copies_fail(bug, tmp_path):
    edits, message, testcase = MOE_LAYER_BROKEN[bug]
    with pytest.raises(CosimError, match="mismatch|failed") as err:
        run("both", 1, f"broken_{bug}", testcase=testcase, variant=f"broken_{bug}", tasks=1,
            replace=broken_copy(tmp_path, "moe_layer.sv", edits))
    assert_failed_with(err.value, message, bug)
    print(f"broken copy {bug}: fails with {message!r}")


# the published frame's first MoE layer on edge_moe (a 32 x 32 engine build: many minutes), weights from
# DDR at make perf's bandwidth on make perf's w_ word; docs/moe.md "The published frame through the layer"
@pytest.mark.slow
@pytest.mark.published
@pytest.mark.parametrize("top", ["moe_layer", "moe_layer_gate"])
def test_moe_layer_real_frame(top):
    """Both tasks' real routings (the fixed-point network's LN2 rows and gate logits on the published
    weights, stand-in expert matrices; moe_layer_gate computes the logits itself): moe_acc bit-exact,
    every engine call's ap_ready / ap_done equal to Sequence through the WeightFifo model at the DDR
    rate (the DMA skipping the inactive experts it has not fetched once the routing is known)."""
    from python_ref.config import load_config
    cfg = load_config("edge_moe")
    # the config's w_ word (hardware.weight_word: 1024 bits, two rows), make perf's
    r = run_unit(top, "edge_moe", stall="none", n_random=1, run_name="real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == cfg.model.tasks * cfg.model.tokens
    for layer in r["real_layers"]:
        for c in layer["calls"]:
            assert (c["ready"], c["done"]) == (c["model_ready"], c["model_done"]), (layer["layer"], c)
        assert layer["expert_phase"] == layer["model_phase"]
        assert layer["expert_phase"] >= max(layer["compute_bound"], layer["weight_bound"])
        if top == "moe_layer_gate":
            assert layer["gate_done_to_first_expert_ready"] <= 1000   # issue 10: the routing exposed
        print(f"{top} real {layer['layer']}: {layer['active']} experts active, expert phase "
              f"{layer['expert_phase']} (compute bound {layer['compute_bound']}, engine alone {layer['engine_bound']}, "
              f"weight stream {layer['weight_bound']}), last logit -> first call {layer['last_logit_to_first_ready']}")


# ---- rtl/src/moe_layer_gate.sv: the same top with the gate's own linear call (LN2(x) in)
def run_gate(stall: str, runs: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("moe_layer_gate", "tiny", stall=stall, n_random=runs, run_name=run_name, testcase=testcase, **kw)


# default: stall "both" with the two routing cases that leave experts unused (of both tasks), two random
# layers, the group of four consecutive layers and the bad-T check; slow: every routing case, more random
GATE_RUNS = [("both", 2, 2, DROP_CASES, False), ("none", 3, 2, None, True), ("both", 8, 2, None, True)]


@pytest.mark.parametrize("stall,runs,tasks,cases,slow",
                         [pytest.param(*r, marks=[pytest.mark.slow] if r[4] else []) for r in GATE_RUNS],
                         ids=[f"{r[0]}_{r[1]}_{r[2]}" + ("_drop" if r[3] else "") for r in GATE_RUNS])
def test_moe_layer_gate_cosim(stall, runs, tasks, cases, slow):
    tests = ["test_routings", "test_random", "test_consecutive"] + ([] if slow else ["test_bad_tokens"])
    kw = {"cases": list(cases)} if cases else {}
    r = run_gate(stall, runs, f"{stall}_{runs}_{tasks}" + ("_drop" if cases else ""), testcase=tests, tasks=tasks, **kw)
    n_cases = len(cases) * tasks if cases else None
    assert r["mismatches"] == 0 and r["runs"] >= (n_cases or 2 * tasks) + runs + 4 + (0 if slow else 1)
    if cases:
        assert r["runs"] == n_cases + runs + 4 + 1 and r["bad_layers"] == 2
    assert r["dropped_words"] > 0
    print(f"moe_layer_gate {stall}: {r['runs']} layers, {r['calls']} engine calls (+1 gate call each), "
          f"{r['ddr_words']} DDR words ({r['dropped_words']} weight words dropped), {r['out_values']} values")
    if stall == "both":
        assert r["output_stall_cycles"] > 100 and r["input_stall_cycles"] > 0


def test_moe_layer_gate_cycles():
    """Unstalled layers of T_max tokens, DDR always valid: every engine call's ap_ready / ap_done, the
    gate call first, equals cosim.linear_schedule.Sequence with the weight stream through the
    WeightFifo model (the first expert call started when measured: the routing is not in the model)."""
    r = run_gate("none", 1, "cycles", testcase="test_cycles")
    assert r["mismatches"] == 0 and len(r["cycle_layers"]) == 3
    for layer in r["cycle_layers"]:
        for c in layer["calls"]:
            assert (c["ready"], c["done"]) == (c["model_ready"], c["model_done"]), (layer["layer"], c)
        print(f"moe_layer_gate cycles {layer['layer']}: layer {layer['layer_cycles']} (first x -> gate ap_ready "
              f"{layer['first_x_to_gate_ready']}, gate call {layer['gate_call']}, gate ap_done -> first expert "
              f"ap_ready {layer['gate_done_to_first_expert_ready']}, last logit -> first expert ap_ready "
              f"{layer['last_logit_to_first_expert_ready']}, expert phase {layer['expert_phase']}, last done -> "
              f"last y {layer['last_done_to_last_y']}), {layer['dropped_words']} weight words dropped")


def test_moe_layer_gate_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run_gate("none", 1, "corrupt", testcase="test_random", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


# Broken copies of rtl/src/moe_experts.sv's gate path, built as moe_layer_gate: the logits reader
# not waiting for the gate call's rows (reads gbuf before the row landed: stale logits reach the
# router), the lane adapter sending a token's beats from the wrong end.
GATE_BROKEN = {
    "logits_before_write": ([("g_ok    <= g_issue ? 32'(g_rows) > 32'(gk) + 1 : g_rows > gk;", "g_ok    <= 1'b1;")],
                            "logits beats differ from gate_logits"),
    "lanes_reversed": ([("if (gt_ld) gt <= (NB * SL * ACT_W)'(gq);",
                         "if (gt_ld) for (int i = 0; i < NB * SL; i++) gt[i * ACT_W +: ACT_W] <= "
                         "ACT_W'((NB * SL * ACT_W)'(gq) >> ((NB * SL - 1 - i) * ACT_W));")],
                       "logits beats differ from gate_logits"),
}


# a Verilator build each: make test-full (make test keeps the scoreboard check above)
@pytest.mark.slow
@pytest.mark.parametrize("bug", sorted(GATE_BROKEN))
def test_moe_layer_gate_broken_copies_fail(bug, tmp_path):
    edits, message = GATE_BROKEN[bug]
    with pytest.raises(CosimError, match="mismatch|failed") as err:
        run_gate("both", 1, f"broken_{bug}", testcase="test_random", variant=f"broken_{bug}",
                 replace=broken_copy(tmp_path, "moe_experts.sv", edits))
    assert_failed_with(err.value, message, bug)
    print(f"broken copy {bug}: fails with {message!r}")
