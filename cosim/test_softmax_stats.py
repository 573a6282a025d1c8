"""cocotb testbench of rtl/src/softmax_stats.sv: rows of scores in arrival order in, one {m, s, r}
beat per row out, python_ref.kernels.softmax.softmax_stats_raw as the scoreboard (every row's
arrival order is an input of the model). Run through cosim.runner (tests/test_cosim_softmax.py).
Environment: see cosim/test_exp.py (COSIM_RANDOM_VECTORS = attention-like rows)."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.nonlinear_tb import TEST_TIMEOUT_MS, UnitEnv, check_no_mismatch, start, stream_frames
from cosim.nonlinear_vectors import (random_orders, real_layer_data, softmax_adversarial, softmax_attention_like,
                                     weights_available)
from cosim.tb import env_int
from python_ref.kernels.softmax import softmax_stats_raw

SPEC = "python_ref.kernels.softmax.softmax_stats_raw"
MASK = (1 << 32) - 1
_ENV = None


def env() -> UnitEnv:
    global _ENV
    if _ENV is None:
        _ENV = UnitEnv("softmax_stats")
    return _ENV


async def run_rows(tb, e, x, order, label):
    m, s, r = softmax_stats_raw(x, order, e.cfg)
    seq = np.take_along_axis(x, order, axis=1)
    frames = list(seq)
    want = [np.array([int(mi) & MASK, si, ri], dtype=np.int64) for mi, si, ri in zip(m, s, r)]
    return await stream_frames(tb, e, frames, want, label, out_bits=32, cycles_per_beat=4)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """All equal (0, min, max), one dominant, max first/last, increasing/decreasing, very negative,
    full range, underflow: attention-length rows, in order and in a random order."""
    e = env()
    tb = await start(dut, e, 32, e.stall)
    n = e.cfg.model.tokens
    x = np.concatenate(list(softmax_adversarial(e.cfg, n).values()))
    total = await run_rows(tb, e, x, np.broadcast_to(np.arange(n), x.shape).copy(), f"adversarial/{e.stall}")
    total += await run_rows(tb, e, x, random_orders(len(x), n, e.seed), f"adversarial-random/{e.stall}")
    check_no_mismatch(total, "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Attention-like rows (NUM_TOKENS scores spread up to +-12) and gate rows (NUM_EXPERTS logits),
    rotated and shuffled arrival orders; the real layer-0/1 rows when the weights are present."""
    e = env()
    tb = await start(dut, e, 32, e.stall)
    n_tok, n_exp = e.cfg.model.tokens, e.cfg.model.experts
    rows = env_int("COSIM_RANDOM_VECTORS", 50)
    x = softmax_attention_like(e.cfg, rows, n_tok, e.seed + 1)
    total = await run_rows(tb, e, x, random_orders(rows, n_tok, e.seed + 2), f"attention/{e.stall}")
    g = softmax_attention_like(e.cfg, max(rows // 4, 4), n_exp, e.seed + 3)
    total += await run_rows(tb, e, g, random_orders(len(g), n_exp, e.seed + 4), f"gate/{e.stall}")
    if e.cfg.model.tokens == 129 and weights_available() and e.stall == "none":
        d = real_layer_data()
        for name, s in list(d["scores"].items()) + list(d["gate"].items()):
            xr = e.act.from_float(s)
            total += await run_rows(tb, e, xr, random_orders(len(xr), xr.shape[1], e.seed + 5), f"real {name}")
    check_no_mismatch(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: latency from a row's last score to its statistics; cycles per score over
    back-to-back attention rows."""
    e = env()
    tb = await start(dut, e, 32, "none")
    n = e.cfg.model.tokens
    x = softmax_attention_like(e.cfg, 1, n, e.seed + 6)
    check_no_mismatch(await run_rows(tb, e, x, random_orders(1, n, 1), "latency"), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    rows = 8
    x = softmax_attention_like(e.cfg, rows, n, e.seed + 7)
    i0 = len(tb.in_beats)
    check_no_mismatch(await run_rows(tb, e, x, random_orders(rows, n, 2), "burst"), "burst", SPEC)
    ins = tb.in_beats[i0:]
    cpb = (ins[-1][0] - ins[0][0] + 1) / len(ins)
    e.results.update(latency_cycles=latency, cycles_per_beat=cpb)
    tb.log.info(f"latency {latency} cycles (last score -> statistics), {cpb} cycles per score")
