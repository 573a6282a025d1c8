"""cocotb testbench of rtl/src/layernorm.sv: rows of {x, beta:gamma} beats in, normalised rows out,
python_ref.kernels.layernorm.layernorm_raw as the scoreboard. Run through cosim.runner.run_unit
(tests/test_cosim_layernorm.py, `make sim`). Run parameters: stall, n_random (rows), corrupt.
test_real (the LayerNorm inputs of layers 0 and 1 on the published weights) is its own test case,
skipped with the reason when the weights are absent; the summary counts its rows."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.tb import StreamTB, real_rows_skip
from cosim.vectors import layernorm_adversarial, layernorm_params, layernorm_random, real_layernorm_rows
from python_ref.kernels.layernorm import layernorm_raw

TEST_TIMEOUT_MS = 4000
SPEC = "python_ref.kernels.layernorm.layernorm_raw"


class LayerNormTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "layernorm", 32)

    async def rows(self, x, g, b, label) -> int:
        y = layernorm_raw(x, g, b, self.cfg)
        gb = ((b.astype(np.int64) & 0xFFFF) << 16) | (g.astype(np.int64) & 0xFFFF)
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
    """No stalls: cycles from a row's first input beat to the next row's, and last input -> first output."""
    tb = await LayerNormTB.create(dut, stall="none")
    g, b = layernorm_params(tb.cfg, tb.params.seed + 3)
    d = tb.cfg.model.dim
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    x = layernorm_random(tb.cfg, 4, tb.params.seed + 4)
    tb.expect_exact(await tb.rows(x, g, b, "burst"), "burst", SPEC)
    ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
    row_cycles = {ins[(k + 1) * d][0] - ins[k * d][0] for k in range(3)}
    latency = outs[0][0] - ins[d - 1][0]
    tb.results.update(latency_cycles=latency, cycles_per_row=sorted(row_cycles), cycles_per_beat=max(row_cycles) / d)
    tb.log.info(f"latency {latency} cycles (last input -> first output), row every {row_cycles} cycles")
    assert len(row_cycles) == 1, f"row period varies: {row_cycles}"
