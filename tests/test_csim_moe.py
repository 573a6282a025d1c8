"""The MoE kernel's HLS tops in C simulation against python_ref: the router (hls/src/moe.cpp: moe_top;
gate_logits and route) and the whole layer (hls/src/moe_layer.cpp: moe_layer_top; moe_raw's moe_acc).
Beyond the registered vector set (tests/test_csim.py, both shipped configs): Edge-MoE's defects as
router cases whose outputs are checked for the property itself as well as for equality with
python_ref; top_k != 2 on tiny.yaml variants (k = 1, 3, 4 = E), router and layer; the layer's
moe_acc against python_ref's run_schedule(route(gate_logits(...))) for every routing case and random
layers of both tasks; a wrong expected moe_acc value, one flipped weight bit and a layout that
disagrees with moe_layer.h must fail. make test-full adds every layer case on edge_moe.yaml."""
from __future__ import annotations

import numpy as np
import pytest

from cosim.csim import build_tb, generated_headers, run_tb
from cosim.moe_vectors import config_with_top_k, layer_cases, moe_csim, routing_cases
from python_ref.config import load_config
from python_ref.kernels.moe import expert_schedule, gate_logits, route, run_schedule

pytestmark = pytest.mark.csim
TINY = load_config("tiny")


def parse(out: np.ndarray, cfg, n_cases: int) -> list[dict]:
    """Split moe_tb's outputs into one dict per case (the layout of hls/tb/moe_tb.cpp)."""
    m = cfg.model
    T, E, K = m.tokens, m.experts, m.top_k
    res, i = [], 0

    def take(n):
        nonlocal i
        v = out[i:i + n]
        i += n
        return v

    for _ in range(n_cases):
        r = {"status": int(take(1)[0]), "logits": take(T * E).reshape(T, E), "p": take(T * E).reshape(T, E),
             "topk_idx": take(T * K).reshape(T, K), "topk_score": take(T * K).reshape(T, K),
             "queue_len": take(E)}
        lens = r["queue_len"].tolist()
        toks, scs = take(sum(lens)), take(sum(lens))
        cut = np.cumsum([0] + lens)
        r["queues"] = [toks[cut[e]:cut[e + 1]].tolist() for e in range(E)]
        r["queue_scores"] = [scs[cut[e]:cut[e + 1]].tolist() for e in range(E)]
        r["active"] = take(int(take(1)[0])).tolist()
        res.append(r)
    assert i == len(out), f"{len(out) - i} outputs left over"
    return res


def run_cases(cfg, tmp_path, generated=None):
    cases = [(f"{name} (task {task})", c.x_raw, c.weights.w_gate, c.task) for task in range(cfg.model.tasks)
             for name, c in routing_cases(cfg, task).items()]
    vectors = moe_csim(cfg, cases=cases, layers=[])
    res = run_tb(build_tb("moe", cfg.name, generated), vectors, tmp_path)
    assert res.exact, f"moe/{cfg.name}: {res.mismatches} mismatches\n{res.stderr[-2000:]}"
    assert np.array_equal(res.out, vectors.expected)
    return dict(zip([n for n, *_ in cases], parse(res.out, cfg, len(cases))))


def check_invariants(name, r, cfg):
    """Properties every routing has: status 0, k distinct experts per token, slot 0 the largest
    logit, ties to the lower index, queues ascending and consistent with top-k, active = non-empty."""
    m = cfg.model
    T, E, K = m.tokens, m.experts, m.top_k
    assert r["status"] == 0, name
    for t in range(T):
        idx = r["topk_idx"][t].tolist()
        assert len(set(idx)) == K and all(0 <= e < E for e in idx), (name, t, idx)
        keys = [(-int(r["logits"][t, e]), e) for e in idx]
        assert keys == sorted(keys), (name, t, idx)  # descending logit, ties ascending index
        rest = [(-int(r["logits"][t, e]), e) for e in range(E) if e not in idx]
        assert not rest or max(keys) < min(rest), (name, t)  # nothing left out beats a chosen one
    for e in range(E):
        want = [t for t in range(T) if e in r["topk_idx"][t].tolist()]
        assert r["queues"][e] == want, (name, e)
        assert r["queue_len"][e] == len(want)
    assert r["active"] == [e for e in range(E) if r["queue_len"][e] > 0], name
    assert sum(r["queue_len"].tolist()) == T * K


@pytest.mark.parametrize("config", ["tiny", pytest.param("edge_moe", marks=pytest.mark.slow)])
def test_edge_moe_defects(config, tmp_path):
    cfg = load_config(config)
    m = cfg.model
    T, E, K = m.tokens, m.experts, m.top_k
    res = run_cases(cfg, tmp_path)
    for name, r in res.items():
        check_invariants(name, r, cfg)
    for task in range(m.tasks):
        # (b) all T tokens to one expert: an explicit queue of every token, in order, and its fc2
        # partner queue complete too (no direct-read path without an index stream)
        r = res[f"all tokens to one expert (task {task})"]
        assert max(r["queue_len"].tolist()) == T
        assert [t for q in r["queues"] if len(q) == T for t in q] == list(range(T))
        # (a) every logit equal: every slot assigned, the k lowest experts, in order
        r = res[f"all logits equal (task {task})"]
        assert np.all(r["logits"] == r["logits"][0, 0])
        assert np.array_equal(r["topk_idx"], np.tile(np.arange(K), (T, 1)))
        assert r["active"] == list(range(K)) and r["queue_len"][:K].tolist() == [T] * K
        r = res[f"all logits at the act minimum (task {task})"]
        assert np.all(r["logits"] == cfg.fmt("act").raw_min)
        assert np.array_equal(r["topk_idx"], np.tile(np.arange(K), (T, 1)))
        # E - k experts unused: never active, empty queues
        r = res[f"all tokens to the same k experts (task {task})"]
        assert len(r["active"]) == K and sum(1 for n in r["queue_len"].tolist() if n == 0) == E - K
        # one token per expert: queues of length 1 exist
        r = res[f"one token per expert (task {task})"]
        assert 1 in r["queue_len"].tolist()
        r = res[f"every expert active (task {task})"]
        assert r["active"] == list(range(E))


# make test: the extremes k = 1 and k = E; k = 3 (one C++ build of its own) in make test-full
@pytest.mark.parametrize("k", [1, pytest.param(3, marks=pytest.mark.slow), 4])
def test_other_top_k(k, tmp_path):
    """tiny.yaml with top_k = k (k = 4 = E: every expert has every token): the routing cases and
    random rows, bit-exact, and the invariants."""
    cfg = config_with_top_k(TINY, k)
    gen = generated_headers(cfg)
    res = run_cases(cfg, tmp_path / "cases", gen)
    for name, r in res.items():
        check_invariants(name, r, cfg)
        if k == cfg.model.experts:
            assert r["active"] == list(range(k)) and r["queue_len"].tolist() == [cfg.model.tokens] * k
    vectors = moe_csim(cfg, min_values=20_000)  # and every layer case through moe_layer_top
    assert len(vectors.notes["layers"]) == 2 * len(routing_cases(cfg)) + 2
    out = run_tb(build_tb("moe", cfg.name, gen), vectors, tmp_path / "random")
    assert out.exact, out.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# moe_layer_top: the whole layer


def layer_outputs(cfg, vectors, out) -> list[np.ndarray]:
    """moe_tb's layer part: one (T, D) moe_acc per layer case."""
    m = cfg.model
    tail = out[vectors.notes["router_values"]:]
    assert tail.size == len(vectors.notes["layers"]) * m.tokens * m.dim
    return list(tail.reshape(-1, m.tokens, m.dim))


def run_layers(cfg, tmp_path, full=None, exe=None):
    layers = layer_cases(cfg, full)
    vectors = moe_csim(cfg, cases=[], layers=layers)
    res = run_tb(exe or build_tb("moe", cfg.name), vectors, tmp_path)
    assert res.exact, f"moe_layer_top/{cfg.name}: {res.mismatches} mismatches\n{res.stderr[-2000:]}"
    return layers, layer_outputs(cfg, vectors, res.out)


def check_layers(cfg, layers, got):
    """Each moe_acc equals python_ref's run_schedule on route(gate_logits(...)) (the spec's steps, not
    the vector set's expectation); every token has k experts, so no row of moe_acc is all zero unless
    python_ref's is; the task selects the gate."""
    for (name, c), acc in zip(layers, got):
        r = route(gate_logits(c.x_raw, c.weights.w_gate, c.task, cfg), cfg)
        want = run_schedule(c.x_raw, c.weights, expert_schedule(r, cfg), cfg)
        assert np.array_equal(acc, want), f"{name}: {np.count_nonzero(acc != want)} values differ"
        assert np.array_equal(np.any(acc != 0, axis=1), np.any(want != 0, axis=1)), name
    assert {c.task for _, c in layers} == set(range(cfg.model.tasks))


def test_layer_equals_python_ref(tmp_path):
    cfg = TINY
    layers, got = run_layers(cfg, tmp_path)
    assert len(layers) == 2 * len(routing_cases(cfg)) + 2  # every routing case per task, two random layers
    check_layers(cfg, layers, got)
    names = [n for n, _ in layers]
    # a steered case is the same rows and routing through task 0's or task 1's gate (the other task's
    # gate seeded): equal moe_acc, so the top routes with the selected task's gate only
    a, b = (got[names.index(f"all tokens to one expert (task {t})")] for t in (0, 1))
    assert np.array_equal(a, b)
    other = layers[names.index("all tokens to one expert (task 1)")][1]
    assert not np.array_equal(route(gate_logits(other.x_raw, other.weights.w_gate, 0, cfg), cfg).topk_idx,
                              other.expected_topk)


@pytest.mark.slow
def test_layer_equals_python_ref_edge_moe(tmp_path):
    cfg = load_config("edge_moe")
    layers, got = run_layers(cfg, tmp_path, full=True)
    check_layers(cfg, layers, got)


def test_layer_wrong_expectation_fails(tmp_path):
    """One expected moe_acc value off by one: exit 1, one mismatch, named as a layer value."""
    vectors = moe_csim(TINY, cases=[], layers=layer_cases(TINY)[:3])
    vectors.expected = vectors.expected.copy()
    k = vectors.expected.size - 5
    vectors.expected[k] += 1
    res = run_tb(build_tb("moe", "tiny"), vectors, tmp_path)
    assert res.mismatches == 1 and np.flatnonzero(res.out != vectors.expected).tolist() == [k]
    assert "mismatch layer value" in res.stderr and "moe_acc of layer case 2" in res.stderr


def test_layer_one_weight_bit_fails(tmp_path):
    """The lowest bit of an active expert's first W1 word and of the task's gate flipped in the
    packed MoE part: moe_acc changes (the words are read where backbone.h's layout puts them)."""
    name = "all tokens to one expert (task 0)"
    layers = [(n, c) for n, c in layer_cases(TINY) if n == name]
    exe = build_tb("moe", "tiny")
    for part in ("layer_experts.txt", "layer_gate.txt"):
        vectors = moe_csim(TINY, cases=[], layers=layers)
        words = vectors.inputs[part].split()
        lay = dict(line.split() for line in vectors.inputs["layer_layout.txt"].splitlines())
        # expert E-1 holds every token (W1's first word); the gate: task 0's expert 0 row, first word
        at = (TINY.model.experts - 1) * int(lay["expert_words"]) if part == "layer_experts.txt" else 0
        words[at] = f"{int(words[at], 16) ^ 1:x}"
        vectors.inputs[part] = "\n".join(words) + "\n"
        res = run_tb(exe, vectors, tmp_path / part)
        assert res.mismatches > 0 and "mismatch layer value" in res.stderr, part


def test_layer_layout_disagreement_is_reported(tmp_path):
    import subprocess

    vectors = moe_csim(TINY, cases=[], layers=layer_cases(TINY)[:1])
    vectors.inputs["layer_layout.txt"] = vectors.inputs["layer_layout.txt"].replace("\nexpert_b2 ", "\nexpert_b2 1")
    folder = vectors.write(tmp_path / "v")
    res = subprocess.run([str(build_tb("moe", "tiny")), str(folder)], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "layer_layout.txt: expert_b2" in res.stderr, res.stderr
