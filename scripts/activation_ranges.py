#!/usr/bin/env python3
"""Per-tensor range report of the float model against the configured fixed-point formats: for every
tensor the accelerator quantizes (pixels, weights and biases per kind, LayerNorm parameters, every
activation between kernels per layer), max|x|, the 99.9th and 99th percentiles of |x|, the format's
range, the headroom in bits (log2(format max / max|x|)) and the share of nonzero values below the
format's lsb. Any overflow is flagged (and makes the exit status 1).

Data: Edge-MoE's published weights with its frame and the skimage photo (both tasks); the missing
expert matrices are seeded stand-ins (--seed), so everything from the first expert fc1 on depends on
them (marked). Without the published folder: seeded weights, photo only (noted in the output).

  scripts/activation_ranges.py --config configs/edge_moe.yaml [--update docs/model.md]
  scripts/activation_ranges.py --weight-stats     # per-kind statistics of the published weights
"""
import argparse
import math
import re
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

from python_ref.config import ConfigError, load_config
from python_ref.model.weights import WeightsError, tensor_kind, weight_stats

BEGIN, END = "<!-- activation-ranges:begin -->", "<!-- activation-ranges:end -->"

# Which configured format holds each weight kind (python_ref.config.FORMAT_ROLES).
WEIGHT_FORMAT = {
    "patch_embed_weight": "patch_weight",
    "patch_embed_bias": "bias",
    "pos_embed": "act",  # added to the activation stream (no format role of its own)
    "norm1_weight": "norm_param", "norm1_bias": "norm_param",
    "norm2_weight": "norm_param", "norm2_bias": "norm_param",
    "qkv_weight": "weight", "qkv_bias": "attn_bias",
    "attn_proj_weight": "weight", "attn_proj_bias": "attn_bias",
    "fc1_weight": "weight", "fc1_bias": "bias", "fc2_weight": "weight", "fc2_bias": "bias",
    "w_gate_T": "gate_weight",
    "htoh4_weight": "weight", "htoh4_bias": "bias", "h4toh_weight": "weight", "h4toh_bias": "bias",
}
STAND_IN_DEPENDENT = ("htoh4_weight", "h4toh_weight")


class Stat:
    """Running max|x|, min, max and a pooled sample of |x| for percentiles (exact for these sizes)."""

    def __init__(self):
        self.parts, self.lo, self.hi, self.where = [], math.inf, -math.inf, ""
        self.amax = 0.0

    def add(self, x: np.ndarray, where: str):
        x = np.asarray(x, dtype=np.float64).ravel()
        a = np.abs(x)
        if a.max() > self.amax:
            self.amax, self.where = float(a.max()), where
        self.lo, self.hi = min(self.lo, float(x.min())), max(self.hi, float(x.max()))
        self.parts.append(a)

    def row(self, fmt):
        a = np.concatenate(self.parts)
        p999, p99 = np.percentile(a, [99.9, 99.0])
        fmax = max(fmt.max, -fmt.min)
        head = math.log2(fmax / self.amax) if self.amax > 0 else math.inf
        over = self.hi > fmt.max or self.lo < fmt.min
        nz = a[a > 0]
        under = 100.0 * float((nz < fmt.lsb).sum()) / max(nz.size, 1)
        return self.amax, p999, p99, fmax, head, over, under


def _fmt_num(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"


def collect(cfg, runs, weights):
    """runs: list of (label, captures). Returns (weight rows, activation rows, per-layer matrix)."""
    wstats: OrderedDict[str, Stat] = OrderedDict()
    for name, a in weights.tensors.items():
        wstats.setdefault(tensor_kind(name), Stat()).add(a, name)
    astats: OrderedDict[str, Stat] = OrderedDict()
    per_layer: OrderedDict[str, dict] = OrderedDict()
    for label, caps in runs:
        for name, t in caps.items():
            if name.endswith("topk_idx"):
                continue
            m = re.fullmatch(r"layer(\d+)\.(.+)", name)
            kind = m.group(2) if m else name
            x = t.numpy()
            astats.setdefault(kind, Stat()).add(x, f"{name} ({label})")
            if m:
                L = int(m.group(1))
                d = per_layer.setdefault(kind, {})
                d[L] = max(d.get(L, 0.0), float(np.abs(x).max()))
    return wstats, astats, per_layer


def table(stats, fmt_of, cfg, note_of=lambda k: ""):
    lines = ["| tensor | format | range | max abs | p99.9 abs | p99 abs | headroom (bits) | < lsb (%) | largest at |",
             "|---|---|---|---|---|---|---|---|---|"]
    overflows = []
    for kind, st in stats.items():
        role = fmt_of(kind)
        fmt = cfg.fmt(role)
        amax, p999, p99, fmax, head, over, under = st.row(fmt)
        flag = " **OVERFLOW**" if over else ""
        if over:
            overflows.append(f"{kind}: max |x| {amax:.4g} outside {fmt.c_type} [{fmt.min}, {fmt.max}]")
        lines.append(f"| {kind}{note_of(kind)} | {role} `{fmt.c_type}` | [{_fmt_num(fmt.min)}, {_fmt_num(fmt.max)}] | "
                     f"{_fmt_num(amax)}{flag} | {_fmt_num(p999)} | {_fmt_num(p99)} | {head:.2f} | {under:.2g} | "
                     f"{st.where} |")
    return lines, overflows


def activation_role(kind: str) -> str:
    return "pixel" if kind == "input" else "act"


def gate_margins(cfg, runs):
    """Per MoE layer: smallest gap between the k-th and (k+1)-th gate probability over tokens."""
    k = cfg.model.top_k
    lines = ["| MoE layer | run | min gap p(k) - p(k+1) | tokens with gap < 2^-10 | < 2^-14 |", "|---|---|---|---|---|"]
    for label, caps in runs:
        for name, t in caps.items():
            if name.endswith("gate_probs"):
                p = -np.sort(-t.numpy().astype(np.float64), axis=-1)
                gap = p[:, k - 1] - p[:, k]
                lines.append(f"| {name.split('.')[0]} | {label} | {gap.min():.2e} | {int((gap < 2**-10).sum())} | "
                             f"{int((gap < 2**-14).sum())} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--seed", type=int, default=0, help="seed of the stand-in experts / seeded weights")
    ap.add_argument("--weights", default="auto", help="auto (default), seeded, or a directory")
    ap.add_argument("--image", default=None, help="images, comma-separated (default: edge_moe frame if present, chelsea)")
    ap.add_argument("--update", metavar="MD", help=f"replace the text between {BEGIN} and {END} in this file")
    ap.add_argument("--weight-stats", action="store_true", help="print per-kind mean/std of the published weights")
    args = ap.parse_args()

    if args.weight_stats:
        from python_ref.model.weights import SEED_STATS, default_weights_dir
        d = args.weights if args.weights not in ("auto", "seeded") else default_weights_dir()
        print(f"per-kind statistics of {d} (median over layers) vs SEED_STATS")
        for kind, (mean, std) in weight_stats(d).items():
            print(f"  {kind:20s} mean {mean:+.4f} std {std:.4f}   seeded {SEED_STATS.get(kind)}")
        return 0

    import torch

    from python_ref.model import M3ViT, load_image
    from python_ref.model.images import ImageError
    from scripts.golden import choose_weights

    torch.set_num_threads(2)
    try:
        cfg = load_config(args.config)
        weights, wdir, note = choose_weights(cfg, args.weights, args.seed, stand_in_experts=True)
        names = args.image.split(",") if args.image else (["edge_moe"] if wdir is not None else []) + ["chelsea"]
        images = [load_image(cfg, n, wdir) for n in names]
    except (ConfigError, WeightsError, ImageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = M3ViT.from_weights(cfg, weights, torch.float64)
    runs = [(f"{img.name} task {t}", model(img.pixels, t, capture=True)[1]) for img in images
            for t in range(cfg.model.tasks)]
    wstats, astats, per_layer = collect(cfg, runs, weights)
    stand = set(weights.stand_ins)
    first_moe = next((L for L in range(cfg.model.layers) if cfg.model.is_moe_layer(L)), None)

    def wnote(kind):
        return " (stand-in)" if stand and kind in STAND_IN_DEPENDENT else ""

    wl, wo = table(wstats, lambda k: WEIGHT_FORMAT[k], cfg, wnote)
    al, ao = table(astats, activation_role, cfg)
    out = [f"Config `{cfg.name}` (digest {cfg.digest}); weights: {note}; images: "
           f"{', '.join(i.name for i in images)}; tasks 0..{cfg.model.tasks - 1}; float64 model. "
           f"Percentiles of |x| over all values of the kind (all layers, images, tasks); headroom = "
           f"log2(format max / max|x|); `< lsb` = share of nonzero values smaller than the format's lsb "
           f"(they quantize to 0 or -lsb under floor, TRN; to 0 or +-lsb under nearest, RND).", "",
           "**Weights and parameters**", ""]
    out += wl
    out += ["", "**Activations** (per tensor kind, all layers; names as in the capture scheme)", ""]
    out += al
    if stand:
        dense_before = f"0..{first_moe - 1}" if first_moe > 1 else "0"
        out += ["", f"Exact (published tensors only): `input`, `patch_embed`, `embed`, every tensor of layers "
                    f"{dense_before} and of layer {first_moe} up to `topk_prob`. From layer {first_moe}'s "
                    f"`expert_fc1` on (so every tensor of layers {first_moe + 1}..{cfg.model.layers - 1} too) the "
                    f"values depend on the seeded stand-in expert matrices, which Edge-MoE did not publish: the "
                    f"per-layer table below separates the layers."]
    layers = cfg.model.layers
    out += ["", "**max |x| per layer**", "", "| tensor | " + " | ".join(str(L) for L in range(layers)) + " |",
            "|---|" + "---|" * layers]
    for kind, d in per_layer.items():
        out.append(f"| {kind} | " + " | ".join(_fmt_num(d[L]) if L in d else "" for L in range(layers)) + " |")
    out += ["", "**MoE gate margins** (how far each token's k-th expert is from the (k+1)-th: a fixed-point "
                "gate must keep its probability error below this to reproduce the float decisions)", ""]
    out += gate_margins(cfg, runs)
    overflows = wo + ao
    out += ["", ("**No tensor overflows its format.**" if not overflows else
                 "**OVERFLOWS:** " + "; ".join(overflows))]
    text = "\n".join(out)
    print(text)
    if args.update:
        path = Path(args.update)
        doc = path.read_text()
        if BEGIN not in doc or END not in doc:
            print(f"error: {path} lacks the markers {BEGIN} / {END}", file=sys.stderr)
            return 2
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
        print(f"updated {path}", file=sys.stderr)
    return 1 if overflows else 0


if __name__ == "__main__":
    sys.exit(main())
