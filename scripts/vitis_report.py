#!/usr/bin/env python3
"""Check what Vitis HLS synthesis claims, after `make vitis-synth` / `make vitis-cosim`: for every
registered top, its csynth reports (build/vitis/<config>/<top>/solution/syn/report/*_csynth.xml, one
per module: the top and every function or pipelined loop Vitis made a module of) must show

* an estimated clock period no longer than the target (hardware.clock_mhz), in every module;
* every pipelined loop at the initiation interval its `#pragma HLS pipeline II=N` asks for (the
  loop's label in hls/src; a loop Vitis names itself, VITIS_LOOP_<line>_<n>, is held to II = 1, the
  only II hls/src asks for);
* every function pipelined whole (`#pragma HLS pipeline II=N` in its body outside any loop, e.g.
  exp_top) with a module interval (SummaryOfOverallLatency/Interval-max) of at most N;
* no entry in the report's SummaryOfViolations.

It also reports each top's latency in cycles (Best-caseLatency..Worst-caseLatency of the top's
module): the project states no latency bound for the HLS tops, so the figure is printed and written
to the summary, not checked. It prints one line per top and writes a machine-readable summary (--json). Exit 0: every check
passes; 1: a check fails (each failure named: top, module, loop, II or ns); 2: a report is missing or
unreadable (the tool did not run, or a top was not synthesized).

    .venv/bin/python scripts/vitis_report.py --config configs/edge_moe.yaml --build build/vitis/edge_moe
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cosim.registry import KERNELS
from cosim.toolchain import HLS_DIR
from python_ref.config import ConfigError, load_config
from scripts.hls_rules import function_bodies, outer_text, strip_comments

# `label: for (...) { #pragma HLS pipeline II=N`: the label of the loop a pipeline pragma belongs to
_LABEL = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*$|^\s*([A-Za-z_]\w*)\s*:\s*for\b")
_PIPE = re.compile(r"#pragma\s+HLS\s+pipeline\b(?:.*\bII\s*=\s*(\d+))?", re.IGNORECASE)


class ReportError(Exception):
    """A report that is missing or cannot be read (exit 2)."""


def hls_sources() -> list[Path]:
    """The HLS sources the pipeline targets are read from: hls/src's headers, then its .cpp files."""
    return sorted((HLS_DIR / "src").glob("*.h")) + sorted((HLS_DIR / "src").glob("*.cpp"))


def pipeline_ii(line: str) -> int | None:
    """The II a `#pragma HLS pipeline` line asks for (1 when it names none, as in Vitis); None for any
    other line and for `pipeline off`."""
    p = _PIPE.search(line)
    if p is None or "off" in line.split("pipeline", 1)[1].split("//")[0]:
        return None
    return int(p.group(1) or 1)


def target_iis(sources: list[Path]) -> dict[str, int]:
    """Loop label -> the II its pipeline pragma asks for, from the HLS sources (the nearest label
    above a pipeline pragma names its loop; II defaults to 1 as in Vitis)."""
    out: dict[str, int] = {}
    for path in sources:
        label = None
        for line in path.read_text().splitlines():
            m = _LABEL.match(line)
            if m:
                label = m.group(1) or m.group(2)
                continue
            if line[:1].strip() and not line.startswith("#"):
                label = None  # a new function or a closing brace at column 0: no loop label applies
            ii = pipeline_ii(line)
            if ii is not None and label:
                out[label] = ii
    return out


def function_iis(sources: list[Path]) -> dict[str, int]:
    """Function -> the II of a pipeline pragma at its own level (not inside one of its loops): the
    functions pipelined whole."""
    out: dict[str, int] = {}
    for path in sources:
        for name, body in function_bodies(strip_comments(path.read_text())):
            for line in outer_text(body[1:-1]).splitlines():
                ii = pipeline_ii(line)
                if ii is not None:
                    out[name] = ii
    return out


@dataclass
class ModuleResult:
    module: str
    target_ns: float | None
    estimated_ns: float | None
    loops: dict[str, int | None] = field(default_factory=dict)   # loop -> achieved II (None: not pipelined)
    latency: tuple[int | None, int | None] = (None, None)       # cycles, best and worst case (None: undef)
    interval: tuple[int | None, int | None] = (None, None)      # cycles between starts, min and max


@dataclass
class TopResult:
    kernel: str
    top: str
    modules: list[ModuleResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # the top module's best and worst case, in cycles (reported, not checked); None: no module named top
    latency: tuple[int | None, int | None] | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def _float(root: ET.Element, path: str) -> float | None:
    text = root.findtext(path)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _int(root: ET.Element, path: str) -> int | None:
    text = (root.findtext(path) or "").strip()
    return int(text) if text.isdigit() else None  # a latency Vitis cannot bound is text ("undef"), not a number


def read_module(path: Path) -> tuple[ModuleResult, list[str]]:
    """One *_csynth.xml: its clock figures, its loops' achieved II, and the violations it lists."""
    try:
        # Vitis writes a default namespace on some releases: strip it so that the paths are plain
        root = ET.fromstring(re.sub(r'\sxmlns="[^"]+"', "", path.read_text(), count=1))
    except (OSError, ET.ParseError) as exc:
        raise ReportError(f"{path}: cannot read ({exc})") from exc
    name = root.findtext("./RTLDesignHierarchy/TopModule/ModuleName") or path.name.removesuffix("_csynth.xml")
    res = ModuleResult(name, _float(root, "./UserAssignments/TargetClockPeriod"),
                       _float(root, "./PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"))
    overall = "./PerformanceEstimates/SummaryOfOverallLatency/"
    res.latency = (_int(root, overall + "Best-caseLatency"), _int(root, overall + "Worst-caseLatency"))
    res.interval = (_int(root, overall + "Interval-min"), _int(root, overall + "Interval-max"))
    loops = root.find("./PerformanceEstimates/SummaryOfLoopLatency")
    for loop in (list(loops) if loops is not None else []):
        _collect_loops(loop, res.loops)
    violations = []
    sv = root.find("./PerformanceEstimates/SummaryOfViolations")
    for v in (list(sv) if sv is not None else []):
        text = " ".join(t.strip() for t in v.itertext() if t.strip())
        if text:
            violations.append(f"{name}: violation {v.tag}: {text}")
    return res, violations


def _collect_loops(el: ET.Element, out: dict[str, int | None]):
    ii = el.findtext("PipelineII")
    out[el.findtext("Name") or el.tag] = int(ii) if ii is not None and ii.strip().isdigit() else None
    for child in el:  # nested loops are child elements named after the loop
        if child.find("TripCount") is not None or child.find("PipelineII") is not None:
            _collect_loops(child, out)


def check_top(kernel: str, top: str, report_dir: Path, period_ns: float, targets: dict[str, int],
              function_targets: dict[str, int] | None = None) -> TopResult:
    files = sorted(report_dir.glob("*_csynth.xml"))
    if not files:
        raise ReportError(f"{top}: no *_csynth.xml in {report_dir} (was `make vitis-synth` run for it?)")
    res = TopResult(kernel, top)
    for f in files:
        mod, violations = read_module(f)
        res.modules.append(mod)
        res.failures += violations
        if mod.module == top:
            res.latency = mod.latency
        want = (function_targets or {}).get(mod.module)
        if want is not None and (mod.interval[1] is None or mod.interval[1] > want):
            got = "with no fixed interval" if mod.interval[1] is None else f"at II = {mod.interval[1]}"
            res.failures.append(f"{mod.module}: function {got}, its pragma asks for II = {want}")
        est = mod.estimated_ns
        # the report's target is the period; the check is against the configured clock, so that a
        # project synthesized for another clock fails too
        if est is not None and est > period_ns + 1e-9:
            res.failures.append(f"{mod.module}: estimated clock {est:.3f} ns > target {period_ns:.3f} ns")
        for loop, ii in mod.loops.items():
            if ii is None:
                continue
            label = loop.split("/")[-1]
            want = targets.get(label, 1)
            if ii > want:
                res.failures.append(f"{mod.module}: loop {loop} at II = {ii}, its pragma asks for II = {want}")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--kernels", nargs="*", default=None, help="registered kernels (default: every one with a top)")
    ap.add_argument("--build", type=Path, help="build/vitis/<config> (default from --config)")
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except (ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = args.kernels if args.kernels else list(KERNELS)
    unknown = [k for k in names if k not in KERNELS]
    if unknown:
        print(f"error: --kernels: no kernel named {', '.join(unknown)}; kernels: {', '.join(KERNELS)}", file=sys.stderr)
        return 2
    build = args.build or Path("build/vitis") / cfg.name
    period = 1000.0 / cfg.hardware.clock_mhz
    sources = hls_sources()
    targets, function_targets = target_iis(sources), function_iis(sources)
    results: list[TopResult] = []
    try:
        for name in names:
            for top in KERNELS[name].hls_tops:
                results.append(check_top(name, top, build / top / "solution" / "syn" / "report", period, targets,
                                         function_targets))
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for r in results:
        worst = max((m.estimated_ns for m in r.modules if m.estimated_ns is not None), default=None)
        loops = sum(ii is not None for m in r.modules for ii in m.loops.values())
        clock = f"{worst:.3f} ns" if worst is not None else "no estimate"
        latency = "no top module" if r.latency is None else "..".join(
            "undef" if c is None else str(c) for c in r.latency) + " cycles"
        print(f"[{'PASS' if r.ok else 'FAIL'}] {r.top:16s} worst estimated clock {clock} (target {period:.3f}), "
              f"{loops} pipelined loops, {len(r.modules)} modules, latency {latency}")
        for f in r.failures:
            print(f"       {f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"config": cfg.name, "target_ns": period,
                                         "tops": [dict(asdict(r), ok=r.ok) for r in results]}, indent=2))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
