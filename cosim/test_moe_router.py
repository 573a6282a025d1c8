"""cocotb testbench of rtl/src/moe_router.sv (softmax + rank top-k + queues + descriptor emitter):
gate logits in (a run of T tokens, ceil(E/L) beats of L act lanes per token), the 64-bit
call-descriptor stream out, compared word for word with python_ref
(``descriptor_words(route(logits), expert_schedule(routing), task)``), TLAST on the last word.
Run through cosim.runner.run_unit (tests/test_cosim_moe_router.py).

One input frame and one output frame per run. ``n_tokens`` and ``task_id`` are set before a run and
scrambled to random values as soon as its first beat is taken (the unit must hold what it sampled).
The output's 64-bit words are seen by the bus model as two 32-bit lanes (low half first).
The routing outputs for the weight FIFO are checked on every run: exactly one route_we pulse, before
the run's first descriptor word, with route_active = the experts python_ref's route gives a token.
Run parameters: stall, n_random (random runs), corrupt, top_k (the HDL parameter K; the python
side uses the same config with that top_k), corrupt_route (one wrong expected route_active), vectors (test_vectors_file: a pickle file of
(name, logits, task) runs, the `make sim` row's cases)."""
from __future__ import annotations

import pickle

import numpy as np

import cocotb
from cocotb.triggers import ClockCycles, RisingEdge

from cosim.moe_vectors import config_with_top_k, logit_rows, published_gate_logits, routing_cases
from cosim.tb import StreamTB, real_rows_skip
from python_ref.kernels.moe import descriptor_words, expert_schedule, gate_logits, route
from python_ref.kernels.softmax import lanes

TEST_TIMEOUT_MS = 20000
SPEC = "python_ref.kernels.moe.descriptor_words(route(logits), expert_schedule(...), task)"
M32 = (1 << 32) - 1


def expected_words(logits: np.ndarray, task: int, cfg) -> np.ndarray:
    r = route(logits, cfg)
    w = descriptor_words(r, expert_schedule(r, cfg), task, cfg)
    return np.array([int(v) & ((1 << 64) - 1) for v in w.tolist()], dtype=object)


class RouterTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "moe_router", 32)
        k = params.int("top_k", self.cfg.model.top_k)
        if k != self.cfg.model.top_k:
            self.cfg = config_with_top_k(self.cfg, k)
        self.E, self.T, self.K = self.cfg.model.experts, self.cfg.model.tokens, self.cfg.model.top_k
        self.L = self.lanes
        if self.L != lanes(self.cfg):
            raise AssertionError(f"moe_router: x_ has {self.L} lanes, the softmax's are {lanes(self.cfg)}")
        if self.out_lanes != 2:
            raise AssertionError(f"moe_router: y_TDATA is {self.out_lanes * 32} bits, expected 64")
        self.nb = -(-self.E // self.L)
        self._pad = np.random.default_rng(params.seed + 99)
        self._hostile = np.random.default_rng(params.seed + 98)
        dut.n_tokens.value = 0
        dut.task_id.value = 0
        dut.x_hold_next.value = 0   # the caller's hold (moe_layer drives it; tests/test_cosim_moe_layer.py)
        self.route_pulses: list[tuple[int, str, int]] = []   # (cycle, route_active, y_ words before it)
        self.word_cycles: list[int] = []                     # cycle of every y_ handshake (same count)
        self.beat_cycles: list[int] = []                     # cycle of every x_ handshake (same count)
        self.route_corrupted = False
        cocotb.start_soon(self._route_monitor())

    async def _route_monitor(self):
        """route_we / route_active and the y_ handshakes, sampled at every rising edge on one count."""
        d, n = self.dut, 0
        while True:
            await RisingEdge(self.clk)
            n += 1
            if not d.ap_rst_n.value:
                continue
            if not d.route_we.value.is_resolvable:
                raise AssertionError(f"route_we = {d.route_we.value} after reset")
            if d.route_we.value:
                self.route_pulses.append((n, str(d.route_active.value), len(self.word_cycles)))
            if d.y_TVALID.value and d.y_TREADY.value:
                self.word_cycles.append(n)
            if d.x_TVALID.value and d.x_TREADY.value:
                self.beat_cycles.append(n)

    def check_route(self, logits: np.ndarray, p0: int, w0: int, label: str) -> int:
        """The run's routing pulses since pulse p0 (y_ words before the run: w0); returns errors."""
        pulses = self.route_pulses[p0:]
        want = "".join("1" if n else "0" for n in reversed(route(logits, self.cfg).queue_lengths))
        if self.params.extra.get("corrupt_route") and not self.route_corrupted:
            self.route_corrupted = True      # run parameter corrupt_route: one wrong expected mask
            want = ("0" if want[0] == "1" else "1") + want[1:]
        err = None
        if len(pulses) != 1:
            err = f"{len(pulses)} route_we pulses, expected 1"
        elif pulses[0][1] != want:
            err = f"route_active {pulses[0][1]}, python_ref's experts with tokens {want}"
        elif pulses[0][2] != w0:
            err = f"route_we after {pulses[0][2] - w0} of the run's descriptor words, expected before the first"
        if err:
            self.log.error(f"{label}: {err}")
            self.results.add("mismatches", 1)
            self.results.add("route_errors", 1)
            return 1
        self.results.update(route_to_first_word=self.word_cycles[w0] - pulses[0][0])
        self.last_route_cycle = pulses[0][0]
        return 0

    async def _scramble_controls(self, in0: int):
        """Once the run's first beat is taken, n_tokens and task_id carry random values."""
        while len(self.in_beats) <= in0:
            await RisingEdge(self.clk)
        self.dut.n_tokens.value = int(self._hostile.integers(0, 256))
        self.dut.task_id.value = int(self._hostile.integers(0, 256))

    async def run(self, logits: np.ndarray, task: int, label: str) -> int:
        """One run: T = len(logits) tokens of the gate with task ``task``; returns mismatching words."""
        x = np.asarray(logits, dtype=np.int64)
        t = x.shape[0]
        assert x.shape[1] == self.E and 1 <= t <= self.T
        pad = self._pad.integers(self.act.raw_min, self.act.raw_max + 1, (t, self.nb * self.L - self.E))
        frame = np.concatenate([x, pad], axis=1).reshape(-1)
        words = expected_words(x, task, self.cfg)
        want = np.array([[int(w) & M32, int(w) >> 32] for w in words], dtype=np.int64).reshape(-1)
        self.dut.n_tokens.value = t
        self.dut.task_id.value = task
        await ClockCycles(self.clk, 1)
        scr = cocotb.start_soon(self._scramble_controls(len(self.in_beats)))
        p0, w0 = len(self.route_pulses), len(self.word_cycles)
        bad = await self.check_frames([frame], [want], label, out_bits=32, cycles_per_beat=8,
                                      describe=lambda i, j: f"word {j // 2} ({'hi' if j % 2 else 'lo'} half)")
        scr.cancel()
        bad += self.check_route(x, p0, w0, label)
        self.results.add("runs", 1)
        self.results.add("tokens", t)
        self.results.add("words", len(words))
        return bad


def _case_logits(cfg, case) -> np.ndarray:
    return gate_logits(case.x_raw, case.weights.w_gate, case.task, cfg)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """Every logit_rows block (all equal at 0 / min / max, min but one, max/min alternating, 1-LSB
    steps, two levels, full range, gate-like) as a run of 8 tokens, both tasks; then every routing
    case of moe_vectors (all logits equal, at the act minimum, all tokens to one expert, all to the
    same k, one token per expert, every expert active, ties at the k-th place, 1-LSB differences)
    through the gate on the full token count."""
    tb = await RouterTB.create(dut)
    total = 0
    for i, (name, block) in enumerate(logit_rows(tb.cfg, rows=min(8, tb.T), seed=tb.params.seed + 31).items()):
        total += await tb.run(block, i % tb.cfg.model.tasks, f"rows {name}/{tb.params.stall}")
    if tb.params.extra.get("cases", True):
        for task in range(tb.cfg.model.tasks):
            for name, case in routing_cases(tb.cfg, task).items():
                total += await tb.run(_case_logits(tb.cfg, case), task, f"case {name} (task {task})")
    tb.expect_exact(total, "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """n_random runs: T in {1, 2, T_max, random}, random task, gate-like logits (normal, random
    spread, some rounded so that many logits tie)."""
    tb = await RouterTB.create(dut)
    rng = tb.rng(5)
    total = 0
    for i in range(tb.params.n_random):
        t = [1, 2, tb.T][i] if i < 3 else int(rng.integers(1, tb.T + 1))
        x = rng.normal(0, rng.uniform(0.2, 6.0), (t, tb.E))
        if i % 4 == 3:
            x = np.round(x)
        logits = tb.act.from_float(x).astype(np.int64)
        total += await tb.run(logits, int(rng.integers(tb.cfg.model.tasks)), f"random {i} T={t}/{tb.params.stall}")
    tb.expect_exact(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_vectors_file(dut):
    """The runs of the ``vectors`` pickle file, (name, (T, E) raw logits, task) each, in order (the
    `make sim` row: the C-sim's cases through python_ref's gate, cosim/sim_rows.py:moe)."""
    tb = await RouterTB.create(dut)
    if "vectors" not in tb.params.extra:
        tb.log.info("no vectors file given: nothing to run")
        return
    with open(tb.params.extra["vectors"], "rb") as fh:
        runs = pickle.load(fh)
    total = 0
    for name, logits, task in runs:
        total += await tb.run(logits, task, f"{name}/{tb.params.stall}")
    tb.expect_exact(total, "vectors file", SPEC)


def _published_skip() -> str | None:
    from python_ref.model.real_data import missing_reason
    return real_rows_skip(lambda c: missing_reason(c) is None, "the published weights' shapes (edge_moe.yaml)")


@cocotb.skipif(_published_skip() is not None, reason="published weights absent or config without their shapes")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The published frame's first MoE layer: its gate logits as the fixed-point network computes
    them (moe_vectors.published_gate_logits), every task, one run of all T tokens each."""
    tb = await RouterTB.create(dut)
    total = rows = 0
    for name, (logits, task) in published_gate_logits(tb.cfg).items():
        total += await tb.run(logits, task, f"real {name}/{tb.params.stall}")
        rows += len(logits)
    tb.results.add("real_rows", rows)
    tb.expect_exact(total, "real", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_cycles(dut):
    """No stalls: a run of T_max gate-like tokens. Cycles per token at the input (first to last
    beat), latency from the last input beat to the first and to the last descriptor word, the
    route_we cycle after the first input beat, and the stream leaves one word per cycle (checked);
    then a lone token (T = 1)."""
    tb = await RouterTB.create(dut, stall="none")
    rng = tb.rng(7)
    res = {}
    for t, tag in ((tb.T, "full"), (1, "one")):
        logits = tb.act.from_float(rng.normal(0, 3, (t, tb.E))).astype(np.int64)
        i0, o0, b0 = len(tb.in_beats), len(tb.out_beats), len(tb.beat_cycles)
        tb.expect_exact(await tb.run(logits, 0, f"cycles T={t}"), "cycles", SPEC)
        res[f"{tag}_route_after_first_beat"] = tb.last_route_cycle - tb.beat_cycles[b0]
        ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
        span = outs[-1][0] - outs[0][0] + 1
        if span != len(outs):
            raise AssertionError(f"T={t}: {len(outs)} words over {span} cycles: the stream is not one word per cycle")
        res[f"{tag}_tokens"] = t
        res[f"{tag}_words"] = len(outs)
        res[f"{tag}_cycles_per_token"] = (ins[-1][0] - ins[0][0] + 1) / t
        res[f"{tag}_latency_first_word"] = outs[0][0] - ins[-1][0]
        res[f"{tag}_latency_last_word"] = outs[-1][0] - ins[-1][0]
        res[f"{tag}_total_cycles"] = outs[-1][0] - ins[0][0] + 1
    res["cycles_per_beat"] = res["full_cycles_per_token"] / tb.nb
    res["latency_cycles"] = res["one_latency_first_word"]
    tb.results.update(**res)
    tb.log.info(f"moe_router: {res}")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_no_run_without_tokens(dut):
    """n_tokens = 0 or > NUM_TOKENS starts no run (x_TREADY stays low, nothing comes out); then a
    valid count lets the same run through, exact."""
    tb = await RouterTB.create(dut, stall="none")
    logits = tb.act.from_float(tb.rng(9).normal(0, 3, (1, tb.E))).astype(np.int64)
    for bad_t in (0, tb.T + 1):
        if bad_t > 255:
            continue
        tb.dut.n_tokens.value = bad_t
        await ClockCycles(tb.clk, 2)
        i0, o0 = len(tb.in_beats), len(tb.out_beats)
        frame = np.concatenate([logits[0], np.zeros(tb.nb * tb.L - tb.E, dtype=np.int64)])
        send = cocotb.start_soon(tb.source.send(tb.values_to_frame(frame)))
        await ClockCycles(tb.clk, 200)
        if len(tb.in_beats) != i0 or len(tb.out_beats) != o0 or int(dut.x_TREADY.value):
            raise AssertionError(f"n_tokens = {bad_t}: {len(tb.in_beats) - i0} input beats taken, "
                                 f"{len(tb.out_beats) - o0} words out: expected no run to start")
        tb.dut.n_tokens.value = 1
        await send
        got = tb.frame_to_values(await tb.sink.recv()) & M32
        want = np.array([[int(w) & M32, int(w) >> 32] for w in expected_words(logits, 0, tb.cfg)]).reshape(-1)
        if not np.array_equal(got, want):
            raise AssertionError(f"n_tokens = {bad_t} then 1: the stream differs from {SPEC}")
        tb.in_beats.clear()
        tb.out_beats.clear()
    tb.results.add("zero_tokens_checked", 1)
