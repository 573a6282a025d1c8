"""The MoE router's HLS top (hls/src/moe.cpp: moe_top) in C simulation against python_ref
(gate_logits and route): beyond the registered vector set (tests/test_csim.py, both shipped configs),
Edge-MoE's defects as cases whose outputs are checked for the property itself as well as for
equality with python_ref, and top_k != 2 on tiny.yaml variants (k = 1, 3, 4 = E)."""
from __future__ import annotations

import numpy as np
import pytest

from cosim.csim import build_tb, generated_headers, run_tb
from cosim.moe_vectors import config_with_top_k, moe_csim, routing_cases
from python_ref.config import load_config

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
    vectors = moe_csim(cfg, cases=cases)
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


@pytest.mark.parametrize("k", [1, 3, 4])
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
    vectors = moe_csim(cfg, min_values=20_000)
    out = run_tb(build_tb("moe", cfg.name, gen), vectors, tmp_path / "random")
    assert out.exact, out.stderr[-2000:]
