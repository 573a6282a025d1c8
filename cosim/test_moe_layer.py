"""cocotb testbench of rtl/src/moe_layer.sv (the MoE layer's top: moe_router -> descriptor stream ->
moe_experts, the DDR weight and bias words through two weight_fifo instances): per layer the gate
logits on logits_ (task_id, n_tokens, layer_id set for the run), LN2(x) on x_ and, on ddr_ / ddrb_,
EVERY expert's fc1 and fc2 weight / bias images in the frame's order, tagged speculative with the
expert and the layer number; moe_acc on y_ compared bit for bit with python_ref's run_schedule of the
routing of these logits (cosim.test_moe_experts.ExpertsTB.layer: the same expectation as the expert
executor's bench). Every DDR word must be consumed (taken by the engine or dropped at a FIFO's head),
err must stay low, and each layer must write exactly one routing mask into the FIFOs: its layer
number and python_ref's active experts. Run through cosim.runner.run_unit (tests/test_cosim_moe_layer.py).

The stall pattern pauses every input (logits_, x_, ddr_, ddrb_) and the y_ sink; idle x_, ddr_ and
ddrb_ carry random data and tags. Layers of a test_consecutive group are queued at once on every
input (the router routes layer n+1 while layer n's experts run; the top must hold its route pulse).
Run parameters: stall, n_random (random layers), corrupt (one flipped expected bit), tasks (routing
cases of tasks 0 .. tasks-1; default all), cases (only the routing cases of these names; default all).

LayerTB also drives rtl/src/moe_layer_gate.sv (the top with the gate call; its tests are in
cosim/test_moe_layer_gate.py): it sees that top has no logits_ port, drives task / T / layer with
the x_ beats, puts each layer's gate images in front on the DDR streams and checks the router's
x_ beats against python_ref's gate_logits."""
from __future__ import annotations

import random
from collections import deque

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiStreamFrame, AxiStreamSource

from cosim.frame_schedule import DEFAULT_DDR_GBS, ddr_throttle
from cosim.moe_vectors import expert_call_cycles, published_moe_layer, published_moe_weights, routing_cases, seeded_moe_weights
from cosim.tb import STALL_PATTERNS, AxiStreamDataBus, StreamTB, random_pauses
from cosim.test_moe_experts import ExpertsTB, random_layer, random_weights
from cosim.vectors import rand_raw
from cosim.weight_fifo_schedule import ROUTE_TO_HEAD, DdrDma, Segment, WeightFifo
from cosim.linear_schedule import check_unit_rows
from python_ref.kernels.linear import pack_matrix_w, pack_vector_axi, w_image_words
from python_ref.kernels.moe import MoEWeights, gate_logits, route

TEST_TIMEOUT_MS = 120000
SPEC = "python_ref.kernels.moe.run_schedule(x, weights, decode_descriptors(descriptor_words(route(logits), ...)))"


class TaggedWords:
    """A DDR stream into <prefix>_TDATA/TVALID/TLAST/TUSER_spec/TUSER_layer/TUSER_expert: words offered
    in order, one per cycle unless the pause generator pauses, handshakes counted (cycle ``n`` of the
    TB's count). Idle cycles carry random data and tags."""

    def __init__(self, tb, prefix: str, seed: int):
        d = tb.dut
        self.tb, self.prefix = tb, prefix
        self.s = {n: getattr(d, f"{prefix}_{n}") for n in ("TDATA", "TVALID", "TREADY", "TLAST", "TUSER_spec",
                                                          "TUSER_layer", "TUSER_expert")}
        self.queue: deque = deque()
        self.pause = None
        self.rng = np.random.default_rng(seed)
        self.bits = random.Random(seed)
        self.pushes: list[int] = []     # handshake cycles
        self.s["TVALID"].value = 0
        cocotb.start_soon(self._run())

    def send(self, words):
        """words: (data, last, layer, expert) of speculative words, or (data, last, layer, expert, spec)."""
        self.queue.extend(words)

    def clear(self):
        self.queue.clear()

    def empty(self) -> bool:
        return not self.queue and not int(self.s["TVALID"].value)

    def route_seen(self, cycle: int, layer: int, active: set):
        """The top wrote ``layer``'s routing mask into the FIFOs in ``cycle`` (DmaWords skips by it)."""

    async def _run(self):
        s, valid = self.s, False
        while True:
            await RisingEdge(self.tb.clk)
            if not self.tb.rst_n.value:
                valid = False
            elif valid and int(s["TREADY"].value):
                self.queue.popleft()
                self.pushes.append(self.tb.n)
            paused = next(self.pause) if self.pause is not None else False
            valid = bool(self.queue) and not paused and bool(self.tb.rst_n.value)
            self._drive(valid)

    def _drive(self, valid: bool):
        """Offer the queue's head word (TVALID high) or random data and tags (TVALID low)."""
        s, rng = self.s, self.rng
        if valid:
            data, last, layer, e, *spec = self.queue[0]
            s["TDATA"].value, s["TLAST"].value, s["TUSER_spec"].value = data, last, spec[0] if spec else 1
            s["TUSER_layer"].value, s["TUSER_expert"].value = layer, e
        else:
            s["TDATA"].value = self.bits.getrandbits(len(s["TDATA"]))
            s["TLAST"].value, s["TUSER_spec"].value = int(rng.integers(2)), int(rng.integers(2))
            s["TUSER_layer"].value = int(rng.integers(0, 1 << len(s["TUSER_layer"])))
            s["TUSER_expert"].value = int(rng.integers(0, 1 << len(s["TUSER_expert"])))
        s["TVALID"].value = int(valid)


class DmaWords(TaggedWords):
    """ddr_ driven by the prefetch DMA's rule (cosim.weight_fifo_schedule.DdrDma, the one
    cosim/test_linear.py's DdrWords and cosim/test_weight_fifo.py step): a token bucket of ``throttle``
    (cosim.linear_schedule.Throttle: ``rate`` weights per cycle, ``word`` per word, bursts) and an
    inactive expert's image skipped, never fetched, when its layer's routing is visible before its
    first word would go (visible ROUTE_TO_HEAD cycles after the FIFOs' route pulse, reported by the monitor;
    before that a first word is offered only while ddr_TREADY is high). The images are the runs of
    sent words up to each TLAST. Driven after the falling edge with that cycle's ddr_TREADY (a
    weight_fifo flip-flop); ``pushes`` and ``start`` in the TB monitor's cycle count."""

    def __init__(self, tb, prefix: str, seed: int, throttle):
        super().__init__(tb, prefix, seed)
        self.th = throttle
        self.routes: dict = {}
        self.dma = None
        self.start = None          # the DMA's first cycle (its bucket empty before the first refill)
        self.skipped_words = 0

    def send(self, words):
        segs, n = [], 0
        for _, last, layer, e, *spec in words:
            n += 1
            if last:     # an expert's image (speculative), or the gate's (spec 0: always fetched)
                segs.append(Segment(n, (layer, e) if not spec or spec[0] else None))
                n = 0
        if n:
            raise ValueError("DmaWords.send: the last image has no TLAST")
        if self.dma is None or self.dma.done:
            self.dma, self.start = DdrDma(segs, self.routes, rate=self.th.rate, word=self.th.word, cap=self.th.cap), None
        else:
            self.dma.segments.extend(segs)
        super().send(words)

    def route_seen(self, cycle: int, layer: int, active: set):
        self.routes[layer] = (cycle + ROUTE_TO_HEAD, frozenset(active))

    async def _run(self):
        s = self.s
        while True:
            await FallingEdge(self.tb.clk)
            # in the TB's count (its monitor samples a cycle's values at the edge that closes it, so the
            # cycle after edge n is n + 1 there): pushes and the route time in the numbering the model
            # is given (the monitor's ap_ready / ap_done / route pulse)
            c, offer, dma = self.tb.n + 1, None, self.dma
            tready = int(s["TREADY"].value)
            if dma is not None and self.tb.rst_n.value and not dma.done:
                if self.start is None:
                    self.start = c
                dma.refill()
                k0 = len(dma.skipped)
                offer = dma.offer(c, bool(tready))
                for seg in dma.skipped[k0:]:            # skipped images leave the queue unsent
                    for _ in range(dma.segments[seg].words):
                        self.queue.popleft()
                    self.skipped_words += dma.segments[seg].words
            self._drive(offer is not None)
            await RisingEdge(self.tb.clk)
            if offer is not None and tready:
                dma.push()
                self.queue.popleft()
                self.pushes.append(c)


class LayerTB(StreamTB):
    # the streams and the expectation of one layer: the expert executor bench's (words, schedule,
    # x frame, want frame, ...); it reads cfg, L, nd, T, D, act, wfmt, bfmt, axi and _hostile
    layer = ExpertsTB.layer
    sample_engine = ExpertsTB.sample_engine       # the engine's ap_ready / ap_done / x_ offer / ap_start cycles

    def __init__(self, dut, params, dma: bool = False):
        act_w = params.cfg().fmt("act").width
        # rtl/src/moe_layer_gate.sv (no logits_ port: the gate call runs inside, moe_layer is u_layer)
        self.gate = not hasattr(dut, "logits_TDATA")
        self.top = dut.u_layer if self.gate else dut
        super().__init__(dut, params, "moe_layer_gate" if self.gate else "moe_layer", act_w)
        cfg, m = self.cfg, self.cfg.model
        if cfg.numerics.expert_weights is not None:
            raise ValueError(f"config {cfg.name}: numerics.expert_weights (scaled 8-bit experts) has no engine in RTL")
        self.L, self.T, self.D, self.H, self.E = self.lanes, m.tokens, m.dim, m.expert_hidden, m.experts
        self.nd = -(-self.D // self.L)
        self.wfmt, self.bfmt = cfg.fmt("weight"), cfg.fmt("bias")
        self.axi = cfg.hardware.axi_width             # ddrb_ word
        self.w_bits = len(dut.ddr_TDATA)               # ddr_ / w_ word: the top's W_BITS
        self.w_rows = int(self.top.W_ROWS.value)       # rows per w_ word (pack_matrix_w)
        check_unit_rows(cfg, "moe_layer", self.w_bits, self.w_rows)
        e = self.w_bits // self.wfmt.width

        def image_words(n_out, n_in):   # pack_matrix_w
            return w_image_words(n_out, n_in, e, self.w_rows, self.L)
        self.image_words = {"fc1": image_words(self.H, self.D), "fc2": image_words(self.D, self.H)}
        self._hostile = np.random.default_rng(params.seed + 97)
        if not self.gate:
            self.lg = AxiStreamSource(AxiStreamDataBus.from_prefix(dut, "logits"), self.clk, self.rst_n,
                                      reset_active_level=False, byte_size=act_w)
            self.lg.log.setLevel("WARNING")
        self.lg_lanes = len(self.top.u_router.x_TDATA) // act_w
        self.nb = -(-self.E // self.lg_lanes)
        self.gfmt = cfg.fmt("gate_weight")
        self.image_words["gate"] = image_words(self.E, self.D)
        # ddr_: one word per cycle when offered (TaggedWords, pauses from the stall pattern), or (dma) the
        # DMA's token bucket at the run parameter ddr_gbs, default make perf's (DmaWords: test_real)
        gbs = params.extra.get("ddr_gbs", DEFAULT_DDR_GBS) if dma else None
        self.throttle = None if gbs is None else ddr_throttle(cfg, float(gbs), self.w_bits)
        self.ddr = (TaggedWords(self, "ddr", params.seed + 5) if self.throttle is None else
                    DmaWords(self, "ddr", params.seed + 5, self.throttle))
        self.ddrb = TaggedWords(self, "ddrb", params.seed + 6)
        self.wf_depth, self.layer_bits = int(dut.WF_DEPTH.value), int(dut.LAYER_BITS.value)
        dut.n_tokens.value, dut.task_id.value, dut.layer_id.value = 0, 0, 0
        self.n = 0
        self.lg_beats: list[int] = []       # the router's x_ (logits) handshakes
        self.lg_data: list[int] = []        # and their data (gate top)
        self.starts: list[int] = []         # the engine's ap_start rises
        self.readies: list[int] = []
        self.dones: list[int] = []
        self.x_offers: list[int] = []
        self.routes: list[tuple[int, int, str, str]] = []   # (cycle, layer, active of u_wfifo, active of u_bfifo)
        cocotb.start_soon(self._layer_monitor())

    def set_stall_pattern(self, name: str, seed: int):
        super().set_stall_pattern(name, seed)
        idle = STALL_PATTERNS[name][0]
        if not self.gate:
            self.lg.set_pause_generator(random_pauses(*idle, seed=seed + 3) if idle else None)
            if not idle:
                self.lg.pause = False
        for k, dr in enumerate((self.ddr, self.ddrb)):
            dr.pause = random_pauses(*idle, seed=seed + 4 + k) if idle else None

    async def _layer_monitor(self):
        d, u = self.top, self.top.u_experts.u_lin
        rx = d.u_router
        prev_x = 0
        while True:
            await RisingEdge(self.clk)
            self.n += 1
            if not self.rst_n.value:
                prev_x = 0
                continue
            if rx.x_TVALID.value and rx.x_TREADY.value:
                self.lg_beats.append(self.n)
                if self.gate:
                    self.lg_data.append(int(rx.x_TDATA.value))
            prev_x = self.sample_engine(u, prev_x)
            wf, bf = d.u_wfifo, d.u_bfifo
            if wf.route_we.value or bf.route_we.value:
                if not (wf.route_we.value and bf.route_we.value) or int(wf.route_layer.value) != int(bf.route_layer.value):
                    raise AssertionError(f"cycle {self.n}: the two FIFOs got different route pulses")
                self.routes.append((self.n, int(wf.route_layer.value), str(wf.route_active.value),
                                    str(bf.route_active.value)))
                self.ddr.route_seen(self.n, int(wf.route_layer.value), _active(str(wf.route_active.value)))

    def ddr_words(self, w: MoEWeights, layer_no: int, task: int):
        """Every expert's fc1, fc2 weight images and bias images in the frame's order, with their tags;
        the gate top: the task's gate image and its zero bias image (not speculative) in front."""
        ws, bs = [], []
        if self.gate:
            for out, img in ((ws, pack_matrix_w(w.w_gate[task], self.gfmt, self.w_bits, self.w_rows, self.L)),
                             (bs, pack_vector_axi(np.zeros(self.E, dtype=np.int64), self.bfmt, self.axi))):
                out += [(v, int(k == len(img) - 1), layer_no, 0, 0) for k, v in enumerate(img)]
        for e in range(self.E):
            for mat, bias in ((w.w1[e], w.b1[e]), (w.w2[e], w.b2[e])):
                for out, img in ((ws, pack_matrix_w(mat, self.wfmt, self.w_bits, self.w_rows, self.L)),
                                 (bs, pack_vector_axi(bias, self.bfmt, self.axi))):
                    out += [(v, int(k == len(img) - 1), layer_no, e) for k, v in enumerate(img)]
        return ws, bs

    async def _controls(self, runs):
        """task_id, n_tokens, layer_id of each run, switched to the next run once its first logits
        beat is taken (the router and the top sample them there; the gate top: its first x_ beat)."""
        d = self.dut
        beats, per = (self.in_beats, self.nd) if self.gate else (self.lg_beats, self.nb)
        b0 = len(beats)
        for i, (t, task, lay) in enumerate(runs):
            d.n_tokens.value, d.task_id.value, d.layer_id.value = t, task, lay
            first = b0 + sum(r[0] for r in runs[:i]) * per + 1
            while len(beats) < first:
                await RisingEdge(self.clk)

    async def run(self, layers, label: str) -> int:
        """Layers (x, weights, logits, task, layer number) queued at once on every input; returns the
        mismatching output values. The gate top: (x (T_max rows), weights, T, task, layer number), the
        logits python_ref's gate_logits(x, weights.w_gate, task)[:T], checked on the router's x_ too."""
        xins, wants, runs, lg_frames, ws, bs, work = [], [], [], [], [], [], 0
        self.last_schedules, self.last_words, want_lg = [], [], []
        if self.gate:
            # row t of the gate is x[t]'s alone: the logits of T tokens are the first T of T_max's
            layers = [(x, w, gate_logits(x, w.w_gate, task, self.cfg)[:t], task, n) for x, w, t, task, n in layers]
        for x, w, logits, task, layer_no in layers:
            words, sched, xin, want, _, _, _, steps = self.layer(x, w, logits, task)
            want_lg += self.logit_beats(logits)
            t = len(logits)
            xins.append(xin)
            wants.append(want)
            runs.append((t, task, layer_no))
            pad = self._hostile.integers(self.act.raw_min, self.act.raw_max + 1, (t, self.nb * self.lg_lanes - self.E))
            lg_frames.append(AxiStreamFrame(np.concatenate([np.asarray(logits, dtype=np.int64), pad], axis=1)
                                            .reshape(-1).tolist()))
            lw, lb = self.ddr_words(w, layer_no, task)
            ws += lw
            bs += lb
            work += steps + len(lw)
            self.last_schedules.append(sched)
            self.last_words.append((len(lw), len(lb)))
        r0, d0, skipped0 = len(self.routes), len(self.lg_beats), getattr(self.ddr, "skipped_words", 0)
        await RisingEdge(self.clk)
        ctl = cocotb.start_soon(self._controls(runs))
        await RisingEdge(self.clk)

        async def send_logits():
            for f in lg_frames:
                await self.lg.send(f)

        if not self.gate:
            cocotb.start_soon(send_logits())
        self.ddr.send(ws)
        self.ddrb.send(bs)
        beats = 2 * sum(len(v) for v in xins) // self.L
        bad = await self.check_frames(xins, wants, label, cycles_per_beat=1 + 3 * work // beats,
                                      describe=lambda i, j: f"layer {i} token {j // (self.nd * self.L)} lane "
                                                            f"{j % (self.nd * self.L)}")
        ctl.cancel()
        # the words of inactive experts after the last active one may still be arriving and being dropped
        # (one per cycle) when moe_acc is out: wait for them, as long as the stall pattern allows
        for _ in range(4 * (len(ws) + len(bs)) + 1000):
            if self.ddr.empty() and self.ddrb.empty():
                break
            await RisingEdge(self.clk)
        for name, empty in ((("logits", self.lg.empty() and not int(self.dut.logits_TVALID.value)),) if not self.gate
                            else ()) + (("ddr", self.ddr.empty()), ("ddrb", self.ddrb.empty())):
            if not empty:
                raise AssertionError(f"{label}: the unit did not consume the whole {name}_ stream")
        if len(self.lg_beats) - d0 != sum(r[0] for r in runs) * self.nb:
            raise AssertionError(f"{label}: {len(self.lg_beats) - d0} logits beats taken")
        if self.gate:
            # the gate call's logits as the router took them (lanes past E ignored by the router)
            got = [self.logit_lanes(v) for v in self.lg_data[d0:]]
            bad_lg = [i for i, (g, e) in enumerate(zip(got, want_lg))
                      if any(b is not None and a != b for a, b in zip(g, e))]
            if bad_lg:
                i = bad_lg[0]
                raise AssertionError(f"{label}: {len(bad_lg)} logits beats differ from gate_logits; first: beat {i} "
                                     f"(token {i // self.nb}) lanes {got[i]}, expected {want_lg[i]}")
        if int(self.dut.err.value):
            raise AssertionError(f"{label}: err raised")
        routes = self.routes[r0:]
        want_routes = [(layer_no, "".join("1" if n else "0" for n in reversed(route(lg, self.cfg).queue_lengths)))
                       for _, _, lg, _, layer_no in layers]
        got_routes = [(r[1], r[2]) for r in routes]
        if got_routes != want_routes or any(r[2] != r[3] for r in routes):
            raise AssertionError(f"{label}: route pulses (layer, active) {got_routes}, expected {want_routes}")
        self.results.add("runs", len(layers))
        self.results.add("calls", sum(len(s.calls) for s in self.last_schedules))
        self.results.add("ddr_words", len(ws) + len(bs))
        skipped = getattr(self.ddr, "skipped_words", 0) - skipped0      # images the DMA never fetched
        self.results.add("skipped_words", skipped)
        self.results.add("dropped_words", len(ws) - skipped - sum(self.engine_words(s) for s in self.last_schedules))
        return bad

    def logit_beats(self, logits) -> list[list]:
        """The router's x_ beats of these logits: per token nb beats of lg_lanes lanes (raw act, lanes
        past E None: not compared)."""
        out = []
        for row in np.asarray(logits).tolist():
            row = [int(v) for v in row] + [None] * (self.nb * self.lg_lanes - self.E)
            out += [row[b * self.lg_lanes:(b + 1) * self.lg_lanes] for b in range(self.nb)]
        return out

    def logit_lanes(self, word: int) -> list[int]:
        w = self.act.width
        return [_signed((word >> (i * w)) & ((1 << w) - 1), w) for i in range(self.lg_lanes)]

    def engine_words(self, sched) -> int:
        return sum(self.image_words[c.layer] for c in sched.calls) + (self.image_words["gate"] if self.gate else 0)


def _signed(v: int, w: int) -> int:
    return v - (1 << w) if v >> (w - 1) else v


def _active(mask: str) -> set[int]:
    """The expert indices of a route_active value (bit string, expert 0 last)."""
    return {k for k, b in enumerate(reversed(mask)) if b == "1"}


def routing_case_runs(tb):
    """(i, task, name, case) of test_routings, both tops': every routing case of cosim.moe_vectors of
    tasks 0 .. (run parameter tasks, default all) - 1, only the names in run parameter cases if given
    (an unknown name is an error naming the known ones); i counts the layers."""
    only = tb.params.extra.get("cases")
    i = 0
    for task in range(tb.params.int("tasks", tb.cfg.model.tasks)):
        cases = routing_cases(tb.cfg, task)
        unknown = sorted(set(only or ()) - set(cases))
        if unknown:
            raise ValueError(f"run parameter cases: unknown routing cases {unknown}; known: {sorted(cases)}")
        for name, case in cases.items():
            if only is None or name in only:
                yield i, task, name, case
                i += 1


def _layer_no(tb, i: int) -> int:
    """Layer numbers 1 .. 2^LAYER_BITS - 1, consecutive layers different (0 unused: a broken copy that
    writes mask layer 0 must hang)."""
    return 1 + i % ((1 << tb.layer_bits) - 1)


async def run_random(tb: LayerTB, draw, spec: str) -> None:
    """The random test of both tops: n_random layers one at a time, layer i = draw(tb, rng, i) -> (x,
    weights, logits or, on the gate top, T, task)."""
    rng = tb.rng(5)
    total = 0
    for i in range(tb.params.n_random):
        x, w, lt, task = draw(tb, rng, i)
        t = lt if tb.gate else len(lt)
        total += await tb.run([(x, w, lt, task, _layer_no(tb, i))], f"random {i} T={t}/{tb.params.stall}")
    tb.expect_exact(total, "random", spec)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_routings(dut):
    """Every routing case of cosim.moe_vectors (all tokens to one expert, E - k experts unused, every
    expert active, ties, ...) as one layer each: task 0's with the case's x and the seeded expert
    weights, the other tasks' with full-range x and weights (run parameters tasks: how many; cases:
    only the routing cases of these names, default all)."""
    tb = await LayerTB.create(dut)
    rng = tb.rng(3)
    total = 0
    for i, task, name, case in routing_case_runs(tb):
        logits = gate_logits(case.x_raw, case.weights.w_gate, case.task, tb.cfg)
        if task == 0:
            x, w = case.x_raw, seeded_moe_weights(tb.cfg)
        else:
            x, w = rand_raw(tb.act, (tb.T, tb.D), rng), random_weights(tb.cfg, rng, True)
        total += await tb.run([(x, w, logits, task, _layer_no(tb, i))], f"case {name} (task {task})/{tb.params.stall}")
    tb.expect_exact(total, "routings", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """n_random layers one at a time: T in {1, T_max, random}, gate-like random logits (some rounded:
    ties), random task, realistic or full-range x and weights."""
    await run_random(await LayerTB.create(dut), random_layer, SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_consecutive(dut):
    """Three layers with different layer numbers queued at once on every input (logits, x, DDR): all
    tokens to the same k experts (E - k experts unused: the FIFOs drop whole trailing experts), all
    tokens to one expert, a random layer of one token. Layer n+1 is routed while layer n's experts still run: its route pulse must wait until
    layer n's words have left both FIFOs, and layer n's mask must not drop layer n+1's words."""
    tb = await LayerTB.create(dut)
    rng = tb.rng(11)
    cases = routing_cases(tb.cfg, 0)
    layers = []
    for k, name in enumerate(("all tokens to the same k experts", "all tokens to one expert")):
        c = cases[name]
        layers.append((c.x_raw, random_weights(tb.cfg, rng, False), gate_logits(c.x_raw, c.weights.w_gate, 0, tb.cfg),
                       0, 2 + k))
    x, w, lg, task = random_layer(tb, rng, 0)
    layers.append((x, w, lg, task, 5))
    tb.expect_exact(await tb.run(layers, f"consecutive/{tb.params.stall}"), "consecutive", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_cycles(dut):
    """No stalls, DDR always valid, one layer at a time (T_max tokens: all tokens to one expert, every
    expert active, a random gate): per engine call the measured ap_ready / ap_done (from the first
    call's ap_ready) next to cosim.linear_schedule.Sequence with the weights through
    cosim.weight_fifo_schedule.WeightFifo (every expert's words pushed, from the measured first push;
    the mask visible the cycle after the measured route pulse), and the layer's cycles (first logits
    beat -> last moe_acc beat) and the expert phase (first ap_ready -> last ap_done)."""
    tb = await LayerTB.create(dut, stall="none")
    rng = tb.rng(7)
    cases = routing_cases(tb.cfg, 0)
    layers = [("all tokens to one expert", cases["all tokens to one expert"]),
              ("every expert active", cases["every expert active"]),
              ("random gate", tb.act.from_float(rng.normal(0, 3, (tb.T, tb.E))).astype(np.int64))]
    w = random_weights(tb.cfg, rng, False)
    e = tb.w_bits // tb.wfmt.width
    recs = []
    for i, (name, c) in enumerate(layers):
        logits = c if isinstance(c, np.ndarray) else gate_logits(c.x_raw, c.weights.w_gate, 0, tb.cfg)
        r0, d0, x0, o0, l0, p0 = (len(tb.readies), len(tb.dones), len(tb.x_offers), len(tb.out_beats),
                                  len(tb.lg_beats), len(tb.ddr.pushes))
        ro = len(tb.routes)
        x = rand_raw(tb.act, (tb.T, tb.D), rng, 1.0)
        lay = _layer_no(tb, i)
        tb.expect_exact(await tb.run([(x, w, logits, 0, lay)], f"cycles {name}"), "cycles", SPEC)
        sched = tb.last_schedules[0]
        ready, done = tb.readies[r0:], tb.dones[d0:]
        base = ready[0]
        (pulse, _, active, _), = tb.routes[ro:]
        fifo = WeightFifo([Segment(tb.image_words[f], (lay, k)) for k in range(tb.E) for f in ("fc1", "fc2")],
                          tb.wf_depth, rate=e, word=e,
                          start=tb.ddr.pushes[p0] - base, skip=False)
        fifo.route(lay, _active(active), pulse - base + ROUTE_TO_HEAD)
        calls = expert_call_cycles(tb.cfg, sched, ready, done, tb.x_offers[x0] - base, fifo=fifo, label=f"cycles {name}",
                                   w_bits=tb.w_bits)
        rec = {"layer": name, "calls": calls, "first_x_offer": tb.x_offers[x0] - base,
               "expert_phase": done[-1] - base + 1, "model_phase": calls[-1]["model_done"] + 1,
               "ideal_phase": calls[-1]["ideal_done"] + 1, "isolated_sum": sum(c["isolated"] for c in calls),
               "route_pulse": pulse - base, "first_push": tb.ddr.pushes[p0] - base,
               "layer_cycles": tb.out_beats[-1][0] - tb.lg_beats[l0] + 1,
               "first_logit_to_first_ready": base - tb.lg_beats[l0],
               "last_done_to_last_y": tb.out_beats[-1][0] - done[-1], "y_beats": len(tb.out_beats) - o0,
               "dropped_words": fifo.dropped}
        recs.append(rec)
        tb.log.info(f"cycles {name}: {rec}")
    tb.results.update(cycle_layers=recs)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The published frame's first MoE layer through the logits-in top: run_real."""
    await run_real(await LayerTB.create(dut, stall="none", dma=True))


async def run_real(tb: LayerTB):
    """test_real of both tops (this one and rtl/src/moe_layer_gate.sv, cosim/test_moe_layer_gate.py):
    the published frame's first MoE layer, every task, one layer at a time, no stalls: LN2(x) and the
    gate logits of the fixed-point network on the published weights
    (cosim.moe_vectors.published_moe_layer; the gate top computes the logits itself and the bench
    checks its router input against them) with the network's own expert weights
    (published_moe_weights: the published gate; the expert matrices are seeded stand-ins, the
    published folder has none). The weights come from DDR at run parameter ddr_gbs (default make
    perf's) through the prefetch DMA's token bucket and skip rule (DmaWords); the biases one word per
    cycle. moe_acc bit for bit; every engine call's ap_ready / ap_done (the gate top: its gate call
    first, the first expert call started when measured) against cosim.linear_schedule.Sequence through
    cosim.weight_fifo_schedule.WeightFifo at that rate (the DMA's skip on); per layer the expert phase
    (first expert ap_ready -> last ap_done) next to its bounds: compute (one array pass per cycle:
    rows x output blocks x input blocks per call), the engine alone (Sequence, weights one w_ word per
    cycle, x_ at once) and the weight stream (the active experts' words at the DDR rate)."""
    w, stand_ins = published_moe_weights()
    th, L = tb.throttle, tb.L
    recs, rows = [], 0
    for i, (name, (x, logits, task)) in enumerate(published_moe_layer(tb.cfg).items()):
        if i and not tb.gate:
            # the DMA skips inactive images the logits-in top's route hold counts as owed (it expects
            # every expert's words: its ddr_ contract), so each layer starts from a reset; the gate top
            # has no hold and takes the skipping DMA layer after layer
            await tb.reset()
        r0, d0, x0, o0, l0, ro, s0, i0 = (len(tb.readies), len(tb.dones), len(tb.x_offers), len(tb.out_beats),
                                          len(tb.lg_beats), len(tb.routes), len(tb.starts), len(tb.in_beats))
        lay = _layer_no(tb, i)
        tb.expect_exact(await tb.run([(x, w, len(logits) if tb.gate else logits, task, lay)], name), "real", SPEC)
        sched = tb.last_schedules[0]
        ready, done = tb.readies[r0:], tb.dones[d0:]
        base = ready[0]
        (pulse, _, active, _), = tb.routes[ro:]
        gate_seg = [Segment(tb.image_words["gate"], None, "gate")] if tb.gate else []
        fifo = WeightFifo(gate_seg + [Segment(tb.image_words[f], (lay, k)) for k in range(tb.E) for f in ("fc1", "fc2")],
                          tb.wf_depth, rate=th.rate, word=th.word, burst=th.burst, start=tb.ddr.start - base)
        fifo.route(lay, _active(active), pulse - base + ROUTE_TO_HEAD)
        kw = {}
        if tb.gate:     # the first expert call as measured (the routing is not in the model)
            starts = tb.starts[s0:]
            x1 = next(c for c in tb.x_offers[x0:] if c >= starts[1])
            kw = {"resume": (starts[1] - base, x1 - base), "gate_rows": len(logits)}
        calls = expert_call_cycles(tb.cfg, sched, ready, done, tb.x_offers[x0] - base, fifo=fifo, label=name,
                                   w_bits=tb.w_bits, **kw)
        off = [c for c in calls if (c["ready"], c["done"]) != (c["model_ready"], c["model_done"])]
        for c in off[:4]:
            tb.log.warning(f"{name}: call {c['call']} ({c['layer']} expert {c['expert']}) ready / done "
                           f"{c['ready']} / {c['done']}, model {c['model_ready']} / {c['model_done']}")
        ex = calls[1:] if tb.gate else calls            # the expert calls
        shapes = {"fc1": (tb.H, tb.D), "fc2": (tb.D, tb.H)}
        compute = sum(c.rows * -(-shapes[c.layer][0] // L) * -(-shapes[c.layer][1] // L) for c in sched.calls)
        words = sum(tb.image_words[c.layer] for c in sched.calls)
        first_in = tb.in_beats[i0][0] if tb.gate else tb.lg_beats[l0]     # the layer's first x_ / logits beat
        rec = {"layer": name, "task": task, "active": len(_active(active)), "calls": calls, "off_model_calls": len(off),
               "dma_start": tb.ddr.start - base,
               "expert_phase": ex[-1]["done"] - ex[0]["ready"] + 1,
               "model_phase": ex[-1]["model_done"] - ex[0]["model_ready"] + 1,
               "engine_bound": ex[-1]["ideal_done"] - ex[0]["ideal_ready"] + 1, "compute_bound": compute,
               "weight_words": words, "weight_bound": -(-words * th.word // th.rate),
               "layer_cycles": tb.out_beats[-1][0] - first_in + 1,
               "last_logit_to_first_ready": ex[0]["ready"] + base - tb.lg_beats[-1],
               "route_pulse": pulse - base, "last_done_to_last_y": tb.out_beats[-1][0] - done[-1],
               "fetched_words": fifo.fetched_words(), "dropped_words": fifo.dropped,
               "skipped_images": len(fifo.skipped_segments()), "stand_ins": list(stand_ins)}
        if tb.gate:
            rec.update(gate_call=done[0] - base + 1, gate_done_to_first_expert_ready=ready[1] - done[0],
                       first_x_to_gate_ready=base - first_in)
        recs.append(rec)
        rows += len(logits)
        tb.log.info(f"real {name}: { {k: v for k, v in rec.items() if k != 'calls'} }")
    tb.results.update(real_layers=recs, real_rows=rows,
                      ddr={"gbs": float(tb.params.extra.get("ddr_gbs", DEFAULT_DDR_GBS)), "rate": th.rate,
                           "word": th.word, "burst": th.burst, "w_bits": tb.w_bits})
