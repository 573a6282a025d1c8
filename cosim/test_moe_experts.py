"""cocotb testbench of rtl/src/moe_experts.sv (the MoE expert calls of a descriptor stream executed on
the linear engine): one layer per run, the descriptor words on d_ (python_ref's descriptor_words of a
routing, as rtl/src/moe_router.sv emits them), LN2(x) on x_, each call's weight and bias images on w_ /
b_ in call order, moe_acc out on y_, compared bit for bit with
``run_schedule(x, weights, decode_descriptors(words))`` (rows 0..T-1; run_schedule's rows >= T are 0).
Run through cosim.runner.run_unit (tests/test_cosim_moe_experts.py).

x_ is one frame of T x ND beats (padding lanes carry garbage the unit must ignore), y_ one frame of
T x ND beats (padding lanes must be 0). d_ carries each 64-bit word as two 32-bit lanes (low half
first). The stall pattern pauses every input (d_, x_, w_, b_) and the y_ sink; idle d_ and x_ carry
random data. The engine's ap_ready / ap_done are recorded every cycle (test_cycles compares them with
cosim.linear_schedule.Sequence).
Run parameters: stall, n_random (random layers), corrupt (one flipped expected bit)."""
from __future__ import annotations

import logging

import numpy as np

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cocotbext.axi import AxiStreamFrame, AxiStreamSource

from cosim.moe_vectors import expert_call_cycles, routing_cases, seeded_moe_weights
from cosim.tb import STALL_PATTERNS, AxiStreamDataBus, StreamTB, random_pauses
from cosim.test_linear import words_to_lanes
from cosim.vectors import rand_raw
from cosim.linear_schedule import check_unit_rows
from python_ref.kernels.linear import pack_matrix_w, pack_vector_axi
from python_ref.kernels.moe import (MoEWeights, decode_descriptors, descriptor_words, expert_schedule, gate_logits,
                                    route, run_schedule)

TEST_TIMEOUT_MS = 60000
SPEC = "python_ref.kernels.moe.run_schedule(x, weights, decode_descriptors(words))"
M32 = (1 << 32) - 1


class ExpertsTB(StreamTB):
    def __init__(self, dut, params):
        act_w = params.cfg().fmt("act").width
        super().__init__(dut, params, "moe_experts", act_w)
        cfg, m = self.cfg, self.cfg.model
        if cfg.numerics.expert_weights is not None:
            raise ValueError(f"config {cfg.name}: numerics.expert_weights (scaled 8-bit experts) has no engine in RTL")
        self.L, self.T, self.D, self.H = self.lanes, m.tokens, m.dim, m.expert_hidden
        if self.out_lanes != self.L:
            raise AssertionError(f"moe_experts: y_ has {self.out_lanes} lanes, x_ {self.L}: the tile must be square")
        self.nd = -(-self.D // self.L)
        self.wfmt, self.bfmt = cfg.fmt("weight"), cfg.fmt("bias")
        self.axi = cfg.hardware.axi_width             # b_ word
        self.w_bits = len(dut.w_TDATA)                 # w_ word: the unit's W_BITS
        self.w_rows = int(dut.W_ROWS.value)            # rows per w_ word (pack_matrix_w)
        check_unit_rows(cfg, "moe_experts", self.w_bits, self.w_rows)

        def src(name, lane):
            s = AxiStreamSource(AxiStreamDataBus.from_prefix(dut, name), self.clk, self.rst_n,
                                reset_active_level=False, byte_size=lane)
            s.log.setLevel(logging.WARNING)
            return s
        self.d = src("d", 32)
        self.w = src("w", self.wfmt.width)
        self.b = src("b", self.bfmt.width)
        self._hostile = np.random.default_rng(params.seed + 97)
        self.n = 0                          # rising edges, counted as StreamTB's monitor counts them
        self.readies: list[int] = []        # the engine's ap_ready / ap_done cycles
        self.dones: list[int] = []
        self.x_offers: list[int] = []       # cycles the engine's x_TVALID rose
        cocotb.start_soon(self._engine_monitor())
        cocotb.start_soon(self._scramble_d())

    def set_stall_pattern(self, name: str, seed: int):
        super().set_stall_pattern(name, seed)
        idle = STALL_PATTERNS[name][0]
        for k, m in enumerate((self.d, self.w, self.b)):
            m.set_pause_generator(random_pauses(*idle, seed=seed + 3 + k) if idle else None)
            if not idle:
                m.pause = False

    async def _engine_monitor(self):
        u, prev_x = self.dut.u_lin, 0
        while True:
            await RisingEdge(self.clk)
            self.n += 1
            prev_x = self.sample_engine(u, prev_x) if self.rst_n.value else 0

    def sample_engine(self, u, prev: int) -> int:
        """One edge of the engine ``u`` (a linear instance): its ap_ready / ap_done cycles, the cycles
        its x_TVALID rose and (into ``starts``, when the TB has that list) the cycles its ap_start
        rose; ``prev`` is the previous edge's x_TVALID | ap_start << 1, returned for the next edge."""
        if u.ap_ready.value:
            self.readies.append(self.n)
        if u.ap_done.value:
            self.dones.append(self.n)
        xv, st = int(u.x_TVALID.value), int(u.ap_start.value)
        if xv and not prev & 1:
            self.x_offers.append(self.n)
        if st and not prev & 2 and hasattr(self, "starts"):
            self.starts.append(self.n)
        return xv | st << 1

    async def _scramble_d(self):
        """Idle d_ carries random words (the parser must take words on handshakes only)."""
        d = self.dut
        while True:
            await FallingEdge(self.clk)
            if d.d_TVALID.value.is_resolvable and not int(d.d_TVALID.value):
                d.d_TDATA.value = int(self._hostile.integers(0, 1 << 63)) * 2 + int(self._hostile.integers(2))
                d.d_TLAST.value = int(self._hostile.integers(2))

    def layer(self, x: np.ndarray, w: MoEWeights, logits: np.ndarray, task: int):
        """The layer's streams and expectation: (descriptor words, schedule, x frame, want frame,
        w_ frames, b_ frames, engine steps)."""
        cfg, L, nd, T = self.cfg, self.L, self.nd, len(logits)
        r = route(logits, cfg)
        words = descriptor_words(r, expert_schedule(r, cfg), task, cfg)
        _, rows, sched = decode_descriptors(words, cfg)     # the schedule the stream says, as the unit reads it
        assert rows == T
        xfull = np.zeros((self.T, self.D), dtype=np.int64)
        xfull[:T] = x[:T]
        acc = run_schedule(xfull, w, sched, cfg)
        if np.any(acc[T:]):
            raise AssertionError("run_schedule wrote a row >= T")
        want = np.zeros((T, nd * L), dtype=np.int64)
        want[:, :self.D] = acc[:T]
        xin = rand_raw(self.act, (T, nd * L), self._hostile)
        xin[:, :self.D] = x[:T]
        wf, bf, steps = [], [], 0
        for c in sched.calls:
            mat, bias = (w.w1[c.expert], w.b1[c.expert]) if c.layer == "fc1" else (w.w2[c.expert], w.b2[c.expert])
            wf.append(AxiStreamFrame(words_to_lanes(pack_matrix_w(mat, self.wfmt, self.w_bits, self.w_rows, self.L), self.w_bits // self.wfmt.width,
                                                    self.wfmt.width)))
            bf.append(AxiStreamFrame(words_to_lanes(pack_vector_axi(bias, self.bfmt, self.axi),
                                                    self.axi // self.bfmt.width, self.bfmt.width)))
            steps += c.rows * -(-mat.shape[0] // L) * -(-mat.shape[1] // L) + len(wf[-1].tdata) // (self.w_bits // self.wfmt.width)
        d_lanes = [v for word in words.tolist() for v in (int(word) & M32, (int(word) >> 32) & M32)]
        return words, sched, xin.reshape(-1), want.reshape(-1), AxiStreamFrame(d_lanes), wf, bf, steps

    async def run(self, x, w: MoEWeights, logits, task: int, label: str) -> int:
        """One layer; returns the mismatching output values."""
        words, sched, xin, want, dframe, wf, bf, steps = self.layer(x, w, logits, task)

        async def send(src, frames):
            for f in frames:
                await src.send(f)

        cocotb.start_soon(send(self.d, [dframe]))
        cocotb.start_soon(send(self.w, wf))
        cocotb.start_soon(send(self.b, bf))
        beats = 2 * len(xin) // self.L
        bad = await self.check_frames([xin], [want], label, cycles_per_beat=1 + 3 * steps // beats,
                                      describe=lambda i, j: f"token {j // (self.nd * self.L)} lane "
                                                            f"{j % (self.nd * self.L)}")
        for m, name in ((self.d, "d"), (self.w, "w"), (self.b, "b")):
            if not m.empty() or int(getattr(self.dut, f"{name}_TVALID").value):
                raise AssertionError(f"{label}: the unit did not take the whole {name}_ stream")
        if int(self.dut.err.value):
            raise AssertionError(f"{label}: err raised on a well-formed descriptor stream")
        self.results.add("runs", 1)
        self.results.add("calls", len(sched.calls))
        self.results.add("words", len(words))
        self.last_schedule = sched
        return bad


def random_weights(cfg, rng, full: bool) -> MoEWeights:
    """Expert matrices and biases: full range (the sums wrap) or realistic; the gate is unused here."""
    m, wfmt, bfmt = cfg.model, cfg.fmt("weight"), cfg.fmt("bias")
    E, D, H = m.experts, m.dim, m.expert_hidden
    s = (lambda v: None if full else v)
    return MoEWeights(np.zeros((m.tasks, E, D), dtype=np.int64),
                      rand_raw(wfmt, (E, H, D), rng, s(1 / np.sqrt(D))), rand_raw(bfmt, (E, H), rng, s(0.1)),
                      rand_raw(wfmt, (E, D, H), rng, s(1 / np.sqrt(H))), rand_raw(bfmt, (E, D), rng, s(0.1)))


def random_layer(tb, rng, i: int):
    """Layer i of a random run: (x, weights, logits, task). T is 1, T_max, then random; gate-like random
    logits, every third rounded (ties); realistic or full-range (odd i) x and weights; a random task."""
    t = [1, tb.T][i] if i < 2 else int(rng.integers(1, tb.T + 1))
    lg = rng.normal(0, rng.uniform(0.2, 6.0), (t, tb.cfg.model.experts))
    if i % 3 == 2:
        lg = np.round(lg)
    full = bool(i % 2)
    x = rand_raw(tb.act, (tb.T, tb.D), rng, None if full else 1.0)
    return x, random_weights(tb.cfg, rng, full), tb.act.from_float(lg).astype(np.int64), int(rng.integers(tb.cfg.model.tasks))


def _case_logits(cfg, case) -> np.ndarray:
    return gate_logits(case.x_raw, case.weights.w_gate, case.task, cfg)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_routings(dut):
    """Every routing case of cosim.moe_vectors (all logits equal, at the act minimum, minimum but one,
    all tokens to one expert, all to the same k, one token per expert, E - k experts unused, every
    expert active, ties at the k-th place, 1-LSB differences) as consecutive layers: task 0's with the
    case's x and the seeded expert weights, task 1's routings with full-range x and weights (the sums
    wrap)."""
    tb = await ExpertsTB.create(dut)
    rng = tb.rng(3)
    total = 0
    for task in range(tb.cfg.model.tasks):
        for name, case in routing_cases(tb.cfg, task).items():
            logits = _case_logits(tb.cfg, case)
            if task == 0:
                x, w = case.x_raw, seeded_moe_weights(tb.cfg)
            else:
                x, w = rand_raw(tb.act, (tb.T, tb.D), rng), random_weights(tb.cfg, rng, True)
            total += await tb.run(x, w, logits, task, f"case {name} (task {task})/{tb.params.stall}")
    tb.expect_exact(total, "routings", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """n_random layers: T in {1, T_max, random}, gate-like random logits (some rounded: ties), random
    task, realistic or full-range x and weights."""
    tb = await ExpertsTB.create(dut)
    rng = tb.rng(5)
    total = 0
    for i in range(tb.params.n_random):
        x, w, lg, task = random_layer(tb, rng, i)
        total += await tb.run(x, w, lg, task, f"random {i} T={len(lg)}/{tb.params.stall}")
    tb.expect_exact(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_cycles(dut):
    """No stalls: layers of T_max tokens (all tokens to one expert, every expert active, a random
    gate); per engine call the measured ap_ready / ap_done (from the first call's ap_ready) next to
    cosim.linear_schedule.Sequence with every call offered at once and x_ from the first offer, and the
    expert phase (first ap_ready -> last ap_done, and the layer: first d_ word -> last y_ beat)."""
    tb = await ExpertsTB.create(dut, stall="none")
    rng = tb.rng(7)
    cases = routing_cases(tb.cfg, 0)
    layers = [("all tokens to one expert", _case_logits(tb.cfg, cases["all tokens to one expert"])),
              ("every expert active", _case_logits(tb.cfg, cases["every expert active"])),
              ("random gate", tb.act.from_float(rng.normal(0, 3, (tb.T, tb.cfg.model.experts))).astype(np.int64))]
    w = random_weights(tb.cfg, rng, False)
    recs = []
    for name, logits in layers:
        r0, d0, x0, o0 = len(tb.readies), len(tb.dones), len(tb.x_offers), len(tb.out_beats)
        n_start = tb.n
        x = rand_raw(tb.act, (tb.T, tb.D), rng, 1.0)
        tb.expect_exact(await tb.run(x, w, logits, 0, f"cycles {name}"), "cycles", SPEC)
        sched = tb.last_schedule
        ready, done = tb.readies[r0:], tb.dones[d0:]
        # the model: cycle 0 = the first call's ap_ready; the host queues x_ at x_from, offers it the cycle after
        calls = expert_call_cycles(tb.cfg, sched, ready, done, tb.x_offers[x0] - ready[0], label=f"cycles {name}",
                                   w_bits=tb.w_bits)
        base, first_x = ready[0], tb.x_offers[x0] - ready[0]
        rec = {"layer": name, "calls": calls, "first_x_offer": first_x,
               "expert_phase": done[-1] - base + 1, "model_phase": calls[-1]["model_done"] + 1,
               "ideal_phase": calls[-1]["ideal_done"] + 1,
               "isolated_sum": sum(c["isolated"] for c in calls),
               "start_to_first_ready": base - n_start, "layer_cycles": tb.out_beats[-1][0] - n_start + 1,
               "last_done_to_last_y": tb.out_beats[-1][0] - done[-1],
               "y_beats": len(tb.out_beats) - o0}
        recs.append(rec)
        tb.log.info(f"cycles {name}: {rec}")
    tb.results.update(cycle_layers=recs)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_bad_descriptors(dut):
    """Malformed streams (a first word that is not GATE, T = 0, T > NUM_TOKENS, a token >= T, an fc2
    first, fc2 rows != fc1 rows): err rises, nothing comes out, the rest of the stream is not taken;
    after a reset the same unit runs a good layer exactly."""
    tb = await ExpertsTB.create(dut, stall="none")
    cfg, rng = tb.cfg, tb.rng(9)
    logits = tb.act.from_float(rng.normal(0, 3, (tb.T, cfg.model.experts))).astype(np.int64)
    r = route(logits, cfg)
    good = [int(v) & ((1 << 64) - 1) for v in descriptor_words(r, expert_schedule(r, cfg), 0, cfg).tolist()]
    rows_lsb, tok_lsb, layer_lsb = 30, 36, 42

    def set_field(word, lsb, width, value):
        return (word & ~(((1 << width) - 1) << lsb)) | (value << lsb)

    n1 = 2 + 1 + ((good[2] >> rows_lsb) & 0xFF)        # index of the fc2 header
    bad = {"LOAD first": [good[1]] + good[1:],
           "T = 0": [set_field(good[0], rows_lsb, 8, 0)] + good[1:],
           "T > NUM_TOKENS": [set_field(good[0], rows_lsb, 8, tb.T + 1)] + good[1:],
           "token >= T": good[:3] + [set_field(good[3], tok_lsb, 8, tb.T)] + good[4:],
           "fc2 first": good[:2] + [set_field(good[2], layer_lsb, 2, 2)] + good[3:],
           "fc2 rows != fc1 rows": good[:n1] + [set_field(good[n1], rows_lsb, 8, ((good[n1] >> rows_lsb) & 0xFF) - 1
                                                          if ((good[n1] >> rows_lsb) & 0xFF) > 1 else 2)] + good[n1 + 1:]}
    for name, words in bad.items():
        await tb.reset()
        for m in (tb.d, tb.w, tb.b, tb.source):
            m.clear()
        o0 = len(tb.out_beats)
        send = cocotb.start_soon(tb.d.send(AxiStreamFrame([v for wd in words for v in (wd & M32, wd >> 32)])))
        await ClockCycles(tb.clk, 300)
        send.cancel()
        if not int(dut.err.value) or len(tb.out_beats) != o0:
            raise AssertionError(f"bad descriptors ({name}): err {dut.err.value}, {len(tb.out_beats) - o0} output beats")
        if not int(dut.d_TVALID.value) or int(dut.d_TREADY.value):
            raise AssertionError(f"bad descriptors ({name}): d_ is still taken after the error (the source "
                                 f"offers the rest of the stream, d_TREADY must stay low)")
        tb.results.add("bad_streams", 1)
    await tb.reset()
    for m in (tb.d, tb.w, tb.b, tb.source):
        m.clear()
    if int(dut.err.value):
        raise AssertionError("err not cleared by reset")
    tb.expect_exact(await tb.run(rand_raw(tb.act, (tb.T, tb.D), rng, 1.0), random_weights(cfg, rng, False), logits, 0,
                                 "after bad streams"), "after bad streams", SPEC)
