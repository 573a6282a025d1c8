"""Cycle model of rtl/src/linear.sv (the unified compute unit's RTL engine) without stalls: the
schedule the cocotb testbench (cosim/test_linear.py) and scripts/linear_cycles.py measure, which
must equal it exactly on every shape (tests/test_cosim_linear.py asserts it)."""
from __future__ import annotations

from python_ref.config import Config

# Cycles from the ap_start edge to the ap_done edge beyond the block loads and tiles:
# 1 (start) + 1 (issue -> tile register) + 3 (linear_mac) + 1 (FIFO) + 3 (output stage) + 1 (slice)
# + 1 (ap_done register); the GELU unit adds its latency (rtl/src/gelu.sv).
PIPELINE_CYCLES = 11
GELU_CYCLES = 8


def block_load_steps(cfg: Config, n_out: int, n_in: int, ob: int, lo: int, li: int) -> int:
    """Loader steps of output block ob: LO biases side by side with its rows x words per row x
    segments per word."""
    e = cfg.hardware.axi_width // cfg.fmt("weight").width
    return max(lo, min(lo, n_out - ob * lo) * (-(-n_in // e)) * (e // min(e, li)))


def predicted_cycles(cfg: Config, n_out: int, n_in: int, rows: int, gelu: bool, lo: int | None = None,
                     li: int | None = None) -> int:
    """ap_start edge -> ap_done edge: block b loads once the loader finished block b-1 and bank b % 2
    is free (block b-2 issued), block b computes (rows * ceil(in/LI) tiles) once block b-1 issued
    and block b is loaded."""
    lo = lo or cfg.hardware.linear_out
    li = li or cfg.hardware.linear_in
    n_ob = -(-n_out // lo)
    r = rows * (-(-n_in // li))
    load_end, comp_end = [], []
    for b in range(n_ob):
        ls = max(load_end[b - 1] if b else 0, comp_end[b - 2] if b >= 2 else 0)
        load_end.append(ls + block_load_steps(cfg, n_out, n_in, b, lo, li))
        comp_end.append(max(comp_end[b - 1] if b else 0, load_end[b]) + r)
    return comp_end[-1] + PIPELINE_CYCLES + (GELU_CYCLES if gelu else 0)
