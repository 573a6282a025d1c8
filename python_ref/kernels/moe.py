"""Mixture of experts (the odd layers' MLP): gate, routing with patch reordering, and the expert loop
on the unified compute unit. The numerical specification that the later hls/ and rtl/ MoE units
implement bit for bit. Semantics are the float model's (``python_ref.model.float_model.MoE``, checked
against M3ViT's noisy_vmoe gate at inference); see docs/moe.md.

Input: ``x`` = LN2 of the block input, raw ``act`` integers (T x D, T = tokens, D = dim); the task
(which of the ``tasks`` gates) is a run-time input. Formats (edge_moe.yaml):

=================  ==========================================  ===========================================
value              format                                      produced by
=================  ==========================================  ===========================================
x                  act ``ap_fixed<32,10,AP_TRN,AP_WRAP>``      LayerNorm (input of this unit)
W_gate[task]       gate_weight ``ap_fixed<16,2>`` (E x D)      weights
logits             act                                         the linear engine, zero bias
e, p               PROB_FORMAT ``ap_ufixed<25,1>``              the two-pass softmax
topk_idx           integer expert indices (T x k)              top-k by logit
score              act                                         ``act(p)`` of the chosen expert
W1_e / b1_e        weight ``ap_fixed<16,2>`` (Hx x D) / bias   weights
h                  act                                         fc1 + GELU unit
W2_e / b2_e        weight (D x Hx) / bias ``ap_fixed<16,5>``   weights
moe_acc            act (T x D)                                 fc2, scaled scatter-accumulate
=================  ==========================================  ===========================================

1. **Gate logits**: ``logits = compute_linear(x, W_gate[task], 0)`` on the unified compute unit
   (:func:`python_ref.kernels.linear.compute_linear` with ``w_fmt`` = gate_weight and a zero bias in
   the bias format). This module never re-implements the engine's arithmetic: when the engine's
   numerical rule changes, the gate follows.
2. **Probabilities** over all E experts of each token: the two-pass softmax
   (:func:`python_ref.kernels.softmax.softmax_two_pass_raw`: exact max, one exp per logit, exact
   integer sum, reciprocal, ``p = round(e * r)``), the same definition as the attention unit's.
   Nothing in it depends on the order in which the logits arrive (max and integer sum are order-free,
   each p depends only on its own logit and the row statistics), so permuting the experts permutes p
   exactly.
3. **Top-k**: the k largest *logits* (exact act values), ties to the lower expert index, slot 0 the
   largest (most probable). Softmax is strictly monotone in the logit, so for the float model this is
   the same choice as the k largest probabilities; on the fixed-point side it avoids spurious ties of
   distinct logits whose probabilities round to the same PROB_FORMAT value (a 1-LSB logit difference
   changes p by far less than p's LSB). The probabilities are NOT renormalised. k =
   ``model.moe.top_k``, any 1 <= k <= E. Every slot is always assigned, and the k experts of a token
   are distinct (a stable sort of the whole row, not an insertion network with a "no change" path).
4. **Score** of token t for the expert in slot j: ``score = act(p[t, topk_idx[t, j]])``, the
   assignment of the PROB_FORMAT value (24 fraction bits) to act with act's quantization and overflow
   modes (:func:`score_from_prob`); for the shipped act (22 fraction bits, TRN) that is
   ``floor(p_raw / 4)``, in [0, 1] (1.0 exactly representable; act must hold 1.0, checked).
5. **Patch reordering** (:func:`route`): one pass over the tokens in ascending order, each token
   appending itself (and its score) to the queue of each of its k experts: per expert the queue of its
   tokens in ascending token order, with their scores. A token appears at most once in a queue. The
   active experts are those with a non-empty queue, ascending.
6. **Expert loop** (M3ViT's computation reordering, :func:`expert_schedule` and :func:`run_schedule`),
   for each active expert e in ascending order::

       h       = compute_linear(x, W1_e, b1_e, gather=queue_e, gelu=True)          # (len_e, Hx)
       moe_acc = compute_linear(h, W2_e, b2_e, out=moe_acc, scatter=queue_e, scores=scores_e)

   i.e. ``moe_acc[queue_e[i]] = act(moe_acc[queue_e[i]] + act(scores_e[i] * y_e[i]))``. ``moe_acc``
   starts at zero and is not x (the experts still read x = LN2 of the block input); the MoE output is
   ``moe_acc`` and the residual ``x_block + moe_acc`` is the network's next step. Scatter targets
   never repeat inside one call (a token is at most once in a queue; checked before every call, the
   engine's scatter contract). Experts with an empty queue are never scheduled and fetch no weights.

   Order over experts: every addition into moe_acc adds two act values (the same fraction bits), so
   it is exact before the assignment; under act's ``overflow: WRAP`` (the shipped configs) the
   assignment is reduction modulo 2**width and the sum of residues does not depend on the order of
   the experts (nor on slot order, which the float model uses). With a saturating act format the
   order matters, and ascending expert order is then the definition.

Schedule (what the hardware issues, :class:`ExpertSchedule`): engine calls fc1(e0), fc2(e0),
fc1(e1), fc2(e1), ... over the active experts; call n computes from weight buffer n % 2 while the
weights of call n + 1 load into the other buffer (the linear engine's ping-pong), so the next
expert's fc1 weights load while the current expert's fc2 computes, and the first fc1's weights load
before the first call. Every call carries an explicit row list, also when an expert has all T
tokens (no "direct" mode without an index stream).

Format-study option (python_ref only): with ``numerics.expert_weights`` the expert matrices W1_e
and W2_e are held in that narrow format with one scale per output channel (``MoEWeights.w1_scale``,
``w2_scale``), and every expert call passes the scales to the engine (rule 1c of
python_ref/kernels/linear.py). Without it (the shipped configs) the scales are None and nothing
changes.

All functions take and return raw integers; bad input raises :class:`MoEError` naming the problem.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..config import Config, ConfigError
from ..fixed import FixedPointError
from ..hwconfig import KernelHwConfig, constant_list
from .linear import LinearError, compute_linear, quantize_per_channel, weight_formats
from .softmax import PROB_FORMAT, softmax_two_pass_raw


class MoEError(ValueError):
    """Bad arguments to the MoE unit (names the argument and what was expected)."""


# ---------------------------------------------------------------------------------------------
# Weights

@dataclass(frozen=True)
class MoEWeights:
    """Raw integer weights of one MoE layer (Edge-MoE names in brackets):

    * ``w_gate`` (tasks, E, D) gate_weight  [``l{L}_w_gate_T_task{t}``]
    * ``w1`` (E, Hx, D) weight, ``b1`` (E, Hx) bias  [``htoh4_weight``, ``htoh4_bias``]
    * ``w2`` (E, D, Hx) weight, ``b2`` (E, D) bias  [``h4toh_weight``, ``h4toh_bias``]
    * ``w1_scale`` (E, Hx), ``w2_scale`` (E, D): per-output-channel scales, only with the format
      study's ``numerics.expert_weights`` (w1 and w2 are then in its format); None otherwise
    """

    w_gate: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    w1_scale: np.ndarray | None = None
    w2_scale: np.ndarray | None = None

    @classmethod
    def from_float(cls, tensors: Mapping, layer: int, cfg: Config) -> "MoEWeights":
        """Quantize a layer's float tensors (a :class:`~python_ref.model.weights.WeightSet` or any
        mapping by Edge-MoE name) with ``ap_fixed(double)`` of each format (its quantization mode)."""
        m = cfg.model
        if not m.is_moe_layer(layer) or not 0 <= layer < m.layers:
            raise MoEError(f"layer {layer} is not a MoE layer of config {cfg.name!r} (odd layers 1..{m.layers - 1})")
        p = f"l{layer}_"

        def q(name, role):
            try:
                a = tensors[p + name]
            except KeyError:
                raise MoEError(f"MoE weights: tensor {p + name} missing") from None
            return cfg.fmt(role).from_float(np.asarray(a, dtype=np.float64)).astype(np.int64)

        gate = np.stack([q(f"w_gate_T_task{t}", "gate_weight") for t in range(m.tasks)])
        xw = cfg.numerics.expert_weights
        if xw is None:
            return cls(gate, q("htoh4_weight", "weight"), q("htoh4_bias", "bias"),
                       q("h4toh_weight", "weight"), q("h4toh_bias", "bias"))

        def q8(name):  # per expert: per-output-channel scaled weights (linear.quantize_per_channel)
            try:
                a = np.asarray(tensors[p + name], dtype=np.float64)
            except KeyError:
                raise MoEError(f"MoE weights: tensor {p + name} missing") from None
            pairs = [quantize_per_channel(a[e], xw.format, xw.scale) for e in range(a.shape[0])]
            return np.stack([w for w, _ in pairs]), np.stack([sc for _, sc in pairs])

        (w1, s1), (w2, s2) = q8("htoh4_weight"), q8("h4toh_weight")
        return cls(gate, w1, q("htoh4_bias", "bias"), w2, q("h4toh_bias", "bias"), s1, s2)


def weight_shapes(cfg: Config) -> dict:
    """name -> (shape, spelled shape, format role or FixedFormat) of every tensor of MoEWeights."""
    m = cfg.model
    E, D, H = m.experts, m.dim, m.expert_hidden
    xw = cfg.numerics.expert_weights
    wrole = "weight" if xw is None else xw.format
    shapes = {"w_gate": ((m.tasks, E, D), "(tasks, E, D)", "gate_weight"),
              "w1": ((E, H, D), "(E, Hx, D)", wrole), "b1": ((E, H), "(E, Hx)", "bias"),
              "w2": ((E, D, H), "(E, D, Hx)", wrole), "b2": ((E, D), "(E, D)", "bias")}
    if xw is not None:
        shapes.update(w1_scale=((E, H), "(E, Hx)", xw.scale), w2_scale=((E, D), "(E, D)", xw.scale))
    return shapes


def check_weights(weights: MoEWeights, cfg: Config) -> MoEWeights:
    """Validate shapes (against the config: weights of another config are named as such) and raw
    ranges of every tensor; returns int64 copies."""
    if not isinstance(weights, MoEWeights):
        raise MoEError(f"MoE weights: expected a MoEWeights, got {type(weights).__name__}")
    out = {}
    shapes = weight_shapes(cfg)
    for name in ("w1_scale", "w2_scale"):
        if name not in shapes and getattr(weights, name) is not None:
            raise MoEError(f"MoE weights {name}: per-channel scales given, but config {cfg.name!r} has no "
                           f"numerics.expert_weights (weights of another config?)")
    for name in shapes:
        if getattr(weights, name) is None:
            raise MoEError(f"MoE weights {name}: missing; config {cfg.name!r} sets numerics.expert_weights "
                           f"(per-channel scaled expert weights: use MoEWeights.from_float)")
    for name, (shape, spelled, role) in shapes.items():
        a = np.asarray(getattr(weights, name))
        if a.shape != shape:
            raise MoEError(f"MoE weights {name}: expected shape {spelled} = {shape} for config {cfg.name!r}, "
                           f"got {a.shape} (weights of another config?)")
        fmt = cfg.fmt(role) if isinstance(role, str) else role
        try:
            out[name] = fmt.check_raw(a, f"MoE weights {name}").astype(np.int64)
        except FixedPointError as exc:
            raise MoEError(f"{exc} (the {role if isinstance(role, str) else 'numerics.expert_weights'} format)") from None
    return MoEWeights(**out)


# ---------------------------------------------------------------------------------------------
# Input checks

def _check_task(task, cfg: Config) -> int:
    tasks = cfg.model.tasks
    if isinstance(task, bool) or not isinstance(task, (int, np.integer)) or not 0 <= task < tasks:
        raise MoEError(f"task {task!r}: config {cfg.name!r} has tasks 0..{tasks - 1}")
    return int(task)


def _check_x(x_raw, cfg: Config) -> np.ndarray:
    m = cfg.model
    x = np.asarray(x_raw)
    if x.shape != (m.tokens, m.dim):
        raise MoEError(f"MoE input x: expected shape (tokens, dim) = {(m.tokens, m.dim)} for config "
                       f"{cfg.name!r}, got {x.shape}")
    try:
        return cfg.fmt("act").check_raw(x, "MoE input x").astype(np.int64)
    except FixedPointError as exc:
        raise MoEError(str(exc)) from None


def _check_k(cfg: Config) -> int:
    k, E = cfg.model.top_k, cfg.model.experts
    if not 1 <= k <= E:
        raise MoEError(f"model.moe.top_k = {k}: must be in 1..model.moe.experts = {E}")
    return k


# ---------------------------------------------------------------------------------------------
# Gate and routing

def gate_logits(x_raw, w_gate_raw, task: int, cfg: Config) -> np.ndarray:
    """Gate logits (T, E), raw act: the linear engine on x with task ``task``'s gate (w_gate_raw is
    (tasks, E, D) raw gate_weight), zero bias, no GELU."""
    task = _check_task(task, cfg)
    x = _check_x(x_raw, cfg)
    m = cfg.model
    wg = np.asarray(w_gate_raw)
    if wg.shape != (m.tasks, m.experts, m.dim):
        raise MoEError(f"gate weights: expected shape (tasks, E, D) = {(m.tasks, m.experts, m.dim)} for config "
                       f"{cfg.name!r}, got {wg.shape}")
    try:
        return compute_linear(x, wg[task], np.zeros(m.experts, dtype=np.int64), cfg,
                              w_fmt=cfg.fmt("gate_weight"), b_fmt=cfg.fmt("bias"))
    except LinearError as exc:
        raise MoEError(f"gate: {exc}") from None


def score_from_prob(p_raw, cfg: Config) -> np.ndarray:
    """``act(p)``: PROB_FORMAT raw (24 fraction bits) assigned to the act format with act's
    quantization and overflow modes (shipped: TRN, ``floor(p_raw / 4)``). act must hold 1.0."""
    act = cfg.fmt("act")
    if act.max < 1.0:
        raise MoEError(f"formats.act = {act.c_type} cannot hold a probability of 1.0 (largest value {act.max})")
    return act.quantize(np.asarray(p_raw, dtype=np.int64), PROB_FORMAT.frac).astype(np.int64)


def top_k_by_logit(logits_raw, k: int) -> np.ndarray:
    """Indices (T, k) of the k largest logits of each row, largest first, equal logits by lower index
    (sorted on the key (-logit, index) with Python integers: exact for any act width)."""
    x = np.asarray(logits_raw)
    out = np.empty((x.shape[0], k), dtype=np.int64)
    for t, row in enumerate(x.tolist()):
        out[t] = sorted(range(len(row)), key=lambda e: (-int(row[e]), e))[:k]
    return out


@dataclass(frozen=True)
class Routing:
    """Gate decisions and the patch-reordering queues (raw integers)."""

    logits: np.ndarray  # (T, E) act
    p: np.ndarray  # (T, E) PROB_FORMAT, every expert
    topk_idx: np.ndarray  # (T, k) expert indices, slot 0 the largest logit
    topk_p: np.ndarray  # (T, k) PROB_FORMAT of the chosen experts (not renormalised)
    topk_score: np.ndarray  # (T, k) act: score_from_prob(topk_p)
    queues: tuple  # E arrays: the expert's tokens, ascending
    queue_scores: tuple  # E arrays: the matching act scores
    active: tuple  # experts with a non-empty queue, ascending

    @property
    def queue_lengths(self) -> np.ndarray:
        return np.array([len(q) for q in self.queues], dtype=np.int64)


def route(logits_raw, cfg: Config) -> Routing:
    """Softmax over all experts, top-k by logit, scores, and the per-expert queues (one pass over the
    tokens). ``logits_raw``: (T, E) raw act, any T >= 1."""
    act = cfg.fmt("act")
    E = cfg.model.experts
    k = _check_k(cfg)
    x = np.asarray(logits_raw)
    if x.ndim != 2 or x.shape[1] != E or x.shape[0] < 1:
        raise MoEError(f"gate logits: expected shape (T >= 1, E = {E}) for config {cfg.name!r}, got {x.shape}")
    try:
        x = act.check_raw(x, "gate logits").astype(np.int64)
        p = softmax_two_pass_raw(x, cfg).p
    except FixedPointError as exc:
        raise MoEError(str(exc)) from None
    idx = top_k_by_logit(x, k)
    topk_p = np.take_along_axis(p, idx, axis=1)
    score = score_from_prob(topk_p, cfg)
    queues = [[] for _ in range(E)]
    qscores = [[] for _ in range(E)]
    for t in range(len(x)):  # one pass over the tokens, ascending: queues come out ascending
        for j in range(k):
            e = int(idx[t, j])
            queues[e].append(t)
            qscores[e].append(int(score[t, j]))
    queues_a = tuple(np.array(q, dtype=np.int64) for q in queues)
    scores_a = tuple(np.array(s, dtype=np.int64) for s in qscores)
    active = tuple(e for e in range(E) if len(queues[e]))
    return Routing(x, p, idx, topk_p, score, queues_a, scores_a, active)


# ---------------------------------------------------------------------------------------------
# Schedule

@dataclass(frozen=True)
class EngineCall:
    """One call of the linear engine in the expert loop.

    fc1: rows ``gather`` of x (the expert's queue), GELU, stored to the hidden buffer h in processing
    order. fc2: rows ``gather`` = 0..len-1 of h, scaled (``scores``) scatter-accumulate into moe_acc
    rows ``scatter`` (the queue). ``buffer``: the weight buffer it computes from (step % 2);
    ``prefetch``: (expert, layer) whose weights load into the other buffer during this call."""

    step: int
    expert: int
    layer: str  # "fc1" or "fc2"
    buffer: int
    gather: np.ndarray
    scatter: np.ndarray | None
    scores: np.ndarray | None
    gelu: bool
    prefetch: tuple | None

    @property
    def rows(self) -> int:
        return len(self.gather)


@dataclass(frozen=True)
class ExpertSchedule:
    """The expert loop as the hardware issues it: ``first_load`` (expert, layer) into buffer 0 before
    the first call, then ``calls`` in order."""

    first_load: tuple
    calls: tuple

    @property
    def experts(self) -> tuple:
        """Experts in issue order (each once)."""
        return tuple(c.expert for c in self.calls if c.layer == "fc1")

    def weight_loads(self) -> list:
        """(expert, layer) of every weight fetch, in fetch order."""
        return [self.first_load] + [c.prefetch for c in self.calls if c.prefetch is not None]


def _check_unique_targets(scatter: np.ndarray, expert: int) -> None:
    # The engine's scatter contract: targets never repeat inside one call. By construction a token is
    # at most once in a queue; checked anyway (always, not as a Python assert that -O would strip).
    if len(np.unique(scatter)) != len(scatter):
        raise MoEError(f"internal: expert {expert}'s scatter list repeats a token: {scatter.tolist()}")


def expert_schedule(routing: Routing, cfg: Config, order=None) -> ExpertSchedule:
    """Engine calls for the active experts: fc1(e), fc2(e) per expert, experts in ascending order
    (``order``: another permutation of ``routing.active``, for tests: under WRAP any order gives the
    same bits). Empty experts are skipped (no call, no weight fetch)."""
    experts = tuple(routing.active) if order is None else tuple(int(e) for e in order)
    if sorted(experts) != sorted(routing.active) or len(set(experts)) != len(experts):
        raise MoEError(f"expert order {list(experts)} is not a permutation of the active experts "
                       f"{list(routing.active)}")
    if not experts:  # impossible with k >= 1 and T >= 1; stated rather than silently scheduled
        raise MoEError("no active expert: every token must choose k >= 1 experts")
    jobs = [(e, layer) for e in experts for layer in ("fc1", "fc2")]
    calls = []
    for n, (e, layer) in enumerate(jobs):
        q = routing.queues[e]
        nxt = jobs[n + 1] if n + 1 < len(jobs) else None
        if layer == "fc1":
            calls.append(EngineCall(n, e, "fc1", n % 2, q.copy(), None, None, True, nxt))
        else:
            _check_unique_targets(q, e)
            calls.append(EngineCall(n, e, "fc2", n % 2, np.arange(len(q), dtype=np.int64), q.copy(),
                                    routing.queue_scores[e].copy(), False, nxt))
    return ExpertSchedule(jobs[0], tuple(calls))


def run_schedule(x_raw, weights: MoEWeights, schedule: ExpertSchedule, cfg: Config) -> np.ndarray:
    """Execute the engine calls in order; returns moe_acc (T, D) raw act (starts at zero)."""
    x = _check_x(x_raw, cfg)
    w = check_weights(weights, cfg)
    xw = cfg.numerics.expert_weights
    (wf, sf), bf = weight_formats(cfg, "weight", xw is not None), cfg.fmt("bias")
    acc = np.zeros((cfg.model.tokens, cfg.model.dim), dtype=np.int64)
    h, h_expert = None, None
    for c in schedule.calls:
        e = c.expert
        if c.layer == "fc1":
            h = compute_linear(x, w.w1[e], w.b1[e], cfg, w_fmt=wf, b_fmt=bf, gelu=True, gather=c.gather,
                               w_scale=None if xw is None else w.w1_scale[e], s_fmt=sf)
            h_expert = e
        else:
            if h_expert != e:
                raise MoEError(f"schedule: fc2 of expert {e} at step {c.step} does not follow its fc1")
            _check_unique_targets(c.scatter, e)
            acc = compute_linear(h, w.w2[e], w.b2[e], cfg, w_fmt=wf, b_fmt=bf, gather=c.gather, out=acc,
                                 scatter=c.scatter, scores=c.scores,
                                 w_scale=None if xw is None else w.w2_scale[e], s_fmt=sf)
    return acc


# ---------------------------------------------------------------------------------------------
# The whole unit

@dataclass(frozen=True)
class MoEResult:
    """Everything the MoE unit computes (raw integers): the routing, the schedule and moe_acc."""

    routing: Routing
    schedule: ExpertSchedule
    moe_acc: np.ndarray  # (T, D) act: the MoE output (the residual add is the network's next step)

    @property
    def logits(self) -> np.ndarray:
        return self.routing.logits

    @property
    def p(self) -> np.ndarray:
        return self.routing.p

    @property
    def topk_idx(self) -> np.ndarray:
        return self.routing.topk_idx

    @property
    def topk_score(self) -> np.ndarray:
        return self.routing.topk_score

    @property
    def queues(self) -> tuple:
        return self.routing.queues

    @property
    def queue_scores(self) -> tuple:
        return self.routing.queue_scores

    @property
    def active(self) -> tuple:
        return self.routing.active


def moe_raw(x_raw, weights: MoEWeights, task: int, cfg: Config) -> MoEResult:
    """The MoE unit on LN2(x) (raw act, (tokens, dim)) with task ``task``'s gate: gate logits,
    routing, schedule, expert loop. See the module docstring for every format and rounding."""
    task = _check_task(task, cfg)
    x = _check_x(x_raw, cfg)
    w = check_weights(weights, cfg)
    routing = route(gate_logits(x, w.w_gate, task, cfg), cfg)
    schedule = expert_schedule(routing, cfg)
    return MoEResult(routing, schedule, run_schedule(x, w, schedule, cfg))


# ---------------------------------------------------------------------------------------------
# The call-descriptor stream (what rtl/src/moe.sv emits and hls/src/moe.cpp writes; docs/moe.md)

class DescriptorError(ValueError):
    """A call-descriptor stream that does not follow the format (names the word and the problem)."""


KIND_GATE, KIND_LOAD, KIND_CALL, KIND_ROW = 1, 2, 3, 4
LAYER_CODE = {"gate": 0, "fc1": 1, "fc2": 2}
MODE_STORE, MODE_SCALED = 0, 2  # the linear engine's output modes (hls/src/linear.h: linear_out_mode)
# 64-bit words; field -> (lsb, width). Header words (GATE, LOAD, CALL) and ROW words share kind.
DESC_BITS = 64
HEADER_FIELDS = {
    "kind": (60, 4), "step": (52, 8), "expert": (44, 8), "layer": (42, 2), "buffer": (41, 1), "gelu": (40, 1),
    "mode": (38, 2), "rows": (30, 8), "pf_valid": (29, 1), "pf_expert": (21, 8), "pf_layer": (19, 2),
    "last": (18, 1), "task": (0, 8),
}
ROW_FIELDS = {"kind": (60, 4), "k": (44, 8), "token": (36, 8), "score": (0, 32)}


def _pack(fields: dict, values: dict) -> int:
    word = 0
    for name, v in values.items():
        lsb, width = fields[name]
        v = int(v)
        if name == "score":
            v &= (1 << width) - 1  # two's complement act raw
        if not 0 <= v < (1 << width):
            raise DescriptorError(f"descriptor field {name} = {v} does not fit {width} bits")
        word |= v << lsb
    return word


def _field(word: int, fields: dict, name: str) -> int:
    lsb, width = fields[name]
    return (int(word) >> lsb) & ((1 << width) - 1)


def descriptor_words(routing: Routing, schedule: ExpertSchedule, task: int, cfg: Config) -> np.ndarray:
    """The MoE layer as the engine-call stream (int64 array of 64-bit words, docs/moe.md):

    * GATE: the gate call (task, rows = T, layer gate, store; dense: no row list);
    * LOAD: ``schedule.first_load`` (expert, fc1) into buffer 0;
    * per call of ``schedule.calls``: a CALL header (step, expert, layer, buffer, gelu, mode, rows,
      prefetch, last) followed by its ``rows`` ROW words (k, token, score): fc1 k = i, token = the
      gathered row of x, score 0; fc2 k = the gathered row of h, token = the moe_acc row it
      scatter-accumulates into, score = the act score."""
    task = _check_task(task, cfg)
    T = len(routing.logits)
    words = [_pack(HEADER_FIELDS, {"kind": KIND_GATE, "layer": LAYER_CODE["gate"], "mode": MODE_STORE, "rows": T,
                                   "task": task})]
    e0, l0 = schedule.first_load
    words.append(_pack(HEADER_FIELDS, {"kind": KIND_LOAD, "expert": e0, "layer": LAYER_CODE[l0]}))
    for n, c in enumerate(schedule.calls):
        pf = c.prefetch
        words.append(_pack(HEADER_FIELDS, {
            "kind": KIND_CALL, "step": c.step, "expert": c.expert, "layer": LAYER_CODE[c.layer], "buffer": c.buffer,
            "gelu": int(c.gelu), "mode": MODE_STORE if c.layer == "fc1" else MODE_SCALED, "rows": c.rows,
            "pf_valid": int(pf is not None), "pf_expert": pf[0] if pf else 0, "pf_layer": LAYER_CODE[pf[1]] if pf else 0,
            "last": int(n == len(schedule.calls) - 1)}))
        for i in range(c.rows):
            if c.layer == "fc1":
                words.append(_pack(ROW_FIELDS, {"kind": KIND_ROW, "k": i, "token": int(c.gather[i])}))
            else:
                words.append(_pack(ROW_FIELDS, {"kind": KIND_ROW, "k": int(c.gather[i]), "token": int(c.scatter[i]),
                                                "score": int(c.scores[i])}))
    return np.array(words, dtype=np.int64)


def decode_descriptors(words, cfg: Config) -> tuple[int, int, ExpertSchedule]:
    """Parse and validate a call-descriptor stream: (task, gate rows, schedule). Every field is checked
    against the format (kinds in order, steps consecutive, buffers step % 2, fc1 then fc2 per expert,
    gelu and mode per layer, prefetch = the next call's weights, last on the final call only, row words
    = rows, reserved bits zero), so the schedule returned is what the stream says, for
    :func:`run_schedule`."""
    act = cfg.fmt("act")
    w = [int(v) & ((1 << DESC_BITS) - 1) for v in np.asarray(words).reshape(-1).tolist()]
    layer_name = {v: k for k, v in LAYER_CODE.items()}
    hdr_mask = sum(((1 << wd) - 1) << lsb for lsb, wd in HEADER_FIELDS.values())
    row_mask = sum(((1 << wd) - 1) << lsb for lsb, wd in ROW_FIELDS.values())

    def bad(i, msg):
        raise DescriptorError(f"descriptor word {i} ({w[i] if i < len(w) else None:#x}): {msg}" if i < len(w)
                              else f"descriptor stream ends after {len(w)} words: {msg}")

    def hdr(i, kind):
        if i >= len(w):
            bad(i, f"expected a kind-{kind} header")
        if _field(w[i], HEADER_FIELDS, "kind") != kind:
            bad(i, f"kind {_field(w[i], HEADER_FIELDS, 'kind')}, expected {kind}")
        if w[i] & ~hdr_mask:
            bad(i, "reserved header bits set")
        return {k: _field(w[i], HEADER_FIELDS, k) for k in HEADER_FIELDS}

    g = hdr(0, KIND_GATE)
    if g["layer"] != LAYER_CODE["gate"] or g["mode"] != MODE_STORE or any(
            g[k] for k in ("step", "expert", "buffer", "gelu", "pf_valid", "pf_expert", "pf_layer", "last")):
        bad(0, "a GATE header has layer gate, mode store and no other field")
    task = _check_task(g["task"], cfg)
    ld = hdr(1, KIND_LOAD)
    if ld["layer"] != LAYER_CODE["fc1"] or any(ld[k] for k in ("step", "buffer", "gelu", "mode", "rows", "pf_valid",
                                                                "pf_expert", "pf_layer", "last", "task")):
        bad(1, "a LOAD header names an expert's fc1 into buffer 0 and nothing else")
    first = (ld["expert"], "fc1")
    calls, i, last_seen = [], 2, False
    while i < len(w):
        h = hdr(i, KIND_CALL)
        n = len(calls)
        if last_seen:
            bad(i, "a call after the last one")
        if h["step"] != n or h["buffer"] != n % 2 or h["task"]:
            bad(i, f"step {h['step']} buffer {h['buffer']}: expected step {n}, buffer {n % 2}, task 0")
        layer = layer_name.get(h["layer"])
        if layer not in ("fc1", "fc2"):
            bad(i, f"layer code {h['layer']} is not fc1 or fc2")
        want_layer = "fc1" if n % 2 == 0 else "fc2"
        if layer != want_layer or (layer == "fc2" and h["expert"] != calls[-1].expert):
            bad(i, f"call {n} is {layer} of expert {h['expert']}: calls alternate fc1, fc2 of the same expert")
        if h["gelu"] != (layer == "fc1") or h["mode"] != (MODE_STORE if layer == "fc1" else MODE_SCALED):
            bad(i, "fc1 has GELU and stores, fc2 has no GELU and scale-accumulates")
        rows = h["rows"]
        if rows < 1:
            bad(i, "a call has at least one row")
        pf = (h["pf_expert"], layer_name.get(h["pf_layer"])) if h["pf_valid"] else None
        if not h["pf_valid"] and (h["pf_expert"] or h["pf_layer"]):
            bad(i, "prefetch fields without prefetch valid")
        if layer == "fc1" and pf != (h["expert"], "fc2"):
            bad(i, f"fc1 of expert {h['expert']} must prefetch its fc2, prefetches {pf}")
        if layer == "fc2" and pf is not None and pf[1] != "fc1":
            bad(i, "fc2 prefetches the next expert's fc1")
        if h["last"] != (layer == "fc2" and pf is None):
            bad(i, "last marks the final fc2, the one without a prefetch")
        last_seen = bool(h["last"])
        if len(w) < i + 1 + rows:
            bad(len(w), f"call {n} announces {rows} rows")
        ks, toks, scs = [], [], []
        for r in range(rows):
            j = i + 1 + r
            if _field(w[j], ROW_FIELDS, "kind") != KIND_ROW or w[j] & ~row_mask:
                bad(j, "expected a ROW word (reserved bits zero)")
            k, tok, sc = (_field(w[j], ROW_FIELDS, f) for f in ("k", "token", "score"))
            sc = sc - (1 << 32) if sc >> 31 else sc
            if layer == "fc1" and (k != r or sc != 0):
                bad(j, f"fc1 row {r}: k must be {r} and the score 0")
            if tok >= g["rows"]:
                bad(j, f"token {tok} outside the gate's {g['rows']} rows")
            ks.append(k)
            toks.append(tok)
            scs.append(sc)
        if layer == "fc1":
            calls.append(EngineCall(n, h["expert"], "fc1", n % 2, np.array(toks, dtype=np.int64), None, None, True, pf))
        else:
            prev = calls[-1]
            if rows != prev.rows or toks != prev.gather.tolist():
                bad(i, f"fc2 of expert {h['expert']} must scatter to the rows its fc1 gathered")
            if any(not act.raw_min <= s <= act.raw_max for s in scs):
                bad(i, "a score outside the act format")
            calls.append(EngineCall(n, h["expert"], "fc2", n % 2, np.array(ks, dtype=np.int64),
                                    np.array(toks, dtype=np.int64), np.array(scs, dtype=np.int64), False, pf))
        i += 1 + rows
    if not calls or not last_seen:
        bad(len(w), "the stream ends without its last call")
    for a, b in zip(calls, calls[1:] + [None]):
        if b is not None and a.prefetch != (b.expert, b.layer):
            bad(len(w), f"call {a.step} prefetches {a.prefetch}, the next call is {(b.expert, b.layer)}")
    if first != (calls[0].expert, "fc1"):
        bad(1, f"LOAD {first} is not the first call's weights")
    return task, g["rows"], ExpertSchedule(first, tuple(calls))


def max_descriptor_words(cfg: Config) -> int:
    """The longest stream: GATE, LOAD, 2 headers per expert and every (token, slot) twice."""
    m = cfg.model
    return 2 + 2 * m.experts + 2 * m.top_k * m.tokens


def check_config(cfg: Config) -> None:
    """What the MoE hardware can be built for: 8-bit descriptor fields, 32-bit score field, act holds
    1.0, k in 1..E, gate weights in the weight format (the engine's weight_t)."""
    m = cfg.model
    act = cfg.fmt("act")
    if m.tokens > 255 or m.experts > 255:
        raise ConfigError(f"model: {m.tokens} tokens / {m.experts} experts: the MoE call descriptors have 8-bit "
                          f"token and expert fields (at most 255)")
    if act.width > 32:
        raise ConfigError(f"formats.act: {act.c_type} does not fit the descriptors' 32-bit score field")
    if act.max < 1.0:
        raise ConfigError(f"formats.act = {act.c_type} cannot hold a gate probability of 1.0")
    if not 1 <= m.top_k <= m.experts:
        raise ConfigError(f"model.moe.top_k = {m.top_k}: must be in 1..model.moe.experts = {m.experts}")
    # the gate call runs on the linear engine, whose weight kinds are weight_t and patch_weight_t
    # (rtl/src/moe_experts.sv passes the gate image as weight_t)
    g, w = cfg.fmt("gate_weight"), cfg.fmt("weight")
    if (g.width, g.int_bits, g.signed) != (w.width, w.int_bits, w.signed):
        raise ConfigError(f"formats.gate_weight = {g.c_type} must equal formats.weight = {w.c_type} in width, "
                          f"integer bits and sign: the RTL gate call reads the gate image as weight_t")


def hw_config(cfg: Config) -> KernelHwConfig:
    from .softmax import row_period
    consts = {"token_cycles": (row_period(cfg), "RTL router: cycles per token (the gate call's row period)"),
              "desc_words": (max_descriptor_words(cfg), "longest call-descriptor stream (64-bit words)"),
              "kind_gate": (KIND_GATE, "descriptor kind: the gate call"),
              "kind_load": (KIND_LOAD, "descriptor kind: the first weight load"),
              "kind_call": (KIND_CALL, "descriptor kind: an expert call header"),
              "kind_row": (KIND_ROW, "descriptor kind: one row of a call"),
              "mode_store": (MODE_STORE, "engine output mode: store"),
              "mode_scaled": (MODE_SCALED, "engine output mode: scaled scatter-accumulate")}
    for prefix, fields in (("h", HEADER_FIELDS), ("r", ROW_FIELDS)):
        for name, (lsb, width) in fields.items():
            consts[f"{prefix}_{name}_lsb"] = (lsb, f"descriptor {'header' if prefix == 'h' else 'row'} field {name}: lsb")
            consts[f"{prefix}_{name}_w"] = (width, f"descriptor {'header' if prefix == 'h' else 'row'} field {name}: bits")
    return KernelHwConfig("moe", "MOE", "MoE router and call descriptors (python_ref/kernels/moe.py)",
                          constant_list(**consts))
