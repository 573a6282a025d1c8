#!/usr/bin/env python3
"""Exact cycle counts of the RTL linear engine (rtl/src/linear.sv) per layer shape, measured in
Verilator by cosim/test_linear.py (no stalls, bit-exact against python_ref), against the ideal (one
array step per LI x LO tile) and the engine's schedule model (cosim.linear_schedule.predicted_cycles),
which must match every measurement exactly.

Three sets: every model shape at the full token count (129 for edge_moe.yaml; the expert layers with
every token routed to the expert) and at a small one (default 16), with the weight stream at one
word per cycle (the config's w_ word, hardware.weight_word); and the expert pair (fc1 gathered + GELU,
fc2 scaled scatter-accumulate) at 1 .. 129 tokens under a DDR-rate weight stream (default 24 weights
per cycle = 14.4 GB/s at 300 MHz, 2 bytes per weight, on the config's w_ word or --ddr-word bits
row-major, bursts of 8 words), where the engine is load-bound.

  .venv/bin/python scripts/linear_cycles.py --config edge_moe --json build/linear_cycles_edge_moe.json \\
      --update docs/linear.md
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def measure_ddr(cfg, tokens: list[int], rate: int, burst: int, w_bits: int) -> list[dict]:
    params = {} if w_bits == cfg.hardware.w_bits else {"W_BITS": w_bits, "W_ROWS": 1}
    r = run_unit("linear", cfg.name, stall="none", run_name=f"cycles_ddr{rate}", testcase="test_expert_tokens_ddr",
                 parameters=params, w_rate=rate, w_burst=burst, tokens=tokens)
    if r["mismatches"]:
        raise SystemExit(f"error: {r['mismatches']} mismatches in the cycle run (log {r['log']})")
    return r["runs"]


def table(cfg, runs: list[dict], ddr: list[dict], rate: int, burst: int, w_bits: int) -> str:
    li, lo = cfg.hardware.linear_in, cfg.hardware.linear_out
    lines = [f"Configuration `{cfg.name}`, tile {li} x {lo} ({li * lo} MACs/cycle); Verilator, no stalls, cycles from "
             "the `ap_start` edge to the `ap_done` edge, every run bit-exact.", "",
             f"Weight stream at one word per cycle ({cfg.hardware.w_bits}-bit words"
             f"{', two rows per word' if cfg.hardware.weight_word_rows == 2 else ''}):", "",
             "| layer | out x in | rows | ideal (steps) | measured | block-0 load | pipeline | model | utilization |",
             "|---|---|---|---|---|---|---|---|---|"]
    for x in runs:
        lines.append(f"| {NAMES.get(x['layer'], x['layer'])} | {x['out']} x {x['in']} | {x['rows']} | {x['ideal']} | "
                     f"{x['cycles']} | {x['block0_load']} | {x['pipeline']} | "
                     f"{'=' if x['cycles'] == x['predicted'] else x['predicted']} | {100 * x['utilization']:.2f}% |")
    lines += ["", f"Expert layers under a DDR-rate weight stream: {rate} weights per cycle on average "
              f"({rate * 2 * cfg.hardware.clock_mhz / 1000:.1f} GB/s at {cfg.hardware.clock_mhz} MHz, 2 bytes per weight), "
              f"{w_bits}-bit w_ words, at most {burst} words back to back:", "",
              "| layer | out x in | tokens | ideal (steps) | measured | weight-stream bound (weights / rate) | load-bound "
              "| model | utilization |", "|---|---|---|---|---|---|---|---|---|"]
    for x in ddr:
        name = "expert fc1 (gathered) + GELU" if x["layer"].startswith("expert_fc1") else "expert fc2 (scaled scatter-acc)"
        lines.append(f"| {name} | {x['out']} x {x['in']} | {x['rows']} | {x['ideal']} | {x['cycles']} | "
                     f"{-(-x['out'] * x['in'] // rate)} | {'yes' if x['load_bound'] else 'no'} | "
                     f"{'=' if x['cycles'] == x['predicted'] else x['predicted']} | {100 * x['utilization']:.2f}% |")
    lines += ["", "model `=`: the measurement equals `cosim.linear_schedule.predicted_cycles` exactly (a cycle-by-cycle "
              "replay of the loader, the w_ register slice, the weight-stream bucket and the issue). Where no block "
              "waits for its weights, cycles = block-0 load + steps - 1 + pipeline (LI + 17, + 7 with GELU); block 0 "
              "loads before its first step (no prefetch across calls). Load-bound: a later block waited for its "
              "weights.",
              f"Reproduce: `.venv/bin/python scripts/linear_cycles.py --config {cfg.name} --update docs/linear.md`"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="edge_moe")
    ap.add_argument("--rows", type=int, nargs="+", help="token counts (default: the config's tokens and 16)")
    ap.add_argument("--ddr-tokens", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 43, 64, 129],
                    help="token counts of the expert pair under the throttled weight stream")
    ap.add_argument("--ddr-rate", type=int, default=24, help="weights per cycle of the throttled stream")
    ap.add_argument("--ddr-burst", type=int, default=8, help="words back to back at most")
    ap.add_argument("--ddr-word", type=int, default=None,
                    help="w_ word bits of the throttled runs (default the config's word; another is row-major)")
    ap.add_argument("--json", type=Path, help="write the summary here (default build/linear_cycles_<config>.json)")
    ap.add_argument("--update", type=Path, help="write the table into this document (section linear-cycles)")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    rows_list = args.rows or [cfg.model.tokens, 16]
    if any(r < 1 or r > cfg.model.tokens for r in rows_list):
        print(f"error: --rows must be in 1..{cfg.model.tokens} (the engine's activation buffer)", file=sys.stderr)
        return 2
    ddr_tokens = [t for t in args.ddr_tokens if t <= cfg.model.tokens]
    args.ddr_word = args.ddr_word or cfg.hardware.w_bits
    runs, ddr = [], []
    try:
        for rows in rows_list:
            print(f"simulating {cfg.name} with {rows} tokens ...", flush=True)
            runs += measure(cfg, rows)
        print(f"simulating the expert pair at {ddr_tokens} tokens, weights at {args.ddr_rate}/cycle ...", flush=True)
        ddr = measure_ddr(cfg, ddr_tokens, args.ddr_rate, args.ddr_burst, args.ddr_word)
    except CosimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bad = [x for x in runs + ddr if x["cycles"] != x["predicted"]]
    out = args.json or ROOT / "build" / f"linear_cycles_{cfg.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": cfg.name, "runs": runs, "ddr": ddr}, indent=2))
    text = table(cfg, runs, ddr, args.ddr_rate, args.ddr_burst, args.ddr_word)
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
