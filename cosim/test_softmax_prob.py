"""cocotb testbench of rtl/src/softmax_prob.sv: beats {x, m, r} in (the row's statistics travel with
each score), p out, python_ref.kernels.softmax.softmax_prob_raw as the scoreboard. Run through
cosim.runner.run_unit (tests/test_cosim_softmax.py, `make sim`). Run parameters: see
cosim/test_softmax_stats.py."""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.tb import StreamTB
from cosim.vectors import random_orders, softmax_adversarial, softmax_attention_like
from python_ref.kernels.softmax import softmax_raw

# Input stall cycles allowed beyond the output's, per check: the pipeline depth and its output slice.
PIPELINE_SLACK = 16
TEST_TIMEOUT_MS = 4000
SPEC = "python_ref.kernels.softmax.softmax_prob_raw"


class SoftmaxProbTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "softmax_prob", 32)
        self.stall_slack = PIPELINE_SLACK  # stall-as-a-whole pipeline: input waits only with the output

    async def rows(self, x, label) -> int:
        res = softmax_raw(x, self.cfg, random_orders(len(x), x.shape[1], self.params.seed))
        frames = [np.stack([row, np.full_like(row, m), np.full_like(row, r)], axis=1).reshape(-1)
                  for row, m, r in zip(x, res.m, res.r)]
        return await self.check_frames(frames, list(res.p), label, out_bits=32)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    tb = await SoftmaxProbTB.create(dut)
    x = np.concatenate(list(softmax_adversarial(tb.cfg, tb.cfg.model.tokens).values()))
    tb.expect_exact(await tb.rows(x, f"adversarial/{tb.params.stall}"), "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    tb = await SoftmaxProbTB.create(dut)
    rows, seed = tb.params.n_random, tb.params.seed
    x = softmax_attention_like(tb.cfg, rows, tb.cfg.model.tokens, seed + 1)
    g = softmax_attention_like(tb.cfg, max(rows // 4, 4), tb.cfg.model.experts, seed + 2)
    total = await tb.rows(x, f"attention/{tb.params.stall}") + await tb.rows(g, f"gate/{tb.params.stall}")
    tb.expect_exact(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    tb = await SoftmaxProbTB.create(dut, stall="none")
    seed = tb.params.seed
    tb.expect_exact(await tb.rows(softmax_attention_like(tb.cfg, 1, 1, seed + 3), "latency"), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    x = softmax_attention_like(tb.cfg, 16, tb.cfg.model.tokens, seed + 4)
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    tb.expect_exact(await tb.rows(x, "burst"), "burst", SPEC)
    ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
    cpb = max((ins[-1][0] - ins[0][0] + 1) / len(ins), (outs[-1][0] - outs[0][0] + 1) / len(outs))
    tb.results.update(latency_cycles=latency, cycles_per_beat=cpb)
    assert cpb == 1.0, f"softmax_prob: {cpb} cycles per score, expected 1"
