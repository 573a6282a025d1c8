#!/usr/bin/env python3
"""Error tables of the nonlinear units (exp, reciprocal, online softmax, LayerNorm) against float64.

Every figure compares the bit-accurate python_ref model (which the C++ and the RTL equal bit for bit)
with float64 (torch) evaluated on the SAME quantized inputs, so the tables measure the units, not the
input quantization. Real rows come from the published weights (../shared/edge_moe_weights or
$EDGE_MOE_WEIGHTS); without them those rows are left out and the table says so.

    .venv/bin/python scripts/nonlinear_errors.py                 # print the markdown tables
    .venv/bin/python scripts/nonlinear_errors.py --update docs/nonlinear.md
    .venv/bin/python scripts/nonlinear_errors.py --quick ...     # exp on a stride-61 sweep, not exhaustive
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch


from cosim.vectors import (layernorm_adversarial, layernorm_params, layernorm_random, random_orders,
                           real_gate_rows, real_layernorm_rows, real_score_rows, softmax_adversarial,
                           softmax_attention_like)
from python_ref.config import load_config
from python_ref.model.real_data import missing_reason
from python_ref.kernels.exp import OUT_FORMAT as EXP_FORMAT
from python_ref.kernels.exp import exp_neg_raw
from python_ref.kernels.layernorm import layernorm_raw
from python_ref.kernels.reciprocal import SOFTMAX_RECIP_FORMAT, SOFTMAX_SUM_FORMAT, reciprocal_raw
from python_ref.kernels.softmax import PROB_FORMAT, rotated_order, softmax_raw

BEGIN, END = "<!-- nonlinear-errors:begin -->", "<!-- nonlinear-errors:end -->"


def lg(v: float) -> str:
    return "0" if v == 0 else f"{v:.3g} (2^{math.log2(v):.1f})"


def exp_table(cfg, quick: bool) -> list[str]:
    f = cfg.fmt("act").frac
    lines = ["| x range (activation format, 22 fraction bits) | values | max abs error | at x | mean abs error |",
             "|---|---:|---:|---:|---:|"]
    ranges = [("(-1, 0]", 1), ("(-8, -1]", 8), ("(-32, -8]", 32)]
    lo = 0
    for label, hi in ranges:
        step = 61 if quick else 1
        worst, at, total, count = 0.0, 0, 0.0, 0
        for start in range(lo << f, hi << f, 1 << 22):
            x = -np.arange(start, min(start + (1 << 22), (hi << f) + (hi == 1)), step, dtype=np.int64)
            err = np.abs(EXP_FORMAT.to_float(exp_neg_raw(x, f)) - np.exp(np.ldexp(x.astype(np.float64), -f)))
            i = int(err.argmax())
            if err[i] > worst:
                worst, at = float(err[i]), int(x[i])
            total += float(err.sum())
            count += x.size
        lines.append(f"| {label}{' (every 61st)' if quick else ' (every value)'} | {count} | {lg(worst)} | "
                     f"{at / 2.0 ** f:.6f} | {lg(total / count)} |")
        lo = hi
    lines.append("| x < -32 | all | < 1.3e-14 (result 0) | | |")
    return lines


def recip_table() -> list[str]:
    rng = np.random.default_rng(1)
    lines = ["| instance | inputs | max abs error | max relative error | bound |", "|---|---:|---:|---:|---|"]
    fi, fo, wo = SOFTMAX_SUM_FORMAT.frac, SOFTMAX_RECIP_FORMAT.frac, SOFTMAX_RECIP_FORMAT.width
    x = np.concatenate([rng.integers(1 << fi, 1 << 32, 2_000_000), np.arange(1, 256) << fi])
    r = reciprocal_raw(x, fi, wo, fo)
    exact = 2.0 ** fi / x
    err = np.abs(r / 2.0 ** fo - exact)
    lines.append(f"| softmax 1/s, s in [1, 256) (ap_ufixed<32,8> -> <32,1>) | {x.size} | {lg(err.max())} | "
                 f"{lg((err / exact).max())} | half LSB = 2^-32 |")
    x = rng.integers(1 << 29, 1 << 30, 2_000_000)
    r = reciprocal_raw(x, 0, 31, 59)
    exact = 2.0 ** 59 / x
    rel = np.abs(r - exact) / exact
    lines.append(f"| LayerNorm 1/sigma', sigma' in [2^29, 2^30) (-> 2^59/sigma') | {x.size} | "
                 f"{lg(float(np.abs(r - exact).max()))} LSB | {lg(rel.max())} | half LSB = 2^-31 relative |")
    return lines


def _softmax_err(cfg, x, order):
    act = cfg.fmt("act")
    res = softmax_raw(x, cfg, order)
    ref = torch.softmax(torch.tensor(act.to_float(x), dtype=torch.float64), dim=-1).numpy()
    p = PROB_FORMAT.to_float(res.p)
    err = np.abs(p - ref)
    return err.max(), err.mean(), np.abs(p.sum(axis=1) - 1).max()


def softmax_table(cfg) -> list[str]:
    n = cfg.model.tokens
    lines = ["| rows | arrival order | rows x scores | max abs error of p | mean abs error | max abs(sum p - 1) |",
             "|---|---|---:|---:|---:|---:|"]

    def row(label, x, order, order_label):
        mx, mean, s = _softmax_err(cfg, x, order)
        lines.append(f"| {label} | {order_label} | {x.shape[0]} x {x.shape[1]} | {lg(mx)} | {lg(mean)} | {lg(s)} |")

    x = softmax_attention_like(cfg, 2000, n, 2)
    row("attention-like, spread up to +-12", x, None, "in order")
    row("attention-like, spread up to +-12", x, rotated_order(2000, n, np.arange(2000) % n), "rotated")
    row("attention-like, spread up to +-12", x, random_orders(2000, n, 3), "random")
    g = softmax_attention_like(cfg, 5000, cfg.model.experts, 4)
    row(f"gate-like ({cfg.model.experts} logits, +-12)", g, random_orders(5000, cfg.model.experts, 5), "random")
    if missing_reason() is None:
        for name, s in list(real_score_rows().items()) + list(real_gate_rows().items()):
            xr = cfg.fmt("act").from_float(s)
            row(f"real: {name}", xr, rotated_order(len(xr), xr.shape[1], np.arange(len(xr)) % xr.shape[1]),
                "rotated")
    else:
        lines.append(f"| real rows skipped: {missing_reason()} | | | | | |")
    for name, xr in softmax_adversarial(cfg, n).items():
        for order, label in ((None, "in order"), (random_orders(1, n, 6), "random")):
            mx, _, s = _softmax_err(cfg, xr, order)
            if label == "in order":
                best = (mx, s)
            else:
                lines.append(f"| adversarial: {name} | in order / random | 1 x {n} | {lg(best[0])} / {lg(mx)} | | "
                             f"{lg(max(best[1], s))} |")
    return lines


def _ln_err(cfg, x, g, b):
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    y = act.to_float(layernorm_raw(x, g, b, cfg))
    ref = torch.nn.functional.layer_norm(torch.tensor(act.to_float(x)), (x.shape[1],), torch.tensor(pf.to_float(g)),
                                         torch.tensor(pf.to_float(b)), eps=cfg.model.layernorm_eps).numpy()
    err = np.abs(y - ref)
    scale = np.abs(ref).max(axis=1)
    return err.max(), (err.max(axis=1) / scale).max()


def layernorm_table(cfg) -> list[str]:
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    lines = ["| rows | rows x features | max abs error of y | max error / row scale (max abs y) |",
             "|---|---:|---:|---:|"]
    g, b = layernorm_params(cfg, 7)
    x = layernorm_random(cfg, 2000, 8)
    mx, rel = _ln_err(cfg, x, g, b)
    lines.append(f"| random, scale 2^-16..2^7, offsets up to ~2^8 | {x.shape[0]} x {x.shape[1]} | {lg(mx)} | {lg(rel)} |")
    if missing_reason(cfg) is None:
        for name, xr, gr, br in real_layernorm_rows():
            xq = act.from_float(xr)
            mx, rel = _ln_err(cfg, xq, pf.from_float(gr), pf.from_float(br))
            lines.append(f"| real: {name} input, published gamma/beta | {xq.shape[0]} x {xq.shape[1]} | {lg(mx)} | "
                         f"{lg(rel)} |")
    else:
        lines.append(f"| real rows skipped: {missing_reason(cfg)} | | | |")
    for name, xr in layernorm_adversarial(cfg).items():
        mx, rel = _ln_err(cfg, xr, g, b)
        lines.append(f"| adversarial: {name} | 1 x {xr.shape[1]} | {lg(mx)} | {lg(rel)} |")
    return lines


def tables(quick: bool) -> str:
    cfg = load_config("edge_moe")
    cmd = "`.venv/bin/python scripts/nonlinear_errors.py --update docs/nonlinear.md`" + (" (with --quick)" if quick else "")
    out = [BEGIN, f"Generated by {cmd}; configuration edge_moe (activations ap_fixed<32,10>). "
           "Reference: float64 (torch) on the same quantized inputs.", "",
           "#### exp(x), x <= 0 (output ap_ufixed<25,1>, LSB 2^-24)", ""] + exp_table(cfg, quick)
    out += ["", "#### reciprocal (exact rounding)", ""] + recip_table()
    out += ["", "#### online softmax probabilities (edge_moe: 129 scores per attention row, 16 gate logits)", ""]
    out += softmax_table(cfg)
    out += ["", "#### LayerNorm outputs (edge_moe: 192 features, eps 1e-6)", ""] + layernorm_table(cfg)
    out += ["", "#### LayerNorm outputs, tiny configuration (32 features)", ""] + layernorm_table(load_config("tiny"))
    out += [END]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", type=Path, help="replace the block between the markers in this markdown file")
    ap.add_argument("--quick", action="store_true", help="exp on every 61st input instead of every input")
    args = ap.parse_args()
    text = tables(args.quick)
    if args.update is None:
        print(text)
        return 0
    doc = args.update.read_text() if args.update.exists() else ""
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc + ("\n" if doc else "") + text + "\n"
    args.update.write_text(doc)
    print(f"updated {args.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
