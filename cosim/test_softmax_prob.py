"""cocotb testbench of rtl/src/softmax_prob.sv: beats {x, m, r} in (the row's statistics travel with
each score), p out, python_ref.kernels.softmax.softmax_prob_raw as the scoreboard. Run through
cosim.runner (tests/test_cosim_softmax.py). Environment: see cosim/test_exp.py."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.nonlinear_tb import TEST_TIMEOUT_MS, UnitEnv, check_no_mismatch, start, stream_frames
from cosim.nonlinear_vectors import random_orders, softmax_adversarial, softmax_attention_like
from cosim.tb import env_int
from python_ref.kernels.softmax import softmax_raw

SPEC = "python_ref.kernels.softmax.softmax_prob_raw"
_ENV = None


def env() -> UnitEnv:
    global _ENV
    if _ENV is None:
        _ENV = UnitEnv("softmax_prob")
    return _ENV


async def run_rows(tb, e, x, label):
    res = softmax_raw(x, e.cfg, random_orders(len(x), x.shape[1], e.seed))
    frames = [np.stack([row, np.full_like(row, m), np.full_like(row, r)], axis=1).reshape(-1)
              for row, m, r in zip(x, res.m, res.r)]
    return await stream_frames(tb, e, frames, list(res.p), label, out_bits=32)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    e = env()
    tb = await start(dut, e, 32, e.stall)
    x = np.concatenate(list(softmax_adversarial(e.cfg, e.cfg.model.tokens).values()))
    check_no_mismatch(await run_rows(tb, e, x, f"adversarial/{e.stall}"), "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    e = env()
    tb = await start(dut, e, 32, e.stall)
    rows = env_int("COSIM_RANDOM_VECTORS", 50)
    x = softmax_attention_like(e.cfg, rows, e.cfg.model.tokens, e.seed + 1)
    g = softmax_attention_like(e.cfg, max(rows // 4, 4), e.cfg.model.experts, e.seed + 2)
    total = await run_rows(tb, e, x, f"attention/{e.stall}") + await run_rows(tb, e, g, f"gate/{e.stall}")
    check_no_mismatch(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    e = env()
    tb = await start(dut, e, 32, "none")
    x = softmax_attention_like(e.cfg, 1, 1, e.seed + 3)
    check_no_mismatch(await run_rows(tb, e, x, "latency"), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    x = softmax_attention_like(e.cfg, 16, e.cfg.model.tokens, e.seed + 4)
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    check_no_mismatch(await run_rows(tb, e, x, "burst"), "burst", SPEC)
    ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
    cpb = max((ins[-1][0] - ins[0][0] + 1) / len(ins), (outs[-1][0] - outs[0][0] + 1) / len(outs))
    e.results.update(latency_cycles=latency, cycles_per_beat=cpb)
    assert cpb == 1.0, f"softmax_prob: {cpb} cycles per score, expected 1"
