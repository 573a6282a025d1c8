"""cocotb testbench of rtl/src/reciprocal.sv (softmax instance: ap_ufixed<32,8> -> ap_ufixed<32,1>),
python_ref.kernels.reciprocal.softmax_reciprocal_raw as the scoreboard. Run through
cosim.runner.run_unit (tests/test_cosim_reciprocal.py). Run parameters: see cosim/test_exp.py."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.tb import StreamTB, split_frames
from cosim.vectors import recip_directed
from python_ref.kernels.reciprocal import SOFTMAX_SUM_FORMAT, softmax_reciprocal_raw

TEST_TIMEOUT_MS = 4000
SPEC = "python_ref.kernels.reciprocal.softmax_reciprocal_raw"


class ReciprocalTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "reciprocal", 32)

    async def run(self, x, label, rng) -> int:
        frames = split_frames(np.asarray(x, dtype=np.int64), rng, 16)
        return await self.check_frames(frames, [softmax_reciprocal_raw(f) for f in frames], label, out_bits=32,
                                       cycles_per_beat=60)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_directed(dut):
    """0, below 1/2, every integer s in [1, 255] and +-1 LSB and +1/2, the maximum."""
    tb = await ReciprocalTB.create(dut)
    x = recip_directed(SOFTMAX_SUM_FORMAT.frac, SOFTMAX_SUM_FORMAT.width)
    tb.expect_exact(await tb.run(x, f"directed/{tb.params.stall}", tb.rng(0)), "directed", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Random s over [1, 256) and below 1."""
    tb = await ReciprocalTB.create(dut)
    n, rng, fi = tb.params.n_random, tb.rng(7), SOFTMAX_SUM_FORMAT.frac
    x = np.concatenate([rng.integers(1 << fi, 1 << 32, n), rng.integers(0, 1 << fi, n // 10)])
    tb.expect_exact(await tb.run(x, f"random/{tb.params.stall}", rng), "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: latency of one division and the cycles per value of back-to-back divisions."""
    tb = await ReciprocalTB.create(dut, stall="none")
    rng = tb.rng(13)
    tb.expect_exact(await tb.run([12345678], "latency", rng), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    i0 = len(tb.in_beats)
    tb.expect_exact(await tb.run(rng.integers(1 << 24, 1 << 32, 64), "burst", rng), "burst", SPEC)
    ins = tb.in_beats[i0:]
    cpb = (ins[-1][0] - ins[0][0]) / (len(ins) - 1)
    tb.results.update(latency_cycles=latency, cycles_per_beat=cpb)
    tb.log.info(f"latency {latency} cycles, {cpb} cycles per value")
