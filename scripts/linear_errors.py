#!/usr/bin/env python3
"""Error of the fixed-point linear engine (python_ref/kernels/linear.py, bit-exact to the C-sim)
against float64 PyTorch, per layer shape of a config, on realistic inputs.

Inputs and weights: Edge-MoE's published layer-0 weights and frame (``EDGE_MOE_WEIGHTS`` or
``../shared/edge_moe_weights``) when present; the layer inputs are the float64 model's own
intermediate tensors (python_ref.model.M3ViT) on that frame. The expert shapes use layer 1's
real LN2 output, the real expert biases, and seeded stand-in expert matrices (Edge-MoE did not
publish them); the tokens are those the real task-0 gate routes to the busiest expert (gathered
mode). Without the published files everything comes from the seeded weights and a photograph
(stated in the output).

Two errors per shape, both in units of the output value:
  engine   y_fixed vs float64 on the *same quantized operands* (x, W, b as the engine sees them):
           what the engine's own roundings cost (each product floored to 2**-22, GELU unit);
  layer    y_fixed (inputs quantized from the float tensors) vs the float64 model's float output:
           adds input and weight quantization (weights and biases: ap_fixed(double), TRN).

Usage: python scripts/linear_errors.py [--config edge_moe] [--update docs/linear.md]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent

from python_ref.kernels.linear import compute_linear, im2col, patch_embed
from python_ref.model import M3ViT, load_edge_moe_weights, load_image, seeded_weights, weights_available
from python_ref.model.images import EDGE_MOE_FRAME
from python_ref.model.weights import matches_edge_moe_files
from scripts.cli import config_or_exit, publish

SECTION = "linear_errors"


def f64_linear(x, w, b):
    return torch.nn.functional.linear(torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(w, dtype=torch.float64),
                                      torch.as_tensor(b, dtype=torch.float64)).numpy()


def f64_gelu(y):
    return torch.nn.functional.gelu(torch.as_tensor(y, dtype=torch.float64)).numpy()


def stats(err):
    err = np.asarray(err, dtype=np.float64)
    return float(np.abs(err).max()), float(np.sqrt(np.mean(err ** 2)))


def measure(cfg, weights_dir=None):
    m = cfg.model
    act = cfg.fmt("act")
    real = weights_available(weights_dir) and matches_edge_moe_files(cfg, weights_dir)
    if real:
        ws = load_edge_moe_weights(cfg, weights_dir, stand_in_experts=True)
        image = load_image(cfg, EDGE_MOE_FRAME, weights_dir)
        source = (f"published Edge-MoE weights (folder {Path(ws.source).name}), Edge-MoE frame; "
                  f"expert matrices: seeded stand-ins ({', '.join(ws.stand_ins[:2])}...)")
    else:
        ws = seeded_weights(cfg, 0)
        image = load_image(cfg)
        source = (f"no published weights of this shape found (EDGE_MOE_WEIGHTS or ../shared/edge_moe_weights): "
                  f"seeded weights (seed 0), image {image.name}")
    model = M3ViT.from_weights(cfg, ws, dtype=torch.float64)
    _, cap = model(image.pixels, task=0, capture=True)
    cap = {k: v.numpy() for k, v in cap.items()}

    def q(fmt_name, a):
        return cfg.fmt(fmt_name).from_float(np.asarray(a, dtype=np.float64)).astype(np.int64)

    def deq(fmt_name, raw):
        return cfg.fmt(fmt_name).to_float(raw)

    rows = []

    def linear_case(label, x_f, w_f, b_f, y_ref, w_role="weight", b_role="bias", gelu=False, gather=None):
        xq, wq, bq = q("act", x_f), q(w_role, w_f), q(b_role, b_f)
        y = compute_linear(xq, wq, bq, cfg, w_fmt=cfg.fmt(w_role), b_fmt=cfg.fmt(b_role), gelu=gelu, gather=gather)
        yf = act.to_float(y)
        xs = deq("act", xq) if gather is None else deq("act", xq)[gather]
        same = f64_linear(xs, deq(w_role, wq), deq(b_role, bq))
        if gelu:
            same = f64_gelu(same)
        rows.append((label, f"{w_f.shape[0]}x{w_f.shape[1]}", yf.shape[0], *stats(yf - same), *stats(yf - y_ref),
                     float(np.sqrt(np.mean(y_ref ** 2)))))

    L0 = "l0_"
    linear_case("qkv (layer 0)", cap["layer0.ln1"], ws[L0 + "qkv_weight"], ws[L0 + "qkv_bias"], cap["layer0.qkv"],
                b_role="attn_bias")
    linear_case("attn proj (layer 0)", cap["layer0.attn_out"], ws[L0 + "attn_proj_weight"], ws[L0 + "attn_proj_bias"],
                cap["layer0.proj"], b_role="attn_bias")
    linear_case("mlp fc1 (layer 0)", cap["layer0.ln2"], ws[L0 + "fc1_weight"], ws[L0 + "fc1_bias"], cap["layer0.fc1"])
    linear_case("mlp fc1 + GELU (layer 0)", cap["layer0.ln2"], ws[L0 + "fc1_weight"], ws[L0 + "fc1_bias"],
                cap["layer0.gelu"], gelu=True)
    linear_case("mlp fc2 (layer 0)", cap["layer0.gelu"], ws[L0 + "fc2_weight"], ws[L0 + "fc2_bias"], cap["layer0.fc2"])

    # Expert: the busiest expert of layer 1 (task 0), its tokens gathered in token order.
    moe_layer = next(L for L in range(m.layers) if m.is_moe_layer(L))
    p = f"layer{moe_layer}"
    idx = cap[f"{p}.topk_idx"]
    e = int(np.bincount(idx.reshape(-1), minlength=m.experts).argmax())
    tokens, slots = np.nonzero(idx == e)
    w1, b1 = ws[f"l{moe_layer}_htoh4_weight"][e], ws[f"l{moe_layer}_htoh4_bias"][e]
    w2, b2 = ws[f"l{moe_layer}_h4toh_weight"][e], ws[f"l{moe_layer}_h4toh_bias"][e]
    ln2 = cap[f"{p}.ln2"]
    linear_case(f"expert {e} fc1 (layer {moe_layer}, gathered)", ln2, w1, b1, cap[f"{p}.expert_fc1"][tokens, slots],
                gather=tokens)
    linear_case(f"expert {e} fc2 (layer {moe_layer})", cap[f"{p}.expert_gelu"][tokens, slots], w2, b2,
                cap[f"{p}.expert_fc2"][tokens, slots])

    # Patch embedding: exact pixels, conv weights in patch_weight, bias, position embedding in act.
    w4 = ws["patch_embed_weight"]
    wq, bq, posq = q("patch_weight", w4), q("bias", ws["patch_embed_bias"]), q("act", ws["pos_embed"])
    y = act.to_float(patch_embed(image.raw, wq, bq, posq, cfg))
    cols = cfg.fmt("pixel").to_float(im2col(image.raw, m.patch_size))
    same = np.vstack([deq("act", posq[:1]), f64_linear(cols, deq("patch_weight", wq).reshape(m.dim, -1),
                                                       deq("bias", bq)) + deq("act", posq[1:])])
    ref = cap["embed"]
    rows.append(("patch embedding + pos", f"{m.dim}x{m.patch_in}", y.shape[0], *stats(y - same), *stats(y - ref),
                 float(np.sqrt(np.mean(ref ** 2)))))
    return source, rows


def table(cfg, source, rows) -> str:
    lines = [f"Config `{cfg.name}`; {source}.", "",
             "| layer | out x in | rows | engine max | engine RMS | layer max | layer RMS | RMS of output |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3g} | {r[4]:.3g} | {r[5]:.3g} | {r[6]:.3g} | {r[7]:.3g} |")
    lines += ["", "engine: against float64 on the same quantized operands (the engine's own roundings); "
              "layer: against the float64 model's output (adds input, weight and bias quantization). "
              f"Activation LSB = {cfg.fmt('act').lsb:.3g}.",
              f"Reproduce: `.venv/bin/python scripts/linear_errors.py --config {cfg.name} --update docs/linear.md`"]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="edge_moe")
    ap.add_argument("--weights", default=None, help="Edge-MoE weights folder (default: $EDGE_MOE_WEIGHTS or "
                    "../shared/edge_moe_weights)")
    ap.add_argument("--update", default=None, help="markdown file with <!-- BEGIN linear_errors --> markers")
    args = ap.parse_args(argv)
    cfg = config_or_exit(args.config)
    source, rows = measure(cfg, args.weights)
    text = table(cfg, source, rows)
    publish(text, args.update, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
