#!/usr/bin/env python3
"""Lint every unit of the kernel registry through FuseSoC (the generated cores in rtl/cores/): for
each configuration, ``fusesoc --cores-root rtl/cores run --target lint_<unit> edge-moe-open:lint:<cfg>``
(Verilator --lint-only -Wall through edalize). Shows that the cores an FPGA engineer would pull into
their own design resolve, carry every source they need and lint clean. Exit 1 on any failure."""
import argparse
import shutil
import subprocess
import sys

from cosim.fusesoc import CORES_DIR, VENDOR
from cosim.registry import rtl_units
from cosim.toolchain import BUILD_DIR, verilator_env
from python_ref.config import all_configs, load_config


def lint(unit: str, cfg_name: str) -> tuple[bool, str]:
    exe = shutil.which("fusesoc") or str(__import__("pathlib").Path(sys.executable).parent / "fusesoc")
    work = BUILD_DIR / "fusesoc" / cfg_name / unit
    work.mkdir(parents=True, exist_ok=True)
    res = subprocess.run([exe, "--cores-root", str(CORES_DIR), "run", "--target", f"lint_{unit}",
                          f"{VENDOR}:lint:{cfg_name}"], cwd=work, capture_output=True, text=True,
                         env=verilator_env(), timeout=600)
    out = res.stdout + res.stderr
    return res.returncode == 0 and "%Warning" not in out and "%Error" not in out, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", action="append", help="config names (default: every configs/*.yaml)")
    ap.add_argument("--units", nargs="*", help=f"default: every unit ({', '.join(sorted(rtl_units()))})")
    args = ap.parse_args()
    cfgs = args.config or [p.stem for p in all_configs()]
    for c in cfgs:
        load_config(c)  # a clear error for an unknown config
    units = args.units or sorted(rtl_units())
    unknown = sorted(set(units) - set(rtl_units()))
    if unknown:
        print(f"error: no unit named {', '.join(unknown)}; units: {', '.join(sorted(rtl_units()))}", file=sys.stderr)
        return 2
    failures = 0
    for c in cfgs:
        for u in units:
            ok, out = lint(u, c)
            print(f"[{'PASS' if ok else 'FAIL'}] {c:10s} {u}")
            if not ok:
                failures += 1
                print("    " + "\n    ".join(out.splitlines()[-20:]))
    print(f"fusesoc lint: {failures} failure(s) in {len(cfgs)} config(s) x {len(units)} unit(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
