"""cocotb testbench of rtl/src/layernorm.sv: rows of {x, beta:gamma} beats in, normalised rows out,
python_ref.kernels.layernorm.layernorm_raw as the scoreboard. Run through cosim.runner
(tests/test_cosim_layernorm.py). Environment: see cosim/test_exp.py (COSIM_RANDOM_VECTORS = rows)."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.nonlinear_tb import TEST_TIMEOUT_MS, UnitEnv, check_no_mismatch, start, stream_frames
from cosim.nonlinear_vectors import (layernorm_adversarial, layernorm_params, layernorm_random, real_layer_data,
                                     weights_available)
from cosim.tb import env_int
from python_ref.kernels.layernorm import layernorm_raw

SPEC = "python_ref.kernels.layernorm.layernorm_raw"
_ENV = None


def env() -> UnitEnv:
    global _ENV
    if _ENV is None:
        _ENV = UnitEnv("layernorm")
    return _ENV


async def begin(dut, e, stall):
    return await start(dut, e, 32, stall)


async def run_rows(tb, e, x, g, b, label):
    y = layernorm_raw(x, g, b, e.cfg)
    gb = ((b.astype(np.int64) & 0xFFFF) << 16) | (g.astype(np.int64) & 0xFFFF)
    frames = [np.stack([row, gb], axis=1).reshape(-1) for row in x]
    return await stream_frames(tb, e, frames, list(y), label, cycles_per_beat=4)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """Identical values (0, 3.5, min, max), one LSB off, var below / at eps, 2^-20, extremes."""
    e = env()
    tb = await begin(dut, e, e.stall)
    x = np.concatenate(list(layernorm_adversarial(e.cfg).values()))
    g, b = layernorm_params(e.cfg, e.seed)
    check_no_mismatch(await run_rows(tb, e, x, g, b, f"adversarial/{e.stall}"), "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Rows of every scale (2^-16 .. 2^7) and offset; the real layer-0/1 inputs when available."""
    e = env()
    tb = await begin(dut, e, e.stall)
    rows = env_int("COSIM_RANDOM_VECTORS", 20)
    g, b = layernorm_params(e.cfg, e.seed + 1)
    total = await run_rows(tb, e, layernorm_random(e.cfg, rows, e.seed + 2), g, b, f"random/{e.stall}")
    if e.cfg.model.dim == 192 and weights_available() and e.stall == "none":
        pf = e.cfg.fmt("norm_param")
        for name, xr, gr, br in real_layer_data()["ln"]:
            total += await run_rows(tb, e, e.act.from_float(xr), pf.from_float(gr), pf.from_float(br), f"real {name}")
    check_no_mismatch(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: cycles from a row's first input beat to the next row's, and last input -> first output."""
    e = env()
    tb = await begin(dut, e, "none")
    g, b = layernorm_params(e.cfg, e.seed + 3)
    d = e.cfg.model.dim
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    check_no_mismatch(await run_rows(tb, e, layernorm_random(e.cfg, 4, e.seed + 4), g, b, "burst"), "burst", SPEC)
    ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
    row_cycles = {ins[(k + 1) * d][0] - ins[k * d][0] for k in range(3)}
    latency = outs[0][0] - ins[d - 1][0]
    e.results.update(latency_cycles=latency, cycles_per_row=sorted(row_cycles),
                     cycles_per_beat=max(row_cycles) / d)
    tb.log.info(f"latency {latency} cycles (last input -> first output), row every {row_cycles} cycles")
    assert len(row_cycles) == 1, f"row period varies: {row_cycles}"
