"""MoE unit (python_ref/kernels/moe.py): the spec against an independent per-token reference (one
compute_linear call per token and expert, selection by repeated argmax, integer score and combine),
the order-freedom of the gate softmax and of the expert accumulation, the three Edge-MoE defects
(docs/moe.md) as cases that would catch them, top_k variants, the schedule's properties, the error
messages, and the routing on the published weights (``published``: skipped with the reason when absent)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from cosim.moe_vectors import (case_arrays, config_with_top_k, logit_rows, random_cases, routing_cases,
                               seeded_moe_weights)
from python_ref.config import REPO_ROOT, load_config
from python_ref.fixed import FixedFormat
from python_ref.kernels.linear import compute_linear
from python_ref.kernels.moe import (MoEError, MoEWeights, expert_schedule, gate_logits, moe_raw, route,
                                    run_schedule, score_from_prob, top_k_by_logit)
from python_ref.kernels.softmax import PROB_FORMAT, softmax_two_pass_raw

TINY = load_config("tiny")
K_VARIANTS = {k: (TINY if k == TINY.model.top_k else config_with_top_k(TINY, k)) for k in (1, 2, 3, 4)}


# ---------------------------------------------------------------------------------------------
# Independent reference

def ref_topk(logits: np.ndarray, k: int) -> np.ndarray:
    """k rounds of argmax (np.argmax returns the first, i.e. lowest, index of the maximum), each
    chosen expert masked out: a different algorithm from the spec's sort."""
    out = np.empty((len(logits), k), dtype=np.int64)
    for t, row in enumerate(logits.tolist()):
        row = [int(v) for v in row]
        taken = [False] * len(row)
        for j in range(k):
            best = None
            for e, v in enumerate(row):
                if not taken[e] and (best is None or v > row[best]):
                    best = e
            taken[best] = True
            out[t, j] = best
    return out


def ref_moe(x, w: MoEWeights, task: int, cfg):
    """Token by token, slot by slot (the float model's order), one engine call per token and layer."""
    m, act = cfg.model, cfg.fmt("act")
    assert act.quant == "TRN" and act.overflow == "WRAP" and act.frac <= PROB_FORMAT.frac
    zero = np.zeros(m.experts, dtype=np.int64)
    kw = dict(w_fmt=cfg.fmt("weight"), b_fmt=cfg.fmt("bias"))
    logits = np.vstack([compute_linear(x[t:t + 1], w.w_gate[task], zero, cfg, w_fmt=cfg.fmt("gate_weight"),
                                       b_fmt=cfg.fmt("bias")) for t in range(m.tokens)])
    p = np.vstack([softmax_two_pass_raw(logits[t:t + 1], cfg).p for t in range(m.tokens)])
    idx = ref_topk(logits, m.top_k)
    score = np.take_along_axis(p, idx, axis=1) >> (PROB_FORMAT.frac - act.frac)  # TRN: floor
    acc = [[0] * m.dim for _ in range(m.tokens)]
    mod, half = 1 << act.width, 1 << (act.width - 1)
    for t in range(m.tokens):
        for j in range(m.top_k):
            e = int(idx[t, j])
            h = compute_linear(x[t:t + 1], w.w1[e], w.b1[e], cfg, gelu=True, **kw)
            y = compute_linear(h, w.w2[e], w.b2[e], cfg, **kw)[0]
            for d in range(m.dim):
                v = (int(score[t, j]) * int(y[d])) >> act.frac  # act(score * y): floor to 2^-frac, no overflow
                acc[t][d] = (acc[t][d] + v + half) % mod - half  # act(acc + v): wrap
    return logits, p, idx, score, np.array(acc, dtype=np.int64)


def check_against_reference(case):
    res = case.check()
    logits, p, idx, score, acc = ref_moe(case.x_raw, case.weights, case.task, case.cfg)
    assert np.array_equal(res.logits, logits), case.name
    assert np.array_equal(res.p, p), case.name
    assert np.array_equal(res.topk_idx, idx), case.name
    assert np.array_equal(res.topk_score, score), case.name
    assert np.array_equal(res.moe_acc, acc), case.name
    return res


def check_schedule(res, cfg):
    """Every schedule property the hardware relies on."""
    m = cfg.model
    r, s = res.routing, res.schedule
    T, E, k = m.tokens, m.experts, m.top_k
    lengths = r.queue_lengths
    assert lengths.sum() == T * k
    assert r.active == tuple(e for e in range(E) if lengths[e] > 0)
    for e in range(E):
        q = r.queues[e]
        assert np.all(np.diff(q) > 0), f"queue {e} not strictly ascending: {q}"
        assert np.array_equal(q, np.nonzero(np.any(r.topk_idx == e, axis=1))[0])
        slot = np.argmax(r.topk_idx[q] == e, axis=1)
        assert np.array_equal(r.queue_scores[e], r.topk_score[q, slot])
    # each active expert exactly once, ascending, fc1 then fc2; empty experts never appear
    assert s.experts == r.active
    assert [(c.expert, c.layer) for c in s.calls] == [(e, l) for e in r.active for l in ("fc1", "fc2")]
    assert s.weight_loads() == [(e, l) for e in r.active for l in ("fc1", "fc2")]
    assert s.first_load == (r.active[0], "fc1")
    for n, c in enumerate(s.calls):
        assert c.step == n and c.buffer == n % 2
        q = r.queues[c.expert]
        if c.layer == "fc1":
            assert c.gelu and c.scatter is None and c.scores is None
            assert np.array_equal(c.gather, q)  # explicit, also when len(q) == T
        else:
            assert not c.gelu and np.array_equal(c.gather, np.arange(len(q)))
            assert np.array_equal(c.scatter, q) and len(np.unique(c.scatter)) == len(c.scatter)
            assert np.array_equal(c.scores, r.queue_scores[c.expert])
        # the next call's weights load into the other buffer while this one computes
        nxt = s.calls[n + 1] if n + 1 < len(s.calls) else None
        assert c.prefetch == (None if nxt is None else (nxt.expert, nxt.layer))
        if nxt is not None:
            assert nxt.buffer != c.buffer


# ---------------------------------------------------------------------------------------------
# Spec vs reference, every case, every k

@pytest.mark.parametrize("k", sorted(K_VARIANTS))
def test_routing_cases_equal_the_reference(k):
    cfg = K_VARIANTS[k]
    assert cfg.model.top_k == k
    for task in range(cfg.model.tasks):
        for case in routing_cases(cfg, task).values():
            res = check_against_reference(case)
            check_schedule(res, cfg)


def test_random_cases_equal_the_reference():
    for case in random_cases(TINY, seeds=(21, 22, 23)).values():
        res = check_against_reference(case)
        check_schedule(res, TINY)
        assert len(res.active) >= 2


def test_task_selects_the_gate():
    case = next(iter(random_cases(TINY).values()))
    r0 = moe_raw(case.x_raw, case.weights, 0, TINY)
    r1 = moe_raw(case.x_raw, case.weights, 1, TINY)
    assert not np.array_equal(r0.logits, r1.logits)
    same = MoEWeights(np.stack([case.weights.w_gate[1]] * 2), *dataclasses.astuple(case.weights)[1:])
    assert np.array_equal(moe_raw(case.x_raw, same, 0, TINY).moe_acc, r1.moe_acc)


# ---------------------------------------------------------------------------------------------
# Order-freedom

def test_gate_softmax_is_order_free():
    """Permuting the experts (the gate's rows) permutes the logits and p exactly: the two-pass softmax
    has no arrival order."""
    rng = np.random.default_rng(3)
    for case in random_cases(TINY, seeds=(31, 32)).values():
        w = case.weights
        base = route(gate_logits(case.x_raw, w.w_gate, case.task, TINY), TINY)
        for _ in range(5):
            perm = rng.permutation(TINY.model.experts)
            wg = w.w_gate[:, perm, :]
            r = route(gate_logits(case.x_raw, wg, case.task, TINY), TINY)
            assert np.array_equal(r.logits, base.logits[:, perm])
            assert np.array_equal(r.p, base.p[:, perm])
            if all(len(set(row)) == len(row) for row in base.logits.tolist()):  # no ties: same experts chosen
                assert np.array_equal(perm[r.topk_idx], base.topk_idx)
    edge = load_config("edge_moe")
    for name, block in logit_rows(edge).items():
        p = softmax_two_pass_raw(block, edge).p
        for _ in range(3):
            perm = rng.permutation(edge.model.experts)
            assert np.array_equal(softmax_two_pass_raw(block[:, perm], edge).p, p[:, perm]), name


@pytest.mark.parametrize("k", (1, 2, 4))
def test_expert_order_does_not_change_the_bits_under_wrap(k):
    cfg = K_VARIANTS[k]
    assert cfg.fmt("act").overflow == "WRAP"
    rng = np.random.default_rng(4)
    cases = list(random_cases(cfg).values()) + [routing_cases(cfg)["all logits at the act minimum"]]
    for case in cases:
        res = case.run()
        for _ in range(3):
            order = rng.permutation(res.active)
            sched = expert_schedule(res.routing, cfg, order=order)
            assert sched.experts == tuple(order)
            assert np.array_equal(run_schedule(case.x_raw, case.weights, sched, cfg), res.moe_acc), case.name


# ---------------------------------------------------------------------------------------------
# Edge-MoE's defects

def test_defect_a_every_slot_assigned_on_ties_and_minimum_logits():
    """Edge-MoE's top_k assigns a slot only on a strict '>' against its initial minimum: with every
    logit equal, or at the act minimum, slots keep indeterminate / duplicate entries. Here every slot
    holds a distinct expert, ties go to the lower index, for every k up to E."""
    for k, cfg in K_VARIANTS.items():
        E = cfg.model.experts
        for name, block in logit_rows(cfg).items():
            r = route(block, cfg)
            assert np.array_equal(r.topk_idx, ref_topk(block, k)), (k, name)
            assert all(sorted(set(row)) == sorted(row) and len(row) == k for row in r.topk_idx.tolist())
        for name in ("all equal (0)", "all equal (min)", "all equal (max)"):
            r = route(logit_rows(cfg)[name], cfg)
            assert np.all(r.topk_idx == np.arange(k)), (k, name)
            assert np.all(r.p == r.p[0, 0])  # every probability equal
            if k == E:
                assert r.active == tuple(range(E)) and np.all(r.queue_lengths == len(r.topk_idx))
        res = check_against_reference(routing_cases(cfg)["all logits at the act minimum"])
        assert np.all(res.logits == cfg.fmt("act").raw_min)


@pytest.mark.parametrize("k", (1, 2, 4))
def test_defect_b_a_queue_of_all_tokens(k):
    """Edge-MoE's fc1 reads directly (no index stream) when an expert has all T tokens, while fc2's
    scatter waits for that stream: a deadlock. Here the row lists are explicit for every length and
    the result equals the reference."""
    cfg = K_VARIANTS[k]
    T = cfg.model.tokens
    for name in ("all tokens to one expert", "all tokens to the same k experts", "all logits equal"):
        res = check_against_reference(routing_cases(cfg)[name])
        full = [e for e in res.active if res.routing.queue_lengths[e] == T]
        assert full, name
        for c in res.schedule.calls:
            if c.expert in full:
                assert np.array_equal(c.scatter if c.layer == "fc2" else c.gather, np.arange(T))
    if k == 1:
        assert res.active == (0,)  # all logits equal, k = 1: one active expert


def test_defect_c_schedule_for_one_all_and_e_minus_k_active_experts():
    """Edge-MoE guards the first load and last expert with `NUM_SELECTED_EXPERTS > 0 || ...` (always
    true). The schedule is right for 1 active expert, for all E, and for E - k unused."""
    E = TINY.model.experts
    one = routing_cases(K_VARIANTS[1])["all tokens to one expert"].check()
    assert one.active == (E - 1,) and len(one.schedule.calls) == 2
    assert one.schedule.weight_loads() == [(E - 1, "fc1"), (E - 1, "fc2")]
    check_schedule(one, K_VARIANTS[1])
    for k, cfg in K_VARIANTS.items():
        cases = routing_cases(cfg)
        every = cases["every expert active"].check()
        assert every.active == tuple(range(E))
        check_schedule(every, cfg)
        same = cases["all tokens to the same k experts"].check()
        assert len(same.active) == k and len(same.schedule.calls) == 2 * k
        unused = set(range(E)) - set(same.active)
        assert len(unused) == E - k
        assert not unused & {e for e, _ in same.schedule.weight_loads()}  # no fetch for an empty expert
        check_schedule(same, cfg)


def test_one_token_per_expert():
    for k in (1, 2, 3):
        cfg = K_VARIANTS[k]
        res = check_against_reference(routing_cases(cfg)["one token per expert"])
        singles = range(cfg.model.experts - k)
        assert all(res.routing.queue_lengths[e] == 1 for e in singles)
        tokens = {int(res.queues[e][0]) for e in singles}
        assert 0 in tokens and (len(singles) < 2 or cfg.model.tokens - 1 in tokens)  # first and last token


def test_top_k_by_logit_not_by_rounded_probability():
    """Logits 1 LSB apart: some fixed-point probabilities round equal, top-k still follows the logits."""
    for k, cfg in K_VARIANTS.items():
        res = routing_cases(cfg)["1-LSB logit differences"].check()
        E = cfg.model.experts
        assert np.array_equal(res.logits[0] - res.logits[0, 0], np.arange(E))
        assert np.array_equal(res.topk_idx[0], np.arange(E - 1, E - 1 - k, -1))
    edge = load_config("edge_moe")
    r = route(logit_rows(edge)["ascending by 1 LSB"], edge)
    assert len(np.unique(r.p[0])) < edge.model.experts  # probabilities collide ...
    assert np.array_equal(r.topk_idx[0], [15, 14])  # ... the logits decide


def test_ties_at_the_kth_place_go_to_the_lower_index():
    for k, cfg in K_VARIANTS.items():
        check_against_reference(routing_cases(cfg)["ties at the k-th place"])


# ---------------------------------------------------------------------------------------------
# Formats and pieces

def test_score_is_the_probability_assigned_to_act():
    act = TINY.fmt("act")
    p = np.array([0, 1, 2, 3, 4, 5, (1 << 24) - 1, 1 << 24], dtype=np.int64)
    assert score_from_prob(p, TINY).tolist() == [0, 0, 0, 0, 1, 1, (1 << 22) - 1, 1 << 22]  # floor(p / 4)
    assert act.to_float(score_from_prob(np.array([1 << 24]), TINY))[0] == 1.0
    rnd = dataclasses.replace(TINY, formats={**TINY.formats, "act": act.with_modes(quant="RND")})
    assert score_from_prob(np.array([1, 2, 6]), rnd).tolist() == [0, 1, 2]
    bad = dataclasses.replace(TINY, formats={**TINY.formats, "act": FixedFormat(16, 1)})
    with pytest.raises(MoEError, match=r"cannot hold a probability of 1.0"):
        score_from_prob(p, bad)


def test_top_k_by_logit_extremes():
    x = np.array([[-(1 << 63), (1 << 63) - 1, 0, (1 << 63) - 1]], dtype=object)
    assert top_k_by_logit(x, 4).tolist() == [[1, 3, 2, 0]]


def test_case_arrays_are_consistent():
    case = routing_cases(TINY)["every expert active"]
    a = case_arrays(case)
    assert a["queue_tokens"].shape == (TINY.model.tokens * TINY.model.top_k,) == a["queue_scores"].shape
    assert a["queue_lengths"].sum() == len(a["queue_tokens"])
    assert a["moe_acc"].shape == (TINY.model.tokens, TINY.model.dim)


def test_edge_moe_shapes_all_tokens_to_one_expert():
    """The full-size trigger of defect b: 129 tokens on expert 15 (edge_moe.yaml)."""
    edge = load_config("edge_moe")
    res = routing_cases(edge)["all tokens to one expert"].check()
    assert res.routing.queue_lengths[15] == edge.model.tokens == 129
    check_schedule(res, edge)


# ---------------------------------------------------------------------------------------------
# Errors

def test_bad_input_names_the_problem():
    case = routing_cases(TINY)["every expert active"]
    x, w = case.x_raw, case.weights
    with pytest.raises(MoEError, match=r"MoE input x: expected shape \(tokens, dim\) = \(17, 32\) for config 'tiny', got \(16, 32\)"):
        moe_raw(x[:16], w, 0, TINY)
    with pytest.raises(MoEError, match=r"MoE input x: raw values outside"):
        moe_raw(x + (1 << 40), w, 0, TINY)
    for task in (2, -1, True, 0.0):
        with pytest.raises(MoEError, match=r"task .*: config 'tiny' has tasks 0\.\.1"):
            moe_raw(x, w, task, TINY)
    edge_w = seeded_moe_weights(load_config("edge_moe"))
    with pytest.raises(MoEError, match=r"MoE weights w_gate: expected shape \(tasks, E, D\) = \(2, 4, 32\) for "
                                       r"config 'tiny', got \(2, 16, 192\) \(weights of another config\?\)"):
        moe_raw(x, edge_w, 0, TINY)
    w_big = dataclasses.replace(w, b1=w.b1 + (1 << 20))
    with pytest.raises(MoEError, match=r"MoE weights b1: raw values outside ap_fixed<16,5,AP_RND,AP_WRAP> range"):
        moe_raw(x, w_big, 0, TINY)
    with pytest.raises(MoEError, match=r"gate logits: expected shape \(T >= 1, E = 4\)"):
        route(np.zeros((17, 5), dtype=np.int64), TINY)
    with pytest.raises(MoEError, match=r"gate logits: raw values outside"):
        route(np.full((2, 4), 1 << 40), TINY)
    over = dataclasses.replace(TINY, model=dataclasses.replace(TINY.model, top_k=5))
    with pytest.raises(MoEError, match=r"model.moe.top_k = 5: must be in 1..model.moe.experts = 4"):
        route(np.zeros((2, 4), dtype=np.int64), over)
    res = case.run()
    with pytest.raises(MoEError, match=r"expert order \[0, 1\] is not a permutation of the active experts"):
        expert_schedule(res.routing, TINY, order=[0, 1])
    with pytest.raises(MoEError, match=r"layer 2 is not a MoE layer of config 'tiny'"):
        MoEWeights.from_float({}, 2, TINY)


def test_routing_script_rejects_bad_input_in_one_line():
    for args, msg in ((["--config", "configs/nope.yaml"], "config file 'configs/nope.yaml' not found"),
                      (["--images", "chelsea,lena"], "unknown image(s) lena")):
        res = subprocess.run([sys.executable, "scripts/moe_routing.py", *args], capture_output=True, text=True,
                             cwd=REPO_ROOT)
        assert res.returncode == 2 and msg in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_routing_script_on_seeded_tiny():
    res = subprocess.run([sys.executable, "scripts/moe_routing.py", "--no-published", "--images", "chelsea"],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert res.returncode == 0, res.stderr
    assert "**Seeded weights** (tiny, seed 0)" in res.stdout
    rows = [ln for ln in res.stdout.splitlines() if ln.startswith("| seeded 0 | chelsea |")]
    assert len(rows) == 3 * TINY.model.tasks  # routing, queue lengths, MoE output
    assert all(ln.split(" | ")[8] == "0" for ln in rows[:TINY.model.tasks])  # no disagreement outside near-ties


def test_config_rejects_k_above_e():
    with pytest.raises(Exception, match=r"model.moe.top_k = 5 exceeds model.moe.experts = 4"):
        config_with_top_k(TINY, 5)


# ---------------------------------------------------------------------------------------------
# Published weights

@pytest.mark.published
@pytest.mark.parametrize("image, task", [("edge_moe", 0), ("edge_moe", 1), ("chelsea", 0)])
def test_routing_on_published_weights_matches_the_float_model(image, task):
    """Layer 1 (published gates): the fixed-point routing equals the float model's on every token that
    is not a near-tie (float logit gap <= 2 x the measured max logit error), slot by slot."""
    from scripts.moe_routing import compare, fixed_routing
    from cosim.moe_vectors import real_case
    from python_ref.model.real_data import published_run

    run = published_run(image, task)
    case = real_case(image, task)
    r = fixed_routing(run.cfg, run.tensors["layer1.ln2"], case.weights, task)
    a = compare(r, run.tensors, run.cfg)
    assert a.outside_disagreements == 0
    clear = ~(a.near_set | a.near_order)
    assert clear.sum() >= 0.9 * a.tokens
    assert np.all(a.slot_agree[clear])
    assert a.logit_err < 4e-3 and a.p_err_chosen < 1e-3
    assert not np.isin(np.nonzero(a.queue_lengths == 0)[0], r.active).any()


# ---------------------------------------------------------------------------------------------
# The call-descriptor stream (python_ref/kernels/moe.py: descriptor_words / decode_descriptors)

@pytest.mark.parametrize("k", [1, 2, 4])
def test_descriptor_stream_round_trip(k):
    """descriptor_words then decode_descriptors gives back the task, the gate rows and the schedule,
    call by call; the stream never exceeds max_descriptor_words."""
    from python_ref.kernels.moe import decode_descriptors, descriptor_words, max_descriptor_words
    cfg = K_VARIANTS[k]
    for task in range(cfg.model.tasks):
        for case in routing_cases(cfg, task).values():
            r = route(gate_logits(case.x_raw, case.weights.w_gate, task, cfg), cfg)
            s = expert_schedule(r, cfg)
            words = descriptor_words(r, s, task, cfg)
            assert len(words) <= max_descriptor_words(cfg)
            t, rows, back = decode_descriptors(words, cfg)
            assert (t, rows, back.first_load) == (task, cfg.model.tokens, s.first_load)
            assert len(back.calls) == len(s.calls)
            for a, b in zip(back.calls, s.calls):
                assert (a.step, a.expert, a.layer, a.buffer, a.gelu, a.prefetch) == \
                    (b.step, b.expert, b.layer, b.buffer, b.gelu, b.prefetch)
                for f in ("gather", "scatter", "scores"):
                    x, y = getattr(a, f), getattr(b, f)
                    assert (x is None and y is None) or np.array_equal(x, y), (case.name, a.step, f)


def test_descriptor_stream_rejects_a_broken_stream():
    """One bad field (a wrong kind, a dropped row word, a call after the last) is an error naming
    the word."""
    from python_ref.kernels.moe import DescriptorError, decode_descriptors, descriptor_words
    cfg = TINY
    case = next(iter(routing_cases(cfg, 0).values()))
    r = route(gate_logits(case.x_raw, case.weights.w_gate, 0, cfg), cfg)
    words = descriptor_words(r, expert_schedule(r, cfg), 0, cfg)
    bad_kind = words.copy()
    bad_kind[0] = int(bad_kind[0]) ^ (1 << 62)
    with pytest.raises(DescriptorError, match="descriptor word 0"):
        decode_descriptors(bad_kind, cfg)
    with pytest.raises(DescriptorError):
        decode_descriptors(np.delete(words, 3), cfg)
    with pytest.raises(DescriptorError, match="after the last"):
        decode_descriptors(np.concatenate([words, words[2:3]]), cfg)
