"""cocotb testbench of rtl/src/linear_mac.sv (the MAC array of the unified compute unit), with
python_ref.kernels.linear.compute_linear as the scoreboard. Run through cosim.runner
(tests/test_cosim_linear_mac.py).

The testbench plays the tile scheduler of hls/src/linear.cpp (linear_mac): for each row, output
block and input block it presents one tile per cycle (optionally with idle cycles between tiles)
and collects one output block per (row, output block).

Run parameters (cosim.tb.RunParams): rows (rows per layer, default 2), corrupt (one flipped
expected bit: the scoreboard must fail).
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from cosim.tb import CLOCK_PERIOD_NS, ResultWriter, RunParams
from cosim.vectors import rand_raw
from python_ref.kernels.linear import compute_linear, layer_shapes, weight_port_format

LATENCY = 3  # in_valid -> out_valid, documented in rtl/src/linear_mac.sv
TEST_TIMEOUT_MS = 20


class MacTB:
    """Clock, reset, the run's parameters and summary for one test of the MAC array."""

    def __init__(self, dut):
        self.dut = dut
        self.params = RunParams.from_env()
        self.cfg = self.params.cfg()
        self.act = self.cfg.fmt("act")
        self.li, self.lo = self.cfg.hardware.linear_in, self.cfg.hardware.linear_out
        wp = weight_port_format(self.cfg)
        self.ww, self.wf = wp.width, wp.frac
        self.rows = self.params.int("rows", 2)
        self.corrupt = self.params.corrupt
        self.results = ResultWriter(kernel="linear_mac", config=self.cfg.name, layers=0, tiles=0, out_values=0,
                                    mismatches=0, latency_cycles=LATENCY, cycles=[], seed=self.params.seed)

    @classmethod
    async def create(cls, dut) -> "MacTB":
        e = cls(dut)
        await start(dut, e)
        return e


def pack(values, width: int) -> int:
    word = 0
    for j, v in enumerate(np.asarray(values).reshape(-1)):
        word |= (int(v) & ((1 << width) - 1)) << (j * width)
    return word


def unpack_signed(word: int, lanes: int, width: int) -> np.ndarray:
    out = np.empty(lanes, dtype=np.int64)
    for j in range(lanes):
        v = (word >> (j * width)) & ((1 << width) - 1)
        out[j] = v - (1 << width) if v >> (width - 1) else v
    return out


async def start(dut, e: MacTB):
    got = (int(dut.LI.value), int(dut.LO.value), int(dut.WW.value), int(dut.WF.value))
    assert got == (e.li, e.lo, e.ww, e.wf), f"RTL parameters (LI, LO, WW, WF) = {got}, config implies " \
                                            f"{(e.li, e.lo, e.ww, e.wf)}"
    cocotb.start_soon(Clock(dut.ap_clk, CLOCK_PERIOD_NS, unit="ns").start())
    dut.in_valid.value = 0
    dut.in_first.value = 0
    dut.in_last.value = 0
    dut.in_x.value = 0
    dut.in_w.value = 0
    dut.in_bias.value = 0
    dut.ap_rst_n.value = 0
    for _ in range(4):
        await RisingEdge(dut.ap_clk)
    await FallingEdge(dut.ap_clk)
    dut.ap_rst_n.value = 1
    await FallingEdge(dut.ap_clk)


async def run_layer(dut, e: MacTB, label, x_act, w_raw, w_fmt, b_raw, b_fmt, rng, gap_prob=0.0):
    """Drive one layer tile by tile; return (mismatches, cycles from the first tile to the last output)."""
    act, li, lo = e.act, e.li, e.lo
    n_out, n_in = w_raw.shape
    rows = x_act.shape[0]
    want = compute_linear(x_act, w_raw, b_raw, e.cfg, w_fmt=w_fmt, b_fmt=b_fmt)
    if e.corrupt:
        want = want.copy()
        want[0, 0] ^= 1
        e.corrupt = False
    n_ib, n_ob = -(-n_in // li), -(-n_out // lo)
    # The engine's operands: x padded with zeros, W in linear_w_t (exact shift), bias in act (exact shift).
    xp = np.zeros((rows, n_ib * li), dtype=np.int64)
    xp[:, :n_in] = x_act
    wp = np.zeros((n_ob * lo, n_ib * li), dtype=np.int64)
    wp[:n_out, :n_in] = w_raw.astype(np.int64) << (e.wf - w_fmt.frac)
    bp = np.zeros(n_ob * lo, dtype=np.int64)
    bp[:n_out] = b_fmt.fx(b_raw).cast(act).raw
    got = []
    cycle = 0
    first_in = last_out = None

    async def step():
        """One clock: inputs driven before are sampled at the rising edge; outputs read after it
        (ReadOnly); the next inputs are driven at the falling edge."""
        nonlocal cycle, last_out
        await RisingEdge(dut.ap_clk)
        cycle += 1
        await ReadOnly()
        if int(dut.out_valid.value):
            got.append(unpack_signed(int(dut.out_y.value), lo, act.width))
            last_out = cycle
        await FallingEdge(dut.ap_clk)

    n_tiles = 0
    for k in range(rows):
        for ob in range(n_ob):
            for ib in range(n_ib):
                while gap_prob and rng.random() < gap_prob:
                    dut.in_valid.value = 0
                    await step()
                dut.in_valid.value = 1
                dut.in_first.value = int(ib == 0)
                dut.in_last.value = int(ib == n_ib - 1)
                dut.in_x.value = pack(xp[k, ib * li:(ib + 1) * li], act.width)
                dut.in_w.value = pack(wp[ob * lo:(ob + 1) * lo, ib * li:(ib + 1) * li], e.ww)
                dut.in_bias.value = pack(bp[ob * lo:(ob + 1) * lo], act.width)
                n_tiles += 1
                await step()
                if first_in is None:
                    first_in = cycle  # the rising edge that took the first tile
    dut.in_valid.value = 0
    for _ in range(2 * LATENCY + 2):  # drain, and nothing more may come out
        await step()
    assert len(got) == rows * n_ob, f"{label}: {len(got)} output blocks, expected {rows * n_ob}"
    y = np.array(got).reshape(rows, n_ob * lo)[:, :n_out]
    bad = np.argwhere(y != want)
    for r, c in bad[:10]:
        dut._log.error(f"{label}: MISMATCH row {r} output {c}: expected {int(want[r, c])} got {int(y[r, c])}")
    cycles = last_out - first_in + 1  # edges from the first tile to the last output, inclusive
    e.results.add("layers", 1)
    e.results.add("tiles", n_tiles)
    e.results.add("out_values", y.size)
    e.results.add("mismatches", len(bad))
    e.results.append("cycles", {"layer": label, "tiles": n_tiles, "cycles": cycles, "gaps": gap_prob > 0})
    dut._log.info(f"{label}: {n_out}x{n_in}, {rows} rows, {n_tiles} tiles, {cycles} cycles, {len(bad)} mismatches")
    return len(bad), cycles, n_tiles


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_layer_shapes(dut):
    """Every layer shape of the config and the patch embedding's linear part, realistic values,
    back to back (no idle cycles): bit-exact, and cycles = tiles - 1 + LATENCY exactly."""
    e = await MacTB.create(dut)
    rng = np.random.default_rng(e.params.seed)
    cfg, m = e.cfg, e.cfg.model
    total_bad = 0
    for name, o, i, wr, br in layer_shapes(cfg):
        x = rand_raw(e.act, (e.rows, i), rng, 1.0)
        w = rand_raw(cfg.fmt(wr), (o, i), rng, 1.0 / np.sqrt(i))
        b = rand_raw(cfg.fmt(br), o, rng, 0.1)
        bad, cycles, tiles = await run_layer(dut, e, name, x, w, cfg.fmt(wr), b, cfg.fmt(br), rng)
        total_bad += bad
        assert cycles == tiles - 1 + LATENCY, f"{name}: {cycles} cycles for {tiles} tiles"
    # Patch embedding: pixel rows (pixel -> act exact), patch weights.
    pix = rand_raw(cfg.fmt("pixel"), (e.rows, m.patch_in), rng)
    x = pix << (e.act.frac - cfg.fmt("pixel").frac)
    w = rand_raw(cfg.fmt("patch_weight"), (m.dim, m.patch_in), rng, 0.05)
    b = rand_raw(cfg.fmt("bias"), m.dim, rng, 0.1)
    bad, cycles, tiles = await run_layer(dut, e, "patch", x, w, cfg.fmt("patch_weight"), b, cfg.fmt("bias"), rng)
    total_bad += bad
    assert cycles == tiles - 1 + LATENCY
    assert total_bad == 0, f"{total_bad} mismatches (scoreboard python_ref.kernels.linear.compute_linear)"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_full_range_odd_shapes_with_gaps(dut):
    """Full-range values (the accumulator wraps), shapes that are not multiples of the tile, extreme
    corners, idle cycles between tiles."""
    e = await MacTB.create(dut)
    rng = np.random.default_rng(e.params.seed + 1)
    cfg = e.cfg
    total_bad = 0
    for o, i, r in [(1, 1, 1), (13, 37, 3), (37, 13, 2), (2 * e.lo + 1, 3 * e.li - 1, 2)]:
        x = rand_raw(e.act, (r, i), rng)
        w = rand_raw(cfg.fmt("weight"), (o, i), rng)
        b = rand_raw(cfg.fmt("attn_bias"), o, rng)
        x[0, 0], w[0, 0] = e.act.raw_min, cfg.fmt("weight").raw_min
        x[-1, -1], w[-1, -1] = e.act.raw_max, cfg.fmt("weight").raw_max
        bad, _, _ = await run_layer(dut, e, f"full_{o}x{i}", x, w, cfg.fmt("weight"), b, cfg.fmt("attn_bias"),
                                    rng, gap_prob=0.3)
        total_bad += bad
    assert total_bad == 0, f"{total_bad} mismatches (scoreboard python_ref.kernels.linear.compute_linear)"
