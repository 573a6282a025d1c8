"""cocotb testbench of rtl/src/layernorm.sv: rows of LANES x {x, beta:gamma} beats in (lane pairs: x in
the low 32 bits of each 64, {beta, gamma} in the high 32), LANES features per output beat,
python_ref.kernels.layernorm.layernorm_raw as the scoreboard. Run through cosim.runner.run_unit
(tests/test_cosim_layernorm.py, `make sim`). Run parameters: stall, n_random (rows), corrupt.
test_real (the LayerNorm inputs of layers 0 and 1 on the published weights) is its own test case,
skipped with the reason when the weights are absent; the summary counts its rows."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.tb import StreamTB, real_rows_skip
from cosim.vectors import (layernorm_adversarial, layernorm_params, layernorm_random, norm_param_lanes,
                           real_layernorm_rows)
from python_ref.kernels.layernorm import layernorm_raw

TEST_TIMEOUT_MS = 4000
SPEC = "python_ref.kernels.layernorm.layernorm_raw"
# more rows than the unit's row-buffer slots and statistics engines (edge_moe 57 and 47, tiny 13 and
# 9): the measured period covers their wrap-around; and enough rows in flight that the first rows
# leave while later ones arrive (edge_moe: a row every 3 cycles, 165 cycles of latency)
BURST_ROWS = 64


class LayerNormTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "layernorm", 32)

    async def rows(self, x, g, b, label) -> int:
        y = layernorm_raw(x, g, b, self.cfg)
        gb = norm_param_lanes(g, b)
        frames = [np.stack([row, gb], axis=1).reshape(-1) for row in x]
        return await self.check_frames(frames, list(y), label, cycles_per_beat=4)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """Identical values (0, 3.5, min, max), one LSB off, var below / at eps, 2^-20, extremes."""
    tb = await LayerNormTB.create(dut)
    x = np.concatenate(list(layernorm_adversarial(tb.cfg).values()))
    g, b = layernorm_params(tb.cfg, tb.params.seed)
    tb.expect_exact(await tb.rows(x, g, b, f"adversarial/{tb.params.stall}"), "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Rows of every scale (2^-16 .. 2^7) and offset."""
    tb = await LayerNormTB.create(dut)
    g, b = layernorm_params(tb.cfg, tb.params.seed + 1)
    x = layernorm_random(tb.cfg, tb.params.n_random, tb.params.seed + 2)
    tb.expect_exact(await tb.rows(x, g, b, f"random/{tb.params.stall}"), "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_rows_one_by_one(dut):
    """Random rows, each alone (the unit drains between rows): under backpressure the output pipeline
    stalls with a row's last beats in its output slice and bubbles behind them, the case the
    registered clock enable ce_d must follow (a stream of rows keeps the pipeline full instead)."""
    tb = await LayerNormTB.create(dut)
    g, b = layernorm_params(tb.cfg, tb.params.seed + 5)
    x = layernorm_random(tb.cfg, tb.params.n_random, tb.params.seed + 6)
    total = 0
    for i in range(len(x)):
        total += await tb.rows(x[i:i + 1], g, b, f"row {i} alone/{tb.params.stall}")
    tb.expect_exact(total, "rows one by one", SPEC)


@cocotb.skipif(real_rows_skip(lambda c: c.model.dim == 192, "dim 192") is not None,
                reason="published weights absent or config without dim 192")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The LayerNorm inputs of layers 0 and 1 (float model on the published weights and frame)."""
    tb = await LayerNormTB.create(dut)
    pf = tb.cfg.fmt("norm_param")
    total = rows = 0
    for name, xr, gr, br in real_layernorm_rows():
        total += await tb.rows(tb.act.from_float(xr), pf.from_float(gr), pf.from_float(br), f"real {name}")
        rows += len(xr)
    tb.results.add("real_rows", rows)
    tb.expect_exact(total, "real", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls, BURST_ROWS rows back to back into the idle unit: the first row's last input beat ->
    first output beat; the row period (first output beat of each row to the next's, and first input
    beat of each row to the next's); every row's output beats one per cycle; the input/output overlap
    (input beats of later rows, and of the next row, accepted while a row is being emitted) and the
    cycles x_TREADY held a valid input beat back."""
    tb = await LayerNormTB.create(dut, stall="none")
    g, b = layernorm_params(tb.cfg, tb.params.seed + 3)
    d = tb.cfg.model.dim
    if tb.lanes != 2 * tb.out_lanes or d % tb.out_lanes:
        raise AssertionError(f"x_TDATA has {tb.lanes} 32-bit lanes, y_TDATA {tb.out_lanes}: expected 2 LANES and "
                             f"LANES dividing {d}")
    p = d // tb.out_lanes  # beats per row
    i0, o0, stalls0 = len(tb.in_beats), len(tb.out_beats), tb.in_stalls
    x = layernorm_random(tb.cfg, BURST_ROWS, tb.params.seed + 4)
    tb.expect_exact(await tb.rows(x, g, b, "burst"), "burst", SPEC)
    ins, outs = [c for c, _ in tb.in_beats[i0:]], [c for c, _ in tb.out_beats[o0:]]
    n = BURST_ROWS
    in_start = [ins[r * p] for r in range(n)]
    out_start, out_end = [outs[r * p] for r in range(n)], [outs[r * p + p - 1] for r in range(n)]
    out_period = sorted({out_start[r + 1] - out_start[r] for r in range(n - 1)})
    in_period = sorted({in_start[r + 1] - in_start[r] for r in range(n - 1)})
    gaps = sorted({out_end[r] - out_start[r] for r in range(n)})
    overlap_next = [sum(out_start[r] <= c <= out_end[r] for c in ins[(r + 1) * p:(r + 2) * p]) for r in range(n - 1)]
    overlap_later = [sum(out_start[r] <= c <= out_end[r] for c in ins[(r + 1) * p:]) for r in range(n - 1)]
    latency = outs[0] - ins[p - 1]
    tb.results.update(latency_cycles=latency, cycles_per_row=out_period, input_cycles_per_row=in_period,
                      cycles_per_beat=max(out_period) / p, beats_per_row=p, lanes=tb.out_lanes, burst_rows=n,
                      burst_cycles=outs[-1] - ins[0],
                      overlap_next=overlap_next, overlap_later=overlap_later,
                      burst_input_stall_cycles=tb.in_stalls - stalls0)
    tb.log.info(f"latency {latency} cycles (last input -> first output), output row every {out_period} cycles, "
                f"input row every {in_period} cycles, burst of {n} rows "
                f"{outs[-1] - ins[0]} cycles; next row's input beats accepted while a row is emitted {overlap_next}")
    assert len(out_period) == 1, f"output row period varies: {out_period}"
    assert in_period == out_period, f"input row period {in_period} differs from the output's {out_period}"
    assert gaps == [p - 1], f"a row's output beats are not back to back: first to last {gaps}"
