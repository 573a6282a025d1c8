"""The backbone top's host side (hls/src/backbone.cpp: backbone_top): the packed weight image, the
image and output words, and the C-sim vector set of the kernel registry (:func:`backbone_csim`).

The weight image is every layer's quantized weights (:class:`~python_ref.model.fixed_model.FixedWeights`)
in AXI words, packed with the linear engine's own helpers (pack_matrix_axi for matrices, rows padded
to whole words; pack_vector_axi for vectors), one part after the other in the order of
:func:`layout_parts`. Its word offsets are defined once, by hls/src/backbone.h's constexpr table
(what the top reads); :func:`weight_layout` is the same table as this packer lays the words out, and
every testbench run compares the two (layout.txt; backbone_tb exits 2 naming the first entry that
differs), so neither side can drift silently."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from python_ref.config import Config
from python_ref.kernels.backbone import BackboneError, backbone_raw
from python_ref.kernels.linear import elements_per_word, pack_matrix_axi, pack_vector_axi, unpack_words
from python_ref.model.fixed_model import FixedWeights, quantize_weights, weights_signature

from .csim import VectorSet

MAX_IMAGES = 4  # backbone.h: BACKBONE_MAX_IMAGES
DEFAULT_IMAGES = ("chelsea", "coffee")  # backbone_csim's frames, in turn (packaged photographs)


def _words(cfg: Config, role: str, rows: int | None, cols: int) -> int:
    e = elements_per_word(cfg.fmt(role), cfg.hardware.axi_width)
    return -(-cols // e) if rows is None else rows * -(-cols // e)


def layout_parts(cfg: Config) -> dict:
    """(name, role, rows or None for a vector, cols) of each part, in memory order: ``frame`` (the
    patch embedding and pos), ``common`` (every block), ``dense`` (even blocks), ``gate`` and ``expert``
    (odd blocks: the gate of every task, then each expert's part)."""
    m = cfg.model
    D, T = m.dim, m.tokens
    return {
        "frame": [("patch_w", "patch_weight", D, m.patch_in), ("patch_b", "bias", None, D), ("pos", "act", T, D)],
        "common": [("ln1_g", "norm_param", None, D), ("ln1_b", "norm_param", None, D),
                   ("qkv_w", "weight", 3 * D, D), ("qkv_b", "attn_bias", None, 3 * D),
                   ("proj_w", "weight", D, D), ("proj_b", "attn_bias", None, D),
                   ("ln2_g", "norm_param", None, D), ("ln2_b", "norm_param", None, D)],
        "dense": [("fc1_w", "weight", m.mlp_hidden, D), ("fc1_b", "bias", None, m.mlp_hidden),
                  ("fc2_w", "weight", D, m.mlp_hidden), ("fc2_b", "bias", None, D)],
        "gate": [("gate", "gate_weight", m.tasks * m.experts, D)],
        "expert": [("expert_w1", "weight", m.expert_hidden, D), ("expert_b1", "bias", None, m.expert_hidden),
                   ("expert_w2", "weight", D, m.expert_hidden), ("expert_b2", "bias", None, D)],
    }


def weight_layout(cfg: Config) -> "OrderedDict[str, int]":
    """Word offsets of the weight image, named as backbone.h names them: frame parts absolute, block
    parts relative to the block (``layer<L>``: where block L starts, ``layer<N>`` = total), expert
    parts relative to the expert; the sizes of a dense block, a MoE block and an expert."""
    parts = layout_parts(cfg)
    out: OrderedDict[str, int] = OrderedDict()

    def walk(names, start=0):
        off = start
        for name, role, rows, cols in names:
            out[name] = off
            off += _words(cfg, role, rows, cols)
        return off

    frame = walk(parts["frame"])
    mlp = walk(parts["common"])
    out["dense_layer_words"] = walk(parts["dense"], mlp)
    out["experts"] = walk(parts["gate"], mlp)
    out["expert_words"] = walk(parts["expert"])
    out["moe_layer_words"] = out["experts"] + cfg.model.experts * out["expert_words"]
    off = frame
    for L in range(cfg.model.layers + 1):
        out[f"layer{L}"] = off
        if L < cfg.model.layers:
            off += out["moe_layer_words"] if cfg.model.is_moe_layer(L) else out["dense_layer_words"]
    out["total_words"] = off
    return out


def check_buildable(cfg: Config, fw: FixedWeights) -> None:
    """What backbone_top computes: the exact linear rule and weights in the shipped formats."""
    if fw.signature != weights_signature(cfg):
        raise BackboneError(f"weights were quantized for config {fw.config!r}, not {cfg.name!r} (weights of another "
                            f"config)")
    if cfg.numerics.linear_sum != "exact":
        raise BackboneError(f"numerics.linear_sum = {cfg.numerics.linear_sum!r}: backbone_top's engine implements "
                            f"'exact' only")
    if cfg.numerics.expert_weights is not None:
        raise BackboneError("numerics.expert_weights is a python_ref-only format study: backbone_top has no "
                            "per-channel weight scales")


def _put(cfg: Config, words: list, spec, value) -> None:
    """Append one part (``spec``: an entry of :func:`layout_parts`) to ``words``."""
    name, role, rows, cols = spec
    v = np.asarray(value, dtype=np.int64)
    axi = cfg.hardware.axi_width
    packed = (pack_vector_axi(v, cfg.fmt(role), axi) if rows is None
              else pack_matrix_axi(v.reshape(rows, cols), cfg.fmt(role), axi))
    if len(packed) != _words(cfg, role, rows, cols):  # the packer's own size: a check, not a definition
        raise BackboneError(f"internal: {name} packed into {len(packed)} words")
    words.extend(packed)


def pack_moe_gate(cfg: Config, w_gate) -> list[int]:
    """Every task's gate (tasks, E, D) raw gate_weight: the first part of a MoE block's MoE part."""
    m = cfg.model
    words: list[int] = []
    _put(cfg, words, layout_parts(cfg)["gate"][0], np.asarray(w_gate).reshape(m.tasks * m.experts, m.dim))
    return words


def pack_moe_experts(cfg: Config, moe) -> list[int]:
    """Every expert's W1, b1, W2, b2 of a :class:`~python_ref.kernels.moe.MoEWeights`, the experts
    back to back: the MoE part after the gates."""
    if getattr(moe, "w1_scale", None) is not None:
        raise BackboneError("per-channel scaled expert weights (numerics.expert_weights) are a python_ref-only "
                            "format study: the engine has no weight scales")
    words: list[int] = []
    for e in range(cfg.model.experts):
        for spec, v in zip(layout_parts(cfg)["expert"], (moe.w1[e], moe.b1[e], moe.w2[e], moe.b2[e])):
            _put(cfg, words, spec, v)
    return words


def pack_moe_weights(cfg: Config, moe) -> list[int]:
    """The MoE part of a MoE block's image (words ``gate`` .. ``moe_layer_words`` of the block: every
    task's gate, then the experts) of a :class:`~python_ref.kernels.moe.MoEWeights`: what
    moe_layer_top reads (hls/src/moe_layer.h) and what :func:`pack_weights` writes for each MoE block."""
    return pack_moe_gate(cfg, moe.w_gate) + pack_moe_experts(cfg, moe)


def pack_weights(cfg: Config, weights) -> list[int]:
    """The weight image (AXI words, as Python ints) of a WeightSet or FixedWeights for ``cfg``."""
    fw = weights if isinstance(weights, FixedWeights) else quantize_weights(cfg, weights)
    check_buildable(cfg, fw)
    parts = layout_parts(cfg)
    words: list[int] = []

    def put(spec, value):
        _put(cfg, words, spec, value)

    for spec, v in zip(parts["frame"], (fw.patch_w, fw.patch_b, fw.pos)):
        put(spec, v)
    for L, lw in enumerate(fw.layers):
        for spec, v in zip(parts["common"], (lw.ln1_g, lw.ln1_b, lw.qkv_w, lw.qkv_b, lw.proj_w, lw.proj_b,
                                             lw.ln2_g, lw.ln2_b)):
            put(spec, v)
        if lw.moe is None:
            for spec, v in zip(parts["dense"], (lw.fc1_w, lw.fc1_b, lw.fc2_w, lw.fc2_b)):
                put(spec, v)
        else:
            words.extend(pack_moe_weights(cfg, lw.moe))
    total = weight_layout(cfg)["total_words"]
    if len(words) != total:
        raise BackboneError(f"internal: the weight image has {len(words)} words, the layout {total}")
    return words


def pack_image(cfg: Config, pixels_raw) -> list[int]:
    """One frame's image words: pack_vector_axi of pixel_t[C][H][W] (linear.h)."""
    m = cfg.model
    px = np.asarray(pixels_raw)
    if px.shape != (m.channels, m.height, m.width):
        raise BackboneError(f"image shape {px.shape}: config {cfg.name!r} expects ({m.channels}, {m.height}, {m.width})")
    return pack_vector_axi(px.reshape(-1).astype(np.int64), cfg.fmt("pixel"), cfg.hardware.axi_width)


def unpack_output(cfg: Config, words) -> np.ndarray:
    """One frame's output words -> (tokens, dim) raw act."""
    m = cfg.model
    return unpack_words(list(words), cfg.fmt("act"), cfg.hardware.axi_width, m.dim, rows=m.tokens)


def hex_words(words) -> str:
    return "\n".join(f"{int(w):x}" for w in words) + "\n"


def default_cases(cfg: Config) -> list[tuple[int, int, int]]:
    """(task, layers, images) per call: on a small config every feature of the top (two frames in one
    call, every task, the output after each block count 0 (embed), 1, ..., N); on a large one the
    network's output for one frame."""
    m = cfg.model
    N, last = m.layers, m.tasks - 1
    if m.tokens * m.dim > 4096:
        return [(0, N, 1)]
    return [(0, N, 2), (last, N, 1)] + [(L % m.tasks, L, 1) for L in range(N)]


def backbone_csim(cfg: Config, weights=None, images=None, cases=None) -> VectorSet:
    """backbone_tb's vector folder: ``cases`` (default :func:`default_cases`) of (task, layers, images),
    the frames drawn in turn from ``images`` (raw pixels; default the packaged photographs), the packed
    ``weights`` (default seeded_weights(cfg, 0)); expected = FixedM3ViT (python_ref.kernels.backbone)."""
    from python_ref.model import load_image, seeded_weights

    fw = quantize_weights(cfg, seeded_weights(cfg, 0) if weights is None else weights) \
        if not isinstance(weights, FixedWeights) else weights
    if images is None:
        images = [load_image(cfg, name).raw for name in DEFAULT_IMAGES]
    cases = default_cases(cfg) if cases is None else [tuple(int(v) for v in c) for c in cases]
    image_words, expected, k = [], [], 0
    for task, layers, n in cases:
        if not 1 <= n <= MAX_IMAGES:
            raise BackboneError(f"case {(task, layers, n)}: images must be 1..{MAX_IMAGES}")
        for _ in range(n):
            px = images[k % len(images)]
            k += 1
            image_words += pack_image(cfg, px)
            expected.append(backbone_raw(px, fw, task, cfg, layers).reshape(-1))
    layout = "".join(f"{name} {v}\n" for name, v in weight_layout(cfg).items())
    return VectorSet("backbone", {"cases": len(cases)},
                     {"cases.txt": "".join(f"{t} {L} {n}\n" for t, L, n in cases), "layout.txt": layout,
                      "image.txt": hex_words(image_words), "weights.txt": hex_words(pack_weights(cfg, fw))},
                     np.concatenate(expected), notes={"cases": cases, "frames": k})
