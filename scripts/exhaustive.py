#!/usr/bin/env python3
"""Exhaustive RTL sweeps against python_ref (cosim/exhaustive.py), behind `make exhaustive`.

Levels:
  test  the sweeps of `make test`: every exp input in [-32.25, 0] + corners, every GELU input in
        [-8, 8) + corners, the reciprocal families of both instances;
  full  (default) exp as above, GELU on all 2^32 activations, the LayerNorm reciprocal on its
        whole domain (2^29 sigmas), the softmax reciprocal on bigger families, s in [1, 1 + 1/16)
        and [255, 256) entirely and 2^24 random s;
  all   full, but the softmax reciprocal on every s in [1, 256) (4.28G divisions: about 40
        minutes on two idle cores).

Prints one summary per sweep (values, mismatches with the first few, wall time, model and
python_ref throughput) and a Markdown table of the figures; exits 1 if any value mismatches.

Usage: scripts/exhaustive.py [--config NAME_OR_YAML] [--level test|full|all] [--units exp gelu ...]
                             [--jobs N] [--mutants]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from cosim import exhaustive as ex
from scripts.cli import config_or_exit


def plan(cfg, name: str, level: str) -> list:
    u = ex.unit(name, cfg)
    if name == "exp":
        return ex.exp_domain(u)
    if name == "gelu":
        return ex.gelu_domain(u, full=level != "test")
    if level == "test":
        return ex.reciprocal_families(u)
    if name == "reciprocal_ln" or level == "all":
        return [ex.reciprocal_domain_range(u)]
    return ex.reciprocal_families(u, radius=1 << 14, n_random=1 << 24, n_ties=1 << 20) + [
        ex.Range(1 << 24, 1 << 20, 1, "s in [1, 1 + 1/16)"), ex.Range(255 << 24, 1 << 24, 1, "s in [255, 256)")]


def row(r: ex.SweepResult, level: str) -> str:
    py = r.values / r.python_cpu_seconds / 1e6 if r.python_cpu_seconds else 0.0
    return (f"| {r.unit} | {r.config} | {level} | {r.values:,} | {r.mismatches} | {r.wall_seconds:.1f} | "
            f"{r.model_values_per_cpu_second / 1e6:.2f} | {py:.1f} | {r.build_seconds:.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--level", choices=["test", "full", "all"], default="full")
    ap.add_argument("--units", nargs="+", default=list(ex.UNITS), metavar="UNIT")
    ap.add_argument("--jobs", type=int, default=2, help="driver processes per sweep (default 2)")
    ap.add_argument("--timeout", type=float, default=6 * 3600, help="seconds per sweep")
    ap.add_argument("--mutants", action="store_true",
                    help="also sweep the exp q1-rounding mutant and the GELU flat-node table mutant")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    unknown = [n for n in args.units if n not in ex.UNITS]
    if unknown:
        print(f"error: unknown unit(s) {', '.join(unknown)}; units: {', '.join(ex.UNITS)}", file=sys.stderr)
        return 2
    rows, failed = [], []
    t0 = time.monotonic()
    runs = [(n, None, None, plan(cfg, n, args.level)) for n in args.units]
    tmp = tempfile.TemporaryDirectory(prefix="exhaustive-mutants-")
    if args.mutants:
        k = ex.gelu_flat_node(cfg)
        runs.append(("exp", "mutant-q1-rounding", ex.exp_mutant(Path(tmp.name) / "exp"),
                     ex.exp_domain(ex.unit("exp", cfg), corners=False)))
        runs.append(("gelu", f"mutant-table{k}", ex.gelu_table_mutant(cfg, k, +1, Path(tmp.name) / "gelu"),
                     ex.gelu_domain(ex.unit("gelu", cfg), corners=False)))
    with tmp:
        for name, tag, replace, segs in runs:
            label = f"{name}" + (f" [{tag}]" if tag else "")
            print(f"== {label} ({cfg.name}, {args.level}):", "; ".join(s.describe() for s in segs), flush=True)
            try:
                r = ex.run_sweep(ex.unit(name, cfg), segments=segs, replace=replace, tag=tag, jobs=args.jobs,
                                 timeout=args.timeout)
            except (ex.ExhaustiveError, ex.ToolchainError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(r.summary(), flush=True)
            if tag:
                r.unit = f"{name} {tag}"
            elif r.mismatches:
                failed.append(label)
            rows.append(row(r, args.level))
    print(f"\nall sweeps: {time.monotonic() - t0:.0f} s wall\n")
    print("| unit | config | level | values | mismatches | wall s | model M values/CPU-s | "
          "python_ref M values/CPU-s | build s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    if failed:
        print(f"\nMISMATCHES in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
