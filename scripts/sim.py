#!/usr/bin/env python3
"""`make sim`: the main job. For every kernel: the same vectors through python_ref (the spec), the
C simulation of hls/ (g++ + ap_fixed headers) and the RTL (cocotb + Verilator, python_ref as the
scoreboard, random stalls and backpressure); bit-exactness with vector counts, the error against
float64, and the RTL's latency and throughput in cycles. Ends with a summary table per kernel,
also written into docs/RESULTS.md with --update.
"""
import argparse
import sys
import time
from pathlib import Path

from cosim.registry import KERNELS, resolve
from cosim.sim_rows import KernelResult
from cosim.toolchain import ToolchainError
from python_ref.config import Config
from scripts.cli import config_or_exit
from scripts.results_doc import read_section, table_rows, update_section

ROOT = Path(__file__).resolve().parent.parent


def summary_table(cfg: Config, results: list[KernelResult]) -> str:
    lines = [f"Configuration `{cfg.name}` (`make sim CONFIG={Path(cfg.source).relative_to(ROOT) if Path(cfg.source).is_relative_to(ROOT) else cfg.source}`).",
             "",
             "| kernel | python_ref = C-sim | python_ref = RTL | real rows (RTL) | max abs error vs float64 | RTL latency (cycles) | RTL cycles per beat |",
             "|---|---|---|---|---|---|---|"]
    notes = []
    for r in results:
        if r.real_rows is None:
            real = "-"
        elif r.real_rows > 0:
            real = f"{r.real_rows:,}"
        else:
            real = "skipped"
            notes.append(f"{r.kernel}: real rows skipped: {r.real_note}")
        rtl = "-" if r.rtl_exact is None else f"{'yes' if r.rtl_exact else 'NO'} ({r.vectors_rtl:,} vectors)"
        csim = "-" if r.csim_exact is None else f"{'yes' if r.csim_exact else 'NO'} ({r.vectors_csim:,} vectors)"
        err = r.error_note if r.max_error is None else f"{r.max_error:.3e} ({r.error_note})"
        lines.append(
            f"| {r.kernel} | {csim} | {rtl} | {real} "
            f"| {err} | {'-' if r.latency is None else r.latency} "
            f"| {'-' if r.cycles_per_beat is None else f'{r.cycles_per_beat:g}'} |")
    return "\n".join(lines + ([""] + notes if notes else []))


def merge_rows(old: str | None, new: str) -> str:
    """A --kernels run's summary merged into the document's table: each of its rows replaces the row
    of the same kernel (the first cell) or is appended; the other kernels' rows and notes are kept;
    the notes of the kernels run now are the new run's."""
    if not old:
        return new

    def notes_of(text):
        return [line for line in text.strip().splitlines()
                if line and not line.startswith("|") and not line.startswith("Configuration")]

    old_rows, new_rows = table_rows(old, "kernel"), table_rows(new, "kernel")
    old_notes, new_notes = notes_of(old), notes_of(new)
    rows = list({**old_rows, **new_rows}.values())   # a kernel's new row in its old place, new kernels last
    owner = lambda note: next((k for k in new_rows if note.startswith(f"{k}: ")), None)  # noqa: E731
    pending = {}
    for n in new_notes:
        pending.setdefault(owner(n), []).append(n)
    notes = []
    for n in old_notes:   # a kernel run now: its new notes where its old ones were, else dropped
        k = owner(n)
        notes += [n] if k is None else pending.pop(k, [])
    notes += [n for group in pending.values() for n in group]
    head = [line for line in new.splitlines() if line.startswith("Configuration") or line.startswith("| kernel |")
            or line.startswith("|---")]
    return "\n".join(head[:1] + [""] + head[1:] + rows + ([""] + notes if notes else []))


def all_exact(results: list[KernelResult]) -> bool:
    """Every row bit-exact: its C-sim and its RTL (None: the row has no such column; a row needs one)."""
    return all(r.csim_exact is not False and r.rtl_exact is not False and (r.csim_exact, r.rtl_exact) != (None, None)
               for r in results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--kernels", nargs="*", help=f"default: every kernel of cosim/registry.py ({', '.join(KERNELS)})")
    ap.add_argument("--waves", action="store_true", help="dump FST waves of the RTL runs (or WAVES=1)")
    ap.add_argument("--update", type=Path, help="also write the summary into this results document")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    chosen = args.kernels or list(KERNELS)
    unknown = [k for k in chosen if k not in KERNELS]
    if unknown:
        print(f"error: unknown kernel(s) {', '.join(unknown)}; kernels: {', '.join(KERNELS)}", file=sys.stderr)
        return 2
    results = []
    for k in chosen:
        t0 = time.time()
        print(f"[{k}] python_ref vs C-sim vs RTL, config {cfg.name} ...", flush=True)
        try:
            rows = resolve(KERNELS[k].sim)(cfg, args.waves)
            results.extend(rows if isinstance(rows, list) else [rows])
        except (ToolchainError, RuntimeError) as exc:
            print(f"error: {k}: {exc}", file=sys.stderr)
            return 1
        print(f"[{k}] done in {time.time() - t0:.0f} s", flush=True)
    text = summary_table(cfg, results)
    print("\n" + text)
    if args.update:
        # a --kernels run replaces only its own rows (merge_rows); a full run writes the whole table
        if args.kernels:
            text = merge_rows(read_section(args.update, f"sim-{cfg.name}"), text)
        update_section(args.update, f"sim-{cfg.name}", text)
    ok = all_exact(results)
    if not ok:
        print("\nFAIL: an implementation differs from python_ref", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
