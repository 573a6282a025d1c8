#!/usr/bin/env python3
"""Accuracy of the bit-accurate fixed-point network (python_ref/model/fixed_model.py) against the float64
M3ViT (python_ref/model/float_model.py) on the same weights and image; the format study.

For every run (weights, image, task) both models capture every tensor under the same names; per
tensor: cosine similarity, max absolute and RMS error (the expert tensors over the (token, slot) pairs
whose expert agrees); per MoE layer the routing agreement with the near-ties counted apart (below);
per assignment of the fixed-point frame the range check (values whose exact pre-rounding value left
the format: wraps and saturations), and per float tensor the values outside its fixed-point format.

Near-ties. eps_L is the largest gate-logit error (fixed vs float, any expert) of layer L over the
tokens whose routing agreed in every earlier MoE layer; a token is a near-tie at layer L when its float
logit gap between the k-th and (k+1)-th expert is <= 2 eps_L (p_k - p_(k+1) <= p_(k+1) (e^(2 eps) - 1)):
only there can an error of the size measured on the tokens that followed the float path flip the
choice. Tokens that were routed differently in an earlier layer ("diverged") are judged against the
same bound, so their flips outside the near-ties count as disagreements.

Goals (checked for --config as given; exit status 1 when one is missed, the failing goal printed):
G1 final-layer cosine >= 0.999 in every run; G2 routing agreement >= 99% on the tokens that are not
near-ties, per MoE layer over the runs of one weight set; G3 no value outside its format: no wrap or
saturation event in the fixed-point frames and no float-model value outside the format of its tensor.

Runs: the published weights (stand-in expert matrices, flagged) on Edge-MoE's frame and the four
photographs, both tasks (skipped with the reason when absent), and seeded weights (--seed) on the
photographs, both tasks. The format study (--study, default on) runs each variant of VARIANTS on the
published runs (or the seeded ones when the published weights are absent).

Usage: python scripts/accuracy.py [--config configs/edge_moe.yaml] [--jobs 2] [--update docs/accuracy.md]
                                  [--img docs/img] [--no-study] [--images edge_moe,chelsea]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from python_ref.config import Config, parse_config
from python_ref.kernels import attention as attn
from scripts.cli import config_or_exit, images_or_exit

PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")
IMAGES = ("edge_moe",) + PHOTOS
COS_GOAL = 0.999
ROUTING_GOAL = 0.99
HIST_EDGES = np.linspace(-12.0, 1.0, 53)  # log10 |error|; exact zeros go to the first bin
KINDS = ("ln1", "qkv", "attn_scores", "attn_probs", "attn_out", "proj", "res1", "ln2", "fc1", "gelu", "fc2",
         "gate_logits", "gate_probs", "expert_fc1", "expert_gelu", "expert_fc2", "moe", "out")
EXPERT_KINDS = ("expert_fc1", "expert_gelu", "expert_fc2")

# ---------------------------------------------------------------------------------------------
# Format-study variants: numerics / formats / GELU changes applied to the --config YAML (parse_config
# with buildable=False). KV18 and W8 are the formats the study evaluates.
KV18 = {"width": 18, "int": 7, "quant": "RND", "overflow": "SAT_SYM"}  # K max 55.9 (layer 10): int 7
W8 = {"format": {"width": 8, "int": 8, "quant": "RND", "overflow": "SAT_SYM"},  # integers -127..127
      "scale": {"width": 18, "int": -5, "signed": False, "quant": "RND", "overflow": "SAT"}}  # < 2^-5, lsb 2^-23
# the formats that only the host's float -> fixed conversion of the parameters writes (no on-chip value
# is ever converted into one): their quant mode is the conversion's rounding, nothing in hardware
WEIGHT_ROLES = ("weight", "gate_weight", "attn_bias", "bias", "norm_param", "patch_weight")


Q26 = {"width": 26, "int": 8, "quant": "RND", "overflow": "SAT_SYM"}  # q max 7.7: what L = 32 leaves of the P register


def _set_weight_quant(d: dict, quant: str) -> None:
    for role in WEIGHT_ROLES:
        d["formats"][role]["quant"] = quant


def _exact(d: dict, **numerics) -> None:
    """(2): exact linear sums (unless ``numerics`` says otherwise) with q, K and V in formats.operand
    (the attention operands left out: K and V split hi / lo on the array), the parameters converted by
    floor (TRN, the study's baseline whatever the config ships), then ``numerics`` on top."""
    for key in ("attention_kv", "attention_q"):
        d["numerics"].pop(key, None)
    d["numerics"].update({"linear_sum": "exact", **numerics})
    _set_weight_quant(d, "TRN")


VARIANTS = OrderedDict([
    ("per_product", ("(1) Edge-MoE's rule: act operand, every product floored to act",
                     lambda d: _exact(d, linear_sum="per_product"))),
    ("exact", ("(2) 27-bit operand, exact sums, one rounding (DSP48E2 27 x 18); K and V split hi / lo",
               lambda d: _exact(d))),
    ("exact_kv18", ("(3) = (2) + 18-bit K and V, 26-bit q in attention (ap_fixed<18,7> / <26,8>, RND, SAT_SYM)",
                    lambda d: _exact(d, attention_kv=KV18, attention_q=Q26))),
    ("exact_experts8", ("(4) = (2) + 8-bit expert weights, per-output-channel 18-bit scale",
                        lambda d: _exact(d, expert_weights=W8))),
    ("exact_experts8_dense", ("(4') = (4) also on the dense MLP fc1/fc2 (proxy: trained weights)",
                              lambda d: _exact(d, expert_weights={**W8, "dense_mlp": True}))),
    ("exact_minimax", ("(5) = (2) + the minimax GELU table (same ROM)",
                       lambda d: (_exact(d), d["hardware"]["gelu"].update(method="minimax")))),
    ("exact_edge_gelu", ("(5') = (2) + Edge-MoE's GELU table",
                         lambda d: (_exact(d), d["hardware"]["gelu"].update(method="edge_moe")))),
    ("exact_rnd", ("(6) = (2) + weights converted to nearest (RND) instead of floor (TRN)",
                   lambda d: (_exact(d), _set_weight_quant(d, "RND")))),
    ("exact_kv18_rnd", ("(7) = (3) + (6): 18-bit K and V, 26-bit q, weights converted to nearest",
                        lambda d: (_exact(d, attention_kv=KV18, attention_q=Q26), _set_weight_quant(d, "RND")))),
])


def variant_config(base: Config, key: str) -> Config:
    if key == "shipped":
        return base
    d = base.as_dict()
    VARIANTS[key][1](d)
    return parse_config(d, f"{base.source} (study variant {key})", buildable=False)


def same_numerics(a: Config, b: Config) -> bool:
    """Whether two configs compute the same frame (formats, GELU, numerics)."""
    da, db = a.as_dict(), b.as_dict()
    return all(da[k] == db[k] for k in ("formats", "numerics")) and da["hardware"]["gelu"] == db["hardware"]["gelu"]


# ---------------------------------------------------------------------------------------------
# One run


@dataclass(frozen=True)
class Spec:
    variant: str  # "shipped" or a VARIANTS key
    weights: str  # "published" or "seeded"
    seed: int
    image: str
    task: int
    hist: bool  # collect error histograms


@dataclass
class Result:
    spec: Spec
    tensors: "OrderedDict[str, dict]"  # name -> cos, max_abs, rms, ref_rms, n, excluded
    hist: dict  # kind -> (layers, bins) counts
    routing: list  # per MoE layer: dict
    checks: "OrderedDict[str, tuple]"  # name -> (c_type, values, outside, max_abs, how)
    float_ranges: "OrderedDict[str, tuple]"  # name -> (c_type, max |float|, values outside the format)
    active: dict  # MoE layer -> active experts (fixed-point routing)
    ddr_bytes: dict  # weight bytes per frame: total, experts
    seconds: float  # CPU seconds of the fixed-point frame
    stand_ins: bool


_CACHE: dict = {}


def _weights(cfg: Config, spec: Spec):
    key = ("w", spec.weights, spec.seed, cfg.model)
    if key not in _CACHE:
        if spec.weights == "published":
            from python_ref.model.real_data import published_weights
            _CACHE[key] = published_weights(spec.seed)
        else:
            from python_ref.model.weights import seeded_weights
            _CACHE[key] = seeded_weights(cfg, spec.seed)
    return _CACHE[key]


def _float_run(cfg: Config, spec: Spec):
    """float64 capture of the float model (cached per process)."""
    import torch

    from python_ref.model import M3ViT, load_image

    key = ("f", spec.weights, spec.seed, spec.image, spec.task, cfg.model)
    if key not in _CACHE:
        runs = [k for k in _CACHE if k[0] == "f"]
        if len(runs) >= 10:  # ~60 MB per captured edge_moe run
            del _CACHE[runs[0]]
        mkey = ("m", spec.weights, spec.seed, cfg.model)
        if mkey not in _CACHE:
            _CACHE[mkey] = M3ViT.from_weights(cfg, _weights(cfg, spec), dtype=torch.float64)
        im = load_image(cfg, spec.image)
        _, caps = _CACHE[mkey](torch.as_tensor(im.pixels), spec.task, capture=True)
        _CACHE[key] = (im.raw, {k: v.numpy() for k, v in caps.items()})
    return _CACHE[key]


def _fixed_model(cfg: Config, spec: Spec):
    from python_ref.model.fixed_model import FixedM3ViT

    key = ("x", spec.variant, spec.weights, spec.seed, cfg.digest)
    if key not in _CACHE:
        for old in [k for k in _CACHE if k[0] == "x"]:  # one quantized network per process (~160 MB for edge_moe)
            del _CACHE[old]
        _CACHE[key] = FixedM3ViT(cfg, _weights(cfg, spec))
    return _CACHE[key]


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size == 0:
        return dict(cos=float("nan"), max_abs=float("nan"), rms=float("nan"), ref_rms=float("nan"), n=0)
    d = a - b
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(a @ b / (na * nb)) if na > 0 and nb > 0 else (1.0 if na == nb else 0.0)
    return dict(cos=cos, max_abs=float(np.abs(d).max()), rms=float(np.sqrt(np.mean(d * d))),
                ref_rms=float(np.sqrt(np.mean(b * b))), n=int(a.size))


def kind_of(name: str) -> tuple[int, str]:
    if not name.startswith("layer"):
        return -1, name
    layer, kind = name.split(".", 1)
    return int(layer[5:]), kind


def routing_stats(cfg: Config, frame, ref: dict) -> list:
    act = cfg.fmt("act")
    k, T = cfg.model.top_k, cfg.model.tokens
    diverged = np.zeros(T, dtype=bool)
    out = []
    for L in sorted(frame.moe):
        res = frame.moe[L]
        lf = np.asarray(ref[f"layer{L}.gate_logits"], dtype=np.float64)
        idx_f = np.asarray(ref[f"layer{L}.topk_idx"])
        agree = np.all(np.sort(res.topk_idx, 1) == np.sort(idx_f, 1), axis=1)
        err = np.abs(act.to_float(res.logits) - lf).max(axis=1)
        eps = float(err[~diverged].max()) if (~diverged).any() else float(err.max())
        s = -np.sort(-lf, axis=1)
        gap = s[:, k - 1] - s[:, k] if k < s.shape[1] else np.full(T, np.inf)
        near = gap <= 2 * eps
        out.append(dict(layer=L, tokens=T, agree=int(agree.sum()), near=int(near.sum()),
                        near_agree=int(agree[near].sum()), diverged=int(diverged.sum()),
                        outside=int((~near).sum()), outside_agree=int(agree[~near].sum()),
                        outside_bad_diverged=int((~agree & ~near & diverged).sum()), eps=eps,
                        eps_all=float(err.max()), min_gap=float(gap.min()),
                        active=len(res.active)))
        diverged |= ~agree
    return out


def ddr_weight_bytes(cfg: Config, active: dict) -> dict:
    """Weight bytes read from DDR per frame: every non-expert tensor once (the run-time task's gate
    only), each active expert's matrices, biases and scales; pos_embed in act."""
    m = cfg.model
    D, T = m.dim, m.tokens
    wb = cfg.fmt("weight").width / 8
    bb = cfg.fmt("bias").width / 8
    nb = cfg.fmt("norm_param").width / 8
    xw = cfg.numerics.expert_weights
    ew = wb if xw is None else xw.format.width / 8
    sb = 0 if xw is None else math.ceil(xw.scale.width / 8 / 2) * 2  # scales in 16- or 32-bit lanes
    dense_w = (ew if xw is not None and xw.dense_mlp else wb)
    dense_s = sb if xw is not None and xw.dense_mlp else 0
    total = D * m.patch_in * cfg.fmt("patch_weight").width / 8 + D * bb + T * D * cfg.fmt("act").width / 8
    experts = 0.0
    for L in range(m.layers):
        total += (3 * D * D + D * D) * wb + 4 * D * bb + 4 * D * nb
        if m.is_moe_layer(L):
            total += m.experts * D * cfg.fmt("gate_weight").width / 8
            per = 2 * D * m.expert_hidden * ew + (m.expert_hidden + D) * (bb + sb)
            experts += active[L] * per
        else:
            total += 2 * D * m.mlp_hidden * dense_w + (m.mlp_hidden + D) * (bb + dense_s)
    return dict(total=total + experts, experts=experts)


def measure(spec: Spec, base_path: str) -> Result:
    import torch

    from python_ref.config import load_config

    torch.set_num_threads(1)
    base = load_config(base_path)
    cfg = variant_config(base, spec.variant)
    pixels_raw, ref = _float_run(cfg, spec)
    model = _fixed_model(cfg, spec)
    t0 = time.process_time()
    frame = model(pixels_raw, spec.task, capture=True)
    seconds = time.process_time() - t0
    fl = frame.floats()
    tensors: OrderedDict = OrderedDict()
    hist = {}
    m = cfg.model
    idx_fx = {L: frame.moe[L].topk_idx for L in frame.moe}
    for name in fl:
        if name.endswith("topk_idx"):
            continue
        a, b = fl[name], np.asarray(ref[name], dtype=np.float64)
        L, kind = kind_of(name)
        excluded = 0
        if kind in EXPERT_KINDS:
            same = idx_fx[L] == np.asarray(ref[f"layer{L}.topk_idx"])  # (T, k) slot agreement
            excluded = int((~same).sum())
            a, b = a[same], b[same]
        tensors[name] = dict(compare(a, b), excluded=excluded)
        if spec.hist and kind in KINDS:
            e = np.log10(np.maximum(np.abs(a - b).ravel(), 10.0 ** HIST_EDGES[0]))
            h = hist.setdefault(kind, np.zeros((m.layers, len(HIST_EDGES) - 1), dtype=np.int64))
            h[L] += np.histogram(np.clip(e, HIST_EDGES[0], HIST_EDGES[-1] - 1e-9), HIST_EDGES)[0]
    checks = OrderedDict((n, (c.fmt.c_type, c.values, c.outside, c.max_abs, c.how)) for n, c in frame.checks.items())
    franges = OrderedDict()
    for name, f in frame.formats.items():
        if f.fmt is None or name == "input":
            continue
        v = np.asarray(ref[name], dtype=np.float64)
        outside = int(((v < f.fmt.min) | (v > f.fmt.max)).sum())
        franges[name] = (f.fmt.c_type, float(np.abs(v).max()), outside)
    active = {L: len(frame.moe[L].active) for L in frame.moe}
    ws = _weights(cfg, spec)
    return Result(spec, tensors, hist, routing_stats(cfg, frame, ref), checks, franges, active,
                  ddr_weight_bytes(cfg, active), seconds, bool(ws.stand_ins))


def _measure_star(args):
    return measure(*args)


def _cache_file(cache: Path | None, spec: Spec, base_path: str) -> Path | None:
    if cache is None:
        return None
    import hashlib

    from python_ref.config import load_config
    from python_ref.model.real_data import missing_reason

    key = repr((spec, load_config(base_path).digest, missing_reason() is None)).encode()
    return cache / f"{hashlib.sha256(key).hexdigest()[:20]}.pkl"


def run_all(specs: list, base_path: str, jobs: int, label: str, cache: Path | None = None) -> list:
    """Measure every spec (in jobs worker processes). With cache, each result is also pickled there as it
    arrives (keyed by the spec and the config's digest), and a rerun reuses it: an interrupted report resumes."""
    import pickle

    t0 = time.time()
    done = {}
    for s in specs:
        f = _cache_file(cache, s, base_path)
        if f is not None and f.is_file():
            done[s] = pickle.loads(f.read_bytes())
    todo = [s for s in specs if s not in done]
    if done:
        print(f"  [{label}] {len(done)} runs reused from {cache}", file=sys.stderr)

    def got(i, r):
        done[r.spec] = r
        f = _cache_file(cache, r.spec, base_path)
        if f is not None:
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(pickle.dumps(r))
        s = r.spec
        print(f"  [{label}] {i + 1}/{len(todo)} {s.variant} {s.weights} {s.image} task {s.task}: "
              f"{r.seconds:.1f} s CPU", file=sys.stderr, flush=True)

    if jobs <= 1 or len(todo) <= 1:
        for i, s in enumerate(todo):
            got(i, measure(s, base_path))
    else:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(jobs) as pool:
            for i, r in enumerate(pool.imap(_measure_star, [(s, base_path) for s in todo])):
                got(i, r)
    print(f"  [{label}] {len(specs)} runs in {time.time() - t0:.0f} s", file=sys.stderr)
    return [done[s] for s in specs]


# ---------------------------------------------------------------------------------------------
# Tables


def _e(v: float, digits: int = 2) -> str:
    if v != v:
        return "-"
    return f"{v:.{digits}e}"


def _cos(v: float) -> str:
    """Cosine similarity with enough digits to see 1 - cos."""
    if v != v:
        return "-"
    return f"{v:.6f}" if v < 0.999999 else f"1 - {1 - v:.1e}"


def _run_label(r: Result) -> str:
    s = r.spec
    w = "published" + ("†" if r.stand_ins else "") if s.weights == "published" else f"seeded {s.seed}"
    return f"{w} | {s.image} | {s.task}"


def summary_table(results: list, cfg: Config) -> str:
    moe_layers = [L for L in range(cfg.model.layers) if cfg.model.is_moe_layer(L)]
    last = f"layer{cfg.model.layers - 1}.out"
    head = ("| weights | image | task | final cosine | final RMS error | final max abs error | RMS of the float output | "
            "routing: same experts per MoE layer (" + ", ".join(str(L) for L in moe_layers) +
            ") | near-ties | out-of-format events | fixed-point CPU s |")
    lines = [head, "|" + "---|" * 10]
    for r in results:
        t = r.tensors[last]
        rt = " ".join(f"{x['agree']}" for x in r.routing)
        near = " ".join(f"{x['near']}" for x in r.routing)
        events = sum(c[2] for c in r.checks.values()) + sum(f[2] for f in r.float_ranges.values())
        lines.append(f"| {_run_label(r)} | {_cos(t['cos'])} | {_e(t['rms'])} | {_e(t['max_abs'])} | {t['ref_rms']:.3g} | "
                     f"{rt} (of {cfg.model.tokens}) | {near} | {events} | {r.seconds:.1f} |")
    return "\n".join(lines)


def _stand_in_mark(results: list, cfg: Config):
    """name -> "†" where a run used stand-in expert matrices and the tensor depends on them, else ""."""
    from python_ref.model.real_data import depends_on_stand_ins

    stand = any(r.stand_ins for r in results)
    return lambda name: "†" if stand and name != "input" and depends_on_stand_ins(name, cfg) else ""


def layer_table(results: list, cfg: Config) -> str:
    mark = _stand_in_mark(results, cfg)
    lines = ["| tensor | min cosine | mean cosine | mean RMS error | max abs error | mean RMS of float |",
             "|---|---|---|---|---|---|"]
    for name in ["embed"] + [f"layer{L}.out" for L in range(cfg.model.layers)]:
        vals = [r.tensors[name] for r in results]
        flag = mark(name)
        lines.append(f"| {name}{flag} | {_cos(min(v['cos'] for v in vals))} | {_cos(float(np.mean([v['cos'] for v in vals])))} | "
                     f"{_e(float(np.mean([v['rms'] for v in vals])))} | {_e(max(v['max_abs'] for v in vals))} | "
                     f"{float(np.mean([v['ref_rms'] for v in vals])):.3g} |")
    return "\n".join(lines)


def tensor_table(results: list, cfg: Config) -> str:
    """Every captured tensor, pooled over the runs: min cosine, max of max abs, mean RMS."""
    mark = _stand_in_mark(results, cfg)
    lines = ["| tensor | min cosine | max abs error | mean RMS error | mean RMS of float | (token, slot) pairs left out |",
             "|---|---|---|---|---|---|"]
    for name in results[0].tensors:
        vals = [r.tensors[name] for r in results]
        flag = mark(name)
        exc = sum(v["excluded"] for v in vals)
        lines.append(f"| {name}{flag} | {_cos(min(v['cos'] for v in vals))} | {_e(max(v['max_abs'] for v in vals))} | "
                     f"{_e(float(np.mean([v['rms'] for v in vals])))} | {float(np.mean([v['ref_rms'] for v in vals])):.3g} | "
                     f"{exc if name.split('.')[-1] in EXPERT_KINDS else ''} |")
    return "\n".join(lines)


def worst_table(results: list, n: int = 10) -> str:
    """The tensors with the largest relative RMS error (RMS error / RMS of the float values)."""
    rel = {}
    for name in results[0].tensors:
        if name == "input":
            continue
        vals = [r.tensors[name] for r in results]
        rr = float(np.mean([v["ref_rms"] for v in vals]))
        rel[name] = (float(np.mean([v["rms"] for v in vals])) / rr if rr > 0 else float("nan"),
                     min(v["cos"] for v in vals), max(v["max_abs"] for v in vals))
    order = sorted(rel, key=lambda k: -rel[k][0])[:n]
    lines = ["| tensor | RMS error / RMS of float | min cosine | max abs error |", "|---|---|---|---|"]
    lines += [f"| {k} | {_e(rel[k][0])} | {_cos(rel[k][1])} | {_e(rel[k][2])} |" for k in order]
    return "\n".join(lines)


def routing_table(results: list, cfg: Config) -> str:
    lines = ["| MoE layer | runs | tokens | same experts | near-ties (agree) | diverged earlier | not near-ties: agree / total | "
             "flips outside near-ties (diverged earlier) | eps range (undiverged) | agreement outside near-ties |",
             "|" + "---|" * 10]
    layers = sorted({x["layer"] for r in results for x in r.routing})
    for L in layers:
        xs = [x for r in results for x in r.routing if x["layer"] == L]
        out, oa = sum(x["outside"] for x in xs), sum(x["outside_agree"] for x in xs)
        lines.append(f"| {L} | {len(xs)} | {sum(x['tokens'] for x in xs)} | {sum(x['agree'] for x in xs)} | "
                     f"{sum(x['near'] for x in xs)} ({sum(x['near_agree'] for x in xs)}) | {sum(x['diverged'] for x in xs)} | "
                     f"{oa} / {out} | {out - oa} ({sum(x['outside_bad_diverged'] for x in xs)}) | "
                     f"{min(x['eps'] for x in xs):.1e} .. {max(x['eps'] for x in xs):.1e} | {100 * oa / max(out, 1):.2f}% |")
    return "\n".join(lines)


def routing_runs_table(results: list) -> str:
    lines = ["| weights | image | task | per MoE layer: same experts / near-ties (agree) / diverged earlier / eps |",
             "|---|---|---|---|"]
    for r in results:
        cells = "; ".join(f"L{x['layer']}: {x['agree']} / {x['near']} ({x['near_agree']}) / {x['diverged']} / {x['eps']:.1e}"
                          for x in r.routing)
        lines.append(f"| {_run_label(r)} | {cells} |")
    return "\n".join(lines)


def range_table(results: list) -> str:
    """Per check kind: format, largest magnitude before the assignment, values outside (fixed frames);
    and per captured tensor kind: the float model's largest magnitude and values outside the format."""
    agg: OrderedDict = OrderedDict()
    for r in results:
        for name, (ctype, values, outside, max_abs, how) in r.checks.items():
            _, kind = kind_of(name)
            a = agg.setdefault(kind, dict(fmt=ctype, values=0, outside=0, max_abs=0.0, how=how, fl_max=float("nan"),
                                          fl_out=0))
            a["values"] += values
            a["outside"] += outside
            a["max_abs"] = max(a["max_abs"], max_abs)
        for name, (ctype, fmax, fout) in r.float_ranges.items():
            _, kind = kind_of(name)
            a = agg.setdefault(kind, dict(fmt=ctype, values=0, outside=0, max_abs=float("nan"), how="-",
                                          fl_max=float("nan"), fl_out=0))
            a["fl_max"] = fmax if a["fl_max"] != a["fl_max"] else max(a["fl_max"], fmax)
            a["fl_out"] += fout
    lines = ["| assignment | format | values checked | max abs before assignment | outside (wrap / saturation) | how | "
             "float model: max abs | float model: values outside | headroom (bits) |", "|" + "---|" * 9]
    for kind, a in agg.items():
        top = _fmt_max(a["fmt"])
        ref = np.nanmax([a["max_abs"], a["fl_max"]])
        head = f"{math.log2(top / ref):.2f}" if ref == ref and ref > 0 else "-"
        has_float = a["fl_max"] == a["fl_max"]
        fl_max = f"{a['fl_max']:.4g}" if has_float else "-"
        fl_out = a["fl_out"] if has_float else "-"
        checked = a["values"] if a["values"] else "-"
        before = f"{a['max_abs']:.4g}" if a["values"] else "-"
        outside = a["outside"] if a["values"] else "-"
        lines.append(f"| {kind} | `{a['fmt']}` | {checked} | {before} | {outside} | {a['how']} | {fl_max} | {fl_out} | {head} |")
    return "\n".join(lines)


def _fmt_max(ctype: str) -> float:
    """Largest value of an ap_fixed / ap_ufixed spelled as its C type."""
    base, rest = ctype.split("<", 1)
    w, i = (int(v) for v in rest.split(",")[:2])
    signed = base == "ap_fixed"
    return ((1 << (w - signed)) - 1) * 2.0 ** -(w - i)


def goals(results: list, cfg: Config) -> list:
    """(goal, met, detail) for G1..G3 over the given runs (one config)."""
    last = f"layer{cfg.model.layers - 1}.out"
    worst = min(results, key=lambda r: r.tensors[last]["cos"])
    g1 = worst.tensors[last]["cos"] >= COS_GOAL
    out = [("G1 final-layer cosine >= 0.999 in every run", g1,
            f"lowest {_cos(worst.tensors[last]['cos'])} ({_run_label(worst).replace(' | ', ' ')})")]
    g2, detail = True, []
    for w in sorted({r.spec.weights for r in results}):
        rs = [r for r in results if r.spec.weights == w]
        for L in sorted({x["layer"] for r in rs for x in r.routing}):
            xs = [x for r in rs for x in r.routing if x["layer"] == L]
            o, oa = sum(x["outside"] for x in xs), sum(x["outside_agree"] for x in xs)
            frac = oa / o if o else 1.0
            if frac < ROUTING_GOAL:
                g2 = False
                detail.append(f"{w} layer {L}: {100 * frac:.2f}%")
    lowest = min((sum(x["outside_agree"] for r in results if r.spec.weights == w for x in r.routing if x["layer"] == L) /
                  max(1, sum(x["outside"] for r in results if r.spec.weights == w for x in r.routing if x["layer"] == L)), w, L)
                 for w in {r.spec.weights for r in results} for L in {x["layer"] for r in results for x in r.routing})
    out.append(("G2 routing agreement >= 99% outside near-ties (per MoE layer and weight set)", g2,
                "; ".join(detail) if detail else f"lowest {100 * lowest[0]:.2f}% ({lowest[1]} layer {lowest[2]})"))
    ev = sum(c[2] for r in results for c in r.checks.values())
    fev = sum(f[2] for r in results for f in r.float_ranges.values())
    out.append(("G3 no value outside its format (fixed-point wraps/saturations, float values outside the format)",
                ev == 0 and fev == 0, f"{ev} fixed-point events, {fev} float values outside"))
    return out


# ---------------------------------------------------------------------------------------------
# Plots (matplotlib, Agg)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_layers(results: list, cfg: Config, path: Path, title: str) -> None:
    plt = _plt()
    names = ["embed"] + [f"layer{L}.out" for L in range(cfg.model.layers)]
    x = np.arange(-1, cfg.model.layers)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    colors = dict(zip(IMAGES, ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")))
    for r in results:
        s = r.spec
        dist = [max(1 - r.tensors[n]["cos"], 1e-12) for n in names]
        rms = [r.tensors[n]["rms"] for n in names]
        style = dict(color=colors.get(s.image, "gray"), ls="-" if s.task == 0 else "--",
                     marker="o" if s.weights == "published" else "x", ms=3, lw=1.2 if s.weights == "published" else 0.8,
                     alpha=1.0 if s.weights == "published" else 0.6,
                     label=f"{s.weights[:4]} {s.image} t{s.task}")
        axes[0].semilogy(x, dist, **style)
        axes[1].semilogy(x, rms, **style)
    axes[0].axhline(1 - COS_GOAL, color="k", lw=0.8, ls=":")
    axes[0].text(x[0], (1 - COS_GOAL) * 1.15, "goal: cosine 0.999", fontsize=8)
    for ax, lab in zip(axes, ("1 - cosine similarity of the block output", "RMS error of the block output")):
        ax.set_xticks(x, ["emb"] + [str(L) for L in range(cfg.model.layers)])
        ax.set_xlabel("layer (odd: MoE)")
        ax.set_ylabel(lab)
        ax.grid(True, which="both", alpha=0.3)
        for L in range(cfg.model.layers):
            if cfg.model.is_moe_layer(L):
                ax.axvspan(L - 0.5, L + 0.5, color="0.93", zorder=0)
    axes[1].legend(fontsize=6.5, ncol=2, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_histograms(results: list, cfg: Config, path: Path, title: str) -> None:
    plt = _plt()
    hist = {}
    for r in results:
        for k, h in r.hist.items():
            hist[k] = hist.get(k, 0) + h
    kinds = [k for k in KINDS if k in hist]
    cols = 6
    rows = -(-len(kinds) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows), sharex=True)
    cmap = plt.get_cmap("viridis")
    centers = (HIST_EDGES[:-1] + HIST_EDGES[1:]) / 2
    for ax, k in zip(axes.ravel(), kinds):
        h = hist[k]
        for L in range(cfg.model.layers):
            if h[L].sum():
                ax.plot(centers, h[L] / h[L].sum(), color=cmap(L / max(1, cfg.model.layers - 1)), lw=1)
        ax.set_title(k, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    for ax in axes.ravel()[len(kinds):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("log10 |fixed - float|", fontsize=8)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, cfg.model.layers - 1))
    fig.colorbar(sm, ax=axes.ravel().tolist(), label="layer", shrink=0.6)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_study(study: "OrderedDict[str, list]", cfg: Config, path: Path) -> None:
    plt = _plt()
    names = ["embed"] + [f"layer{L}.out" for L in range(cfg.model.layers)]
    x = np.arange(-1, cfg.model.layers)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for key, rs in study.items():
        rms = [float(np.mean([r.tensors[n]["rms"] for r in rs])) for n in names]
        dist = [float(np.mean([max(1 - r.tensors[n]["cos"], 1e-12) for r in rs])) for n in names]
        axes[0].semilogy(x, dist, marker="o", ms=3, label=key)
        axes[1].semilogy(x, rms, marker="o", ms=3, label=key)
    for ax, lab in zip(axes, ("mean 1 - cosine of the block output", "mean RMS error of the block output")):
        ax.set_xticks(x, ["emb"] + [str(L) for L in range(cfg.model.layers)])
        ax.set_xlabel("layer")
        ax.set_ylabel(lab)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].axhline(1 - COS_GOAL, color="k", lw=0.8, ls=":")
    axes[1].legend(fontsize=7)
    fig.suptitle("Format study: error growth per variant (mean over the runs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Format study table and the performance model


def perf_model_estimates() -> dict | None:
    """Frame time of the proposed P1 architecture (../shared/design/perf_model.py next to the weights
    folder) for 16- and 8-bit expert weights and with/without the 18-bit attention operand; None if
    the model is absent. 8-bit experts: the expert weight stream carries 1 byte per weight plus the
    scales (4 bytes per output channel)."""
    import importlib.util

    from python_ref.model.weights import default_weights_dir

    path = default_weights_dir().parent / "design" / "perf_model.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("edge_moe_perf_model", path)
    pm = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pm  # its dataclasses look their module up
    spec.loader.exec_module(pm)
    from dataclasses import replace

    orig = pm.call_blocks
    state = {"bytes": 2}

    def blocks(a, n_out, n_in, rows, tag, wait=0, src="ddr", in_blocks=None):
        out = orig(a, n_out, n_in, rows, tag, wait, src, in_blocks)
        if tag == "experts" and src == "ddr" and state["bytes"] == 1:
            rate = a.ddr_w * 2  # bytes per cycle
            for b, blk in enumerate(out):
                outs = min(a.lo, n_out - b * a.lo)
                nbytes = outs * n_in + 4 * outs
                blk["load"] = max(a.lo, math.ceil(nbytes / rate))
                blk["bytes"] = nbytes
        return out

    pm.call_blocks = blocks
    est = {}
    try:
        for eb in (2, 1):
            state["bytes"] = eb
            for attn18 in (False, True):
                a = replace(pm.Arch(), attn_split=not attn18)
                comp, nbytes = pm.proposed_frame(a, pm.routing_samples("measured"))
                tot = sum(comp.values())
                est[(eb, attn18)] = (pm.ms(tot), nbytes / 1e6, pm.ms(comp["MoE experts (DDR-streamed)"]))
    finally:
        pm.call_blocks = orig
    return est


HARDWARE = {  # variant -> (DSP48E2 per MAC of the linear array, note)
    "per_product": ("2", "32 x 18 products (docs/linear.md: 512 DSP for the 16 x 16 array); P1 at 2 DSP/MAC: 2,498 DSP"),
    "exact": ("1", "27 x 18 DSP48E2, exact cascade sums (performance.md 4.1); P1 4.00 ms"),
    "exact_kv18": ("1", "QK^T/AV without the hi/lo split: half the attention array cycles (the shipped form)"),
    "exact_experts8": ("1", "27 x 8 products: still 1 DSP/MAC (no packing with a 27-bit operand); + 1 scale multiply "
                            "per output"),
    "exact_experts8_dense": ("1", "as (4); dense weights also halve"),
    "exact_minimax": ("1", "same ROM size and datapath (a different table)"),
    "exact_edge_gelu": ("1", "Edge-MoE's table"),
    "exact_rnd": ("1", "none: host-side weight conversion"),
    "exact_kv18_rnd": ("1", "(3)'s; the weight conversion is the host's"),
}


def study_table(study: "OrderedDict[str, list]", cfg: Config, shipped_key: str | None, perf: dict | None) -> str:
    last = f"layer{cfg.model.layers - 1}.out"
    lines = ["| variant | what | final cosine: min / mean | final RMS error (mean) | layer-5 out RMS (mean) | routing: agree "
             "outside near-ties | near-ties | same experts (all tokens) | out-of-format events | DSP48E2 / MAC | "
             "weight bytes / frame from DDR (experts) | P1 frame time (perf model) |", "|" + "---|" * 12]
    for key, rs in study.items():
        what = VARIANTS[key][0] + (" **= shipped config**" if key == shipped_key else "")
        cos = [r.tensors[last]["cos"] for r in rs]
        rms = float(np.mean([r.tensors[last]["rms"] for r in rs]))
        mid = float(np.mean([r.tensors["layer5.out"]["rms"] for r in rs])) if "layer5.out" in rs[0].tensors else float("nan")
        xs = [x for r in rs for x in r.routing]
        out, oa = sum(x["outside"] for x in xs), sum(x["outside_agree"] for x in xs)
        agree, tok = sum(x["agree"] for x in xs), sum(x["tokens"] for x in xs)
        near = sum(x["near"] for x in xs)
        ev = sum(c[2] for r in rs for c in r.checks.values()) + sum(f[2] for r in rs for f in r.float_ranges.values())
        byt = float(np.mean([r.ddr_bytes["total"] for r in rs])) / 1e6
        exb = float(np.mean([r.ddr_bytes["experts"] for r in rs])) / 1e6
        dsp, _ = HARDWARE.get(key, ("?", ""))
        t = "-"
        if perf is not None:
            eb = 1 if key.startswith("exact_experts8") else 2
            kv = key in ("exact_kv18", "exact_kv18_rnd")
            t = f"{perf[(eb, kv)][0]:.2f} ms" if key != "per_product" else f"{perf[(2, False)][0]:.2f} ms (at 2 DSP/MAC)"
        lines.append(f"| {key} | {what} | {_cos(min(cos))} / {_cos(float(np.mean(cos)))} | {_e(rms)} | {_e(mid)} | "
                     f"{100 * oa / max(out, 1):.2f}% ({oa}/{out}) | {near} | {agree}/{tok} | {ev} | {dsp} | "
                     f"{byt:.2f} MB ({exb:.2f}) | {t} |")
    return "\n".join(lines)


def study_layer_table(study: "OrderedDict[str, list]", cfg: Config) -> str:
    names = ["embed"] + [f"layer{L}.out" for L in range(cfg.model.layers)]
    lines = ["| variant | " + " | ".join(n.replace(".out", "") for n in names) + " |", "|" + "---|" * (len(names) + 1)]
    for key, rs in study.items():
        lines.append(f"| {key} | " + " | ".join(_e(float(np.mean([r.tensors[n]["rms"] for r in rs])), 1) for n in names)
                     + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--seed", type=int, default=0, help="seed of the seeded weights (and of the stand-in experts)")
    ap.add_argument("--images", default=",".join(IMAGES), help="images of the published runs")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")), help="worker processes")
    ap.add_argument("--no-study", action="store_true", help="skip the format study")
    ap.add_argument("--update", default=None, help="markdown file with <!-- BEGIN accuracy_* --> sections")
    ap.add_argument("--img", default="docs/img", help="folder of the PNG plots")
    ap.add_argument("--cache", default="build/accuracy", help="folder of the per-run results (a rerun resumes); "
                    "'' for none")
    args = ap.parse_args(argv)
    cfg = config_or_exit(args.config)
    from python_ref.model.real_data import missing_reason

    images = images_or_exit(args.images)
    reason = missing_reason(cfg)
    img_dir = Path(args.img)
    img_dir.mkdir(parents=True, exist_ok=True)
    photos = [i for i in images if i in PHOTOS] or list(PHOTOS)
    pub_specs = [] if reason else [Spec("shipped", "published", args.seed, i, t, True) for i in images
                                   for t in range(cfg.model.tasks)]
    seed_specs = [Spec("shipped", "seeded", args.seed, i, t, False) for i in photos for t in range(cfg.model.tasks)]
    print(f"accuracy: config {cfg.name} ({cfg.numerics.linear_sum}, GELU {cfg.hardware.gelu.method}); "
          f"{len(pub_specs)} published runs{' (' + reason + ')' if reason else ''}, {len(seed_specs)} seeded runs",
          file=sys.stderr)
    cache = Path(args.cache) if args.cache else None
    main_runs = run_all(pub_specs + seed_specs, args.config, args.jobs, "main", cache)
    pub = [r for r in main_runs if r.spec.weights == "published"]
    seeded = [r for r in main_runs if r.spec.weights == "seeded"]

    study = OrderedDict()
    shipped_key = next((k for k in VARIANTS if same_numerics(variant_config(cfg, k), cfg)), None)
    if not args.no_study:
        base_specs = pub_specs or seed_specs
        specs = [Spec(k, s.weights, s.seed, s.image, s.task, False) for k in VARIANTS for s in base_specs
                 if k != shipped_key]
        runs = run_all(specs, args.config, args.jobs, "study", cache)
        for k in VARIANTS:
            study[k] = (pub or seeded) if k == shipped_key else [r for r in runs if r.spec.variant == k]

    sections = OrderedDict()
    g = goals(main_runs, cfg)
    sections["accuracy_goals"] = (
        f"Config `{cfg.name}` as shipped (`numerics.linear_sum: {cfg.numerics.linear_sum}`, attention q "
        f"`{attn.q_format(cfg).c_type}` and K / V `{attn.kv_format(cfg).c_type}`, GELU table "
        f"`{cfg.hardware.gelu.method}`), {len(pub)} published and {len(seeded)} seeded runs:\n\n"
        "| goal | met | detail |\n|---|---|---|\n"
        + "\n".join(f"| {name} | {'yes' if ok else '**NO**'} | {detail} |" for name, ok, detail in g))
    weights_note = ""
    if pub:
        weights_note = (f"Published weights: {_weights_desc(pub[0], cfg)}. † marks values that depend on the seeded "
                        f"stand-in expert matrices (every tensor from layer1.expert_fc1 on: "
                        f"python_ref.model.real_data.depends_on_stand_ins).\n\n")
        plot_layers(pub + seeded, cfg, img_dir / "accuracy_layers.png",
                    f"{cfg.name} ({cfg.numerics.linear_sum}): fixed-point vs float64, block outputs "
                    f"(o published, x seeded; solid task 0, dashed task 1; grey: MoE layers)")
        plot_histograms(pub, cfg, img_dir / "accuracy_histograms.png",
                        f"{cfg.name} ({cfg.numerics.linear_sum}): error histograms per tensor, published runs pooled "
                        f"(each curve one layer, normalised)")
        sections["accuracy_published"] = (
            weights_note + "**Per run** (final = the last block's output, layer "
            f"{cfg.model.layers - 1}):\n\n" + summary_table(pub, cfg)
            + "\n\n**Per layer** (block outputs, over the published runs):\n\n" + layer_table(pub, cfg)
            + "\n\n**Largest relative errors** (over the published runs):\n\n" + worst_table(pub)
            + "\n\n<details><summary>Every captured tensor (over the published runs)</summary>\n\n"
            + tensor_table(pub, cfg) + "\n\n</details>")
        sections["accuracy_routing"] = ("**Published weights**, per MoE layer over the runs:\n\n" + routing_table(pub, cfg)
                                        + "\n\nPer run:\n\n" + routing_runs_table(pub)
                                        + "\n\n**Seeded weights**, per MoE layer over the runs:\n\n"
                                        + routing_table(seeded, cfg))
    else:
        plot_layers(seeded, cfg, img_dir / "accuracy_layers.png", f"{cfg.name}: fixed-point vs float64 (seeded)")
        sections["accuracy_published"] = f"Published weights: skipped: {reason}."
        sections["accuracy_routing"] = "**Seeded weights**:\n\n" + routing_table(seeded, cfg)
    sections["accuracy_seeded"] = (f"Seeded weights (seed {args.seed}, every tensor seeded, no stand-ins):\n\n"
                                   + summary_table(seeded, cfg) + "\n\n**Per layer**:\n\n" + layer_table(seeded, cfg))
    sections["accuracy_ranges"] = range_table(main_runs)
    if study:
        from python_ref.config import load_config
        perf = perf_model_estimates() if cfg.model == load_config("edge_moe").model else None  # models edge_moe
        plot_study(study, cfg, img_dir / "accuracy_study.png")
        which = "published" if pub else "seeded"
        perf_note = ("P1 frame time: ../shared/design/perf_model.py (next to the weights folder), its measured routing, "
                     "with the expert weight stream at 1 byte per weight + 4 bytes of scale per output channel for the "
                     "8-bit variants and the attention operand split off for kv18." if perf else
                     "P1 frame time: ../shared/design/perf_model.py not found next to the weights folder.")
        if perf is None and cfg.model != load_config("edge_moe").model:
            perf_note = "P1 frame time: the performance model describes edge_moe.yaml only."
        sections["accuracy_study"] = (
            f"Every variant on the same {len(next(iter(study.values())))} {which} runs (images "
            f"{', '.join(sorted({r.spec.image for r in next(iter(study.values()))}))}, both tasks). Weight bytes per "
            f"frame: every non-expert weight, bias, LayerNorm parameter and pos_embed once, each active expert's "
            f"matrices and biases (active experts from each run's own fixed-point routing). {perf_note}\n\n"
            + study_table(study, cfg, shipped_key, perf) + "\n\nMean RMS error of the block outputs per layer:\n\n"
            + study_layer_table(study, cfg))
    text = "\n\n".join(f"## {k}\n\n{v}" for k, v in sections.items())
    print(text)
    if args.update:
        from scripts.results_doc import update_section
        for k, v in sections.items():
            update_section(Path(args.update), k, v)
        print(f"updated {args.update} and {img_dir}/accuracy_*.png", file=sys.stderr)
    failed = [name for name, ok, _ in g if not ok]
    for name in failed:
        print(f"goal missed: {name}", file=sys.stderr)
    return 1 if failed else 0


def _weights_desc(r: Result, cfg: Config) -> str:
    return (f"Edge-MoE's published float32 files, the expert matrices replaced by seeded stand-ins (seed {r.spec.seed})"
            if r.stand_ins else "Edge-MoE's published float32 files")


if __name__ == "__main__":
    sys.exit(main())
