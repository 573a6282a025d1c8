"""cocotb testbench of rtl/src/softmax_stats.sv: rows of scores in arrival order in, one {m, s, r}
beat per row out, python_ref.kernels.softmax.softmax_stats_raw as the scoreboard (every row's
arrival order is an input of the model). Run through cosim.runner.run_unit
(tests/test_cosim_softmax.py, `make sim`). Run parameters: stall, n_random (attention-like rows),
corrupt. test_real (the published layer-0/1 score rows and the layer-1 gate logits) is its own test
case, skipped with the reason when the weights are absent; the summary counts its rows."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.tb import StreamTB, real_rows_skip
from cosim.vectors import random_orders, real_gate_rows, real_score_rows, softmax_adversarial, softmax_attention_like
from python_ref.kernels.softmax import softmax_stats_raw

TEST_TIMEOUT_MS = 4000
SPEC = "python_ref.kernels.softmax.softmax_stats_raw"
MASK = (1 << 32) - 1


class SoftmaxStatsTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "softmax_stats", 32)

    async def rows(self, x, order, label) -> int:
        m, s, r = softmax_stats_raw(x, order, self.cfg)
        frames = list(np.take_along_axis(x, order, axis=1))
        want = [np.array([int(mi) & MASK, si, ri], dtype=np.int64) for mi, si, ri in zip(m, s, r)]
        return await self.check_frames(frames, want, label, out_bits=32, cycles_per_beat=4)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """All equal (0, min, max), one dominant, max first/last, increasing/decreasing, very negative,
    full range, underflow: attention-length rows, in order and in a random order."""
    tb = await SoftmaxStatsTB.create(dut)
    n = tb.cfg.model.tokens
    x = np.concatenate(list(softmax_adversarial(tb.cfg, n).values()))
    total = await tb.rows(x, np.broadcast_to(np.arange(n), x.shape).copy(), f"adversarial/{tb.params.stall}")
    total += await tb.rows(x, random_orders(len(x), n, tb.params.seed), f"adversarial-random/{tb.params.stall}")
    tb.expect_exact(total, "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Attention-like rows (NUM_TOKENS scores spread up to +-12) and gate rows (NUM_EXPERTS logits),
    rotated and shuffled arrival orders."""
    tb = await SoftmaxStatsTB.create(dut)
    seed, rows = tb.params.seed, tb.params.n_random
    n_tok, n_exp = tb.cfg.model.tokens, tb.cfg.model.experts
    x = softmax_attention_like(tb.cfg, rows, n_tok, seed + 1)
    total = await tb.rows(x, random_orders(rows, n_tok, seed + 2), f"attention/{tb.params.stall}")
    g = softmax_attention_like(tb.cfg, max(rows // 4, 4), n_exp, seed + 3)
    total += await tb.rows(g, random_orders(len(g), n_exp, seed + 4), f"gate/{tb.params.stall}")
    tb.expect_exact(total, "random", SPEC)


@cocotb.skipif(real_rows_skip(lambda c: c.model.tokens == 129, "129 tokens") is not None,
                reason="published weights absent or config without 129 tokens")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The published layer-0/1 attention score rows and layer-1 gate logits (both tasks), random
    arrival orders."""
    tb = await SoftmaxStatsTB.create(dut)
    total = rows = 0
    for name, s in list(real_score_rows().items()) + list(real_gate_rows().items()):
        xr = tb.act.from_float(s)
        total += await tb.rows(xr, random_orders(len(xr), xr.shape[1], tb.params.seed + 5), f"real {name}")
        rows += len(xr)
    tb.results.add("real_rows", rows)
    tb.expect_exact(total, "real", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: latency from a row's last score to its statistics; cycles per score over
    back-to-back attention rows."""
    tb = await SoftmaxStatsTB.create(dut, stall="none")
    n, seed = tb.cfg.model.tokens, tb.params.seed
    x = softmax_attention_like(tb.cfg, 1, n, seed + 6)
    tb.expect_exact(await tb.rows(x, random_orders(1, n, 1), "latency"), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    x = softmax_attention_like(tb.cfg, 8, n, seed + 7)
    i0 = len(tb.in_beats)
    tb.expect_exact(await tb.rows(x, random_orders(8, n, 2), "burst"), "burst", SPEC)
    ins = tb.in_beats[i0:]
    cpb = (ins[-1][0] - ins[0][0] + 1) / len(ins)
    tb.results.update(latency_cycles=latency, cycles_per_beat=cpb)
    tb.log.info(f"latency {latency} cycles (last score -> statistics), {cpb} cycles per score")
