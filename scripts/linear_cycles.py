#!/usr/bin/env python3
"""Exact cycle counts of the RTL linear engine (rtl/src/linear.sv) per layer shape, measured in
Verilator by cosim/test_linear.py::test_model_shapes (no stalls, bit-exact against python_ref), against
the ideal (tiles = MACs / (LI * LO)) and the engine's schedule model
(cosim.linear_schedule.predicted_cycles), which must match every measurement exactly.

Two token counts per shape: the full token count (129 for edge_moe.yaml; the expert layers with
every token routed to the expert) and a small one (default 16, about the tokens an expert gets with
top-2 of 16 experts), where a block's weight load outlasts its compute.

  .venv/bin/python scripts/linear_cycles.py --config edge_moe --json build/linear_cycles_edge_moe.json \\
      --update docs/linear.md
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cosim.linear_schedule import GELU_CYCLES, PIPELINE_CYCLES
from cosim.runner import CosimError, run_unit
from scripts.cli import config_or_exit
from scripts.results_doc import update_section

ROOT = Path(__file__).resolve().parent.parent

NAMES = {"qkv": "qkv", "proj": "attn proj", "fc1": "mlp fc1 + GELU", "fc2": "mlp fc2",
         "expert_fc1": "expert fc1 (gathered) + GELU", "expert_fc2": "expert fc2 (scaled scatter-acc)",
         "patch": "patch embedding (acc onto pos)"}


def measure(cfg, rows: int) -> list[dict]:
    r = run_unit("linear", cfg.name, stall="none", run_name=f"cycles_{rows}", testcase="test_model_shapes",
                 rows=rows, expert_rows=rows)
    if r["mismatches"]:
        raise SystemExit(f"error: {r['mismatches']} mismatches in the cycle run (log {r['log']})")
    return r["runs"]


def table(cfg, runs: list[dict]) -> str:
    lines = [f"Configuration `{cfg.name}`, tile {cfg.hardware.linear_in} x {cfg.hardware.linear_out} "
             f"({cfg.hardware.linear_in * cfg.hardware.linear_out} MACs/cycle), AXI {cfg.hardware.axi_width} bits; "
             "Verilator, no stalls, cycles from the `ap_start` edge to the `ap_done` edge, every run bit-exact.", "",
             "| layer | out x in | rows | ideal (tiles) | measured | block-0 load | pipeline | model | utilization |",
             "|---|---|---|---|---|---|---|---|---|"]
    for x in runs:
        pipe = PIPELINE_CYCLES + (GELU_CYCLES if x["gelu"] else 0)
        lines.append(f"| {NAMES.get(x['layer'], x['layer'])} | {x['out']} x {x['in']} | {x['rows']} | {x['ideal']} | "
                     f"{x['cycles']} | {x['block0_load']} | {pipe} | "
                     f"{'=' if x['cycles'] == x['predicted'] else x['predicted']} | {100 * x['utilization']:.2f}% |")
    lines += ["", "model `=`: the measurement equals `cosim.linear_schedule.predicted_cycles` exactly. When a block's "
              "compute (rows x ceil(in/LI) cycles) covers the next block's load (max(LO, LO x ceil(in/E) x E/SEG) cycles: biases beside weights), "
              "cycles = block-0 load + tiles + pipeline (11, + 7 with GELU); otherwise every later block waits "
              "for its weights (weight-stream bound).",
              f"Reproduce: `.venv/bin/python scripts/linear_cycles.py --config {cfg.name} --update docs/linear.md`"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="edge_moe")
    ap.add_argument("--rows", type=int, nargs="+", help="token counts (default: the config's tokens and 16)")
    ap.add_argument("--json", type=Path, help="write the summary here (default build/linear_cycles_<config>.json)")
    ap.add_argument("--update", type=Path, help="write the table into this document (section linear-cycles)")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    rows_list = args.rows or [cfg.model.tokens, 16]
    if any(r < 1 or r > cfg.model.tokens for r in rows_list):
        print(f"error: --rows must be in 1..{cfg.model.tokens} (the engine's activation buffer)", file=sys.stderr)
        return 2
    runs = []
    try:
        for rows in rows_list:
            print(f"simulating {cfg.name} with {rows} tokens ...", flush=True)
            runs += measure(cfg, rows)
    except CosimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bad = [x for x in runs if x["cycles"] != x["predicted"]]
    out = args.json or ROOT / "build" / f"linear_cycles_{cfg.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": cfg.name, "pipeline_cycles": PIPELINE_CYCLES, "gelu_cycles": GELU_CYCLES,
                               "runs": runs}, indent=2))
    text = table(cfg, runs)
    print(text)
    print(f"summary: {out}")
    if args.update:
        update_section(args.update, "linear-cycles", text)
    if bad:
        print(f"error: {len(bad)} runs differ from the schedule model: {[x['layer'] for x in bad]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
