"""Named MoE cases (gate, routing with patch reordering, expert loop) for the python_ref tests, the
later C-sim and RTL scoreboards, and scripts/moe_routing.py.

A :class:`MoECase` holds the unit's complete input (LN2(x) as raw act, the raw MoE weights, the task)
and, for the steered cases, the routing it is built to produce (``expected_topk``). Its expected
outputs are python_ref's (:meth:`MoECase.run`, :func:`case_arrays`).

Steering: the chosen task's gate is the identity on the first E input columns (1.0 in gate_weight)
and zero elsewhere, so ``logit[t][e] = x[t][e]`` exactly; x's first E columns then dictate every
token's experts (slot j gets 16 - j, the rest -16). Every steering value is a multiple of 2**-12
(exact in any activation operand of >= 12 fraction bits), so the construction does not depend on the
engine's operand rounding; :meth:`MoECase.check` verifies the routing a case promises.

Sets:

* :func:`routing_cases` (any config): the adversarial routings, including the three Edge-MoE
  defects (docs/moe.md): every logit equal, every logit at the act minimum (Edge-MoE's top-k never
  assigns a slot there), minimum logits but one, all tokens to one expert (a queue of all T tokens:
  Edge-MoE's direct-read path, no index stream for the scatter), all tokens to the same k experts
  (E - k experts unused), one token per expert, every expert active, ties inside and at the k-th
  place, 1-LSB logit differences whose probabilities round equal;
* :func:`random_cases`: realistic random LN2 outputs and seeded layer-1 weights, both tasks;
* :func:`real_cases`: the float model's layer-1 LN2 on the published weights (edge_moe only; the
  expert matrices are seeded stand-ins, listed in ``stand_ins``), skipped with
  :func:`python_ref.model.real_data.missing_reason`;
* :func:`published_moe_layer` / :func:`published_gate_logits`: the first MoE layer's LN2 rows and
  gate logits of the fixed-point network (python_ref.model.fixed_model) on the published weights and
  frame, every task (the router's and the MoE layer RTL's real-frame runs);
* :func:`logit_rows`: adversarial gate-logit rows for the softmax / top-k / queue stage alone.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from python_ref.config import Config, load_config, parse_config
from python_ref.kernels.moe import MoEResult, MoEWeights, moe_raw

MOE_LAYER = 1  # the first MoE layer (the published gates are exact there)
STEER_HIGH = 16.0  # x[t][expert in slot j] = STEER_HIGH - j
STEER_LOW = -16.0  # every other gate column


@dataclass(frozen=True)
class MoECase:
    name: str
    description: str
    cfg: Config
    x_raw: np.ndarray  # (T, D) raw act: LN2(x)
    weights: MoEWeights
    task: int
    expected_topk: np.ndarray | None = None  # (T, k): the routing the case is built to produce
    stand_ins: tuple = ()  # weight tensors that are seeded stand-ins (real cases)
    tags: tuple = field(default=())  # e.g. ("defect-a",)

    def run(self) -> MoEResult:
        return moe_raw(self.x_raw, self.weights, self.task, self.cfg)

    def check(self, result: MoEResult | None = None) -> MoEResult:
        """Run and verify the promised routing (raises AssertionError naming the case)."""
        res = self.run() if result is None else result
        if self.expected_topk is not None and not np.array_equal(res.topk_idx, self.expected_topk):
            bad = int(np.nonzero(np.any(res.topk_idx != self.expected_topk, axis=1))[0][0])
            raise AssertionError(f"MoE case {self.name!r}: token {bad} routes to {res.topk_idx[bad].tolist()}, "
                                 f"the case promises {self.expected_topk[bad].tolist()}")
        return res


def _plain(value):
    """A mutable deep copy of a parsed YAML document (plain dicts and lists; the config may hold it
    read-only)."""
    if isinstance(value, Mapping):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def config_with_top_k(cfg: Config, k: int) -> Config:
    """The same config with model.moe.top_k = k (validated by parse_config), named ``<name>_k<k>``."""
    raw = _plain(cfg.raw)
    raw["model"]["moe"]["top_k"] = k
    raw["name"] = f"{cfg.name}_k{k}"
    return parse_config(raw, f"{cfg.source} (top_k {k})")


# ---- weights --------------------------------------------------------------------------------------

_SEEDED: dict = {}


def seeded_moe_weights(cfg: Config, seed: int = 0) -> MoEWeights:
    """Layer 1's MoE weights of :func:`python_ref.model.weights.seeded_weights` (the same tensors:
    one generator per tensor name), quantized to their formats."""
    # imported here: python_ref.model loads torch (seconds per simulator run that needs none of it)
    from python_ref.model.weights import seeded_tensor, tensor_shapes
    key = (cfg.digest, seed)
    if key not in _SEEDED:
        p = f"l{MOE_LAYER}_"
        tensors = {n: seeded_tensor(n, s, seed) for n, s in tensor_shapes(cfg).items() if n.startswith(p)}
        _SEEDED[key] = MoEWeights.from_float(tensors, MOE_LAYER, cfg)
    return _SEEDED[key]


def _with_gate(weights: MoEWeights, task: int, gate_raw: np.ndarray) -> MoEWeights:
    g = weights.w_gate.copy()
    g[task] = gate_raw
    return MoEWeights(g, weights.w1, weights.b1, weights.w2, weights.b2)


def _grid(cfg: Config, v) -> np.ndarray:
    return cfg.fmt("act").from_float(np.asarray(v, dtype=np.float64)).astype(np.int64)


# ---- steered cases --------------------------------------------------------------------------------

def _background(cfg: Config, seed: int) -> np.ndarray:
    """LN2-like values (normal, sigma 2) on the 2**-12 grid: the inputs the experts see."""
    m = cfg.model
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0.0, 2.0, (m.tokens, m.dim)) * 4096) / 4096


def _identity_gate(cfg: Config) -> np.ndarray:
    m = cfg.model
    g = np.zeros((m.experts, m.dim))
    g[np.arange(m.experts), np.arange(m.experts)] = 1.0
    return g


def steered_case(cfg: Config, name: str, description: str, targets, task: int = 0, seed: int = 11,
                 tags: tuple = ()) -> MoECase:
    """A case whose token t chooses experts ``targets[t]`` (slot order; distinct per row)."""
    m = cfg.model
    targets = np.asarray(targets, dtype=np.int64)
    assert targets.shape == (m.tokens, m.top_k), (name, targets.shape)
    assert all(len(set(r)) == m.top_k for r in targets.tolist()), name
    x = _background(cfg, seed)
    x[:, :m.experts] = STEER_LOW
    for j in range(m.top_k):
        x[np.arange(m.tokens), targets[:, j]] = STEER_HIGH - j
    w = _with_gate(seeded_moe_weights(cfg), task, cfg.fmt("gate_weight").from_float(_identity_gate(cfg)))
    return MoECase(name, description, cfg, _grid(cfg, x), w, task, targets, tags=tags)


def _lowest_excluding(E: int, exclude, count: int) -> list:
    return [e for e in range(E) if e not in exclude][:count]


def routing_cases(cfg: Config, task: int = 0) -> dict[str, MoECase]:
    """The adversarial routings (see the module docstring), each for the chosen task's gate."""
    m = cfg.model
    T, E, k, D = m.tokens, m.experts, m.top_k, m.dim
    gfmt = cfg.fmt("gate_weight")
    base = seeded_moe_weights(cfg)
    first_k = np.tile(np.arange(k), (T, 1))
    cases = {}

    def add(case):
        cases[case.name] = case

    # (a) every logit equal: zero gate
    w = _with_gate(base, task, np.zeros((E, D), dtype=np.int64))
    add(MoECase("all logits equal", "zero gate: every logit 0, every slot a tie; experts 0..k-1 for every "
                "token (k queues of all T tokens, E - k experts unused)", cfg, _grid(cfg, _background(cfg, 12)),
                w, task, first_k, tags=("defect-a", "defect-b", "defect-c")))

    # (a) every logit at the act minimum: 4 columns of -128 times 1.0 = -512 = act.min
    if -4 * 128.0 == cfg.fmt("act").min and D >= 4:
        g = np.zeros((E, D))
        g[:, :4] = 1.0
        x = _background(cfg, 13)
        x[:, :4] = -128.0
        add(MoECase("all logits at the act minimum", "every logit = act.min (-512), Edge-MoE's initial "
                    "top-k score: a strict '>' never assigns a slot", cfg, _grid(cfg, x),
                    _with_gate(base, task, gfmt.from_float(g)), task, first_k, tags=("defect-a",)))
        if D >= 4 + E:
            # minimum logits but one expert 1 LSB above: logit = -512 + x[t][4+e] * W[e][4+e] = -512 + 2^-22
            g2 = g.copy()
            g2[np.arange(E), 4 + np.arange(E)] = 2.0 ** -10
            x2 = x.copy()
            x2[:, 4:4 + E] = 0.0
            up = np.arange(T) % E
            x2[np.arange(T), 4 + up] = 2.0 ** -12
            tk = np.array([[u] + _lowest_excluding(E, {u}, k - 1) for u in up.tolist()])
            add(MoECase("minimum logits but one", "every logit act.min except expert t % E, 1 LSB above; the "
                        "other slots are ties at the minimum (lowest indices)", cfg, _grid(cfg, x2),
                        _with_gate(base, task, gfmt.from_float(g2)), task, tk, tags=("defect-a",)))

    # (b) all tokens choose expert E-1 in slot 0: a queue of all T tokens
    others = [e for e in range(E - 1)]
    tk = np.array([[E - 1] + [others[(t + j) % len(others)] for j in range(k - 1)] if others else [E - 1]
                   for t in range(T)])
    add(steered_case(cfg, "all tokens to one expert", f"slot 0 of every token is expert {E - 1} (a queue of all "
                     f"{T} tokens); the other slots rotate over the rest" + (" (k = 1: one active expert)" if k == 1
                                                                            else ""),
                     tk, task, tags=("defect-b", "defect-c")))

    # (b, c) all tokens choose the same k experts, in descending index order
    tk = np.tile(np.arange(E - 1, E - 1 - k, -1), (T, 1))
    add(steered_case(cfg, "all tokens to the same k experts", f"every token: experts {tk[0].tolist()} (k queues "
                     f"of all {T} tokens, {E - k} experts unused)", tk, task, tags=("defect-b", "defect-c")))

    # one token per expert: experts 0..E-k-1 get exactly one token each (first, last, spread between)
    sinks = list(range(E - k, E))
    singles = list(range(E - k))
    if singles and len(singles) <= T:
        pos = np.unique(np.round(np.linspace(0, T - 1, len(singles))).astype(int))
        if len(pos) == len(singles):
            tk = np.tile(np.array(sinks[::-1]), (T, 1))
            for a, t in zip(singles, pos.tolist()):
                tk[t] = [a] + sinks[::-1][:k - 1]
            add(steered_case(cfg, "one token per expert", f"experts 0..{E - k - 1} each get exactly one token "
                             f"(tokens {pos.tolist()}), the rest go to experts {sinks}", tk, task,
                             tags=("defect-c",)))

    # every expert active: round robin
    tk = np.array([[(t + j) % E for j in range(k)] for t in range(T)])
    add(steered_case(cfg, "every expert active", "token t: experts t, t+1, ... mod E (round robin, all E active)",
                     tk, task, tags=("defect-c",)))

    # ties inside the top k and at the k-th place: leader, then a == b (the lower index first), then
    # every other expert tied at the low value (by index)
    if E >= 3:
        x = _background(cfg, 14)
        x[:, :E] = STEER_LOW
        tk = []
        for t in range(T):
            leader = t % E
            rest = [e for e in range(E) if e != leader]
            a, b = rest[t % len(rest)], rest[(t + 1 + t // E) % len(rest)]
            if a == b:
                b = rest[(rest.index(a) + 1) % len(rest)]
            a, b = min(a, b), max(a, b)
            x[t, leader] = STEER_HIGH
            x[t, a] = x[t, b] = 8.0
            row = [leader, a, b] + [e for e in range(E) if e not in (leader, a, b)]
            tk.append(row[:k])
        add(MoECase("ties at the k-th place", "a leader, then two equal logits (the lower index first), then "
                    "the rest tied at the low value", cfg, _grid(cfg, x),
                    _with_gate(base, task, gfmt.from_float(_identity_gate(cfg))), task, np.array(tk),
                    tags=("defect-a",)))

    # 1-LSB logit differences: logit[e] = 0.5 + e * 2^-22 (probabilities round equal), largest index wins
    if D >= E + 1:
        g = _identity_gate(cfg)
        g[:, E] = np.arange(E) * 2.0 ** -10
        x = _background(cfg, 15)
        x[:, :E] = 0.5
        x[:, E] = 2.0 ** -12
        tk = np.tile(np.arange(E - 1, E - 1 - k, -1), (T, 1))
        add(MoECase("1-LSB logit differences", "logit[e] = 0.5 + e LSB: the fixed-point probabilities of "
                    "neighbours round equal, top-k by logit still picks the largest indices", cfg, _grid(cfg, x),
                    _with_gate(base, task, gfmt.from_float(g)), task, tk))
    return cases


# ---- random and real cases ----------------------------------------------------------------------

def random_cases(cfg: Config, seeds=(21, 22)) -> dict[str, MoECase]:
    """LN2-like x (normal, sigma 2 to 4, per-token offsets) and seeded layer-1 weights, both tasks."""
    out = {}
    w = seeded_moe_weights(cfg)
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        m = cfg.model
        x = rng.normal(0.0, 1.0, (m.tokens, m.dim)) * rng.uniform(2.0, 4.0, (m.tokens, 1)) + rng.normal(0, 0.5, (m.tokens, 1))
        task = i % m.tasks
        name = f"random seed {seed} task {task}"
        out[name] = MoECase(name, "LN2-like random x, seeded layer-1 weights", cfg, _grid(cfg, x), w, task)
    return out


@lru_cache(maxsize=2)
def published_moe_weights(stand_in_seed: int = 0) -> tuple[MoEWeights, tuple]:
    """Layer 1's MoE weights from the published folder (only that layer's files are read), the
    missing expert matrices replaced by the seeded stand-ins of ``stand_in_seed`` (the same tensors as
    ``load_edge_moe_weights(..., stand_in_experts=True)``: one generator per tensor name). Returns
    (weights, names of the stand-ins)."""
    from python_ref.model.real_data import PUBLISHED_CONFIG, missing_reason
    from python_ref.model.weights import FILE_SUFFIX, default_weights_dir, seeded_tensor, tensor_shapes

    cfg = load_config(PUBLISHED_CONFIG)
    reason = missing_reason(cfg)
    if reason:
        raise FileNotFoundError(reason)
    d = default_weights_dir()
    tensors, stand_ins = {}, []
    for name, shape in tensor_shapes(cfg).items():
        if not name.startswith(f"l{MOE_LAYER}_"):
            continue
        path = d / (name + FILE_SUFFIX)
        if path.is_file():
            a = np.fromfile(path, dtype="<f4")
            if a.size != int(np.prod(shape)):
                raise ValueError(f"{path}: {a.size} float32 values, config {cfg.name!r} expects {name} of shape {shape}")
            tensors[name] = a.reshape(shape)
        else:
            tensors[name] = seeded_tensor(name, shape, stand_in_seed)
            stand_ins.append(name)
    return MoEWeights.from_float(tensors, MOE_LAYER, cfg), tuple(stand_ins)


def real_case(image: str = "edge_moe", task: int = 0) -> MoECase:
    """Layer 1 of the float model (float64) on the published weights and ``image``: x = act(LN2).
    Raises FileNotFoundError (with the missing reason) without the published folder."""
    from python_ref.model.real_data import published_run

    run = published_run(image, task)
    cfg = run.cfg
    w, stand_ins = published_moe_weights()
    x = _grid(cfg, run.tensors[f"layer{MOE_LAYER}.ln2"])
    return MoECase(f"real {image} task {task}", f"layer {MOE_LAYER} LN2 of the float model on {image}, published "
                   f"gate; expert matrices are seeded stand-ins", cfg, x, w, task, None, stand_ins)


def real_cases(images=("edge_moe", "chelsea"), tasks=(0, 1)) -> dict[str, MoECase]:
    """Every (image, task) pair; empty when the published weights are absent (see missing_reason)."""
    from python_ref.model.real_data import missing_reason

    if missing_reason() is not None:
        return {}
    cases = (real_case(i, t) for i in images for t in tasks)
    return {c.name: c for c in cases}


_FIXED_LAYER: dict = {}


def published_moe_layer(cfg: Config | None = None, image: str = "edge_moe") -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """The first MoE layer of the fixed-point network (python_ref.model.fixed_model: the frame exactly
    as the accelerator computes it, every layer before it on the published weights) on ``image``, for
    every task: name -> (LN2(x) (T, D) raw act, gate logits (T, E) raw act, task). Its expert weights
    are :func:`published_moe_weights` (published gate, seeded stand-in expert matrices: the network's
    own). ``cfg`` defaults to edge_moe.yaml; it must have the published shapes. Raises
    FileNotFoundError (with the missing reason) without the published folder."""
    from python_ref.model.fixed_model import FixedM3ViT
    from python_ref.model.images import load_image
    from python_ref.model.real_data import PUBLISHED_CONFIG, missing_reason, published_weights

    cfg = load_config(PUBLISHED_CONFIG) if cfg is None else cfg
    reason = missing_reason(cfg)
    if reason:
        raise FileNotFoundError(reason)
    key = (cfg.digest, image)
    if key not in _FIXED_LAYER:
        model = FixedM3ViT(cfg, published_weights())
        pixels = load_image(cfg, image).raw
        frames = {t: model(pixels, t) for t in range(cfg.model.tasks)}
        _FIXED_LAYER[key] = {f"{image} layer {MOE_LAYER} task {t}": (f.moe_in[MOE_LAYER], f.moe[MOE_LAYER].routing.logits, t)
                             for t, f in frames.items()}
    return _FIXED_LAYER[key]


def published_gate_logits(cfg: Config | None = None, image: str = "edge_moe") -> dict[str, tuple[np.ndarray, int]]:
    """The first MoE layer's gate logits of the fixed-point network on ``image``, every task: name ->
    ((T, E) raw act, task) (:func:`published_moe_layer`'s logits; the expert matrices, seeded
    stand-ins, do not reach them)."""
    return {name: (logits, task) for name, (_, logits, task) in published_moe_layer(cfg, image).items()}


def all_cases(cfg: Config, real: bool = True) -> dict[str, MoECase]:
    """Adversarial (both tasks' gates steered in turn), random, and (edge_moe, weights present) real."""
    out = {}
    for task in range(cfg.model.tasks):
        for name, c in routing_cases(cfg, task).items():
            out[f"{name} (task {task})"] = c
    out.update(random_cases(cfg))
    if real and cfg.name == "edge_moe":
        out.update(real_cases())
    return out


def case_arrays(case: MoECase, result: MoEResult | None = None) -> dict[str, np.ndarray]:
    """Inputs and python_ref's expected outputs as flat integer arrays (for scoreboards and files):
    queues concatenated in expert order with their lengths."""
    r = case.run() if result is None else result
    return {
        "task": np.array([case.task]), "x": case.x_raw, "w_gate": case.weights.w_gate, "w1": case.weights.w1,
        "b1": case.weights.b1, "w2": case.weights.w2, "b2": case.weights.b2,
        "logits": r.logits, "p": r.p, "topk_idx": r.topk_idx, "topk_score": r.topk_score,
        "queue_lengths": r.routing.queue_lengths,
        "queue_tokens": np.concatenate(r.queues).astype(np.int64),
        "queue_scores": np.concatenate(r.queue_scores).astype(np.int64),
        "active": np.array(r.active, dtype=np.int64), "moe_acc": r.moe_acc,
    }


# ---- gate-logit rows for the routing stage alone --------------------------------------------------

def logit_rows(cfg: Config, rows: int = 8, seed: int = 31) -> dict[str, np.ndarray]:
    """Named (rows, E) raw act logit blocks for :func:`python_ref.kernels.moe.route` alone."""
    act = cfg.fmt("act")
    E = cfg.model.experts
    rng = np.random.default_rng(seed)
    lo, hi = act.raw_min, act.raw_max
    full = lambda v: np.full((rows, E), v, dtype=np.int64)  # noqa: E731
    blocks = {
        "all equal (0)": full(0),
        "all equal (min)": full(lo),
        "all equal (max)": full(hi),
        "min except one": np.where(np.arange(E)[None, :] == (np.arange(rows) % E)[:, None], lo + 1, lo),
        "max and min alternating": np.tile(np.where(np.arange(E) % 2 == 0, hi, lo), (rows, 1)),
        "ascending by 1 LSB": np.tile(np.arange(E, dtype=np.int64), (rows, 1)),
        "descending": np.tile(_grid(cfg, np.linspace(8, -8, E)), (rows, 1)),
        "two levels": np.where(rng.random((rows, E)) < 0.5, _grid(cfg, 3.0), _grid(cfg, -3.0)),
        "full range": rng.integers(lo, hi + 1, (rows, E), dtype=np.int64),
        "gate-like": _grid(cfg, rng.normal(0, 3, (rows, E))),
    }
    return blocks



# ---- the router's C-sim vectors (hls/tb/moe_tb.cpp) -----------------------------------------------

def router_expected(x_raw: np.ndarray, w_gate: np.ndarray, task: int, cfg: Config) -> np.ndarray:
    """moe_tb's outputs for one case according to python_ref (gate_logits and route): status 0,
    logits, p, topk_idx, topk_score, queue lengths, the queues' tokens and scores concatenated in
    expert order, the number of active experts and the active list."""
    from python_ref.kernels.moe import gate_logits, route
    r = route(gate_logits(x_raw, w_gate, task, cfg), cfg)
    parts = [[0], r.logits, r.p, r.topk_idx, r.topk_score, r.queue_lengths, *r.queues, *r.queue_scores,
             [len(r.active)], list(r.active)]
    return np.concatenate([np.asarray(p, dtype=np.int64).reshape(-1) for p in parts])


def router_cases(cfg: Config, min_values: int = 100_000, seed: int = 41) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    """(name, x, w_gate, task) for the router: every routing case for every task's gate (all T tokens
    to one expert, all logits equal, E - k experts unused, one token per expert, ...), then random
    LN2-like rows with random gates (random task) until the expected outputs hold ``min_values``
    values."""
    m = cfg.model
    out = []
    for task in range(m.tasks):
        for name, c in routing_cases(cfg, task).items():
            out.append((f"{name} (task {task})", c.x_raw, c.weights.w_gate, c.task))
    per_case = 1 + 2 * m.tokens * m.experts + 4 * m.tokens * m.top_k + 2 * m.experts + 1
    rng = np.random.default_rng(seed)
    gfmt = cfg.fmt("gate_weight")
    n_random = max(4, -(-(min_values - per_case * len(out)) // per_case))
    for i in range(n_random):
        x = rng.normal(0.0, 1.0, (m.tokens, m.dim)) * rng.uniform(0.5, 4.0, (m.tokens, 1)) \
            + rng.normal(0, 0.5, (m.tokens, 1))
        w = np.clip(rng.normal(0.0, rng.uniform(0.05, 0.5), (m.tasks, m.experts, m.dim)), -1.9, 1.9)
        if i % 8 == 7:  # coarse gates: many exactly equal logits (ties broken by index)
            w = np.round(w * 4) / 4
            x = np.round(x)
        out.append((f"random {i}", _grid(cfg, x), gfmt.from_float(w).astype(np.int64), int(rng.integers(m.tasks))))
    return out


# moe_layer_top's cases on a large config (edge_moe: about a second of C-sim each, besides the
# expert part's packing, once): the full queue and a random layer of the other task; the whole set
# there is tests/test_csim_moe.py's slow test.
LARGE_LAYER_CASES = ("all tokens to one expert (task 0)", "random seed 22 task 1")


def layer_cases(cfg: Config, full: bool | None = None) -> list[tuple[str, MoECase]]:
    """(name, case) for moe_layer_top: every routing case (:func:`routing_cases`: all tokens to one
    expert, E - k experts unused, ties, ...) through each task's gate, then the random LN2-like
    layers of :func:`random_cases` (both tasks). ``full`` (default: a small config, T x D <= 4096 as
    cosim.backbone_vectors.default_cases decides) False: only :data:`LARGE_LAYER_CASES`."""
    m = cfg.model
    full = m.tokens * m.dim <= 4096 if full is None else full
    cases = all_cases(cfg, real=False)
    return list(cases.items()) if full else [(n, cases[n]) for n in LARGE_LAYER_CASES]


def layer_vectors(cfg: Config, layers) -> tuple[dict, dict, np.ndarray]:
    """moe_tb's layer part for ``layers`` ((name, MoECase) pairs): (meta, input files, expected).
    The weights go as the MoE part of a MoE block of backbone_top's weight image
    (cosim.backbone_vectors.pack_moe_weights: every task's gate, then the experts), split into the
    per-case gate words (layer_gate.txt) and the distinct expert parts (layer_experts.txt, each case
    naming its part in layer_cases.txt) so that cases sharing their experts do not repeat them; the
    testbench joins them. layer_layout.txt: the packer's offsets, checked against moe_layer.h.
    Expected: python_ref's moe_raw(h, weights, task, cfg).moe_acc per case."""
    from cosim.backbone_vectors import hex_words, pack_moe_experts, pack_moe_gate, weight_layout
    lay = weight_layout(cfg)
    layout = {"experts": lay["experts"] - lay["gate"], "expert_w1": lay["expert_w1"], "expert_b1": lay["expert_b1"],
              "expert_w2": lay["expert_w2"], "expert_b2": lay["expert_b2"], "expert_words": lay["expert_words"],
              "weight_words": lay["moe_layer_words"] - lay["gate"]}
    experts: dict[tuple, int] = {}  # id()s of (w1, b1, w2, b2) -> index of the packed part
    kept, expert_words, gate_words, rows, hs, expected = [], [], [], [], [], []
    for _, c in layers:
        w = c.weights
        key = (id(w.w1), id(w.b1), id(w.w2), id(w.b2))
        if key not in experts:
            experts[key] = len(experts)
            kept.append(w)  # keeps the ids valid while the dict is in use
            expert_words += pack_moe_experts(cfg, w)
        gate_words += pack_moe_gate(cfg, w.w_gate)
        rows.append(f"{c.task} {experts[key]}\n")
        hs.append(np.asarray(c.x_raw, dtype=np.int64).reshape(-1))
        expected.append(c.run().moe_acc.reshape(-1))
    empty = np.zeros(0, dtype=np.int64)
    meta = {"layer_cases": len(layers), "layer_experts": len(experts)}
    files = {"layer_cases.txt": "".join(rows), "layer_h.txt": np.concatenate(hs) if hs else empty,
             "layer_gate.txt": hex_words(gate_words) if gate_words else "",
             "layer_experts.txt": hex_words(expert_words) if expert_words else "",
             "layer_layout.txt": "".join(f"{k} {v}\n" for k, v in layout.items())}
    return meta, files, np.concatenate(expected) if expected else empty


def moe_csim(cfg: Config, min_values: int = 100_000, cases=None, layers=None):
    """moe_tb's vector folder (registry entry "moe"): the router part, ``cases`` (default
    :func:`router_cases` with ``min_values``) through moe_top, python_ref expected
    (:func:`router_expected`); then the layer part, ``layers`` (default :func:`layer_cases`; [] for
    none) through moe_layer_top (:func:`layer_vectors`)."""
    from cosim.csim import VectorSet
    cases = router_cases(cfg, min_values) if cases is None else cases
    layers = layer_cases(cfg) if layers is None else list(layers)
    def flat(arrays):
        return np.concatenate([np.asarray(a, dtype=np.int64).reshape(-1) for a in arrays] or [np.zeros(0, np.int64)])

    expected = flat(router_expected(x, w, t, cfg) for _, x, w, t in cases)
    lmeta, lfiles, lexpected = layer_vectors(cfg, layers)
    return VectorSet("moe", {"cases": len(cases), **lmeta},
                     {"task.txt": np.array([t for *_, t in cases], dtype=np.int64),
                      "x.txt": flat(x for _, x, _, _ in cases), "w_gate.txt": flat(w for _, _, w, _ in cases),
                      **lfiles},
                     np.concatenate([expected, lexpected]),
                     notes={"cases": [n for n, *_ in cases], "layers": [n for n, _ in layers],
                            "router_values": expected.size})


def expert_call_cycles(cfg: Config, sched, ready: list[int], done: list[int], first_x: int, fifo=None,
                       label: str = "", resume: tuple[int, int] | None = None, gate_rows: int = 0,
                       w_bits: int | None = None) -> list[dict]:
    """Per engine call of an expert schedule (python_ref's decode_descriptors(...)[2]): the measured
    ap_ready / ap_done cycles (``ready``, ``done``: absolute, one per call) relative to the first call's
    ap_ready, next to cosim.linear_schedule.Sequence (``w_bits``: the engine's w_ word, default
    hardware.axi_width) with every call offered at once and the first
    call's x_ from ``first_x`` (the cycle the unit first offers it, relative to the same origin), with
    the weights unthrottled or (``fifo``: a cosim.weight_fifo_schedule.WeightFifo on the same origin)
    through the prefetch FIFO ("model_*"), the same with x_ there at once and no FIFO ("ideal_*"), and
    the call alone (predicted_cycles, "isolated"). The benches of rtl/src/moe_layer.sv and
    rtl/src/moe_experts.sv compare them; ``label`` names the layer in the error when a call's
    ap_ready or ap_done is missing.

    ``resume`` (rtl/src/moe_layer_gate.sv): the gate call (E x D, ``gate_rows`` = T, no GELU) is call 0,
    in front of the schedule's calls, and the first expert call waits for the routing: (the cycle its
    ap_start rose, the cycle its x_ was first offered), measured on the same origin, are the host's
    start and x_ offer of that call in the models (the routing's latency is not theirs)."""
    from cosim.linear_schedule import SeqCall, Sequence, predicted_cycles
    m = cfg.model
    calls_in = [(c.layer, c.expert, c.rows, c.gelu) for c in sched.calls]
    if resume is not None:
        calls_in = [("gate", None, gate_rows, False)] + calls_in
    if len(ready) != len(calls_in) or len(done) != len(calls_in):
        raise AssertionError(f"{label}: {len(ready)} ap_ready, {len(done)} ap_done for {len(calls_in)} calls")
    base = ready[0]
    ideal, model = Sequence(cfg, w_bits=w_bits), Sequence(cfg, w_bits=w_bits, fifo=fifo)
    shapes = {"fc1": (m.expert_hidden, m.dim), "fc2": (m.dim, m.expert_hidden), "gate": (m.experts, m.dim)}
    calls = []
    for n, (layer, expert, rows, gelu) in enumerate(calls_in):
        shape = shapes[layer]
        sc = dict(n_out=shape[0], n_in=shape[1], rows=rows, gelu=gelu)
        if resume is not None and n == 1:
            mi = ideal.add(SeqCall(**sc, start=resume[0]))
            mf = model.add(SeqCall(**sc, start=resume[0], x_from=resume[1] - 1))
        else:
            mi = ideal.add(SeqCall(**sc))
            mf = model.add(SeqCall(**sc, x_from=first_x - 1 if n == 0 else None))
        calls.append({"call": n, "layer": layer, "expert": expert, "rows": rows,
                      "ready": ready[n] - base, "done": done[n] - base,
                      "model_ready": mf.ready, "model_done": mf.done,
                      "ideal_ready": mi.ready, "ideal_done": mi.done,
                      "isolated": predicted_cycles(cfg, shape[0], shape[1], rows, gelu, w_bits=w_bits).cycles})
    return calls
