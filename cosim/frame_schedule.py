"""Frame latency of the accelerator, composed call by call along its schedule (issue 13, `make perf`).

One frame of the config (patch embedding, then per layer LN1, qkv, attention, proj + residual, LN2,
dense MLP on even layers or MoE on odd layers) is written as the list of unit calls the accelerator
issues, in order, each one from ap_start to ap_done; calls run back to back (one unit at a time, as
the RTL units are built today: each unit has its own ap_start / ap_done and none overlaps another).
Each call's cycles come from the best source the project has, and every :class:`Call` says which:

* ``linear`` (patch embedding, qkv, proj, fc1/fc2, gate, expert fc1/fc2): ``cosim.linear_schedule
  .predicted_cycles``, the linear engine RTL's cycle-exact model (equal to the Verilator measurement
  on every shape, tests/test_cosim_linear.py), with the weight stream throttled like DDR
  (:class:`~cosim.linear_schedule.Throttle`) at the bandwidth given in GB/s: rate = bandwidth /
  (2 bytes x clock) weights per cycle on a ``w_bits`` word (default: the config's
  hardware.weight_word, its rows per word included; edge_moe's 1024-bit word of two 32-weight row
  segments), bursts of 8 words. Integer rates are the measured regime; a
  fractional rate is the same token bucket counted in 1/q weights (``rate = p``, ``word = e q``).
  The load/compute overlap is the engine's own: block b + 1 loads into the other bank while block b
  computes, and the next call's block 0 loads while the current call computes (the engine's
  two-entry call queue). The frame counts each linear call from the end of the unit before it to
  its ap_done, as ``cosim.linear_schedule.Sequence`` runs the frame's linear calls in order
  (:func:`overlap_linear_calls`): the controller presents a call as soon as the engine takes it
  (its loader has finished the previous linear call), so its weights stream in while the previous
  call computes and while the units between (LayerNorm, attention) run; its activations arrive when
  the unit before it ends. The first expert call of a layer is presented only when the gate's
  softmax / top-k has ended (its arguments are the routing). ``Call.isolated_cycles`` keeps the
  call's cycles on its own (``predicted_cycles``).
* ``attention``: ``cosim.attention_schedule.predict`` (the attention RTL's cycle model, equal to the
  measurement on every T) when that module is importable; otherwise the analytic step count of the
  same unit (head 0's Q and K input beats 2 T d / L, the rest of the phase-ordered input stream
  arriving under the array's work, + array steps 2 NP H T ceil(T/L) d/L, NP = 1 with K / V whole on
  the B port, 2 with the hi/lo split of docs/attention.md), a lower bound that leaves out the loader
  and output fills and the zero steps of one-block rows.
* ``layernorm``: rtl/src/layernorm.sv as measured (docs/nonlinear.md): LANES features per beat
  (hardware.layernorm.lanes), rows overlapped (input, sums, ceil(138 / P) statistics engines
  round-robin, output), one row per P = D / LANES cycles in and out (edge_moe: 3); a call of
  ``rows`` rows into the idle unit is the first row's P input beats, the latency (159 + log2 LANES
  cycles, last input beat -> first output beat), the other rows one period each and the last row's
  P output beats, counted like the measured burst (first input to last output, + 2 for ap_start /
  ap_done): ``(rows - 1) P + 2 P + 159 + log2 LANES``. When LANES equals the engine's LI
  (:func:`layernorm_streams`, edge_moe) LayerNorm's y_ beat is the engine's x_ beat and a row of P
  beats every P cycles is exactly the one beat a cycle the engine's input buffer takes: the unit's
  output streams into the next linear call (qkv, the dense fc1, the gate), which then counts from
  the cycle it takes LayerNorm's first output beat (:func:`layernorm_lead`); the rest of the
  LayerNorm overlaps that call's input. rtl/src/layernorm_linear.sv is that pair in RTL, and its
  bench (tests/test_cosim_layernorm_linear.py, edge_moe at LO = 8) measures every call's ap_ready /
  ap_done equal to this rule. Otherwise (tiny: 2 lanes, LI 4) it is counted in full.
  :func:`compose` also gives a *planned* figure where LayerNorm is fused into the producer/consumer
  (performance study 4.4), which leaves only the per-LN latency exposed. The planned figure is not
  RTL.
* ``softmax`` (the gate's E-logit rows): the two-pass unit rtl/src/softmax.sv: a row is
  R = ceil(E / L) beats and the pool of N_REC bit-serial reciprocals (one 1/s per 59 cycles each)
  bounds short rows to one per 59 / N_REC cycles; the bound tests/test_cosim_softmax.py asserts on
  the measured gate rate, plus the measured latency of the last row (85 + 2 log2 L + 2 R). The top-k
  selection has no RTL and is assumed to stream behind the probabilities (0 cycles).
* residual adds are free: proj and dense fc2 accumulate onto x in the engine's accumulate mode, the
  experts' fc2 scatter-accumulate onto x (the experts read LN2(x), a separate buffer; under WRAP the
  sum is order-independent, docs/linear.md "Order"), which costs no cycle in an unstalled call.

Assumptions that hold for every figure: activations stay on chip between calls (DDR carries the
weights only), the controller's ap_done -> ap_start turnaround is ``call_gap`` cycles (default 0),
nothing stalls (every sink ready, every activation source ready).
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

from python_ref.config import Config
from python_ref.kernels.attention import single_pass
from python_ref.kernels.linear import elements_per_word, w_image_words as _image_words
from python_ref.kernels.softmax import RECIP_INTERVAL, lanes as softmax_lanes, reciprocals as softmax_reciprocals

from .linear_schedule import X_WRITE, SeqCall, Sequence, Throttle, predicted_cycles, word_rows
from .weight_fifo_schedule import Segment, WeightFifo

DEFAULT_DDR_GBS = 14.4          # 75 % of the ZCU102 PS DDR4-2400 x 64 peak (19.2 GB/s); 24 weights/cycle at 300 MHz
DDR_PEAK_GBS = 19.2
DEFAULT_BURST = 8               # words back to back at most (the measured runs' w_burst)
MIN_DDR_GBS = 0.5
WEIGHT_BYTES = 2                # 16-bit weights (weight, gate_weight, patch_weight formats)

# rtl/src/layernorm.sv, docs/nonlinear.md (cosim/test_layernorm.py::test_latency_throughput)
LN_STATS = 137                  # one statistics engine's row (start to start); max(3, ceil((137 + 2) / P))
                                # engines (the dispatch sees an engine ready two cycles after its hand-over)
LN_LATENCY_BASE = 159           # last input beat of a row -> its first output beat: 159 + log2 LANES
                                # (the sums' adder tree; edge_moe 165, tiny 160)
# rtl/src/softmax.sv, reciprocal.sv (docs/nonlinear.md, tests/test_cosim_softmax.py)
RECIP_PERIOD = RECIP_INTERVAL   # one 1/s per 59 cycles per reciprocal unit (bit-serial)
SOFTMAX_LATENCY_BASE = 85       # a lone row's last input beat -> last output beat: 85 + 2 log2 L + 2 R

# Edge-MoE (github sharc-lab/Edge-MoE @ 984b23b, the worked study /work/shared/design/performance.md)
EM_LINEAR = 16                  # LINEAR_IN = LINEAR_OUT
EM_FEATURE_BLOCK = 8            # activations per 256-bit beat
EM_ATTN_PARALLEL = 4
EM_PUBLISHED_MS = 19.0          # performance.md: 5.71 M cycles by trip counts with its measured routing

ZCU102 = {"DSP": 2520, "BRAM36": 912, "LUT": 274_080, "FF": 548_160}

CLASSES = ("patch embedding", "LayerNorm", "qkv", "attention", "proj (+residual)", "dense MLP",
           "gate (linear + softmax)", "experts (fc1 + fc2)")


class PerfError(ValueError):
    """A bad argument of the performance model (bandwidth, routing, config)."""


# ----------------------------------------------------------------------------------------------
# DDR weight stream

def check_fifo_depth(depth) -> None:
    """A weight FIFO depth in words: 0 (none) or an integer >= 2 (rtl/src/weight_fifo.sv builds any
    such depth). Raises PerfError otherwise."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0 or depth == 1:
        raise PerfError(f"weight FIFO depth {depth!r}: must be 0 (none) or an integer >= 2")


def check_bandwidth(gbs) -> float:
    try:
        g = float(gbs)
    except (TypeError, ValueError):
        raise PerfError(f"DDR bandwidth {gbs!r} is not a number (GB/s)") from None
    if not math.isfinite(g) or g < MIN_DDR_GBS:
        raise PerfError(f"DDR bandwidth {gbs!r} GB/s: must be a finite number >= {MIN_DDR_GBS} GB/s")
    return g


def weight_rate(cfg: Config, gbs: float) -> Fraction:
    """Weights per cycle the DDR delivers at ``gbs`` GB/s and the configured clock (exact fraction,
    denominator at most 100)."""
    g = check_bandwidth(gbs)
    return Fraction(g * 1e9 / (WEIGHT_BYTES * cfg.hardware.clock_mhz * 1e6)).limit_denominator(100)


def ddr_throttle(cfg: Config, gbs: float, w_bits: int | None = None, burst: int = DEFAULT_BURST) -> Throttle:
    """The engine's weight-stream token bucket at ``gbs`` GB/s (see the module docstring)."""
    r = weight_rate(cfg, gbs)
    e = (w_bits or cfg.hardware.w_bits) // cfg.fmt("weight").width
    if e < 1:
        raise PerfError(f"w_bits {w_bits}: must hold at least one weight")
    return Throttle(rate=r.numerator, word=e * r.denominator, burst=burst)


_LINEAR_CACHE: dict = {}


def _linear(cfg: Config, n_out: int, n_in: int, rows: int, gelu: bool, w_bits: int, throttle: Throttle):
    # keyed on everything predicted_cycles reads from the config (Config itself is not hashable)
    hw = cfg.hardware
    key = (hw.linear_in, hw.linear_out, hw.axi_width, cfg.fmt("weight").width, n_out, n_in, rows, gelu, w_bits,
           word_rows(cfg, w_bits, None), throttle)
    if key not in _LINEAR_CACHE:
        _LINEAR_CACHE[key] = predicted_cycles(cfg, n_out, n_in, rows, gelu, w_bits=w_bits, throttle=throttle)
    return _LINEAR_CACHE[key]


def w_image_words(cfg: Config, n_out: int, n_in: int, w_bits: int | None = None) -> int:
    """Words of one linear call's w_ image (python_ref.kernels.linear.pack_matrix_w's layout: the
    config's word, or rows padded to whole w_bits words); what the DDR streams for the call."""
    bits, rows = word_rows(cfg, w_bits, None)
    return _image_words(n_out, n_in, elements_per_word(cfg.fmt("weight"), bits), rows, cfg.hardware.linear_in)


def linear_cycles(cfg: Config, n_out: int, n_in: int, rows: int, gelu: bool, gbs: float = DEFAULT_DDR_GBS,
                  w_bits: int | None = None):
    """``predicted_cycles`` of one engine call with the weights streamed at ``gbs`` GB/s."""
    w_bits = w_bits or cfg.hardware.w_bits
    return _linear(cfg, n_out, n_in, rows, bool(gelu), w_bits, ddr_throttle(cfg, gbs, w_bits))


# ----------------------------------------------------------------------------------------------
# The other units

def layernorm_period(cfg: Config) -> int:
    """rtl/src/layernorm.sv's unstalled row period P = D / LANES beats, in and out (ceil(136 / P)
    statistics engines and enough row-buffer slots that nothing else binds; measured on edge_moe
    (D 192, LANES 8: 24) and tiny (D 32, LANES 2: 16))."""
    return cfg.model.dim // layernorm_lanes(cfg)


def layernorm_lanes(cfg: Config) -> int:
    return getattr(cfg.hardware, "layernorm_lanes", 1)


def layernorm_latency(cfg: Config) -> int:
    """A row's last input beat -> its first output beat, 159 + log2 LANES (one sum-tree level per
    doubling of the lanes)."""
    return LN_LATENCY_BASE + layernorm_lanes(cfg).bit_length() - 1


def layernorm_cycles(cfg: Config, rows: int) -> int:
    """rtl/src/layernorm.sv, ``rows`` rows streamed back to back into the idle unit: (rows - 1) P +
    2 P + latency (P = :func:`layernorm_period`; the measured burst's first input to last output + 2)."""
    if rows < 1:
        raise PerfError(f"layernorm: rows {rows} must be >= 1")
    p = layernorm_period(cfg)
    return (rows - 1) * p + 2 * p + layernorm_latency(cfg)


def layernorm_streams(cfg: Config) -> bool:
    """LayerNorm's output goes straight into the next linear call's x_: its beat (LANES act values)
    is the engine's x_ beat (LI act values, rows of ceil(D / LI) beats in the same lane order), and
    its rate, a row of P = D / LANES beats every P cycles (tests/test_cosim_layernorm.py: output beats
    back to back, a row per P cycles), is the one beat per cycle the engine's input buffer takes once
    the call is launched (linear_act.sv: x_TREADY = active). No width converter, no buffer, no
    stall: the engine is launched when its producer's call ends, before LayerNorm's first output
    (rtl/src/layernorm_linear.sv: the two units wired so, measured by its bench)."""
    return layernorm_lanes(cfg) == cfg.hardware.linear_in


def layernorm_lead(cfg: Config) -> int:
    """The LayerNorm call's counted cycles when it streams (:func:`layernorm_streams`): from its first
    input beat (frame cycle s, as in :func:`layernorm_cycles`) its first output beat is handshaken in
    frame cycle s + P - 1 + latency (the first row's P input beats back to back, then the measured
    latency, last input beat -> first output beat). A linear call counted from frame cycle t takes
    its first x_ beat in frame cycle t + 2 (:func:`linear_sequence`: x_from = t, offered the Sequence
    cycle after; frame cycle = Sequence cycle + 1), so the call counts from s + P + latency - 3 and
    LayerNorm's other rows arrive under its block 0, one beat a cycle as from a buffer."""
    return layernorm_period(cfg) + layernorm_latency(cfg) - 3


def gate_softmax_cycles(cfg: Config, rows: int) -> int:
    """The two-pass softmax unit on ``rows`` rows of E logits (top-k streamed behind, 0 cycles): rows
    at the reciprocal pool's rate (at most one per 59 / N_REC cycles, at least R beats each), then
    the last row's latency."""
    E, L, n_rec = cfg.model.experts, softmax_lanes(cfg), softmax_reciprocals(cfg)
    R = -(-E // L)
    per_row = max(R, -(-RECIP_PERIOD // n_rec))
    return (rows - 1) * per_row + R + SOFTMAX_LATENCY_BASE + 2 * (L.bit_length() - 1) + 2 * R


def attention_model():
    """The attention RTL's cycle model module (cosim.attention_schedule) if importable, else None."""
    try:
        return importlib.import_module("cosim.attention_schedule")
    except ImportError:
        return None


def attention_cycles(cfg: Config, tokens: int, model="auto") -> tuple[int, str]:
    """Cycles of one attention layer and the source of the figure. ``model``: "auto" (the cycle
    model when importable), "analytic", or a module with ``Geometry`` and ``predict``."""
    mod = attention_model() if model == "auto" else (None if model == "analytic" else model)
    if mod is not None:
        g = mod.Geometry.from_config(cfg)
        return int(mod.predict(g, tokens).cycles), "cosim.attention_schedule (attention RTL cycle model)"
    m, L = cfg.model, cfg.hardware.linear_in
    kb = -(-tokens // L)
    in_beats = 2 * tokens * m.head_dim // L   # Q0 and K0: the rest of the stream comes under the array's work
    passes = 1 if single_pass(cfg) else 2
    steps = 2 * m.heads * (kb * tokens * passes * (m.head_dim // L))
    return in_beats + steps, "analytic step count (docs/attention.md; lower bound, no fills)"


# ----------------------------------------------------------------------------------------------
# Routing

@dataclass(frozen=True)
class Routing:
    """Tokens per expert for every MoE layer of one frame: ``counts[layer]`` = E integers."""

    name: str
    counts: dict
    note: str = ""

    def check(self, cfg: Config) -> "Routing":
        m = cfg.model
        moe_layers = [L for L in range(m.layers) if m.is_moe_layer(L)]
        if sorted(self.counts) != moe_layers:
            raise PerfError(f"routing {self.name!r}: layers {sorted(self.counts)}, config {cfg.name!r} has MoE "
                            f"layers {moe_layers}")
        for L, c in self.counts.items():
            c = list(c)
            if len(c) != m.experts or any(int(x) != x or x < 0 or x > m.tokens for x in c) \
                    or sum(c) != m.tokens * m.top_k:
                raise PerfError(f"routing {self.name!r} layer {L}: {c} is not {m.experts} token counts in "
                                f"0..{m.tokens} summing to tokens x k = {m.tokens * m.top_k}")
        return self


def uniform_routing(cfg: Config) -> Routing:
    """tokens x k spread as evenly as possible (every expert active)."""
    m = cfg.model
    n = m.tokens * m.top_k
    c = [n // m.experts + (1 if e < n % m.experts else 0) for e in range(m.experts)]
    return Routing("uniform", {L: c for L in range(m.layers) if m.is_moe_layer(L)},
                   "tokens x k spread evenly, every expert active")


def concentrated_routing(cfg: Config) -> Routing:
    """Every token to the same k experts (the most imbalanced routing; only k weight sets load)."""
    m = cfg.model
    c = [m.tokens if e < m.top_k else 0 for e in range(m.experts)]
    return Routing("all tokens to k experts", {L: c for L in range(m.layers) if m.is_moe_layer(L)},
                   "every token routed to experts 0..k-1")


def routing_from_calls(cfg: Config, fc1_calls, name: str = "the run's routing") -> Routing:
    """The routing a frame's engine calls ran: ``fc1_calls`` are (MoE layer, expert, rows) of every
    expert's fc1 call (its tokens are its rows; python_ref.kernels.frame_ctrl.Role tells them apart);
    an expert with no call has no tokens."""
    counts: dict = {}
    for layer, expert, rows in fc1_calls:
        if not (isinstance(layer, int) and layer in range(cfg.model.layers) and cfg.model.is_moe_layer(layer)):
            raise PerfError(f"routing_from_calls: layer {layer!r} is not a MoE layer of {cfg.name}")
        if not (isinstance(expert, int) and 0 <= expert < cfg.model.experts):
            raise PerfError(f"routing_from_calls: expert {expert!r} of layer {layer}: {cfg.name} has {cfg.model.experts} experts")
        counts.setdefault(layer, [0] * cfg.model.experts)[expert] = int(rows)
    return Routing(name, counts, name)


def rtl_excess(frame: "Frame", calls: list) -> list[tuple[str, int, int]]:
    """Where a measured frame's engine calls end later than ``frame`` composes them (the same calls in
    order; ``calls``: the RTL run's records with route and done, cosim/test_backbone.py's): each call's
    excess (measured ap_done + 1 minus the composed end) less the call before's, summed per transition
    "route before > the other units between > route". Returns (transition, calls, cycles), largest first;
    the cycles sum to the whole frame's excess."""
    ends, between, t, gap = [], [], 0, []
    for c in frame.calls:
        t += c.cycles
        if c.unit == "linear":
            ends.append(t)
            between.append("+".join(gap))
            gap = []
        else:
            gap.append(c.unit)
    if len(ends) != len(calls):
        raise PerfError(f"rtl_excess: the composed frame has {len(ends)} linear calls, the run {len(calls)}")
    out: dict = {}
    prev = 0
    for n, (c, e) in enumerate(zip(calls, ends)):
        ex = c["done"] + 1 - e
        key = f"{calls[n - 1]['route'] if n else 'start'} > {between[n] or '-'} > {c['route']}"
        k, v = out.get(key, (0, 0))
        out[key] = (k + 1, v + ex - prev)
        prev = ex
    return sorted(((k, n, v) for k, (n, v) in out.items()), key=lambda r: -abs(r[2]))


def routing_from_model(cfg: Config, task: int, published: bool, seed: int = 0, image: str | None = None) -> Routing:
    """Tokens per expert from python_ref.kernels.moe (fixed-point gate logits, two-pass softmax, top-k
    by logit) on each MoE layer's LN2 output of the float64 model: the published weights on the
    Edge-MoE frame (expert matrices are seeded stand-ins, so layers after the first MoE layer are
    indicative), or seeded weights on a packaged photograph."""
    import numpy as np
    import torch

    from python_ref.kernels.moe import MoEWeights, gate_logits, route

    torch.set_num_threads(1)
    if published:
        from python_ref.model.real_data import published_run, published_weights

        run = published_run(image or "edge_moe", task)
        tensors, weights, img = run.tensors, published_weights(), run.image
        what = "published weights (stand-in experts)"
    else:
        from python_ref.model import M3ViT, load_image, seeded_weights

        weights = seeded_weights(cfg, seed)
        model = M3ViT.from_weights(cfg, weights, dtype=torch.float64)
        img = image or "chelsea"
        _, caps = model(torch.as_tensor(load_image(cfg, img).pixels), task, capture=True)
        tensors = {k: v.numpy() for k, v in caps.items()}
        what = f"seeded weights (seed {seed})"
    act = cfg.fmt("act")
    counts = {}
    for L in range(cfg.model.layers):
        if not cfg.model.is_moe_layer(L):
            continue
        x = act.from_float(np.asarray(tensors[f"layer{L}.ln2"], dtype=np.float64)).astype(np.int64)
        w = MoEWeights.from_float(weights, L, cfg)
        counts[L] = [int(v) for v in route(gate_logits(x, w.w_gate, task, cfg), cfg).queue_lengths]
    return Routing(f"task {task}", counts, f"{what}, image {img}, task {task}").check(cfg)


# ----------------------------------------------------------------------------------------------
# Composition

@dataclass(frozen=True)
class Call:
    cls: str                 # unit class (CLASSES)
    name: str                # e.g. "layer 3 qkv"
    unit: str                # linear | attention | layernorm | softmax
    cycles: int
    source: str
    shape: tuple = ()        # linear: (out, in, rows, gelu)
    weight_bytes: int = 0    # weight and bias bytes of the call
    w_bytes: int = 0         # bytes of its w_ image (the weights in w_-word packing: what the modelled DDR streams)
    macs: int = 0            # multiply-accumulates of the call (rooflines)
    planned_cycles: int | None = None   # the 'planned' figure where it differs (LayerNorm fused)
    isolated_cycles: int | None = None  # linear: the call on its own (predicted_cycles), before the overlap
    block0_wait: int = 0     # linear: cycles its first step waited for block 0 beyond its activations
    expert: tuple | None = None   # an expert's linear call or the gate softmax: (MoE layer, expert or None)


@dataclass
class Frame:
    cfg: Config
    routing: Routing
    gbs: float
    calls: list = field(default_factory=list)
    call_gap: int = 0
    fifo_depth: int = 0      # words of the weight prefetch FIFO (0: none; the w_ stream starts at each call)
    fifo_stats: dict = field(default_factory=dict)   # the measured-schedule run's FIFO counts

    @property
    def cycles(self) -> int:
        return sum(c.cycles for c in self.calls) + self.call_gap * max(0, len(self.calls) - 1)

    @property
    def planned_cycles(self) -> int:
        return sum(c.cycles if c.planned_cycles is None else c.planned_cycles for c in self.calls) \
            + self.call_gap * max(0, len(self.calls) - 1)

    def ms(self, cycles: int | None = None) -> float:
        return (self.cycles if cycles is None else cycles) / (self.cfg.hardware.clock_mhz * 1e3)

    def by_class(self, planned: bool = False) -> dict:
        out = {k: 0 for k in CLASSES}
        for c in self.calls:
            out[c.cls] += c.cycles if not planned or c.planned_cycles is None else c.planned_cycles
        return out

    @property
    def linear_calls(self) -> list:
        return [c for c in self.calls if c.unit == "linear"]

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.calls)

    @property
    def weight_bytes(self) -> int:
        return sum(c.weight_bytes for c in self.calls)

    @property
    def mac_roofline(self) -> float:
        """Cycles if the LI x LO array did one useful MAC per cell per cycle on the whole frame."""
        return self.macs / (self.cfg.hardware.linear_in * self.cfg.hardware.linear_out)

    @property
    def ddr_roofline(self) -> float:
        """Cycles to stream the frame's w_ images once at the DDR bandwidth (the weights in w_ words:
        what the modelled DDR carries; the biases, 0.5 % of the bytes, come on b_ outside that budget)."""
        return sum(c.w_bytes for c in self.calls) / (self.gbs * 1e9) * self.cfg.hardware.clock_mhz * 1e6

    @property
    def roofline(self) -> float:
        return max(self.mac_roofline, self.ddr_roofline)

    def sources(self) -> dict:
        out: dict = {}
        for c in self.calls:
            out.setdefault(c.unit, set()).add(c.source)
        return {k: sorted(v) for k, v in out.items()}


def compose(cfg: Config, routing: Routing, gbs: float = DEFAULT_DDR_GBS, w_bits: int | None = None,
            attention="auto", call_gap: int = 0, fifo_depth: int | None = None) -> Frame:
    """The call list of one frame and the cycles of each call (see the module docstring).
    ``fifo_depth``: words of the weight prefetch FIFO (default hardware.weight_fifo.depth; 0: none)."""
    gbs = check_bandwidth(gbs)
    if not isinstance(cfg, Config):
        raise PerfError(f"compose: expected a python_ref Config, got {type(cfg).__name__}")
    w_bits = w_bits or cfg.hardware.w_bits
    if fifo_depth is None:
        fifo_depth = getattr(cfg.hardware, "weight_fifo_depth", 0)
    check_fifo_depth(fifo_depth)
    if call_gap < 0:
        raise PerfError(f"call_gap {call_gap}: must be >= 0")
    routing.check(cfg)
    m = cfg.model
    T, D = m.tokens, m.dim
    frame = Frame(cfg, routing, gbs, call_gap=call_gap, fifo_depth=fifo_depth)
    lin_src = (f"cosim.linear_schedule (linear RTL cycle model, weights at {gbs:g} GB/s = "
               f"{float(weight_rate(cfg, gbs)):.4g} weights/cycle, {w_bits}-bit words"
               f"{', two rows per word' if word_rows(cfg, w_bits, None)[1] == 2 else ''})")

    def lin(cls, name, n_out, n_in, rows, gelu=False, expert=None):
        p = linear_cycles(cfg, n_out, n_in, rows, gelu, gbs, w_bits)
        frame.calls.append(Call(cls, name, "linear", p.cycles, lin_src, (n_out, n_in, rows, bool(gelu)),
                                WEIGHT_BYTES * n_out * (n_in + 1), w_image_words(cfg, n_out, n_in, w_bits) * w_bits // 8,
                                n_out * n_in * rows, isolated_cycles=p.cycles, expert=expert))

    def ln(name):
        if layernorm_streams(cfg):
            cyc, src = layernorm_lead(cfg), (f"layernorm_linear.sv measured ({layernorm_lanes(cfg)} lanes = LI: to its first "
                                             f"output beat; its rows stream into the next call's x_)")
        else:
            cyc, src = layernorm_cycles(cfg, T), (f"layernorm.sv measured ({layernorm_lanes(cfg)} lanes, a row per "
                                                  f"D / lanes cycles)")
        frame.calls.append(Call("LayerNorm", name, "layernorm", cyc, src, planned_cycles=layernorm_latency(cfg)))

    att, att_src = attention_cycles(cfg, T, attention)
    lin("patch embedding", "patch embedding (onto pos)", D, m.patch_in, m.num_patches)
    for L in range(m.layers):
        ln(f"layer {L} LN1")
        lin("qkv", f"layer {L} qkv", 3 * D, D, T)
        frame.calls.append(Call("attention", f"layer {L} attention", "attention", att, att_src,
                                macs=2 * m.heads * T * T * m.head_dim))
        lin("proj (+residual)", f"layer {L} proj (acc onto x)", D, D, T)
        ln(f"layer {L} LN2")
        if not m.is_moe_layer(L):
            lin("dense MLP", f"layer {L} fc1 + GELU", m.mlp_hidden, D, T, True)
            lin("dense MLP", f"layer {L} fc2 (acc onto x)", D, m.mlp_hidden, T)
        else:
            lin("gate (linear + softmax)", f"layer {L} gate", m.experts, D, T)
            frame.calls.append(Call("gate (linear + softmax)", f"layer {L} gate softmax + top-k", "softmax",
                                    gate_softmax_cycles(cfg, T),
                                    "softmax.sv: the reciprocal pool's rate bound and the measured latency; top-k assumed streamed",
                                    expert=(L, None)))
            for e, n in enumerate(routing.counts[L]):
                if n == 0:
                    continue
                lin("experts (fc1 + fc2)", f"layer {L} expert {e} fc1 + GELU ({n} tokens)", m.expert_hidden, D, n, True,
                    expert=(L, e))
                lin("experts (fc1 + fc2)", f"layer {L} expert {e} fc2 (scaled scatter-acc)", D, m.expert_hidden, n,
                    expert=(L, e))
    overlap_linear_calls(frame, w_bits)
    return frame


FIFO_TAG_BITS = 1 + 1 + 4 + 4  # TLAST, speculative, layer, expert (rtl/src/weight_fifo.sv's tuser)


FIFO_BANK_WORDS = 1024  # rtl/src/weight_fifo.sv's FIFO_BANK: axis_fifo's bank at a depth not a power of two


def fifo_bram36(depth: int, w_bits: int) -> float:
    """BRAM36 of a weight FIFO of ``depth`` words of w_bits + the tags as rtl/src/axis_fifo.sv builds it:
    one memory at a power-of-two depth (or one bank's), else banks of FIFO_BANK_WORDS words, the last
    one shorter; each memory counted by :func:`bram36_of`. Yosys: 16,384 x 1,034 bits 460 BRAM36,
    15,360 in 15 banks 435, this count."""
    if depth == 0:
        return 0
    width = w_bits + FIFO_TAG_BITS
    if depth & (depth - 1) == 0 or depth <= FIFO_BANK_WORDS:
        return bram36_of(width, depth)
    full, rest = divmod(depth, FIFO_BANK_WORDS)
    return full * bram36_of(width, FIFO_BANK_WORDS) + (bram36_of(width, rest) if rest else 0)


BRAM36_BITS = 36 * 1024          # data bits of one RAMB36E2 (parity bits included: 512 x 72)

# Simple-dual-port aspects of a RAMB36E2 (width, depth); a RAMB18E2 (half a BRAM36) has the same
# widths up to 36 at half the depth (UG573). Every buffer here has one write and one read port.
BRAM36_ASPECTS = ((72, 512), (36, 1024), (18, 2048), (9, 4096), (4, 8192), (2, 16384), (1, 32768))


def bram36_of(width: int, depth: int) -> float:
    """BRAM36 (a RAMB18E2 counted as a half) of a ``width`` x ``depth`` memory in block RAM: columns of
    one aspect, each a stack of RAMB36E2 with the rest of its depth in one RAMB18E2 where that holds
    it, and the bits left over beside the whole columns counted the same way (a narrower aspect), the
    best choice. What a buffer of these shapes costs in block RAM, against the bits / 36 Kbit of a
    perfect packing (e.g. 864 x 3096, the dense MLP's hidden rows: 84 against 72.6; 3096 = 129 rows x
    24 beats leaves every aspect's last block mostly empty). Yosys maps attention's score buffer
    (1,024 x 1,290) to the 43 of this count: 28 columns of 1K x 36 blocks 1.5 deep, 16 bits in two
    RAMB18E2 of 2K x 9."""
    if width < 1 or depth < 1:
        raise PerfError(f"a {width} x {depth} memory: width and depth must be >= 1")

    def column(w, d):
        full, rest = divmod(depth, d)
        return full + (0 if rest == 0 else 0.5 if w <= 36 and rest <= d // 2 else 1)

    def best(bits):
        return min((bits // w) * column(w, d) + (best(bits % w) if bits % w else 0) if bits >= w else column(w, d)
                   for w, d in BRAM36_ASPECTS)
    return best(width)


BRAM_TAIL_MAX = 64   # rtl/src/act_ram.sv: at most this many entries past the last whole 512 in LUTRAM


def bram_tail(depth: int) -> int:
    """The entries of a ``depth``-deep buffer kept in distributed RAM, as rtl/src/act_ram.sv builds
    the engine's input buffer: those past the last whole 512 (the depth of the 512 x 72 aspect, which
    the buffers' widths of 72 bits and more use), when there are at most BRAM_TAIL_MAX of them;
    otherwise none. 3,096 = 6 x 512 + 24: a seventh row of blocks would hold 24 of its 512 entries."""
    rest = depth % 512
    return rest if depth > 512 and rest <= BRAM_TAIL_MAX else 0


def lutram_cells(width: int, entries: int) -> int:
    """Distributed RAM cells of a ``width`` x ``entries`` simple dual-port memory: RAM32M16 (32 x 14
    bits) up to 32 entries, else RAM64M8 (64 x 7) per 64 entries, LUTRAM_SITES LUT each (Yosys maps
    linear_act's 24 x 864-bit tail to 62 RAM32M16)."""
    if entries <= 0:
        return 0
    if entries <= 32:
        return -(-width // 14)
    return -(-width // 7) * -(-entries // 64)


@dataclass(frozen=True)
class ActBuffer:
    """One activation buffer between calls: T rows of ``values`` values of ``bits`` each, held in beats
    of ``lanes`` values (the port of the unit that writes or reads it: the engine's x_ (LI) for what
    only feeds the engine, its y_ / acc_ (LO) for act rows). ``home``: the memory of
    rtl/src/act_buffers.sv that holds it (its port prefix, :func:`activation_layout`)."""
    name: str
    values: int
    bits: int
    lanes: int
    rows: int
    home: str = ""

    @property
    def total_bits(self) -> int:
        return self.rows * self.values * self.bits

    @property
    def beats(self) -> int:
        return -(-self.values // self.lanes)

    @property
    def width(self) -> int:
        return min(self.values, self.lanes) * self.bits

    @property
    def depth(self) -> int:
        return self.rows * self.beats

    @property
    def tail(self) -> int:
        """Entries in distributed RAM (:func:`bram_tail`, rtl/src/act_ram.sv)."""
        return bram_tail(self.depth)

    @property
    def bram36(self) -> float:
        return bram36_of(self.width, self.depth - self.tail)


def activation_buffer_phases(cfg: Config) -> dict[str, list[ActBuffer]]:
    """The activation buffers between calls that each phase of a layer holds at once, T rows each: what
    this frame's call order needs on chip beside the units (the engine's own input buffer, attention's
    Q / K / V and score stores are in theirs). The residual x (act: LayerNorm's input and the
    accumulate modes' acc_) lives through the frame. LN1(x) streams into qkv's input buffer; qkv waits
    in the hidden rows' memory for attention (on the shared array attention cannot take its input while
    the qkv call owns the array: rtl/src/attention_block.sv; Q rounded half up, K and V to odd, which
    attention's conversion cannot tell from the values themselves), and attention's output waits there
    for proj (operands: what only feeds the engine's x_). The dense fc1's
    output waits for fc2, which takes its rows only after fc1's last output block (the outputs leave
    block-major, and the engine's input buffer holds fc1's input until then). A MoE layer holds LN2(x)
    (each expert gathers its rows from it), the gate's logits (act: the softmax's input) and an
    expert's hidden rows (at most T); fc2 scatter-accumulates onto x. What only feeds the engine's x_
    is counted in the operand format, the narrowest exact form (the engine converts x_ to it first)."""
    m, hw = cfg.model, cfg.hardware
    act, opd = cfg.fmt("act").width, cfg.fmt("operand").width

    def buf(name, n, bits, lanes, home):
        return ActBuffer(name, n, bits, lanes, m.tokens, home)
    x = buf("x (residual)", m.dim, act, hw.linear_out, "x_")
    phases = {"attention block": [x, buf("qkv (Q | K | V)", 3 * m.dim, opd, hw.linear_in, "h_"),
                                  buf("attention output", m.dim, opd, hw.linear_in, "h_")],
              "dense MLP": [x, buf("fc1 output (hidden)", m.mlp_hidden, opd, hw.linear_in, "h_")]}
    if any(m.is_moe_layer(L) for L in range(m.layers)):
        phases["MoE"] = [x, buf("LN2(x)", m.dim, opd, hw.linear_in, "h_"), buf("gate logits", m.experts, act, m.experts, "g_"),
                         buf("expert hidden", m.expert_hidden, opd, hw.linear_in, "h_")]
    return phases


def activation_buffers(cfg: Config) -> dict[str, list[tuple[str, int]]]:
    """:func:`activation_buffer_phases` as (buffer, bits) per phase."""
    return {k: [(b.name, b.total_bits) for b in v] for k, v in activation_buffer_phases(cfg).items()}


def activation_bram36_bound(cfg: Config) -> int:
    """A lower bound of the BRAM36 that activation_buffers needs: the largest phase's bits over
    BRAM36_BITS, rounded up (perfect packing; banking for the engine's read width only adds)."""
    return -(-max(sum(b for _n, b in bufs) for bufs in activation_buffers(cfg).values()) // BRAM36_BITS)


def activation_memories(cfg: Config) -> dict[str, ActBuffer]:
    """The memories rtl/src/act_buffers.sv builds, by port prefix (python_ref.kernels.act_buffer.
    BufferShape.frame): the residual x (act, the engine's LO lanes), the hidden rows (operands, its LI
    lanes: fc1's output, or LN2(x) beside an expert's hidden rows) and the gate logits (E act lanes)."""
    from python_ref.kernels.act_buffer import BufferShape
    act, opd = cfg.fmt("act").width, cfg.fmt("operand").width
    names = {"x_": "the residual x", "h_": "the hidden rows", "g_": "the gate logits"}
    return {p: ActBuffer(names[p], s.values, opd if s.narrow else act, s.lanes, s.rows, p)
            for p, s in BufferShape.frame(cfg).items()}


def activation_layout(cfg: Config) -> dict[str, list[tuple[str, str, int, int]]]:
    """Where each phase's buffers live in :func:`activation_memories`: per phase (buffer, memory prefix,
    first beat, beats), the buffers of one memory side by side in each row (the commands' first beat,
    python_ref.kernels.act_buffer). Raises PerfError when a buffer does not fit its memory (other lanes,
    other bits, past the row), so that a config whose phases the built memories cannot hold fails here."""
    mems = activation_memories(cfg)
    out = {}
    for phase, bufs in activation_buffer_phases(cfg).items():
        used, rows = {p: 0 for p in mems}, []
        for b in bufs:
            mem = mems.get(b.home)
            if mem is None or (b.lanes, b.bits, b.rows) != (mem.lanes, mem.bits, mem.rows):
                raise PerfError(f"activation buffer {b.name!r} ({phase}): {b.lanes} lanes of {b.bits} bits, {b.rows} rows; "
                                f"its memory {b.home or '(none)'} holds " + (f"{mem.lanes} x {mem.bits}, {mem.rows} rows" if mem else "nothing"))
            first = used[b.home]
            if first + b.beats > mem.beats:
                raise PerfError(f"activation buffer {b.name!r} ({phase}): beats {first}..{first + b.beats - 1} past the "
                                f"{mem.beats} of a row of {b.home} ({mem.name})")
            used[b.home] += b.beats
            rows.append((b.name, b.home, first, b.beats))
        out[phase] = rows
    return out


# rtl/src/act_buffer.sv's schedule, measured exactly by cosim/test_act_buffer.py: a read command's first
# beat READ cycles after its word on an idle unit; a read commanded after writes, FENCE cycles after the
# last write beat (the read waits for every write commanded before it to land).
ACT_BUFFER_READ_LATENCY = 9
ACT_BUFFER_FENCE = 10


def buffer_fences(frame: "Frame") -> list[str]:
    """The calls of the frame whose input a call right before wrote into an activation buffer, so that
    act_buffer's fence lies between the two (the composition does not count it): each LayerNorm (x,
    written by the accumulate call before it: the patch embedding, proj, fc2 or the last expert's fc2),
    attention (qkv), proj (attention's output), the dense fc2 (the hidden rows, fc1's output), the
    gate's softmax (the logits) and each expert's fc2 (its fc1's hidden rows). Every other call streams
    its input from the unit before it (qkv, the gate) or reads what was written calls before (an
    expert's fc1: LN2(x))."""
    out = []
    for prev, c in zip(frame.calls, frame.calls[1:]):
        reads_prev = (c.unit in ("layernorm", "softmax", "attention") or prev.unit == "attention"
                      or (c.unit == "linear" and "fc2" in c.name and prev.unit == "linear" and "fc1" in prev.name))
        if reads_prev:
            out.append(c.name)
    return out


def activation_bram36(cfg: Config) -> float:
    """BRAM36 of :func:`activation_memories`, each a block RAM of its port width and T rows of beats, the
    entries past the last whole 512 in distributed RAM (rtl/src/act_ram.sv): Yosys' count of
    rtl/src/act_buffers.sv (tests/test_perf.py checks it against docs/RESULTS.md)."""
    return sum(b.bram36 for b in activation_memories(cfg).values())


def weight_segments(frame: Frame, w_bits: int | None = None) -> list:
    """The frame's weight stream as the prefetch DMA fetches it: one segment per linear call in call
    order, where each MoE layer's expert calls are replaced by every expert's fc1 and fc2 in index
    order (fetched speculatively; the inactive ones skipped or dropped once the routing is known)."""
    cfg = frame.cfg
    m = cfg.model
    w_bits = w_bits or cfg.hardware.w_bits

    def words(n_out, n_in):
        return w_image_words(cfg, n_out, n_in, w_bits)

    segs = []
    for c in frame.calls:
        if c.unit == "softmax" and c.expert is not None:
            L = c.expert[0]
            for x in range(m.experts):
                segs.append(Segment(words(m.expert_hidden, m.dim), (L, x), f"layer {L} expert {x} fc1"))
                segs.append(Segment(words(m.dim, m.expert_hidden), (L, x), f"layer {L} expert {x} fc2"))
        elif c.unit == "linear" and c.expert is None:
            segs.append(Segment(words(c.shape[0], c.shape[1]), None, c.name))
    return segs


def weight_fifo(frame: Frame, w_bits: int | None = None) -> WeightFifo:
    """A fresh model of the frame's DDR -> weight FIFO path (the DDR starts with the frame: Sequence
    cycle -1, frame cycle 0), without the routing (:func:`linear_sequence` gives it as the gate ends)."""
    w_bits = w_bits or frame.cfg.hardware.w_bits
    th = ddr_throttle(frame.cfg, frame.gbs, w_bits)
    return WeightFifo(weight_segments(frame, w_bits), frame.fifo_depth, th.rate, th.word, th.burst, start=-1)


def linear_sequence(frame: Frame, w_bits: int | None = None, planned: bool = False,
                    fifo: WeightFifo | None = None) -> tuple[list, list, list]:
    """The frame's linear calls as ``cosim.linear_schedule.Sequence`` runs them, with the other calls
    as gaps (their measured or, with ``planned``, planned cycles; ``call_gap`` after every call): a
    call's activations arrive when the call before it in the frame ends (``x_from``); a call right
    after a softmax call (the first expert of a layer) is presented only then (``start``). Frame cycle
    t is Sequence cycle t - 1: a call taken at the end of Sequence cycle t - 1 on its own spans frame
    cycles [t, done + 1), its predicted_cycles. Returns (SeqCall list, SeqResult list, the frame time
    each call may start at)."""
    cfg = frame.cfg
    w_bits = w_bits or cfg.hardware.w_bits
    if frame.fifo_depth:
        fifo = fifo if fifo is not None else weight_fifo(frame, w_bits)
        seq = Sequence(cfg, w_bits=w_bits, fifo=fifo)
    else:
        seq = Sequence(cfg, w_bits=w_bits, throttle=ddr_throttle(cfg, frame.gbs, w_bits))
    t, calls, starts, prev_unit = 0, [], [], None
    for c in frame.calls:
        if c.unit != "linear":
            t += (c.cycles if not planned or c.planned_cycles is None else c.planned_cycles) + frame.call_gap
            prev_unit = c.unit
            if c.unit == "softmax" and c.expert is not None and frame.fifo_depth:
                # the routing mask is visible when the first expert call may be presented (Sequence t - 1);
                # moe_router.sv's route_we makes it visible no later on a run that starts with the gate
                # call (tests/test_cosim_moe_router.py::test_moe_router_cycles checks it on T_max runs)
                L = c.expert[0]
                seq.fifo.route(L, {x for x, n in enumerate(frame.routing.counts[L]) if n}, t - 1)
            continue
        n_out, n_in, rows, gelu = c.shape
        late = prev_unit == "softmax"
        sc = SeqCall(n_out, n_in, rows, gelu, start=t - 1 if late else None, x_from=t)
        r = seq.add(sc)
        calls.append(sc)
        starts.append(t)
        t = r.done + 1 + frame.call_gap
        prev_unit = c.unit
    return calls, seq.results, starts


def _linear_sequence(frame: Frame, w_bits: int, planned: bool) -> list:
    """(counted cycles, block-0 wait) of each linear call: from the frame time it may start to its
    ap_done, and the cycles its first step waited for block 0 beyond its activations."""
    fifo = weight_fifo(frame, w_bits) if frame.fifo_depth else None
    _, res, starts = linear_sequence(frame, w_bits, planned, fifo)
    if fifo is not None and not planned:
        frame.fifo_stats = {"fetched_words": fifo.fetched_words(), "dropped_words": fifo.dropped,
                            "engine_words": fifo.engine_words, "skipped_segments": len(fifo.skipped_segments()),
                            "last_push": fifo.F[-1] if fifo.F else None}
    return [(r.done + 1 - t, max(0, r.block0_full - (max(r.launch, t) + X_WRITE + 1))) for r, t in zip(res, starts)]


def overlap_linear_calls(frame: Frame, w_bits: int | None = None) -> Frame:
    """Rewrite the frame's linear calls to the overlapped schedule (module docstring): ``cycles``
    from the end of the call before to the call's ap_done, ``planned_cycles`` the same with the
    planned durations of the other calls (LayerNorm fused: less time to prefetch behind),
    ``block0_wait``. Frame.cycles stays the sum of the calls' cycles."""
    meas = _linear_sequence(frame, w_bits, planned=False)
    plan = _linear_sequence(frame, w_bits, planned=True)
    k = 0
    for n, c in enumerate(frame.calls):
        if c.unit == "linear":
            (cyc, wait), (pcyc, _) = meas[k], plan[k]
            frame.calls[n] = replace(c, cycles=cyc, block0_wait=wait, planned_cycles=None if pcyc == cyc else pcyc)
            k += 1
    return frame


@dataclass(frozen=True)
class Bound:
    """:func:`architecture_bound`: the frame's lower bound and its parts (cycles)."""

    cycles: int         # max(other + experts + call gaps, the DDR roofline)
    other: int          # every call but the experts: its MAC share, LayerNorm's latency, the gate softmax
    experts: int        # the expert phases
    expert_limits: dict  # MoE layer -> (MAC share, w_ port, DDR after the routing): the phase is their max
    any_depth: int      # the same bound with a FIFO of any depth (the DDR-after-routing term gone)


def architecture_bound(frame: Frame, w_bits: int | None = None, w_port_words: int = 1) -> Bound:
    """A lower bound of the frame for any schedule of these units at the frame's DDR rate and weight
    FIFO depth, calls one at a time (what 1.2x the roofline would need, docs/performance.md):

    * every linear call and attention at its MAC share of the LI x LO array (one useful MAC per cell
      per cycle: no padding, no hi/lo split, no fill), LayerNorm fused into its neighbours (its
      latency only: the planned figure), the gate softmax as counted;
    * each MoE layer's expert phase (from the gate's end to the last expert's ap_done) at least the
      largest of its MAC share, its active experts' w_ words at ``w_port_words`` words a cycle (the
      engine's w_ port: 1 as built; 2 is the wider path docs/performance.md discusses), and
      the words the DDR must still deliver after the routing is known: at best the FIFO holds
      ``fifo_depth`` of them, every one useful, when the gate ends; the rest arrive at the DDR's
      word rate;
    * and never below the DDR roofline (every w_ word of the frame at the DDR's rate).

    A lower bound of :func:`compose`'s frame for the same routing, bandwidth and depth
    (tests/test_perf.py) with ``w_port_words`` = 1: each term is one the modelled frame cannot beat."""
    if not isinstance(w_port_words, int) or w_port_words < 1:
        raise PerfError(f"w_port_words {w_port_words!r}: must be an integer >= 1")
    cfg = frame.cfg
    arr = cfg.hardware.linear_in * cfg.hardware.linear_out
    th = ddr_throttle(cfg, frame.gbs, w_bits)
    words_per_cycle = Fraction(th.rate, th.word)
    other, limits = 0, {}
    expert_macs: dict = {}
    expert_words: dict = {}
    for c in frame.calls:
        if c.cls == "experts (fc1 + fc2)":
            L = c.expert[0]
            expert_macs[L] = expert_macs.get(L, 0) + c.macs
            expert_words[L] = expert_words.get(L, 0) + w_image_words(cfg, c.shape[0], c.shape[1], w_bits)
        elif c.unit in ("linear", "attention"):
            other += -(-c.macs // arr)
        elif c.unit == "layernorm":
            other += c.cycles if c.planned_cycles is None else c.planned_cycles
        else:
            other += c.cycles
    for L, words in expert_words.items():
        limits[L] = (-(-expert_macs[L] // arr), -(-words // w_port_words),
                     math.ceil(max(0, words - frame.fifo_depth) / words_per_cycle))
    experts = sum(max(v) for v in limits.values())
    gaps, ddr = frame.call_gap * max(0, len(frame.calls) - 1), math.ceil(frame.ddr_roofline)
    deep = other + sum(max(mac, port) for mac, port, _after in limits.values())
    return Bound(max(other + experts + gaps, ddr), other, experts, limits, max(deep + gaps, ddr))


# ----------------------------------------------------------------------------------------------
# Edge-MoE by loop trip counts (the worked study's table 2b; II = 1 everywhere)

def edge_moe_trip_cycles(cfg: Config, routing: Routing) -> int:
    """Edge-MoE's frame by its HLS loop trip counts under ``routing`` (patch embedding, LN, Q/K/V/proj,
    the fused QK^T / AV, residual adds, dense MLP, gate + zero_output, the expert loop with its
    load/compute ping-pong). Reproduces performance.md's 5,710,104 cycles on its routing."""
    m = cfg.model
    T, D, F, LN_, A = m.tokens, m.dim, EM_FEATURE_BLOCK, EM_LINEAR, EM_ATTN_PARALLEL

    def lin(o, i, rows=T):
        return rows * -(-o // LN_) * -(-i // LN_)

    def load(o, i):
        return o * -(-i // LN_)

    attn = -(-(T + A - 1) // A) * T * (D // F)
    ln_ = T * 2 * (D // F)
    add = T * (D // F)
    pw = m.patches_w
    patch = m.patches_h * (m.channels * m.patch_size * (pw // 2) * (D // F) + pw * (D // F)) + D // F
    total = patch
    for L in range(m.layers):
        total += 2 * ln_ + 4 * lin(D, D) + 2 * attn + 2 * add
        if not m.is_moe_layer(L):
            total += lin(m.mlp_hidden, D) + lin(D, m.mlp_hidden)
        else:
            H = m.expert_hidden
            total += T * ((D // F) + 3 * m.experts + m.experts) + T * (D // F)
            cyc = load(H, D)
            for n in routing.counts[L]:
                if n:
                    cyc += max(lin(H, D, n), load(D, H)) + max(lin(D, H, n), load(H, D))
            total += cyc
    return total


# ----------------------------------------------------------------------------------------------
# Resources (Yosys figures from docs/RESULTS.md)

# The accelerator's RTL units: the linear engine and attention share one MAC array (linear_attention),
# the gate's softmax and top-k are inside the router.
ACCEL_UNITS = ("linear_attention", "weight_fifo", "layernorm", "moe_router", "act_buffers")
# attention_core's DSP48E2 outside the array: the exp lanes and the normalisation lanes
ATTENTION_DSP_PARTS = ("attn_exp", "attn_norm")


def expected_linear_dsp(cfg: Config) -> int:
    """DSP48E2 of the RTL linear engine by construction (docs/linear.md): one per MAC, one per GELU
    lane (linear_out.sv: GN = ceil(LO / 8) instances of GL = ceil(LO / GN) lanes) and LO score
    multipliers of 4 DSP48E2."""
    lo, li = cfg.hardware.linear_out, cfg.hardware.linear_in
    gn = -(-lo // 8)
    return li * lo + gn * -(-lo // gn) + 4 * lo


def synth_rows(results_md: str, cfg_name: str) -> dict:
    """The `synth-<cfg>` table of docs/RESULTS.md as {unit: {column: int}}."""
    from scripts.results_doc import section_of

    section = section_of(results_md, f"synth-{cfg_name}")
    if section is None:
        return {}
    rows, header = {}, None
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= set("|-"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            continue
        vals = {}
        for h, v in zip(header[1:], cells[1:]):
            try:
                vals[h] = int(v.replace(",", ""))
            except ValueError:
                pass
        rows[cells[0]] = vals
    return rows


def expected_linear_attention_dsp(cfg: Config, rows: dict) -> int | None:
    """DSP48E2 of linear_attention (the linear engine and attention on one array): the linear
    engine's by construction plus attention_core's outside the array, the Yosys DSP of its exp and
    normalisation units (``rows``: synth_rows); None while those rows are missing. The array is
    counted once (Yosys on tiny: linear 36 + attention 40 - 16 = linear_attention 60)."""
    parts = [rows.get(u, {}).get("DSP") for u in ATTENTION_DSP_PARTS]
    return None if None in parts else expected_linear_dsp(cfg) + sum(parts)


# LUT sites of a LUTRAM cell: a RAM64M8 or RAM32M16 (all 3,313 of linear_attention's edge_moe netlist)
# takes the 8 LUTs of a SLICEM; the smaller RAM32M / RAM64M take 4, so 8 is an upper bound for those
LUTRAM_SITES = 8


def lut_sites(row: dict) -> int:
    """LUT sites a synth row occupies: its logic LUTs, its shift registers (an SRL16E / SRLC32E is a
    SLICEM LUT) and its distributed RAM (LUTRAM_SITES per cell); the LUT column alone leaves the last
    two out."""
    return row.get("LUT", 0) + row.get("SRL", 0) + LUTRAM_SITES * row.get("LUTRAM", 0)


def resources(cfg: Config, results_md: str) -> tuple[list, dict]:
    """Per accelerator unit: (unit, LUT sites (lut_sites), FF, DSP, BRAM36 equivalent, status) and the
    totals of the figures given. Status: "Yosys" (docs/RESULTS.md), "stale" (synthesized before the current
    engine: DSP count differs from the one by construction), "by construction" (linear_attention
    without a Yosys row: its DSP48E2 only), "missing"."""
    rows = synth_rows(results_md, cfg.name)
    lin_dsp, shared_dsp = expected_linear_dsp(cfg), expected_linear_attention_dsp(cfg, rows)
    out, tot = [], {"LUT": 0, "FF": 0, "DSP": 0, "BRAM36": 0.0}
    for u in ACCEL_UNITS:
        r = rows.get(u)
        if r is None and u == "linear_attention" and shared_dsp is not None:
            out.append((u, None, None, shared_dsp, None,
                        f"by construction (DSP48E2 only): the linear engine's {lin_dsp} + attention's exp and "
                        f"normalisation lanes (Yosys {' + '.join(ATTENTION_DSP_PARTS)}: {shared_dsp - lin_dsp}); "
                        "no Yosys run of the top on this config"))
            tot["DSP"] += shared_dsp
            continue
        if r is None:
            out.append((u, None, None, None, None, "missing: no Yosys figure in docs/RESULTS.md"))
            continue
        bram = r.get("BRAM36", 0) + r.get("BRAM18", 0) / 2
        status = "Yosys"
        if u == "linear_attention" and r.get("DSP") != shared_dsp:
            status = f"stale: {r.get('DSP')} DSP is an older build; by construction {shared_dsp}"
        out.append((u, lut_sites(r) if "LUT" in r else None, r.get("FF"), r.get("DSP"), bram, status))
        tot["LUT"] += lut_sites(r)
        tot["FF"] += r.get("FF", 0)
        tot["DSP"] += r.get("DSP", 0)
        tot["BRAM36"] += bram
    return out, tot


__all__ = ["ActBuffer", "BRAM36_ASPECTS", "BRAM36_BITS", "CLASSES", "LUTRAM_SITES", "Call", "DEFAULT_DDR_GBS", "FIFO_BANK_WORDS", "Frame", "PerfError", "Routing",
           "ACT_BUFFER_FENCE", "ACT_BUFFER_READ_LATENCY", "activation_bram36", "activation_bram36_bound", "activation_layout", "activation_memories", "buffer_fences", "bram_tail", "lutram_cells", "BRAM_TAIL_MAX", "activation_buffer_phases", "activation_buffers", "bram36_of", "check_fifo_depth", "attention_cycles", "compose",
           "concentrated_routing", "ddr_throttle", "edge_moe_trip_cycles", "expected_linear_attention_dsp",
           "fifo_bram36", "gate_softmax_cycles", "lut_sites", "layernorm_cycles", "layernorm_lanes", "layernorm_latency", "layernorm_lead",
           "layernorm_period", "layernorm_streams", "linear_cycles", "linear_sequence", "overlap_linear_calls", "resources", "routing_from_model", "uniform_routing",
           "w_image_words", "weight_fifo", "weight_rate", "weight_segments"]
