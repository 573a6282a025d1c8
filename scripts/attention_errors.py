#!/usr/bin/env python3
"""Error tables of the attention kernel (python_ref/kernels/attention.py: exact QK^T and AV on the
MAC array, two-pass softmax with deferred normalisation) against float64.

Every "vs float64" figure compares the bit-accurate spec with float64 attention evaluated on the SAME
act-quantized qkv (so the tables measure the kernel: operand rounding, score rounding and
saturation, exp, reciprocal, final rounding), except the float-model table, which compares with the
float model's own capture (float qkv) to show what quantizing qkv to act adds. Real rows: layer 0
and layer 1 qkv of the published weights on the published frame (python_ref.model.real_data); without
the weights those rows are left out and the output says why. For contrast the probability table also
runs Edge-MoE's online softmax (python_ref.kernels.softmax.softmax_raw, rows arriving rotated:
row i starts at key i mod T) on the same fixed-point scores.

    .venv/bin/python scripts/attention_errors.py                        # print the tables
    .venv/bin/python scripts/attention_errors.py --update docs/attention.md
    .venv/bin/python scripts/attention_errors.py --config configs/tiny.yaml   # one configuration
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np


from cosim.attention_vectors import adversarial_sets, random_sets, real_float, real_missing_reason
from python_ref.kernels.attention import attention, kv_format, q_format
from python_ref.kernels.softmax import PROB_FORMAT, rotated_order, softmax_raw
from scripts.cli import config_or_exit
from scripts.results_doc import update_section

SECTION = "attention_errors"
DEFAULT_CONFIGS = ("configs/edge_moe.yaml", "configs/tiny.yaml")
REL_FLOOR = 2.0 ** -10  # relative probability errors are taken over p_ref >= 2^-10


def lg(v: float) -> str:
    return "0" if v == 0 else f"{v:.3g} (2^{math.log2(v):.1f})"


def float_attention(qkv_raw, cfg):
    """float64 attention of the act-quantized qkv: scores (h, T, T), probs (h, T, T), out (T, D)."""
    x = cfg.fmt("act").to_float(qkv_raw)
    T = len(x)
    D, H, d = cfg.model.dim, cfg.model.heads, cfg.model.head_dim
    q, k, v = (x[:, i * D:(i + 1) * D].reshape(T, H, d).transpose(1, 0, 2) for i in range(3))
    return float_heads(q, k, v)


def float_heads(q, k, v):
    """float64 attention of per-head q, k, v (h, T, d): scores, probs, out (T, h d)."""
    H, T, d = q.shape
    s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return s, p, (p @ v).transpose(1, 0, 2).reshape(T, H * d)


def softmax_float(s):
    p = np.exp(s - s.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


class Case:
    """One qkv set through the spec, float64 and (for contrast) Edge-MoE's online softmax."""

    def __init__(self, name, qkv, cfg):
        self.name, self.cfg = name, cfg
        act, sc = cfg.fmt("act"), cfg.fmt("score")
        self.res = attention(qkv, cfg)
        self.s_ref, self.p_ref, self.o_ref = float_attention(qkv, cfg)
        # float64 on the operands as the array sees them (after RND, SAT_SYM to q's and K / V's formats)
        qf, kvf = q_format(cfg), kv_format(cfg)
        self.s_op, _, self.o_op = float_heads(qf.to_float(self.res.q), kvf.to_float(self.res.k), kvf.to_float(self.res.v))
        self.out = act.to_float(self.res.out)
        self.s_fix = sc.to_float(self.res.s)
        H, T, _ = self.res.s.shape
        rows = self.res.s.reshape(H * T, T)  # the score raws read as act raws (same width and fraction bits)
        assert sc.width == act.width and sc.frac == act.frac
        online = softmax_raw(rows, cfg, rotated_order(H * T, T, np.arange(H * T) % T))
        self.p_online = PROB_FORMAT.to_float(online.p).reshape(H, T, T)
        self.p_of_fixed_scores = softmax_float(self.s_fix)

    def out_err(self, head=None):
        """(max abs, RMS) vs float64 of act(qkv), the same vs float64 of the operands, max |out|."""
        d = self.cfg.model.head_dim
        cols = slice(None) if head is None else slice(head * d, (head + 1) * d)
        e1 = (self.out - self.o_ref)[:, cols]
        e2 = (self.out - self.o_op)[:, cols]
        return (float(np.abs(e1).max()), float(np.sqrt(np.mean(e1 ** 2))), float(np.abs(e2).max()),
                float(np.sqrt(np.mean(e2 ** 2))), float(np.abs(self.o_ref[:, cols]).max()))

    def prob_err(self, p):
        err = np.abs(p - self.p_ref)
        big = self.p_ref >= REL_FLOOR
        rel = float((err[big] / self.p_ref[big]).max()) if big.any() else 0.0
        stage = float(np.abs(p - self.p_of_fixed_scores).max())
        return float(err.max()), rel, stage, float(np.abs(p.sum(-1) - 1).max())

    def score_err(self):
        e1 = self.s_fix - self.s_ref
        e2 = self.s_fix - self.s_op
        sc = self.cfg.fmt("score")
        sat = int(np.count_nonzero((self.res.s == sc.raw_max) | (self.res.s == sc.raw_min)))
        return (float(np.abs(e1).max()), float(np.sqrt(np.mean(e1 ** 2))), float(np.abs(e2).max()), sat, e1.size,
                float(np.abs(self.s_ref).max()))


def out_table(cases, per_head: bool) -> list[str]:
    lines = ["| qkv | head | T | max abs error of attn_out | RMS error | max abs error vs float64 of the operands | "
             "RMS | max abs attn_out |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        heads = [None] + (list(range(c.cfg.model.heads)) if per_head else [])
        for h in heads:
            mx, rms, mx_op, rms_op, scale = c.out_err(h)
            lines.append(f"| {c.name} | {'all' if h is None else h} | {len(c.out)} | {lg(mx)} | {lg(rms)} | "
                         f"{lg(mx_op)} | {lg(rms_op)} | {scale:.3g} |")
    return lines


def score_table(cases) -> list[str]:
    lines = ["| qkv | scores | max abs error of s | RMS error | max abs error vs float64 of the operands | "
             "saturated | max abs score (float64) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        mx, rms, mx_op, sat, n, smax = c.score_err()
        lines.append(f"| {c.name} | {n} | {lg(mx)} | {lg(rms)} | {lg(mx_op)} | {sat} | {smax:.4g} |")
    return lines


def prob_table(cases) -> list[str]:
    lines = [f"| qkv | softmax | max abs error of p | max relative error (p_ref >= 2^{int(math.log2(REL_FLOOR))}) | "
             "max abs error vs float64 softmax of the fixed scores | max abs(sum p - 1) |",
             "|---|---|---:|---:|---:|---:|"]
    for c in cases:
        for label, p in (("two-pass, deferred (e r)", c.res.p), ("Edge-MoE online, rotated (p)", c.p_online)):
            mx, rel, stage, s1 = c.prob_err(p)
            lines.append(f"| {c.name} | {label} | {lg(mx)} | {lg(rel)} | {lg(stage)} | {lg(s1)} |")
    return lines


def float_model_table(cfg, real) -> list[str]:
    act = cfg.fmt("act")
    lines = ["| layer | fixed-point attn_out vs float model: max abs | RMS | float64 attention of act(qkv) vs float "
             "model: max abs | RMS |", "|---|---:|---:|---:|---:|"]
    for L, d in real.items():
        qkv = act.from_float(d["qkv"])
        fixed = act.to_float(attention(qkv, cfg).out)
        _, _, o_q = float_attention(qkv, cfg)
        e1, e2 = fixed - d["attn_out"], o_q - d["attn_out"]
        lines.append(f"| {L} | {lg(float(np.abs(e1).max()))} | {lg(float(np.sqrt(np.mean(e1 ** 2))))} | "
                     f"{lg(float(np.abs(e2).max()))} | {lg(float(np.sqrt(np.mean(e2 ** 2))))} |")
    return lines


def speed(cfg, qkv, repeats: int = 20) -> str:
    attention(qkv, cfg)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        attention(qkv, cfg)
        times.append(time.perf_counter() - t0)
    T = len(qkv)
    return (f"one layer ({cfg.model.heads} heads, T = {T}, d = {cfg.model.head_dim}): median "
            f"{np.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms over {repeats} runs "
            f"({os.cpu_count()} CPUs; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")


def config_section(cfg) -> list[str]:
    m = cfg.model
    out = [f"### {cfg.name}: {m.heads} heads, head_dim {m.head_dim}, T = {m.tokens}", ""]
    out.append(f"Formats: act {cfg.fmt('act').c_type}, q {q_format(cfg).c_type}, K and V {kv_format(cfg).c_type}, "
               f"score {cfg.fmt('score').c_type}.")
    out.append("")
    reason = real_missing_reason(cfg)
    real_cases, real = [], None
    if reason is None:
        real = real_float(cfg)
        act = cfg.fmt("act")
        real_cases = [Case(f"real layer {L}", act.from_float(d["qkv"]).astype(np.int64), cfg) for L, d in real.items()]
    adv = [Case(k, v, cfg) for k, v in adversarial_sets(cfg).items()]
    rnd = [Case(k, v, cfg) for k, v in random_sets(cfg).items()]
    out += ["Two references: float64 attention of the act-quantized qkv (the kernel's whole error, operand "
            "conversion included), and float64 attention of the operands q, k, v as the array sees them (after "
            "the RND / SAT_SYM conversion to q's and K / V's formats: what the array, the score rounding, the softmax "
            "and the final rounding add).", ""]
    if real_cases:
        out += ["#### Real qkv (published weights, Edge-MoE frame): attn_out", ""]
        out += out_table(real_cases, per_head=True)
    else:
        out += [f"Real rows left out: {reason}", ""]
    out += ["", "#### Score stage alone: s = score(q.k / sqrt(d)) vs float64 q.k / sqrt(d)", "",
            "Against the operands the error is the score rounding (at most 2^-23) unless the score saturates.", ""]
    out += score_table(real_cases + adv + rnd)
    out += ["", "#### Probabilities vs float64 softmax of the float64 scores", "",
            "The two-pass kernel never rounds p: its effective probability is e r (55 fraction bits). The "
            "online softmax's p is rounded to ap_ufixed<25,1>. The fourth column isolates the softmax stage "
            "(reference: float64 softmax of the kernel's own fixed-point scores).", ""]
    out += prob_table(real_cases + adv + rnd)
    if real is not None:
        out += ["", "#### Against the float model's own attn_out (float qkv, no quantization)", ""]
        out += float_model_table(cfg, real)
    out += ["", "#### Adversarial and random sets: attn_out", ""]
    out += out_table(adv + rnd, per_head=False)
    sample = (cfg.fmt("act").from_float(real[0]["qkv"]).astype(np.int64) if real is not None
              else random_sets(cfg, count=1)["realistic 0"])
    out += ["", f"Speed of the spec ({'real layer 0' if real is not None else 'a realistic set'}): "
            f"{speed(cfg, sample)}.", ""]
    return out


def report(configs) -> str:
    cmd = "`.venv/bin/python scripts/attention_errors.py --update docs/attention.md`"
    lines = [f"Generated by {cmd}. Reference: float64 on the same act-quantized qkv unless stated.", ""]
    for cfg in configs:
        lines += config_section(cfg)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", action="append", help="configuration(s) (default: edge_moe and tiny)")
    ap.add_argument("--update", type=Path, help="replace the attention_errors section of this markdown file")
    args = ap.parse_args()
    configs = [config_or_exit(c) for c in (args.config or DEFAULT_CONFIGS)]
    text = report(configs)
    if args.update is None:
        print(text)
        return 0
    update_section(args.update, SECTION, text)
    print(f"updated {args.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
