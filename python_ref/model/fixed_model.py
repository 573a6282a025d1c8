"""Bit-accurate fixed-point model of one whole M3ViT frame, exactly as the accelerator computes it.

Built ONLY from the kernels' numerical definitions (python_ref/kernels/): every rounding of the frame
happens inside a kernel call (or, for the one residual add after the MoE, in an ap_fixed assignment
of python_ref.fixed), so the frame is what the C++ and the RTL compute when each of their kernels
equals its spec. Raw integers throughout; ``act`` = formats.act, T tokens, D = model.dim::

    x   = patch_embed(pixels, W_pe, b_pe, pos)          linear.patch_embed: the conv on the engine,
                                                         accumulated onto pos; row 0 = pos[0]
    for L in layers:
        h   = layernorm_raw(x, g1, b1)                   LN1
        qkv = compute_linear(h, W_qkv, b_qkv)            bias in attn_bias
        a   = attention(qkv)                             operands, exact q.k, score, two-pass softmax,
                                                         exact e.v, deferred normalisation
        x   = compute_linear(a.out, W_p, b_p, out=x)     projection accumulated onto x: act(x + y)
        h   = layernorm_raw(x, g2, b2)                   LN2
        even L (dense MLP):
            f = gelu_raw(compute_linear(h, W1, b1))      fc1 + GELU (= compute_linear(..., gelu=True))
            x = compute_linear(f, W2, b2, out=x)         fc2 accumulated onto x
        odd L (mixture of experts):
            r = moe_raw(h, moe weights, task)            gate on the engine, two-pass softmax, top-k by
                                                         logit, queues, expert loop into moe_acc
            x = act(x + r.moe_acc)                       the residual add (an act_t assignment)
    output: x (T, D) act

The linear layers follow the config's ``numerics.linear_sum`` (``exact`` or ``per_product``, see
python_ref/kernels/linear.py); the format study's python_ref-only options (``numerics.attention_kv``,
``numerics.expert_weights``) act inside the kernels. Weights: :func:`quantize_weights` converts a
:class:`~python_ref.model.weights.WeightSet` (the float model's tensors) to each role's format with
``ap_fixed(double)`` (``FixedFormat.from_float``, the format's quantization mode): qkv and projection
weights ``weight`` / biases ``attn_bias``, MLP and experts ``weight`` / ``bias``, gates
``gate_weight``, LayerNorm ``norm_param``, patch embedding ``patch_weight`` / ``bias``, pos_embed
``act``.

Capture (``FixedM3ViT(cfg, weights)(pixels, task, capture=True)``): every tensor under the float
model's name and shape (:func:`python_ref.model.float_model.capture_shapes`), as raw integers
(``FixedFrame.raw``) with the fraction bits of each (``FixedFrame.formats``) and a float64 view
(``FixedFrame.float(name)``, ``FixedFrame.floats()``). What the fixed-point names hold:

=======================  =====================================================================
name                     value (format)
=======================  =====================================================================
input                    the pixels (pixel)
patch_embed              the conv as a linear layer, store mode (act)
embed                    patch_embed's tokens: [pos[0]; act(pos[1:] + patch_embed)] (act)
layer{L}.ln1 / .ln2      LayerNorm outputs (act)
layer{L}.qkv             (act)
layer{L}.attn_scores     s, the score-format values (score)
layer{L}.attn_probs      the effective p = e * r (55 fraction bits, never rounded in the unit)
layer{L}.attn_out        (act)
layer{L}.proj            the projection y in store mode (act); res1 is the accumulate-mode result
layer{L}.res1            act(x + y) (act)
layer{L}.fc1/.gelu/.fc2  fc1 before GELU, GELU, fc2 in store mode (act); out = act(res1 + fc2)
layer{L}.gate_logits     (act); .gate_probs: p of every expert (PROB_FORMAT ap_ufixed<25,1>)
layer{L}.topk_idx        chosen experts, slot 0 the largest logit (integers)
layer{L}.topk_prob       the scores act(p) that scale the experts (act)
layer{L}.expert_fc1/...  per token and slot: fc1 before GELU, GELU, fc2 before scaling (act)
layer{L}.moe             moe_acc (act)
layer{L}.out             the block output (act)
=======================  =====================================================================

The store-mode tensors (patch_embed, proj, fc2, the expert tensors) are extra engine calls made only
when capturing; the frame's result never depends on them (tested). With ``capture=True`` the frame
also checks every assignment of the frame against its format (:class:`RangeCheck`): how many exact
pre-rounding values left the format (a wrap under WRAP, a saturation under SAT / SAT_SYM), and the
largest magnitude before the assignment. Bad input raises :class:`FixedModelError` naming the problem.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from ..config import Config
from ..exact import _blas_matmul
from ..fixed import FixedFormat
from ..kernels.attention import AttentionResult, attention, head_shift, kv_format, q_format
from ..kernels.exp import OUT_FORMAT as EXP_FORMAT
from ..kernels.gelu import gelu_raw
from ..kernels.layernorm import layernorm_raw
from ..kernels.linear import compute_linear, im2col, patch_embed, quantize_per_channel, weight_formats
from ..kernels.moe import MoEResult, MoEWeights, moe_raw
from ..kernels.reciprocal import SOFTMAX_RECIP_FORMAT as RECIP_FORMAT
from ..kernels.softmax import PROB_FORMAT
from .float_model import capture_shapes
from .weights import WeightSet, tensor_shapes

PROB_PRODUCT_FRAC = EXP_FORMAT.frac + RECIP_FORMAT.frac  # attention p = e * r: 55 fraction bits


class FixedModelError(ValueError):
    """Bad input to the fixed-point network model (the message names the problem)."""


# ---------------------------------------------------------------------------------------------
# Weights

WEIGHT_ROLES = ("act", "weight", "gate_weight", "attn_bias", "bias", "norm_param", "patch_weight")


def weights_signature(cfg: Config) -> str:
    """What quantized weights depend on: the model shape, the weight roles' formats and the format
    study's per-channel option. Weights quantized for one config run under another only if equal."""
    doc = {"model": asdict(cfg.model), "formats": {r: cfg.fmt(r).c_type for r in WEIGHT_ROLES},
           "expert_weights": (None if cfg.numerics.expert_weights is None else
                              [cfg.numerics.expert_weights.format.c_type, cfg.numerics.expert_weights.scale.c_type,
                               cfg.numerics.expert_weights.dense_mlp])}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LayerWeights:
    """Raw integers of one block. Dense layers have fc1/fc2 (and, with the format study's
    ``expert_weights.dense_mlp``, per-channel scales fc1_s/fc2_s); MoE layers have ``moe``."""

    ln1_g: np.ndarray
    ln1_b: np.ndarray
    qkv_w: np.ndarray
    qkv_b: np.ndarray
    proj_w: np.ndarray
    proj_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray
    fc1_w: np.ndarray | None = None
    fc1_b: np.ndarray | None = None
    fc2_w: np.ndarray | None = None
    fc2_b: np.ndarray | None = None
    fc1_s: np.ndarray | None = None
    fc2_s: np.ndarray | None = None
    moe: MoEWeights | None = None


@dataclass(frozen=True)
class FixedWeights:
    """Every weight of the network as raw integers in its format (see :func:`quantize_weights`)."""

    config: str  # name of the config they were quantized for
    signature: str  # weights_signature of that config
    source: str  # WeightSet.describe()
    stand_ins: tuple  # names of seeded stand-in tensors (WeightSet.stand_ins)
    patch_w: np.ndarray  # (D, C*P*P) patch_weight
    patch_b: np.ndarray  # (D,) bias
    pos: np.ndarray  # (T, D) act
    layers: tuple  # LayerWeights per layer


def quantize_weights(cfg: Config, weights: WeightSet) -> FixedWeights:
    """The float model's tensors converted to each role's format with ``ap_fixed(double)``. Every
    tensor of the config must be present with the config's shape; otherwise one FixedModelError
    lists the problems (weights of another config)."""
    if not isinstance(weights, WeightSet):
        raise FixedModelError(f"weights: expected a WeightSet (python_ref.model.weights), got {type(weights).__name__}")
    shapes = tensor_shapes(cfg)
    problems = [f"{n} missing" for n in shapes if n not in weights.tensors]
    problems += [f"{n} has shape {np.shape(weights.tensors[n])}, config expects {s}" for n, s in shapes.items()
                 if n in weights.tensors and np.shape(weights.tensors[n]) != s]
    if problems:
        more = f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""
        raise FixedModelError(f"weights ({weights.describe()}) do not fit config {cfg.name!r} (weights of another "
                              f"config?): " + "; ".join(problems[:6]) + more)
    m = cfg.model
    xw = cfg.numerics.expert_weights

    def q(name, role):
        return np.asarray(cfg.fmt(role).from_float(np.asarray(weights.tensors[name], dtype=np.float64))).astype(np.int64)

    layers = []
    for L in range(m.layers):
        p = f"l{L}_"
        common = dict(ln1_g=q(p + "norm1_weight", "norm_param"), ln1_b=q(p + "norm1_bias", "norm_param"),
                      qkv_w=q(p + "qkv_weight", "weight"), qkv_b=q(p + "qkv_bias", "attn_bias"),
                      proj_w=q(p + "attn_proj_weight", "weight"), proj_b=q(p + "attn_proj_bias", "attn_bias"),
                      ln2_g=q(p + "norm2_weight", "norm_param"), ln2_b=q(p + "norm2_bias", "norm_param"))
        if m.is_moe_layer(L):
            layers.append(LayerWeights(**common, moe=MoEWeights.from_float(weights.tensors, L, cfg)))
        elif xw is not None and xw.dense_mlp:
            w1, s1 = quantize_per_channel(weights.tensors[p + "fc1_weight"], xw.format, xw.scale)
            w2, s2 = quantize_per_channel(weights.tensors[p + "fc2_weight"], xw.format, xw.scale)
            layers.append(LayerWeights(**common, fc1_w=w1, fc1_b=q(p + "fc1_bias", "bias"), fc2_w=w2,
                                       fc2_b=q(p + "fc2_bias", "bias"), fc1_s=s1, fc2_s=s2))
        else:
            layers.append(LayerWeights(**common, fc1_w=q(p + "fc1_weight", "weight"), fc1_b=q(p + "fc1_bias", "bias"),
                                       fc2_w=q(p + "fc2_weight", "weight"), fc2_b=q(p + "fc2_bias", "bias")))
    return FixedWeights(cfg.name, weights_signature(cfg), weights.describe(), tuple(weights.stand_ins),
                        q("patch_embed_weight", "patch_weight").reshape(m.dim, m.patch_in),
                        q("patch_embed_bias", "bias"), q("pos_embed", "act"), tuple(layers))


# ---------------------------------------------------------------------------------------------
# Range checks

@dataclass
class RangeCheck:
    """One assignment step of the frame checked against its format: ``values`` values assigned,
    ``outside`` of them with an exact pre-rounding value outside the format (wrapped under WRAP,
    saturated under SAT / SAT_SYM), ``max_abs`` the largest magnitude before the assignment, and how
    it was obtained (``exact`` integers, or a float64 ``shadow`` of the same step on the same
    fixed-point inputs: accurate to ~1e-12 relative, so only a value within that of a boundary could
    be misjudged)."""

    fmt: FixedFormat
    values: int = 0
    outside: int = 0
    max_abs: float = 0.0
    how: str = "exact"

    def add(self, values: int, outside: int, max_abs: float) -> None:
        self.values += values
        self.outside += outside
        self.max_abs = max(self.max_abs, max_abs)


def _outside_exact(raw, frac_in: int, fmt: FixedFormat) -> tuple[int, int, float]:
    """(values, how many leave fmt on assignment, max |value|) for exact raw values with frac_in
    fraction bits: rounded with fmt's quantization mode in a 61-bit format with fmt's fraction bits
    (so it cannot wrap for any value below 2^(60 - frac) in magnitude), then compared."""
    raw = np.asarray(raw)
    if raw.size == 0:
        return 0, 0, 0.0
    extra = 61 - fmt.width  # the same rounding in a 61-bit format (int64 arithmetic), then the range test
    wide = FixedFormat(61, fmt.int_bits + extra, fmt.signed, fmt.quant, "WRAP")
    v = np.asarray(wide.quantize(raw, frac_in))
    lo = -fmt.raw_max if (fmt.overflow == "SAT_SYM" and fmt.signed) else fmt.raw_min
    out = int(((v < lo) | (v > fmt.raw_max)).sum())
    big = max(abs(int(raw.min())), abs(int(raw.max())))
    return raw.size, out, float(np.ldexp(float(big), -frac_in))


def _outside_float(v, fmt: FixedFormat) -> tuple[int, int, float]:
    """The same for float64 values of an exact quantity (the shadow); fmt's TRN/RND decides the edge."""
    v = np.asarray(v, dtype=np.float64)
    if v.size == 0:
        return 0, 0, 0.0
    top = (fmt.raw_max + (1.0 if fmt.quant.startswith("TRN") else 0.5)) * fmt.lsb
    bottom = (fmt.raw_min - (0.0 if fmt.quant.startswith("TRN") else 0.5)) * fmt.lsb
    out = int(((v >= top) | (v < bottom)).sum())
    return v.size, out, float(np.abs(v).max())


# ---------------------------------------------------------------------------------------------
# The frame

@dataclass(frozen=True)
class TensorFormat:
    """How to read a captured raw tensor: value = raw * 2^-frac; ``fmt`` the format it is held in
    (None for expert indices and the never-rounded attention p)."""

    frac: int
    fmt: FixedFormat | None
    what: str


@dataclass
class FixedFrame:
    """Result of one frame: the output (T, D) raw act and, when captured, every tensor by name."""

    cfg: Config
    task: int
    out: np.ndarray
    raw: "OrderedDict[str, np.ndarray]" = field(default_factory=OrderedDict)
    formats: "OrderedDict[str, TensorFormat]" = field(default_factory=OrderedDict)
    moe: dict = field(default_factory=dict)  # MoE layer -> MoEResult (routing, schedule, moe_acc)
    moe_in: dict = field(default_factory=dict)  # MoE layer -> its input LN2(x) (T, D) raw act (the RTL benches' x_)
    checks: "OrderedDict[str, RangeCheck]" = field(default_factory=OrderedDict)

    @property
    def out_float(self) -> np.ndarray:
        return self.cfg.fmt("act").to_float(self.out)

    def float(self, name: str) -> np.ndarray:
        """float64 view of a captured tensor (topk_idx: the int64 indices)."""
        if name not in self.raw:
            raise KeyError(f"no captured tensor {name!r} (capture=True captures "
                           f"{len(capture_shapes(self.cfg))} names; see float_model.capture_shapes)")
        f = self.formats[name]
        if f.fmt is None and f.frac == 0:
            return np.asarray(self.raw[name], dtype=np.int64)
        return np.ldexp(np.asarray(self.raw[name]).astype(np.float64), -f.frac)

    def floats(self) -> "OrderedDict[str, np.ndarray]":
        return OrderedDict((n, self.float(n)) for n in self.raw)

    def outside_total(self) -> int:
        return sum(c.outside for c in self.checks.values())


class FixedM3ViT:
    """The fixed-point network for ``cfg`` with ``weights`` (a WeightSet, quantized here, or
    FixedWeights from :func:`quantize_weights` for the same weight formats)."""

    def __init__(self, cfg: Config, weights):
        if not isinstance(cfg, Config):
            raise FixedModelError(f"cfg: expected a Config (python_ref.config.load_config), got {type(cfg).__name__}")
        self.cfg = cfg
        if isinstance(weights, FixedWeights):
            if weights.signature != weights_signature(cfg):
                raise FixedModelError(f"weights were quantized for config {weights.config!r}, whose model shape or "
                                      f"weight formats differ from config {cfg.name!r}'s (weights of another config); "
                                      f"quantize the WeightSet for this config with quantize_weights")
            self.weights = weights
        else:
            self.weights = quantize_weights(cfg, weights)

    # -- input checks ---------------------------------------------------------------------------
    def _check_pixels(self, pixels) -> np.ndarray:
        m, pix = self.cfg.model, self.cfg.fmt("pixel")
        x = np.asarray(pixels)
        if x.shape != (m.channels, m.height, m.width):
            raise FixedModelError(f"image shape {x.shape}: config {self.cfg.name!r} expects raw pixels "
                                  f"({m.channels}, {m.height}, {m.width})")
        if x.size and x.dtype.kind not in "iu" and not (
                x.dtype == object and all(isinstance(v, (int, np.integer)) for v in x.flat)):
            raise FixedModelError(f"pixels: expected raw integers of {pix.c_type}, got dtype {x.dtype} (convert "
                                  f"floats with cfg.fmt('pixel').from_float, or use InputImage.raw)")
        lo, hi = int(x.min()), int(x.max())
        if lo < pix.raw_min or hi > pix.raw_max:
            raise FixedModelError(f"pixels: raw values in [{lo}, {hi}] lie outside {pix.c_type} "
                                  f"[{pix.raw_min}, {pix.raw_max}]")
        return x.astype(np.int64)

    def _check_task(self, task) -> int:
        tasks = self.cfg.model.tasks
        if isinstance(task, bool) or not isinstance(task, (int, np.integer)) or not 0 <= task < tasks:
            raise FixedModelError(f"task {task!r}: config {self.cfg.name!r} has tasks 0..{tasks - 1}")
        return int(task)

    # -- the frame ------------------------------------------------------------------------------
    def __call__(self, pixels, task: int = 0, capture: bool = False) -> FixedFrame:
        return self.forward(pixels, task, capture)

    def forward(self, pixels, task: int = 0, capture: bool = False) -> FixedFrame:
        cfg, w = self.cfg, self.weights
        px = self._check_pixels(pixels)
        task = self._check_task(task)
        act = cfg.fmt("act")
        frame = FixedFrame(cfg, task, np.zeros(0))
        cap = _Recorder(frame, cfg, capture)
        cap.put("input", px, cfg.fmt("pixel"))
        x = patch_embed(px, w.patch_w, w.patch_b, w.pos, cfg)
        if capture:
            rows = im2col(px, cfg.model.patch_size)
            y = self._linear(cap, "patch_embed", rows, w.patch_w, w.patch_b, "patch_weight", "bias",
                             x_fmt=cfg.fmt("pixel"))
            cap.put("patch_embed", y, act)
            cap.check_sum("embed", w.pos[1:], y)
        cap.put("embed", x, act)
        for L, lw in enumerate(w.layers):
            x = self._block(cap, f"layer{L}.", L, lw, x, task)
        frame.out = x
        return frame

    def _linear(self, cap, name, x, w, b, w_role, b_role, x_fmt=None, w_scale=None, gelu=False, out=None,
                gather=None):
        """compute_linear with the config's formats (weights of ``w_role`` or per-channel scaled),
        and the range check of its assignment when capturing."""
        cfg = self.cfg
        w_fmt, s_fmt = weight_formats(cfg, w_role, w_scale is not None)
        y = compute_linear(x, w, b, cfg, w_fmt=w_fmt, b_fmt=cfg.fmt(b_role), x_fmt=x_fmt, gelu=gelu, out=out,
                           gather=gather, w_scale=w_scale, s_fmt=s_fmt)
        if cap.capture and out is None and not gelu:
            cap.check_linear(name, x if gather is None else np.asarray(x)[gather], x_fmt, w, w_fmt, b,
                             cfg.fmt(b_role), w_scale, s_fmt)
        return y

    def _block(self, cap, p, L, lw: LayerWeights, x, task):
        cfg = self.cfg
        act = cfg.fmt("act")
        h = layernorm_raw(x, lw.ln1_g, lw.ln1_b, cfg)
        cap.put(p + "ln1", h, act)
        cap.check_layernorm(p + "ln1", x, lw.ln1_g, lw.ln1_b, h)
        qkv = self._linear(cap, p + "qkv", h, lw.qkv_w, lw.qkv_b, "weight", "attn_bias")
        cap.put(p + "qkv", qkv, act)
        a = attention(qkv, cfg)
        if cap.capture:
            cap.put(p + "attn_scores", a.s, cfg.fmt("score"))
            cap.put(p + "attn_probs", a.e * a.r[..., None], None, PROB_PRODUCT_FRAC, "attention p = e * r")
            cap.check_attention(p, qkv, a)
        cap.put(p + "attn_out", a.out, act)
        if cap.capture:
            y = self._linear(cap, p + "proj", a.out, lw.proj_w, lw.proj_b, "weight", "attn_bias")
            cap.put(p + "proj", y, act)
            cap.check_sum(p + "res1", x, y)
        x = compute_linear(a.out, lw.proj_w, lw.proj_b, cfg, w_fmt=cfg.fmt("weight"), b_fmt=cfg.fmt("attn_bias"),
                           out=x)
        cap.put(p + "res1", x, act)
        h = layernorm_raw(x, lw.ln2_g, lw.ln2_b, cfg)
        cap.put(p + "ln2", h, act)
        cap.check_layernorm(p + "ln2", x, lw.ln2_g, lw.ln2_b, h)
        if lw.moe is None:
            f1 = self._linear(cap, p + "fc1", h, lw.fc1_w, lw.fc1_b, "weight", "bias", w_scale=lw.fc1_s)
            g = gelu_raw(f1, cfg)
            cap.put(p + "fc1", f1, act)
            cap.put(p + "gelu", g, act)
            if cap.capture:
                y = self._linear(cap, p + "fc2", g, lw.fc2_w, lw.fc2_b, "weight", "bias", w_scale=lw.fc2_s)
                cap.put(p + "fc2", y, act)
                cap.check_sum(p + "out", x, y)
            xw = cfg.numerics.expert_weights
            x = compute_linear(g, lw.fc2_w, lw.fc2_b, cfg, w_fmt=cfg.fmt("weight") if lw.fc2_s is None else xw.format,
                               b_fmt=cfg.fmt("bias"), out=x, w_scale=lw.fc2_s,
                               s_fmt=None if lw.fc2_s is None else xw.scale)
        else:
            r = moe_raw(h, lw.moe, task, cfg)
            cap.frame.moe[L] = r
            cap.frame.moe_in[L] = h
            if cap.capture:
                self._capture_moe(cap, p, h, lw.moe, r, task)
                cap.check_sum(p + "out", x, r.moe_acc)
            x = (act.fx(x) + act.fx(r.moe_acc)).cast(act).raw.astype(np.int64)
        cap.put(p + "out", x, act)
        return x

    def _capture_moe(self, cap, p, h, mw: MoEWeights, r: MoEResult, task):
        """The MoE unit's values per token and slot (extra store-mode engine calls per active expert)."""
        cfg = self.cfg
        act = cfg.fmt("act")
        m = cfg.model
        T, K = m.tokens, m.top_k
        rt = r.routing
        cap.put(p + "gate_logits", rt.logits, act)
        cap.check_linear(p + "gate_logits", h, None, mw.w_gate[task], cfg.fmt("gate_weight"),
                         np.zeros(m.experts, dtype=np.int64), cfg.fmt("bias"), None, None)
        cap.put(p + "gate_probs", rt.p, PROB_FORMAT)
        cap.put(p + "topk_idx", rt.topk_idx, None, 0, "expert index")
        cap.put(p + "topk_prob", rt.topk_score, act)
        f1 = np.zeros((T, K, m.expert_hidden), dtype=np.int64)
        g1 = np.zeros_like(f1)
        f2 = np.zeros((T, K, m.dim), dtype=np.int64)
        shadow = np.zeros((T, m.dim))
        for e in rt.active:
            q = rt.queues[e]
            slot = np.argmax(rt.topk_idx[q] == e, axis=1)
            y1 = self._linear(cap, p + "expert_fc1", h, mw.w1[e], mw.b1[e], "weight", "bias", gather=q,
                              w_scale=None if mw.w1_scale is None else mw.w1_scale[e])
            g = gelu_raw(y1, cfg)
            y2 = self._linear(cap, p + "expert_fc2", g, mw.w2[e], mw.b2[e], "weight", "bias",
                              w_scale=None if mw.w2_scale is None else mw.w2_scale[e])
            f1[q, slot], g1[q, slot], f2[q, slot] = y1, g, y2
            shadow[q] += act.to_float(rt.queue_scores[e])[:, None] * act.to_float(y2)
        cap.put(p + "expert_fc1", f1, act)
        cap.put(p + "expert_gelu", g1, act)
        cap.put(p + "expert_fc2", f2, act)
        cap.put(p + "moe", r.moe_acc, act)
        cap.check(p + "moe", act, *_outside_float(shadow, act), how="shadow")


class _Recorder:
    """Capture and range checks of one frame (a no-op unless capturing)."""

    def __init__(self, frame: FixedFrame, cfg: Config, capture: bool):
        self.frame, self.cfg, self.capture = frame, cfg, capture

    def put(self, name, raw, fmt: FixedFormat | None, frac: int | None = None, what: str = ""):
        if not self.capture:
            return
        self.frame.raw[name] = np.asarray(raw)
        self.frame.formats[name] = TensorFormat(fmt.frac if frac is None else frac, fmt,
                                                what or ("" if fmt is None else fmt.c_type))

    def check(self, name: str, fmt: FixedFormat, values: int, outside: int, max_abs: float, how: str = "exact"):
        c = self.frame.checks.setdefault(name, RangeCheck(fmt, how=how))
        c.add(values, outside, max_abs)

    def _operand(self, name, x_raw, x_fmt):
        """The exact rule's conversion of a linear layer's input to formats.operand (SAT_SYM)."""
        if self.cfg.numerics.linear_sum == "exact":
            op = self.cfg.fmt("operand")
            self.check(name + ":operand", op, *_outside_exact(x_raw, x_fmt.frac, op))

    def check_linear(self, name, x_raw, x_fmt, w_raw, w_fmt, b_raw, b_fmt, w_scale, s_fmt):
        """A linear layer's act assignment: the float64 shadow of b + scale * sum operand(x) W."""
        if not self.capture:
            return
        cfg = self.cfg
        act, op = cfg.fmt("act"), cfg.fmt("operand")
        x_fmt = act if x_fmt is None else x_fmt
        self._operand(name, x_raw, x_fmt)
        if cfg.numerics.linear_sum == "exact":
            xv = op.to_float(op.quantize(np.asarray(x_raw, dtype=np.int64), x_fmt.frac))
        else:
            xv = x_fmt.to_float(x_raw)
        v = _blas_matmul(xv, np.ascontiguousarray(w_fmt.to_float(w_raw).T))  # row blocks: one BLAS thread
        if w_scale is not None:
            v = v * s_fmt.to_float(w_scale)[None, :]
        v = v + b_fmt.to_float(b_raw)[None, :]
        self.check(name, act, *_outside_float(v, act), how="shadow")

    def check_sum(self, name, x_raw, y_raw):
        """A residual / accumulate-mode add act(x + y): the exact integer sum."""
        if self.capture:
            act = self.cfg.fmt("act")
            self.check(name, act, *_outside_exact(np.asarray(x_raw, np.int64) + np.asarray(y_raw, np.int64),
                                                  act.frac, act))

    def check_layernorm(self, name, x_raw, g_raw, b_raw, y_raw):
        """LayerNorm's saturation to act: the float64 LayerNorm of the same raw input and parameters."""
        if not self.capture:
            return
        cfg = self.cfg
        act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
        x = act.to_float(x_raw)
        mu = x.mean(axis=1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
        v = (x - mu) / np.sqrt(var + cfg.model.layernorm_eps) * pf.to_float(g_raw) + pf.to_float(b_raw)
        self.check(name, act, *_outside_float(v, act), how="shadow")

    def check_attention(self, p, qkv_raw, a: AttentionResult):
        """The attention unit's assignments: q to q's format, k and v to the K/V format (both
        formats.operand unless numerics.attention_q / attention_kv), the scores (exact S), and the
        output (float64 r * U)."""
        cfg = self.cfg
        act, qf, score, kv = cfg.fmt("act"), q_format(cfg), cfg.fmt("score"), kv_format(cfg)
        D = cfg.model.dim
        g = head_shift(cfg)
        qkv = np.asarray(qkv_raw, dtype=np.int64)
        self.check(p + "qkv:q", qf, *_outside_exact(qkv[:, :D], act.frac, qf))
        self.check(p + "qkv:kv", kv, *_outside_exact(qkv[:, D:], act.frac, kv))
        self.check(p + "attn_scores", score, *_outside_exact(a.S, qf.frac + kv.frac + g, score))
        u = np.ldexp(a.U.astype(np.float64), -(EXP_FORMAT.frac + kv.frac))
        r = np.ldexp(a.r.astype(np.float64), -RECIP_FORMAT.frac)
        self.check(p + "attn_out", act, *_outside_float(r[:, :, None] * u, act), how="shadow")


__all__ = ["FixedFrame", "FixedM3ViT", "FixedModelError", "FixedWeights", "LayerWeights", "RangeCheck", "TensorFormat",
           "quantize_weights", "weights_signature"]
