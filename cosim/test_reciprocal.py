"""cocotb testbench of rtl/src/reciprocal.sv (softmax instance: ap_ufixed<32,8> -> ap_ufixed<32,1>),
python_ref.kernels.reciprocal.softmax_reciprocal_raw as the scoreboard. Run through cosim.runner
(tests/test_cosim_reciprocal.py). Environment: see cosim/test_exp.py."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.nonlinear_tb import (TEST_TIMEOUT_MS, UnitEnv, check_no_mismatch, split_frames, start,
                                stream_frames)
from cosim.nonlinear_vectors import recip_directed
from cosim.tb import env_int
from python_ref.kernels.reciprocal import SOFTMAX_SUM_FORMAT, softmax_reciprocal_raw

SPEC = "python_ref.kernels.reciprocal.softmax_reciprocal_raw"
_ENV = None


def env() -> UnitEnv:
    global _ENV
    if _ENV is None:
        _ENV = UnitEnv("reciprocal")
    return _ENV


async def run(tb, e, x, label, rng):
    frames = split_frames(np.asarray(x, dtype=np.int64), rng, 16)
    want = [softmax_reciprocal_raw(f) for f in frames]
    return await stream_frames(tb, e, frames, want, label, out_bits=32, cycles_per_beat=60)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_directed(dut):
    """0, below 1/2, every integer s in [1, 255] and +-1 LSB and +1/2, the maximum."""
    e = env()
    tb = await start(dut, e, 32, e.stall)
    rng = np.random.default_rng(e.seed)
    x = recip_directed(SOFTMAX_SUM_FORMAT.frac, SOFTMAX_SUM_FORMAT.width)
    check_no_mismatch(await run(tb, e, x, f"directed/{e.stall}", rng), "directed", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Random s over [1, 256) and below 1."""
    e = env()
    tb = await start(dut, e, 32, e.stall)
    n = env_int("COSIM_RANDOM_VECTORS", 2000)
    rng = np.random.default_rng(e.seed + 7)
    fi = SOFTMAX_SUM_FORMAT.frac
    x = np.concatenate([rng.integers(1 << fi, 1 << 32, n), rng.integers(0, 1 << fi, n // 10)])
    check_no_mismatch(await run(tb, e, x, f"random/{e.stall}", rng), "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: latency of one division and the cycles per value of back-to-back divisions."""
    e = env()
    tb = await start(dut, e, 32, "none")
    rng = np.random.default_rng(e.seed + 13)
    check_no_mismatch(await run(tb, e, [12345678], "latency", rng), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    n = 64
    i0 = len(tb.in_beats)
    check_no_mismatch(await run(tb, e, rng.integers(1 << 24, 1 << 32, n), "burst", rng), "burst", SPEC)
    ins = tb.in_beats[i0:]
    cpb = (ins[-1][0] - ins[0][0]) / (len(ins) - 1)
    e.results.update(latency_cycles=latency, cycles_per_beat=cpb)
    tb.log.info(f"latency {latency} cycles, {cpb} cycles per value")
