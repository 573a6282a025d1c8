"""RTL MoE router (rtl/src/moe_router.sv: softmax + moe_topk + queues + descriptor emitter) against
python_ref (descriptor_words of route and expert_schedule) under cocotb + Verilator: the adversarial
logit blocks and routing cases, random runs of T = 1, 2, T_max and random T, both tasks, stall
patterns none / both / reactive, k = 1 and k = E (HDL parameter K), a run that must not start
(n_tokens 0 or too large), cycles per token and latency, the published frame's layer-1 gate logits
(weights present), and a corrupted expectation that must fail."""
from __future__ import annotations

import pytest

from cosim.frame_schedule import gate_softmax_cycles
from cosim.runner import CosimError, broken_copy, run_unit
from python_ref.config import load_config
from python_ref.kernels.softmax import lanes, row_period

pytestmark = pytest.mark.cosim

NOT_CYCLES = ["test_adversarial", "test_random", "test_no_run_without_tokens"]


def softmax_latency(L: int, n: int) -> int:
    """rtl/src/softmax.sv, last input beat -> last output beat of a lone row (tests/test_cosim_softmax.py)."""
    return 85 + 2 * (L.bit_length() - 1) + 2 * -(-n // L)


def first_word_latency(L: int, E: int, K: int) -> int:
    """Lone token (T = 1), unstalled: last input beat -> first descriptor word. The softmax's row,
    then: p collected (flag) 1, p held 1, the join's K slots (one per cycle), the queue write 1,
    emitter start 1, GATE issued 1, read stage 1, output FIFO (memory -> slice) 2 = 7 + K."""
    return softmax_latency(L, E) + 7 + K


ROUTE_TO_FIRST_WORD = 4   # route_we's cycle -> the first descriptor word's handshake, unstalled


def words(active: int, K: int, T: int) -> int:
    return 2 + 2 * active + 2 * K * T


def run(config: str, stall: str, runs: int, run_name: str, testcase=None, parameters=None, **kw) -> dict:
    return run_unit("moe_router", config, stall=stall, n_random=runs, run_name=run_name, testcase=testcase,
                    parameters=parameters, **kw)


RUNS = [("tiny", "none", 12), ("tiny", "both", 6), ("tiny", "reactive", 4), ("edge_moe", "both", 4)]


# tiny's reactive stalls and the edge_moe build in make test-full (`make sim CONFIG=configs/edge_moe.yaml`
# runs the edge_moe router under stalls too)
@pytest.mark.parametrize("config,stall,runs", [
    pytest.param(c, s, n, marks=[pytest.mark.slow] if s == "reactive" or c == "edge_moe" else [], id=f"{c}-{s}")
    for c, s, n in RUNS])
def test_moe_router_cosim(config, stall, runs):
    r = run(config, stall, runs, f"{stall}_{runs}", testcase=NOT_CYCLES)
    assert r["mismatches"] == 0 and r["zero_tokens_checked"] == 1
    assert r["runs"] >= runs + 10
    if stall == "both":
        assert r["output_stall_cycles"] > 100
    if stall == "reactive":
        assert r["output_stall_cycles"] > 0


# edge_moe's exact latency in make test-full, with its stalled run
@pytest.mark.parametrize("config", ["tiny", pytest.param("edge_moe", marks=pytest.mark.slow)])
def test_moe_router_cycles(config):
    """Unstalled: the input takes a token at most every MOE_TOKEN_CYCLES (row_period) cycles over a
    run of T_max tokens, and the descriptor stream leaves one word per cycle (asserted in the TB)."""
    cfg = load_config(config)
    r = run(config, "none", 1, "cycles", testcase="test_cycles")
    assert r["mismatches"] == 0
    assert r["full_cycles_per_token"] <= row_period(cfg)
    L, E, K = lanes(cfg), cfg.model.experts, cfg.model.top_k
    # a lone token has min(K, E) = K active experts; its words leave one per cycle (TB)
    assert r["one_words"] == words(K, K, 1)
    assert r["one_latency_first_word"] == first_word_latency(L, E, K)
    assert r["one_latency_last_word"] == first_word_latency(L, E, K) + words(K, K, 1) - 1
    # route_we (the weight FIFO's routing) leads the run's first descriptor word by a fixed count:
    # the emitter's GATE state, the read stage, the output FIFO (memory, slice)
    assert r["route_to_first_word"] == ROUTE_TO_FIRST_WORD
    # make perf's frame model (cosim.frame_schedule) gives the weight FIFO the routing one cycle
    # before the gate call's modelled end; the RTL's routing must be visible by then (the cycle after
    # route_we) on a T_max run that starts with the call: the model never assumes an earlier routing
    assert r["full_route_after_first_beat"] + 1 <= gate_softmax_cycles(cfg, cfg.model.tokens) - 1
    print(f"moe_router {config}: {r}")


# k = 1 and k = E (every expert in every token's slots): a build each, make test-full
@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 4])
def test_moe_router_top_k_extremes(k):
    """tiny with K = 1 and K = E = 4 (HDL parameter): every adversarial case and random runs with
    stalls, and the latency model unstalled."""
    r = run("tiny", "both", 4, f"k{k}", testcase=["test_adversarial", "test_random", "test_cycles"],
            parameters={"K": k}, top_k=k)
    assert r["mismatches"] == 0 and r["runs"] >= 14
    assert r["one_latency_first_word"] == first_word_latency(1, 4, k)


@pytest.mark.published
def test_moe_router_real_frame():
    """The published frame's first MoE layer: the gate logits the fixed-point network computes
    (cosim.moe_vectors.published_gate_logits), both tasks, all 129 tokens per run, through the router
    on edge_moe under random stalls: every descriptor word bit-exact."""
    cfg = load_config("edge_moe")
    r = run("edge_moe", "both", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["runs"] == cfg.model.tasks
    assert r["real_rows"] == cfg.model.tasks * cfg.model.tokens
    assert r["output_stall_cycles"] > 0


def test_moe_router_route_check_can_fail():
    """One wrong expected route_active: the bench must count exactly that one error."""
    with pytest.raises(CosimError) as err:
        run("tiny", "none", 1, "corrupt_route", testcase="test_random", corrupt_route=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


def test_moe_router_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("tiny", "none", 1, "corrupt", testcase="test_random", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


# Broken copies of the registered flags (each checked against its definition by a simulation
# assertion): slot_last one slot early, p_move only on a release (a free hold register not seen),
# rdy's no-handshake cofactor with one token too many left in the run. Each must fail a random run
# on tiny (three runs: the first draws a one-token run).
ROUTER_BROKEN = {
    "slot_last_early": ("moe_router.sv", [("slot_last <= K == 1 || slot == KB'(K - 2);",
                                           "slot_last <= K == 1 || slot == KB'(K - 1);")]),
    "p_move_held": ("moe_router.sv", [("wire   p_move = pcol_full && (!phold_valid || (tk_valid && slot_last));",
                                       "wire   p_move = pcol_full && (tk_valid && slot_last);")]),
    "rdy_extra_token": ("moe_router.sv", [("wire             t_ok_keep  = busy ? t_nz : start_ok;",
                                           "wire             t_ok_keep  = busy ? t_ne1 : start_ok;")]),
}


# one broken copy in `make test` (each is a Verilator build of its own), the others in `make test-full`
@pytest.mark.parametrize("bug", [pytest.param(b, marks=[] if b in {'p_move_held'} else [pytest.mark.slow])
                                 for b in sorted(ROUTER_BROKEN)])
def test_moe_router_broken_copies_fail(bug, tmp_path):
    name, edits = ROUTER_BROKEN[bug]
    replace = broken_copy(tmp_path, name, edits)
    with pytest.raises(CosimError, match="differs|mismatch|failed"):
        run("tiny", "both", 3, f"broken_{bug}", testcase="test_random", variant=f"broken_{bug}",
            replace=replace)
