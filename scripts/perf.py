#!/usr/bin/env python3
"""Frame latency of the accelerator at the configured clock (issue 13, `make perf`).

One frame of the config, composed call by call along the accelerator's schedule
(cosim/frame_schedule.py: the linear engine's and the attention unit's RTL cycle models, the
measured LayerNorm / softmax rates), with the weights streamed from DDR at --ddr-gbs; next to the
MAC roofline, the DDR (weight-traffic) roofline and Edge-MoE's figure by loop trip counts; the Yosys
resources of the units summed against the ZCU102; a stacked-bar plot of where the cycles go.

Routing (tokens per expert of each MoE layer): python_ref.kernels.moe on the float model's LN2
outputs, with Edge-MoE's published weights on the Edge-MoE frame when EDGE_MOE_WEIGHTS is set
(both tasks; the headline is the slower task), else seeded weights on a packaged photograph; plus
the uniform routing and every token to the same k experts.

  EDGE_MOE_WEIGHTS=/path/to/edge_moe_weights .venv/bin/python scripts/perf.py --config configs/edge_moe.yaml \\
      --update docs/performance.md
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cosim import frame_schedule as fs
from scripts.cli import config_or_exit
from python_ref.kernels.attention import single_pass

ROOT = Path(__file__).resolve().parent.parent
SECTION = "perf"


def realistic_routings(cfg, seed: int) -> tuple[list, str]:
    if os.environ.get("EDGE_MOE_WEIGHTS"):
        from python_ref.model.real_data import missing_reason

        reason = missing_reason(cfg)
        if reason is None:
            return [fs.routing_from_model(cfg, t, published=True) for t in range(cfg.model.tasks)], "published"
        print(f"note: published routing unavailable ({reason}); using seeded weights", file=sys.stderr)
    return [fs.routing_from_model(cfg, t, published=False, seed=seed) for t in range(cfg.model.tasks)], "seeded"


def fmt(x) -> str:
    return f"{x:,.0f}"


def attention_gap(cfg) -> str:
    """What keeps attention above its MAC share of the array (docs/attention.md section 6.3)."""
    parts = [] if single_pass(cfg) else ["the hi/lo split (x 2)"]
    parts += ["the key padding to whole blocks", "head 0's Q and K input beats before the first step",
              "the fills between phases"]
    return ", ".join(parts)


def ms(cfg, cycles) -> str:
    return f"{cycles / (cfg.hardware.clock_mhz * 1e3):.3f}"


def class_table(f: fs.Frame) -> list[str]:
    cfg = f.cfg
    meas, plan = f.by_class(), f.by_class(planned=True)
    tot, ptot = f.cycles, f.planned_cycles
    src = {}
    for c in f.calls:
        src.setdefault(c.cls, set()).add(c.unit)
    unit_src = {"linear": "linear RTL cycle model (= Verilator)", "attention": None,
                "layernorm": ("layernorm_linear.sv measured: to its first output beat, its rows streamed into the next "
                              "call's x_ (LANES = LI)" if fs.layernorm_streams(cfg) else "layernorm.sv measured rate"),
                "softmax": "softmax units' measured rates; top-k assumed 0"}
    att_src = next(c.source for c in f.calls if c.unit == "attention")
    unit_src["attention"] = ("attention RTL cycle model (= Verilator: tiny every T, edge_moe T = 1, 31 to 33, 129)" if att_src.startswith("cosim.attention_schedule")
                             else "analytic step count (lower bound)")
    lines = ["| unit class | calls | cycles | ms | share | planned: LayerNorm fused (cycles) | planned ms | source |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for k in fs.CLASSES:
        n = sum(1 for c in f.calls if c.cls == k)
        srcs = "; ".join(unit_src[u] for u in sorted(src.get(k, ())))
        lines.append(f"| {k} | {n} | {fmt(meas[k])} | {ms(cfg, meas[k])} | {100 * meas[k] / tot:.1f}% | "
                     f"{fmt(plan[k])} | {ms(cfg, plan[k])} | {srcs} |")
    lines.append(f"| **frame** | {len(f.calls)} | **{fmt(tot)}** | **{ms(cfg, tot)}** | 100% | **{fmt(ptot)}** | "
                 f"**{ms(cfg, ptot)}** | |")
    return lines


PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def plot(frames: list, labels: list, path: Path, title: str) -> None:
    """Stacked bars (ms per unit class) drawn with Pillow (in the venv through scikit-image; matplotlib
    is not), one bar per (frame, planned) pair, the max(MAC, DDR) roofline as a black tick."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        font = ImageFont.load_default()
    W, H, left, right, top, bottom = 1100, 620, 70, 300, 40, 90
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    totals = [fr.ms(fr.planned_cycles if planned else fr.cycles) for fr, planned in frames]
    ymax = max(totals) * 1.12
    ph = H - top - bottom

    def y(v):
        return top + ph - v / ymax * ph

    d.text((left, 10), title, fill="black", font=font)
    step = 1.0 if ymax <= 12 else 2.0
    v = 0.0
    while v <= ymax:
        d.line([(left - 4, y(v)), (W - right, y(v))], fill=(225, 225, 225))
        d.text((left - 40, y(v) - 7), f"{v:g}", fill="black", font=font)
        v += step
    d.text((8, top - 25), "ms/frame", fill="black", font=font)
    n = len(frames)
    slot = (W - right - left) / n
    bw = slot * 0.6
    for i, (fr, planned) in enumerate(frames):
        x0 = left + i * slot + (slot - bw) / 2
        base = 0.0
        for k, cls in enumerate(fs.CLASSES):
            val = fr.ms(fr.by_class(planned)[cls])
            if val > 0:
                d.rectangle([x0, y(base + val), x0 + bw, y(base)], fill=PALETTE[k % len(PALETTE)], outline="white")
            base += val
        d.text((x0, y(base) - 18), f"{base:.2f} ms", fill="black", font=font)
        r = fr.ms(fr.roofline)
        d.line([(x0 - 6, y(r)), (x0 + bw + 6, y(r))], fill="black", width=3)
        for j, part in enumerate(labels[i].split("\n")):
            d.text((x0 - 10, H - bottom + 8 + 16 * j), part, fill="black", font=font)
    d.line([(left, top), (left, top + ph), (W - right, top + ph)], fill="black")
    lx = W - right + 20
    for k, cls in enumerate(reversed(fs.CLASSES)):
        idx = len(fs.CLASSES) - 1 - k
        d.rectangle([lx, top + 10 + 22 * k, lx + 14, top + 24 + 22 * k], fill=PALETTE[idx % len(PALETTE)])
        d.text((lx + 22, top + 10 + 22 * k), cls, fill="black", font=font)
    k = len(fs.CLASSES)
    d.line([(lx, top + 17 + 22 * k), (lx + 14, top + 17 + 22 * k)], fill="black", width=3)
    d.text((lx + 22, top + 10 + 22 * k), "max(MAC, DDR roofline)", fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def per_word_of(cfg, args) -> int:
    """Weights per w_ word: what the engine's w_ port takes per cycle."""
    return args.w_bits // cfg.fmt("weight").width


def report(cfg, args) -> tuple[str, list]:
    gbs = args.ddr_gbs
    kw = dict(w_bits=args.w_bits, attention=args.attention, call_gap=args.call_gap, fifo_depth=args.fifo_depth)
    routings, kind = realistic_routings(cfg, args.seed)
    real = [fs.compose(cfg, r, gbs, **kw) for r in routings]
    head = max(real, key=lambda f: f.cycles)
    uni = fs.compose(cfg, fs.uniform_routing(cfg), gbs, **kw)
    conc = fs.compose(cfg, fs.concentrated_routing(cfg), gbs, **kw)
    hz = cfg.hardware.clock_mhz
    rate = fs.weight_rate(cfg, gbs)
    att_src = next(c.source for c in head.calls if c.unit == "attention")
    depth = head.fifo_depth
    no_fifo = fs.compose(cfg, head.routing, gbs, **{**kw, "fifo_depth": 0}) if depth else head
    lines = [f"Configuration `{cfg.name}`, {hz:g} MHz, MAC array {cfg.hardware.linear_in} x {cfg.hardware.linear_out}; "
             f"weights from DDR at **{gbs:g} GB/s** ({float(rate):.4g} weights/cycle, {args.w_bits}-bit w_ words, "
             f"bursts of {fs.DEFAULT_BURST} words); routing: {head.routing.note} (the slower of the "
             f"{len(real)} tasks); calls back to back, {args.call_gap} cycles between calls.", "",
             f"**Frame: {fmt(head.cycles)} cycles = {head.ms():.3f} ms** (RTL units as built). "
             f"Planned, LayerNorm fused (not RTL): {fmt(head.planned_cycles)} cycles = {head.ms(head.planned_cycles):.3f} ms.",
             "", *class_table(head), ""]
    if depth:
        st = head.fifo_stats
        th = fs.ddr_throttle(cfg, gbs, args.w_bits)
        busy = st["fetched_words"] * th.word / th.rate
        lines += [f"Weight prefetch FIFO: {fmt(depth)} words of {args.w_bits} bits ({depth * args.w_bits / 8 / 2 ** 20:g} MiB, "
                  f"{fs.fifo_bram36(depth, args.w_bits):g} BRAM36; `hardware.weight_fifo.depth`, rtl/src/weight_fifo.sv). "
                  f"The DDR fills it from the frame's start whenever it has room, in the frame's weight order, each MoE "
                  f"layer's experts speculatively in index order until the gate's routing is known. The frame fetched "
                  f"{fmt(st['fetched_words'])} words ({fmt(st['engine_words'])} to the engine, {fmt(st['dropped_words'])} "
                  f"dropped at the head: inactive experts fetched before their routing was known; "
                  f"{st['skipped_segments']} inactive expert images skipped); the DDR was busy {fmt(busy)} of "
                  f"{fmt(head.cycles)} cycles ({100 * busy / head.cycles:.0f} %). Without the FIFO (each call's weights "
                  f"streamed from its ap_start, the engine's block-0 prefetch only) the same frame takes "
                  f"{fmt(no_fifo.cycles)} cycles = {no_fifo.ms():.3f} ms.", ""]
    lin = head.linear_calls
    b0 = sum(fs.linear_cycles(cfg, *c.shape, gbs, args.w_bits).block0_load for c in lin)
    iso, cnt = sum(c.isolated_cycles for c in lin), sum(c.cycles for c in lin)
    wait = sum(c.block0_wait for c in lin)
    lines += [f"Block-0 weight loads: the linear engine loads a call's block 0 while the call before it computes and "
              f"while LayerNorm / attention run (its two-entry call queue). The {len(lin)} linear calls count "
              f"{fmt(cnt)} cycles in the frame against {fmt(iso)} on their own: {fmt(iso - cnt)} cycles "
              f"({ms(cfg, iso - cnt)} ms) hidden, of {fmt(b0)} cycles ({ms(cfg, b0)} ms) of block-0 loads on their own. "
              f"Still exposed: {fmt(wait)} cycles ({ms(cfg, wait)} ms) in which a call's first step waits for its "
              f"block 0 beyond its activations (the first expert of a layer, presented only after the gate's "
              f"top-k; load-bound experts back to back, whose loader is busy with the call before until it "
              f"ends). Attention figure: {att_src}.", ""]

    # rooflines
    lines += ["### Rooflines", "",
              "| routing | frame ms | planned ms | MACs | MAC roofline ms | weight MB | DDR roofline ms | "
              "frame / max(rooflines) | planned / max(rooflines) | Edge-MoE trip counts (same routing) ms |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [(f"{kind}: {f.routing.name}", f) for f in real] + [("uniform", uni), ("all tokens to k experts", conc)]
    for name, f in rows:
        em = fs.edge_moe_trip_cycles(cfg, f.routing)
        lines.append(f"| {name} | {f.ms():.3f} | {f.ms(f.planned_cycles):.3f} | {f.macs / 1e6:.1f} M | "
                     f"{f.ms(f.mac_roofline):.3f} | {f.weight_bytes / 1e6:.2f} | {f.ms(f.ddr_roofline):.3f} | "
                     f"{f.cycles / f.roofline:.2f} | {f.planned_cycles / f.roofline:.2f} | {f.ms(em):.2f} |")
    lines += ["", "MAC roofline: the frame's multiply-accumulates (attention's QK^T and AV counted once per product) "
              f"at {cfg.hardware.linear_in * cfg.hardware.linear_out} per cycle. DDR roofline: the w_ images of the "
              f"frame's linear calls (16-bit weights in {args.w_bits}-bit words, what the modelled DDR streams; the "
              f"biases, about 0.5 % of the bytes, come on b_ outside that budget) at {gbs:g} GB/s; weight MB counts "
              f"weights and biases. Edge-MoE: its HLS loop trip counts "
              f"(16 x 16 linear tile, 8 activations per beat, 4-query attention, II = 1) under the same routing; the "
              f"worked study's figure on its measured routing is {fs.EM_PUBLISHED_MS:g} ms "
              "(/work/shared/design/performance.md table 2b, reproduced exactly by `cosim.frame_schedule."
              "edge_moe_trip_cycles`).", ""]
    active = {L: sum(1 for x in c if x) for L, c in head.routing.counts.items()}
    lines += [f"Tokens per expert ({head.routing.note}): " + "; ".join(
        f"layer {L}: {c} ({active[L]} active)" for L, c in head.routing.counts.items()), ""]

    # bandwidth sweep
    lines += ["### DDR bandwidth", "",
              "| DDR GB/s | weights/cycle | frame ms | planned ms | experts ms | DDR roofline ms | frame / max(rooflines) |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for g in args.sweep:
        f = fs.compose(cfg, head.routing, g, **kw)
        lines.append(f"| {g:g} | {float(fs.weight_rate(cfg, g)):.4g} | {f.ms():.3f} | {f.ms(f.planned_cycles):.3f} | "
                     f"{f.ms(f.by_class()['experts (fc1 + fc2)']):.3f} | {f.ms(f.ddr_roofline):.3f} | "
                     f"{f.cycles / f.roofline:.2f} |")
    lines += ["", f"{fs.DDR_PEAK_GBS:g} GB/s is the PS DDR4-2400 x 64 peak; the default {fs.DEFAULT_DDR_GBS:g} GB/s "
              "(75 %) is the rate the linear engine's DDR runs were measured at (24 weights/cycle, integer: the "
              "measured regime). Non-integer weights/cycle use the same token bucket in 1/q-weight units (modelled). "
              f"The {args.w_bits}-bit w_ word carries at most {args.w_bits // cfg.fmt('weight').width} weights per "
              f"cycle ({args.w_bits // cfg.fmt('weight').width * 2 * hz / 1000:g} GB/s at {hz:g} MHz): a faster DDR "
              "does not help the engine beyond it.", ""]

    # FIFO depth sweep
    if args.fifo_sweep:
        lines += ["### Weight FIFO depth", "",
                  "| FIFO words | MiB | BRAM36 | " + " | ".join(f"{n} ms (dropped words)" for n, _f in rows) + " |",
                  "|---:|---:|---:|" + "---:|" * len(rows)]
        for d in args.fifo_sweep:
            cells = []
            for _n, f0 in rows:
                f = fs.compose(cfg, f0.routing, gbs, **{**kw, "fifo_depth": d})
                cells.append(f"{f.ms():.3f} ({fmt(f.fifo_stats.get('dropped_words', 0))})" if d else f"{f.ms():.3f}")
            lines.append(f"| {fmt(d)} | {d * args.w_bits / 8 / 2 ** 20:g} | {fs.fifo_bram36(d, args.w_bits):g} | "
                         + " | ".join(cells) + " |")
        lines += ["", "0: no FIFO (each call's weights streamed from its ap_start). A deeper FIFO prefetches more "
                  "weights while the DDR would idle, and fetches more experts speculatively before the routing is "
                  "known: those it must drop (one word per cycle at the head) cost DDR time and head time, so the "
                  "frame is not monotone in the depth (nor, with the FIFO, in the DDR bandwidth).", ""]

    # the architecture's lower bound: what 1.2x the roofline would need
    depths = sorted(set([d for d in args.fifo_sweep if d] + ([depth, 4 * depth] if depth else [])))
    if depths:
        lines += ["### What 1.2x the roofline needs", "",
                  f"A lower bound of the frame for any schedule of these units (`cosim.frame_schedule."
                  f"architecture_bound`; {head.routing.note}, {gbs:g} GB/s): every linear call and attention at its "
                  "MAC share of the array (no padding, no hi/lo split, no fill), LayerNorm fused (its latency only), "
                  "the gate softmax as counted, and each MoE layer's expert phase at least the largest of its MAC "
                  "share, its active experts' w_ words at the w_ port's rate, and the words the DDR must still "
                  "deliver after the routing is known (at best the FIFO holds `depth` of them, every one useful); "
                  "never below the DDR roofline. tests/test_perf.py checks that it bounds every modelled frame.", "",
                  f"| FIFO words | BRAM36 | frame ms (as built) | bound ms, w_ port as built ({per_word_of(cfg, args)} "
                  f"weights/cycle) | x max(rooflines) | bound ms, w_ port twice as wide | x max(rooflines) |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        best, one_word, two_word = None, [], []
        for d in depths:
            f = head if d == depth else fs.compose(cfg, head.routing, gbs, **{**kw, "fifo_depth": d})
            b1, b2 = fs.architecture_bound(f, args.w_bits), fs.architecture_bound(f, args.w_bits, w_port_words=2)
            lines.append(f"| {fmt(d)} | {fs.fifo_bram36(d, args.w_bits):g} | {f.ms():.3f} | {f.ms(b1.cycles):.3f} | "
                         f"{b1.cycles / f.roofline:.2f} | {f.ms(b2.cycles):.3f} | {b2.cycles / f.roofline:.2f} |")
            one_word.append((d, b1.cycles / f.roofline))
            two_word.append((d, b2.cycles / f.roofline))
            if d == depth:
                best = (f, b1)
        if best:
            f, b1 = best
            arr = cfg.hardware.linear_in * cfg.hardware.linear_out
            attention_share = sum(-(-c.macs // arr) for c in f.calls if c.cls == "attention")
            expert_weights = sum(c.shape[0] * c.shape[1] for c in f.calls if c.cls == "experts (fc1 + fc2)")
            per_word = per_word_of(cfg, args)
            lines += ["", f"At the shipped depth the frame ({f.ms():.3f} ms) is {f.cycles / b1.cycles:.2f}x its bound "
                      f"({f.ms(b1.cycles):.3f} ms: {f.ms(b1.other):.3f} ms outside the experts, {f.ms(b1.experts):.3f} ms of "
                      f"expert phases). The gap is attention ({ms(cfg, f.by_class()['attention'])} ms against a MAC share of "
                      f"{ms(cfg, attention_share)} ms: {attention_gap(cfg)}), LayerNorm "
                      f"({ms(cfg, f.by_class()['LayerNorm'])} ms, "
                      f"{'to its first output beats, its rows streamed into the next call' if fs.layernorm_streams(cfg) else 'not fused'}"
                      f") and the experts' block-0 waits and drops."]
            deep = b1.any_depth
            verdict = ("stays above 1.2x the roofline at any FIFO depth" if deep > 1.2 * f.roofline else
                       "is within 1.2x the roofline once the FIFO is deep enough")
            lines[-1] += (f" With the w_ port as built the bound {verdict} "
                          f"({f.ms(deep):.3f} ms = {deep / f.roofline:.2f}x with the DDR term gone: the experts' "
                          f"{expert_weights / 1e6:.1f} M weights at {per_word} per cycle)"
                          + (": the target needs a wider w_ path" if deep > 1.2 * f.roofline else "."))
            if deep <= 1.2 * f.roofline:
                fits = [d for d, x in one_word if x <= 1.2]
                met = f.cycles <= 1.2 * f.roofline
                lines[-1] += (f" At the shipped depth the bound is {b1.cycles / f.roofline:.2f}x"
                              + ((f" (a FIFO of {fmt(fits[0])} words or more keeps it within 1.2x), and the frame as "
                                  f"built is {f.cycles / f.roofline:.2f}x: within 1.2x." if met else
                                  f" (a FIFO of {fmt(fits[0])} words or more keeps it within 1.2x): the target is left to "
                                  "the schedule, attention close to its MAC share, LayerNorm fused and the experts' waits "
                                  "and drops. None of these is built.") if fits else
                                 ": no FIFO depth of the table keeps it within 1.2x."))
            ok = [(d, x) for d, x in two_word if x <= 1.2]
            if deep > 1.2 * f.roofline:
                lines[-1] += ((f" with a FIFO of at least {fmt(ok[0][0])} words ({fs.fifo_bram36(ok[0][0], args.w_bits):g} "
                               f"BRAM36 of the device's {fs.ZCU102['BRAM36']}; bound {ok[0][1]:.2f}x)" if ok else
                               " and a FIFO deeper than the table's") +
                              ", LayerNorm fused and attention close to its MAC share. None of these is built.")
            lines.append("")

    # resources
    res_md = (ROOT / "docs" / "RESULTS.md").read_text()
    rows_r, tot = fs.resources(cfg, res_md)
    lines += ["### Resources (Yosys, docs/RESULTS.md)", "",
              f"| unit | LUT sites (LUT + SRL + {fs.LUTRAM_SITES} x LUTRAM) | FF | DSP48E2 | BRAM36 (+ BRAM18 / 2) | status |",
              "|---|---:|---:|---:|---:|---|"]
    for u, lut, ff, dsp, bram, status in rows_r:
        cell = (lambda v: "-" if v is None else fmt(v))
        lines.append(f"| {u} | {cell(lut)} | {cell(ff)} | {cell(dsp)} | {'-' if bram is None else f'{bram:g}'} | {status} |")
    # the activation buffers between calls are rtl/src/act_buffers.sv (a unit row above); its layout and
    # the block RAM model that equals its Yosys count go under the table
    mems = fs.activation_memories(cfg)
    fences = fs.buffer_fences(head)
    layout = fs.activation_layout(cfg)
    act_bram, bound = fs.activation_bram36(cfg), fs.activation_bram36_bound(cfg)
    z = fs.ZCU102
    missing = [u for u, *_r, s in rows_r if s.startswith("missing")]
    dsp_only = [u for u, lut, _f, dsp, _b, _s in rows_r if lut is None and dsp is not None]
    notes = ([f"{', '.join(missing)} missing"] if missing else []) + \
        ([f"LUT, FF, BRAM without {', '.join(dsp_only)}"] if dsp_only else [])
    lines.append(f"| **sum of the figures above**{' (' + '; '.join(notes) + ')' if notes else ''} | "
                 f"**{fmt(tot['LUT'])}** ({100 * tot['LUT'] / z['LUT']:.1f}% of {z['LUT']:,}) | "
                 f"{fmt(tot['FF'])} ({100 * tot['FF'] / z['FF']:.0f}%) | **{fmt(tot['DSP'])}** ({100 * tot['DSP'] / z['DSP']:.0f}% of "
                 f"{z['DSP']:,}) | **{tot['BRAM36']:g}** ({100 * tot['BRAM36'] / z['BRAM36']:.1f}% of {z['BRAM36']}) | |")
    top = fs.synth_rows(res_md, cfg.name).get("backbone")
    if top:   # the units above wired together: one netlist of rtl/src/backbone.sv (its glue and routes included)
        bram = top.get("BRAM36", 0) + top.get("BRAM18", 0) / 2
        lines.append(f"| **rtl/src/backbone.sv, the units above as one top** | **{fmt(fs.lut_sites(top))}** "
                     f"({100 * fs.lut_sites(top) / z['LUT']:.1f}%) | {fmt(top.get('FF', 0))} ({100 * top.get('FF', 0) / z['FF']:.0f}%) | "
                     f"**{fmt(top.get('DSP', 0))}** ({100 * top.get('DSP', 0) / z['DSP']:.0f}%) | **{bram:g}** "
                     f"({100 * bram / z['BRAM36']:.1f}%) | Yosys, one netlist |")
    mem_text = ", ".join(f"{p} ({m.name}) {fmt(m.width)} x {fmt(m.depth)}: {m.bram36:g} BRAM36"
                         + (f" (its last {m.tail} entries in LUTRAM)" if m.tail else "") for p, m in mems.items())
    phase_text = "; ".join(f"{ph}: " + ", ".join(f"{n} in {p}" + (f" beats {f}-{f + nb - 1}" if nb < mems[p].beats else "")
                                                 for n, p, f, nb in rows) for ph, rows in layout.items())
    lines += ["", f"The activation buffers between calls are `rtl/src/act_buffers.sv` (the act_buffers row), three "
              f"memories: {mem_text}; {act_bram:g} BRAM36 by `cosim.frame_schedule.activation_memories`, Yosys' count "
              f"(the capacity bound of the largest phase's bits is {bound}). Each phase's buffers in them "
              f"(`activation_layout`): {phase_text}. Their fences (a read commanded after writes starts "
              f"{fs.ACT_BUFFER_FENCE} cycles after the last write beat, cosim/test_act_buffer.py) lie between "
              f"{len(fences)} pairs of calls of the {kind} {head.routing.name} frame (`buffer_fences`: each "
              f"LayerNorm after the accumulate before it, attention after qkv and proj after attention, the dense "
              f"fc2 after fc1, the router after the gate, an expert's fc2 after its fc1), which the composition does "
              f"not count: at most "
              f"{fmt(len(fences) * fs.ACT_BUFFER_FENCE)} cycles, {len(fences) * fs.ACT_BUFFER_FENCE / head.cycles:.2%} of the frame "
              f"({(head.cycles + len(fences) * fs.ACT_BUFFER_FENCE) / head.roofline:.3f}x the roofline with them)."]
    lines += ["", "The linear engine and attention share one MAC array (`rtl/src/linear_attention.sv`): the "
              "accelerator has one LI x LO array of DSP48E2, not two. Not counted: "
              + (f"the LUT, FF and BRAM of {', '.join(dsp_only)} on this config (no Yosys run of it here: about 2 "
                 "hours), " if dsp_only else "")
              + "the DMA / AXI side, control.", ""]
    budget = 0.9 * z["BRAM36"]
    if tot["BRAM36"] > budget and depth:
        # the deepest FIFO in whole 1K-word rows of block RAM (or, below 1K words, a power of two) that keeps
        # 10 % of the device's BRAM36 spare with the buffers counted
        rest = tot["BRAM36"] - fs.fifo_bram36(depth, args.w_bits)
        cands = sorted(({d - d % 1024 for d in range(depth, 0, -1024)} | {depth >> k for k in range(depth.bit_length())})
                       - {0, depth}, reverse=True)
        fit = next((d for d in cands if d >= 2 and rest + fs.fifo_bram36(d, args.w_bits) <= budget), 0)
        fit_ms = [fs.compose(cfg, f0.routing, gbs, **{**kw, "fifo_depth": fit}) for f0 in (head, uni)]
        lines += [f"**BRAM is short once the activation buffers are counted:** {tot['BRAM36']:g} BRAM36 "
                  f"({100 * tot['BRAM36'] / z['BRAM36']:.1f}% of the device) against {budget:g} for a 10 % margin. "
                  + (f"The deepest weight FIFO that fits is {fmt(fit)} words ({fs.fifo_bram36(fit, args.w_bits):g} "
                     f"BRAM36): the frame is then {fit_ms[0].ms():.3f} ms = {fit_ms[0].cycles / fit_ms[0].roofline:.2f}x "
                     f"the roofline ({kind} {head.routing.name}; uniform {fit_ms[1].ms():.3f} ms = "
                     f"{fit_ms[1].cycles / fit_ms[1].roofline:.2f}x)." if fit else
                     "No weight FIFO fits.")
                  + " Issue 13's resource target (10 % spare) is not met together with its frame target until "
                  "BRAM is freed elsewhere or the buffers shrink.", ""]
    if tot["LUT"] > 0.9 * z["LUT"]:
        lines += [f"**LUT sites are short too:** {fmt(tot['LUT'])} ({100 * tot['LUT'] / z['LUT']:.1f}% of the device) "
                  f"against {fmt(int(0.9 * z['LUT']))} for a 10 % margin (logic LUTs, shift registers and distributed "
                  "RAM all take LUT sites).", ""]
    plot_rel = args.plot.relative_to(ROOT / "docs") if args.plot.is_relative_to(ROOT / "docs") else args.plot
    lines += [f"![where the cycles go]({plot_rel})", "",
              f"Reproduce: `EDGE_MOE_WEIGHTS=/path/to/edge_moe_weights make perf CONFIG=configs/{cfg.name}.yaml` "
              f"(= `.venv/bin/python scripts/perf.py --config configs/{cfg.name}.yaml --update docs/performance.md`; "
              "without EDGE_MOE_WEIGHTS the realistic routing comes from seeded weights on a photograph)."]
    frames = [(head, False), (head, True), (uni, False), (uni, True), (conc, False), (conc, True)]
    labels = [f"{kind} {head.routing.name}\nRTL units", f"{kind} {head.routing.name}\nplanned: LN fused",
              "uniform\nRTL units", "uniform\nplanned", "all to k\nRTL units", "all to k\nplanned"]
    return "\n".join(lines), (frames, labels)


RTL_SECTION = "perf-rtl"


def rtl_frames(cfg, args, results: list | None = None) -> str:
    """Whole frames through rtl/src/backbone.sv under Verilator (cosim/test_backbone.py: the weights from a
    DMA model at --ddr-gbs through the top's weight FIFO, the steps issued as early as the RTL allows), one
    per task: Edge-MoE's frame on the published weights when EDGE_MOE_WEIGHTS is set, else a packaged
    photograph on seeded weights; each beside cosim.frame_schedule.compose on the run's own routing, and
    where the slowest one's calls end later than composed (cosim.frame_schedule.rtl_excess). ``results``:
    the runs' result dicts, one per task, instead of running them (a report of earlier runs)."""
    from cosim.runner import run_unit
    from python_ref.model.real_data import missing_reason

    published = bool(os.environ.get("EDGE_MOE_WEIGHTS")) and missing_reason(cfg) is None
    run = dict(image="edge_moe", weights="published") if published else dict(image="chelsea", weights="seeded")
    hz = cfg.hardware.clock_mhz
    rows, worst = [], None
    for t in range(cfg.model.tasks):
        r = results[t] if results else run_unit("backbone", cfg.name, run_name=f"perf_rtl_task{t}", task=t,
                                                ddr_gbs=args.ddr_gbs, **run)
        calls = r["calls"]
        on_model = sum(c["exact_model"] for c in calls)
        roof = r["mac_roofline_cycles"]
        rows.append(f"| {t} | **{fmt(r['frame_cycles'])}** | **{r['frame_ms']:.3f}** | {fmt(r['composed_cycles'])} | "
                    f"{r['composed_ms']:.3f} | {r['ratio_to_composed']:.4f} | {r['frame_cycles'] / roof:.3f} | "
                    f"{on_model} of {len(calls)} | {r['values_checked'] - r['mismatches']:,} of {r['values_checked']:,} | "
                    f"{fmt(r['ddr_words'])} | {fmt(r['expert_words_dropped'])} / {r['expert_images_skipped']} |")
        worst = r if worst is None or r["frame_cycles"] > worst["frame_cycles"] else worst
    fc1 = [(c["layer"], c["expert"], c["rows"]) for c in worst["calls"] if c["expert"] is not None and c["part"] == "fc1"]
    frame = fs.compose(cfg, fs.routing_from_calls(cfg, fc1), gbs=worst["ddr_gbs"])
    if frame.cycles != worst["composed_cycles"]:
        raise fs.PerfError(f"the composed frame ({frame.cycles} cycles) differs from the run's ({worst['composed_cycles']})")
    excess = [f"| {k} | {n} | {v:+,} |" for k, n, v in fs.rtl_excess(frame, worst["calls"])]
    what = ("Edge-MoE's frame on its published weights (seeded stand-in expert matrices)" if published
            else "the packaged photograph chelsea on seeded weights (EDGE_MOE_WEIGHTS unset)")
    return "\n".join([
        f"Configuration `{cfg.name}`, {hz:g} MHz; {what}; weights from the DMA model at **{args.ddr_gbs:g} GB/s** "
        f"through the top's weight FIFO. **Slowest task: {fmt(worst['frame_cycles'])} cycles = {worst['frame_ms']:.3f} ms "
        f"in RTL, {worst['frame_cycles'] / worst['mac_roofline_cycles']:.3f}x the MAC roofline "
        f"({fmt(worst['mac_roofline_cycles'])} cycles).**", "",
        "| task | RTL frame cycles | RTL ms | composed cycles (make perf's model, the run's routing) | composed ms | "
        "RTL / composed | RTL / MAC roofline | engine calls on the frame's model | values bit-exact | DDR words | "
        "expert words dropped / images skipped |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        f"Where the slowest task's engine calls end later than composed (each call's measured ap_done against "
        f"the composed end of the same call, less the call before's excess, summed by the transition into the "
        f"call: the route before, the other units between, the call's route; "
        f"{fmt(worst['frame_cycles'] - worst['composed_cycles'])} cycles in all):", "",
        "| transition | calls | RTL - composed, cycles |", "|---|---:|---:|", *excess, "",
        f"`make perf-rtl CONFIG=configs/{cfg.name}.yaml` (`scripts/perf.py --rtl`), "
        f"{'with EDGE_MOE_WEIGHTS set' if published else 'without EDGE_MOE_WEIGHTS'}."])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--ddr-gbs", type=float, default=fs.DEFAULT_DDR_GBS, help="DDR weight bandwidth, GB/s")
    ap.add_argument("--w-bits", type=int, default=None,
                    help="weight-stream word, bits (default hardware.weight_word.bits, its rows per word; another "
                         "width is a row-major word)")
    ap.add_argument("--sweep", type=float, nargs="*", default=[4.8, 9.6, 14.4, 19.2, 28.8],
                    help="bandwidths (GB/s) of the sensitivity table")
    ap.add_argument("--attention", choices=["auto", "analytic"], default="auto",
                    help="auto: cosim.attention_schedule when importable; analytic: the step count")
    ap.add_argument("--call-gap", type=int, default=0, help="cycles between one call's ap_done and the next ap_start")
    ap.add_argument("--fifo-depth", type=int, default=None,
                    help="words of the weight prefetch FIFO (default hardware.weight_fifo.depth; 0: none)")
    ap.add_argument("--fifo-sweep", type=int, nargs="*", default=[0, 2048, 4096, 8192, 14336, 16384],
                    help="FIFO depths (w_ words) of the depth table (empty: no table)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the seeded weights (no EDGE_MOE_WEIGHTS)")
    ap.add_argument("--plot", type=Path, default=None, help="PNG (default docs/performance_<config>.png)")
    ap.add_argument("--update", type=Path, help="markdown file with <!-- BEGIN perf-<config> --> markers")
    ap.add_argument("--rtl", action="store_true",
                    help="instead: whole frames through rtl/src/backbone.sv under Verilator, one per task, beside the "
                         "composed figure (section perf-rtl-<config>; edge_moe: ~5 min build + ~3 min a frame)")
    args = ap.parse_args(argv)
    cfg = config_or_exit(args.config)
    args.w_bits = args.w_bits or cfg.hardware.w_bits
    try:
        for g in [args.ddr_gbs, *args.sweep]:
            fs.check_bandwidth(g)
        if args.call_gap < 0 or args.w_bits < cfg.fmt("weight").width:
            raise fs.PerfError(f"--call-gap {args.call_gap} must be >= 0 and --w-bits {args.w_bits} must hold a weight")
        for d in ([args.fifo_depth] if args.fifo_depth is not None else []) + args.fifo_sweep:
            fs.check_fifo_depth(d)
    except fs.PerfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.rtl:
        from cosim.runner import CosimError

        try:
            text = rtl_frames(cfg, args)
        except (CosimError, fs.PerfError) as exc:   # a frame failed its checks, or the runs disagree
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(text)
        if args.update:
            from scripts.results_doc import update_section

            update_section(args.update, f"{RTL_SECTION}-{cfg.name}", text)
            print(f"updated {args.update}")
        return 0
    args.plot = (args.plot or ROOT / "docs" / f"performance_{cfg.name}.png").resolve()
    text, (frames, labels) = report(cfg, args)
    print(text)
    plot(frames, labels, args.plot,
         f"{cfg.name}: where the cycles go (DDR {args.ddr_gbs:g} GB/s, {cfg.hardware.clock_mhz:g} MHz)")
    print(f"plot: {args.plot}")
    if args.update:
        from scripts.results_doc import update_section

        update_section(args.update, f"{SECTION}-{cfg.name}", text)
        print(f"updated {args.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
