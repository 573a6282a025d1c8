#!/usr/bin/env python3
"""Speed of the bit-accurate fixed-point network (python_ref/model/fixed_model.py): one frame of
edge_moe.yaml (the config's own numerics.linear_sum, and the other rule) and of tiny.yaml, with and
without capture, plus the weight quantization.

Each figure is over --runs runs after one warm-up run: median and minimum wall time, and the median
CPU time of the process (every thread: the exact integer products run in float64 BLAS row blocks kept
under OpenBLAS's single-thread threshold, python_ref.exact). Weights: the published ones (stand-in
experts) when present, else seeded. The machine's load average is printed with the table (the wall
times of a shared machine are upper bounds; the CPU time is the cost).

Usage: python scripts/network_speed.py [--runs 5] [--configs edge_moe,tiny] [--update docs/accuracy.md]
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from python_ref.config import load_config, parse_config
from scripts.cli import publish
from scripts.model_speed import median_time

SECTION = "network_speed"
GOAL_S = {"edge_moe": 10.0, "tiny": 1.0}


def other_rule(cfg):
    raw = cfg.as_dict()
    raw["numerics"]["linear_sum"] = "exact" if cfg.numerics.linear_sum == "per_product" else "per_product"
    return parse_config(raw, f"{cfg.source} ({raw['numerics']['linear_sum']})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--update", default=None, help=f"markdown file with <!-- BEGIN {SECTION} --> markers")
    ap.add_argument("--configs", default="edge_moe,tiny", help="shipped configs to time (comma-separated)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from python_ref.model import load_image, seeded_weights
    from python_ref.model.fixed_model import FixedM3ViT, quantize_weights
    from python_ref.model.real_data import missing_reason, published_weights

    rows = []
    load0 = os.getloadavg()
    names = [n for n in args.configs.split(",") if n]
    unknown = [n for n in names if n not in GOAL_S]
    if unknown:
        print(f"error: unknown config(s) {', '.join(unknown)}; configs: {', '.join(GOAL_S)}", file=sys.stderr)
        return 2
    for name in names:
        cfg = load_config(name)
        if name == "edge_moe" and missing_reason(cfg) is None:
            ws, wdesc = published_weights(0), "published (stand-in experts)"
        else:
            ws, wdesc = seeded_weights(cfg, 0), "seeded 0"
        px = load_image(cfg, "chelsea").raw
        q = median_time(lambda: quantize_weights(cfg, ws), max(1, args.runs // 2))
        rows.append((name, wdesc, "quantize_weights (every tensor to its format)", "-", q))
        for c in (cfg, other_rule(cfg)):
            model = FixedM3ViT(c, quantize_weights(c, ws))
            for capture in (False, True):
                t = median_time(lambda: model(px, 0, capture=capture), args.runs)
                what = "frame, capture every tensor + range checks" if capture else "frame"
                shipped = " (shipped)" if c is cfg else ""
                rows.append((name, wdesc, what, c.numerics.linear_sum + shipped, t))
        print(f"{name} done", file=sys.stderr)
    load1 = os.getloadavg()
    lines = [f"Measured {date.today().isoformat()} with `.venv/bin/python scripts/network_speed.py --runs {args.runs}` on "
             f"a {os.cpu_count()}-core machine shared with other jobs (load average {load0[0]:.1f} before, "
             f"{load1[0]:.1f} after): median wall time over {args.runs} runs after one warm-up (minimum in brackets) and "
             f"the median CPU time of the process. Image chelsea, task 0.", "",
             "| config | weights | what | linear_sum | wall: median (min) | CPU | goal |", "|---|---|---|---|---|---|---|"]
    for name, wdesc, what, rule, (med, mn, _, cpu) in rows:
        goal = ""
        if what == "frame" and rule.endswith("(shipped)"):
            goal = f"<= {GOAL_S[name]:g} s: {'met' if med <= GOAL_S[name] else 'missed'}"
        lines.append(f"| {name} | {wdesc} | {what} | {rule} | {med:.3f} s ({mn:.3f}) | {cpu:.3f} s | {goal} |")
    text = "\n".join(lines)
    publish(text, args.update, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
