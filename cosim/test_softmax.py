"""cocotb testbench of rtl/src/softmax.sv (the two-pass softmax): rows of n scores in (L per beat),
one output beat per input beat {p lanes, m, s, r}, python_ref.kernels.softmax.softmax_two_pass_raw
as the scoreboard. Run through cosim.runner.run_unit (tests/test_cosim_softmax.py, `make sim`).
Run parameters: stall, n_random (attention-like rows), corrupt. The lanes past n in a row's last
input beat carry random values (they must be ignored); their p lanes must be 0.

Rows are sent in groups of one length: the row-length port n is set before each group (the unit
takes n at a row's first beat). test_real (the published layer-0/1 score rows and the layer-1
gate logits) is its own test case, skipped with the reason when the weights are absent."""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import ClockCycles

from cosim.tb import StreamTB, real_rows_skip
from cosim.vectors import real_gate_rows, real_score_rows, softmax_adversarial, softmax_attention_like
from python_ref.kernels.softmax import MAX_ROW, softmax_two_pass_raw

TEST_TIMEOUT_MS = 6000
SPEC = "python_ref.kernels.softmax.softmax_two_pass_raw"
MASK = (1 << 32) - 1


class SoftmaxTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "softmax", 32)
        self.L = self.lanes
        if self.out_lanes != self.L + 3:
            raise AssertionError(f"softmax: y_ has {self.out_lanes} lanes, expected L + 3 = {self.L + 3}")
        self._pad = np.random.default_rng(params.seed + 99)
        dut.n.value = 0

    def frames(self, x: np.ndarray):
        """Input frames (rows padded to whole beats with random lanes) and expected output frames."""
        rows, n = x.shape
        res = softmax_two_pass_raw(x, self.cfg)
        beats = -(-n // self.L)
        ins, outs = [], []
        for i in range(rows):
            pad = self._pad.integers(self.act.raw_min, self.act.raw_max + 1, beats * self.L - n)
            ins.append(np.concatenate([x[i], pad]))
            p = np.concatenate([res.p[i], np.zeros(beats * self.L - n, dtype=np.int64)]).reshape(beats, self.L)
            st = np.tile([int(res.m[i]) & MASK, int(res.s[i]), int(res.r[i])], (beats, 1))
            outs.append(np.concatenate([p, st], axis=1).reshape(-1))
        return ins, outs

    async def rows(self, x: np.ndarray, label: str) -> int:
        x = np.asarray(x, dtype=np.int64)
        n = x.shape[1]
        assert 1 <= n <= MAX_ROW
        self.dut.n.value = n
        await ClockCycles(self.clk, 2)
        ins, outs = self.frames(x)
        return await self.check_frames(ins, outs, label, out_bits=32, cycles_per_beat=4,
                                       describe=lambda i, j: f"row {i} beat {j // (self.L + 3)} lane {j % (self.L + 3)}")


def _lengths(cfg, L):
    """Row lengths every run covers: 1, the lanes +- 1, the gate (E), the attention row (T), 255."""
    E, T = cfg.model.experts, cfg.model.tokens
    return sorted({1, 2, 3, max(1, L - 1), L, L + 1, E, E + 1, T, 2 * L + 1, MAX_ROW} - {0})


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """All equal (0, min, max), one dominant, max first/last, increasing/decreasing, very negative,
    full range, underflow: attention-length rows; then every adversarial row cut to the lengths of
    _lengths (1 .. 255, around the lane count)."""
    tb = await SoftmaxTB.create(dut)
    n = tb.cfg.model.tokens
    adv = softmax_adversarial(tb.cfg, MAX_ROW)
    x = np.concatenate(list(softmax_adversarial(tb.cfg, n).values()))
    total = await tb.rows(x, f"adversarial/{tb.params.stall}")
    for length in _lengths(tb.cfg, tb.L):
        x = np.concatenate([v[:, :length] for v in adv.values()])
        total += await tb.rows(x, f"adversarial n={length}/{tb.params.stall}")
    tb.expect_exact(total, "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Attention-like rows (NUM_TOKENS scores spread up to +-12) and gate rows (NUM_EXPERTS logits)."""
    tb = await SoftmaxTB.create(dut)
    seed, rows = tb.params.seed, tb.params.n_random
    n_tok, n_exp = tb.cfg.model.tokens, tb.cfg.model.experts
    total = await tb.rows(softmax_attention_like(tb.cfg, rows, n_tok, seed + 1), f"attention/{tb.params.stall}")
    g = softmax_attention_like(tb.cfg, max(rows // 4, 4) * 4, n_exp, seed + 3)
    total += await tb.rows(g, f"gate/{tb.params.stall}")
    tb.expect_exact(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_row_length_zero(dut):
    """n = 0 starts no row: a waiting beat is not taken and nothing comes out; once n is set the
    same row goes through, exact."""
    tb = await SoftmaxTB.create(dut, stall="none")
    x = softmax_attention_like(tb.cfg, 1, tb.cfg.model.experts, tb.params.seed + 8)
    ins, outs = tb.frames(x)
    tb.dut.n.value = 0
    await ClockCycles(tb.clk, 2)
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    send = cocotb.start_soon(tb.source.send(tb.values_to_frame(ins[0])))
    await ClockCycles(tb.clk, 300)
    if len(tb.in_beats) != i0 or len(tb.out_beats) != o0 or int(dut.x_TREADY.value):
        raise AssertionError(f"n = 0: {len(tb.in_beats) - i0} input and {len(tb.out_beats) - o0} output beats, "
                             f"x_TREADY {dut.x_TREADY.value}: expected no row to start")
    tb.dut.n.value = x.shape[1]
    await send
    frame = await tb.sink.recv()
    got = tb.frame_to_values(frame) & MASK
    if not np.array_equal(got, outs[0]):
        raise AssertionError(f"n = 0 then n = {x.shape[1]}: the row differs from {SPEC}")
    tb.results.add("vectors", x.size)
    tb.results.add("zero_length_checked", 1)


@cocotb.skipif(real_rows_skip(lambda c: c.model.tokens == 129, "129 tokens") is not None,
                reason="published weights absent or config without 129 tokens")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The published layer-0/1 attention score rows and layer-1 gate logits (both tasks)."""
    tb = await SoftmaxTB.create(dut)
    total = rows = 0
    for name, s in list(real_score_rows().items()) + list(real_gate_rows().items()):
        xr = tb.act.from_float(s).astype(np.int64)
        total += await tb.rows(xr, f"real {name}")
        rows += len(xr)
    tb.results.add("real_rows", rows)
    tb.expect_exact(total, "real", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: latency from a lone row's last input beat to its last output beat (gate row of E
    logits); cycles per input beat over back-to-back attention rows and over back-to-back gate rows."""
    tb = await SoftmaxTB.create(dut, stall="none")
    seed, E, T = tb.params.seed, tb.cfg.model.experts, tb.cfg.model.tokens
    tb.expect_exact(await tb.rows(softmax_attention_like(tb.cfg, 1, E, seed + 6), "latency"), "latency", SPEC)
    latency = tb.out_beats[-1][0] - tb.in_beats[-1][0]
    res = {"latency_cycles": latency}
    for name, n, count in (("attention", T, 16), ("gate", E, 64)):
        i0 = len(tb.in_beats)
        x = softmax_attention_like(tb.cfg, count, n, seed + 7)
        tb.expect_exact(await tb.rows(x, f"burst {name}"), f"burst {name}", SPEC)
        ins = tb.in_beats[i0:]
        res[f"cycles_per_beat_{name}"] = (ins[-1][0] - ins[0][0] + 1) / len(ins)
    res["cycles_per_beat"] = res["cycles_per_beat_attention"]
    tb.results.update(**res)
    tb.log.info(f"softmax: {res}")
