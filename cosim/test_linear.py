"""cocotb testbench of rtl/src/linear.sv (the complete linear engine) with
python_ref.kernels.linear.compute_linear as the scoreboard. Run through cosim.runner
(tests/test_cosim_linear.py, scripts/linear_cycles.py).

The testbench plays the host: it streams the weight and bias images exactly as in memory
(pack_matrix_w / pack_vector_axi), the processed rows in gather order (LI-lane beats, the padding
lanes filled with garbage the engine must ignore), and for the accumulate modes the previous
out[scatter[k]] blocks in the engine's output order (ob, k) and the scores; it writes every result
beat (ob, k) to out[scatter[k]] (or row k in store mode) and compares the whole destination with
compute_linear(x, W, b, gather=, out=, scatter=, scores=) bit for bit.

Run parameters (cosim.tb.RunParams): stall (the pattern of the odd-shape test), rows (rows of the
model-shape layers, default the config's tokens), expert_rows, layers (list: run only these model
layers), corrupt (one flipped expected bit: the scoreboard must fail), vectors / vectors_out (pickle
files: a list of run_layer keyword arguments in, the engine's destinations out; test_vectors_file,
skipped without them; the three-way python_ref / C-sim / RTL comparison uses it), w_rate / w_burst
(the weight stream throttled like DDR: w_rate weights per cycle on average, at most w_burst words
back to back at full rate; the model shapes and test_expert_tokens_ddr run under it), tokens (list:
the token counts of test_expert_tokens_ddr), w_fifo (test_frame_sequence: the weights come through the
prefetch FIFO of that many words, filled from DDR at w_rate / w_burst across the whole frame:
:class:`FifoWords`).

Weight stream throttle (:class:`ThrottledWords`): a token bucket in weights, empty at the call's
start; every cycle it gains w_rate weights (at most w_burst words' worth), a word is offered while
the bucket holds a word's worth, and a taken word removes it. cosim.linear_schedule models the same
bucket, so the cycle counts under it are predicted exactly too.
"""
from __future__ import annotations

import logging
import pickle

import numpy as np

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamFrame, AxiStreamSink, AxiStreamSource

from cosim.linear_jobs import B_KIND, W_KIND
from cosim.linear_schedule import Sequence, SeqCall, Throttle, check_unit_rows, predicted_cycles
from cosim.tb import CLOCK_PERIOD_NS, STALL_PATTERNS, AxiStreamDataBus, ResultWriter, RunParams, random_pauses, start_clock_in_reset
from cosim.vectors import rand_raw
from cosim.weight_fifo_schedule import ROUTE_TO_HEAD, DdrDma
from python_ref.kernels.linear import (compute_linear, im2col, layer_shapes, pack_matrix_w, pack_vector_axi,
                                       weight_port_format)

TEST_TIMEOUT_MS = 200
MODES = {"store": 0, "accumulate": 1, "scaled": 2}


class LinearTB:
    """The run's parameters and summary, clock, reset, the five input stream sources, the result
    sink, and a cycle monitor of the ap_start / ap_done handshake."""

    def __init__(self, dut):
        self.dut = dut
        self.params = p = RunParams.from_env()
        self.cfg = p.cfg()
        self.act = self.cfg.fmt("act")
        self.rows = p.int("rows", self.cfg.model.tokens)
        self.expert_rows = p.int("expert_rows", max(2, self.rows // 3))  # tokens routed to the expert
        self.layers = list(p.extra.get("layers", []))
        self.corrupt = p.corrupt
        self.first_mismatch = None
        self.results = ResultWriter(kernel="linear", config=self.cfg.name, layers=0, out_values=0, mismatches=0,
                                    runs=[], seed=p.seed, stall=p.stall)
        self.li, self.lo = int(dut.LI.value), int(dut.LO.value)
        self.max_in, self.max_rows = int(dut.MAX_IN.value), int(dut.MAX_ROWS.value)
        self.w_bits = int(dut.W_BITS.value)
        self.w_rows = int(dut.W_ROWS.value)     # 1: pack_matrix_axi words, 2: pack_matrix_pairs words
        wp = weight_port_format(self.cfg)
        self.ww, self.wf = wp.width, wp.frac
        self.e_w = self.w_bits // self.cfg.fmt("weight").width
        rate = p.extra.get("w_rate")
        self.throttle = None if rate is None else Throttle(int(rate), self.e_w, p.int("w_burst", 8))
        self.fifo_depth = p.int("w_fifo", 0)
        # linear_prefetch: the engine behind the RTL weight FIFO, its DMA side driven by DdrWords
        self.prefetch = hasattr(dut, "ddr_TDATA")
        if self.prefetch:
            depth = int(dut.WF_DEPTH.value)
            if self.fifo_depth not in (0, depth):
                raise ValueError(f"run parameter w_fifo {self.fifo_depth}: the linear_prefetch build has WF_DEPTH {depth}")
            self.fifo_depth = depth
        # layernorm_linear: LayerNorm in front of x_ (in_dim is D by construction, not a port); a call's
        # x_ beats are then its LayerNorm input rows, c["x_frames"] (cosim/test_layernorm_linear.py)
        self.ln = hasattr(dut, "xn_TVALID")
        self.ddr = self.throttle           # the DDR's bucket (with w_fifo it fills the FIFO, not w_)
        if self.fifo_depth:
            if self.throttle is None:
                raise ValueError("run parameter w_fifo needs w_rate (and w_burst): the DDR rate that fills the FIFO")
            self.throttle = None
        start_clock_in_reset(dut.ap_clk, dut.ap_rst_n)
        aw = self.act.width
        wb = self.cfg.fmt("weight").width
        bb = self.cfg.fmt("bias").width

        def src(name, lane):
            s = AxiStreamSource(AxiStreamDataBus.from_prefix(dut, name), dut.ap_clk, dut.ap_rst_n,
                                reset_active_level=False, byte_size=lane)
            s.log.setLevel(logging.WARNING)
            return s
        self.x, self.b = src("x", aw), src("b", bb)
        self.w = None if self.prefetch else src("w", wb)
        self.w_throttled = ThrottledWords(dut, self.throttle) if self.throttle else None
        self.w_fifo = DdrWords(dut) if self.prefetch else FifoWords(dut) if self.fifo_depth else None
        self.acc, self.s = src("acc", aw), src("s", aw)
        self.y = AxiStreamSink(AxiStreamDataBus.from_prefix(dut, "y"), dut.ap_clk, dut.ap_rst_n,
                               reset_active_level=False, byte_size=aw)
        self.y.log.setLevel(logging.WARNING)
        self.cycle = 0
        self.start_cycle = self.done_cycle = None
        self.ready_cycles: list[int] = []   # every ap_ready / ap_done pulse (run_sequence resets them)
        self.done_cycles: list[int] = []
        self.y_beats = 0
        self.y_held = 0  # cycles with y_TVALID high and y_TREADY low (the sink's pauses)
        self.stalls = 0  # cycles in which some TVALID was high with its TREADY low (engine waits or sink pauses)
        dut.ap_start.value = 0
        cocotb.start_soon(self._monitor())

    async def _monitor(self):
        d = self.dut
        pairs = [(getattr(d, f"{p}_TVALID"), getattr(d, f"{p}_TREADY")) for p in ("x", "w", "b", "acc", "s", "y")]
        while True:
            await RisingEdge(d.ap_clk)
            self.cycle += 1
            if int(d.ap_start.value) and int(d.ap_idle.value):
                self.start_cycle = self.cycle
            if int(d.ap_done.value):
                self.done_cycle = self.cycle
                self.done_cycles.append(self.cycle)
            if int(d.ap_ready.value):
                self.ready_cycles.append(self.cycle)
            if int(d.y_TVALID.value):
                if int(d.y_TREADY.value):
                    self.y_beats += 1
                else:
                    self.y_held += 1
            if any(int(v.value) and not int(r.value) for v, r in pairs):
                self.stalls += 1

    async def reset(self):
        self.dut.ap_rst_n.value = 0
        await ClockCycles(self.dut.ap_clk, 4)
        self.dut.ap_rst_n.value = 1
        await ClockCycles(self.dut.ap_clk, 2)

    async def reset_mid_call(self):
        """Reset with calls in flight (the host's tasks already cancelled): the bus models are
        cleared, the output unpaused; 40 cycles later the engine must be idle with no stale beat."""
        dut = self.dut
        dut.ap_rst_n.value = 0
        await ClockCycles(dut.ap_clk, 3)
        for m in (self.x, self.b, self.acc, self.s, self.y) + tuple(d for d in (self.w, self.w_throttled, self.w_fifo) if d):
            m.clear()
        dut.ap_rst_n.value = 1
        self.y.pause = False
        y0 = self.y_beats
        await ClockCycles(dut.ap_clk, 40)
        assert int(dut.ap_idle.value) and not int(dut.ap_done.value), "not idle after reset"
        assert self.y_beats == y0 and self.y.empty(), f"{self.y_beats - y0} stale output beats after reset"

    def set_stall_pattern(self, name: str, seed: int):
        idle, pause = STALL_PATTERNS[name]
        if (self.throttle or self.fifo_depth) and idle:
            raise ValueError("the throttled weight stream runs without the random stall patterns")
        for k, m in enumerate(m for m in (self.x, self.w, self.b, self.acc, self.s) if m is not None):
            m.set_pause_generator(random_pauses(*idle, seed=seed + k) if idle else None)
            if not idle:
                m.pause = False
        self.y.set_pause_generator(random_pauses(*pause, seed=seed + 9) if pause else None)
        if not pause:
            self.y.pause = False

    @staticmethod
    def lanes(values, width):
        return AxiStreamFrame([int(v) & ((1 << width) - 1) for v in np.asarray(values).reshape(-1).tolist()])

    def signed(self, frame, width):
        u = np.array(list(frame.tdata), dtype=np.int64)
        return np.where(u >= (1 << (width - 1)), u - (1 << width), u)


class WordDriver:
    """Drives w_ instead of the bus model: one word per cycle at most from a list of (TDATA, TLAST),
    the next word offered in the cycles ``offer(cycle)`` allows (asked once per cycle, in order),
    each handshake reported to ``taken(cycle)``; TVALID and TDATA stay put until the word is taken
    (AXI-Stream). Cycle 0 is the first falling edge after the drive starts."""

    def __init__(self, dut):
        self.dut = dut
        self.words: list[tuple[int, int]] = []
        self.task = None
        dut.w_TVALID.value = 0
        dut.w_TLAST.value = 0

    def empty(self):
        return not self.words

    def clear(self):
        if self.task:
            self.task.cancel()
        self.words, self.task = [], None
        self.dut.w_TVALID.value = 0

    def _start(self, offer, taken):
        self.task = cocotb.start_soon(self._drive(offer, taken))

    async def _drive(self, offer, taken):
        d, c = self.dut, 0
        while self.words:
            await FallingEdge(d.ap_clk)
            ok = offer(c)
            d.w_TVALID.value = int(ok)
            if ok:
                d.w_TDATA.value, d.w_TLAST.value = self.words[0]
            # TREADY is a flip-flop (the engine's slice): its value in this cycle decides the handshake
            # at the next edge (read after the edge it may already have changed)
            ready = int(d.w_TREADY.value)
            await RisingEdge(d.ap_clk)
            if ok and ready:
                taken(c)
                self.words.pop(0)
            c += 1
        await FallingEdge(d.ap_clk)
        if not self.words:  # unless the next call's image started at this edge
            d.w_TVALID.value = 0


class ThrottledWords(WordDriver):
    """w_ from a token bucket (cosim.linear_schedule.Throttle) that starts empty at each call: a word
    offered while the bucket holds a word's worth of weights."""

    def __init__(self, dut, throttle):
        super().__init__(dut)
        self.throttle = throttle

    def send(self, words):
        """Start a call's image: the bucket starts empty in the cycle after the ap_start edge (the
        previous call's words are all taken by then: the engine takes a call after its loader finished)."""
        if self.words:
            raise AssertionError("throttled w_: a call's image was started before the previous one was taken")
        words = list(words)
        self.words = [(w, int(k == len(words) - 1)) for k, w in enumerate(words)]
        th, bucket = self.throttle, [0]

        def offer(_c):
            bucket[0] = th.refill(bucket[0])
            return bucket[0] >= th.word

        def taken(_c):
            bucket[0] -= th.word

        self._start(offer, taken)


class FifoWords(WordDriver):
    """w_ as the weight prefetch FIFO's output drives it (cosim.weight_fifo_schedule.WeightFifo:
    DDR -> rtl/src/weight_fifo.sv, whose RTL equals that model cycle for cycle, cosim/test_weight_fifo.py):
    one stream for the whole sequence, the next word offered from the cycle the model puts it at the
    FIFO's head, every handshake reported back to the model (its room and head times follow the pops).
    Cycle 0 is the first call's ap_ready cycle, as in cosim.linear_schedule.Sequence."""

    def load(self, fifo, words):
        self.fifo, self.words = fifo, list(words)

    def start(self):
        if self.task is None:
            self._start(self.fifo.valid, self.fifo.pop)


class DdrWords:
    """The DMA in front of linear_prefetch's weight FIFO (rtl/src/weight_fifo.sv on the RTL's side):
    a token bucket (the run's w_rate / w_burst) pushes the frame's weight stream (every segment of
    cosim.frame_schedule.weight_segments: the calls' images, each MoE layer's experts speculatively
    in index order) whenever ddr_TREADY is high, skips an inactive expert's image whose routing is
    visible when its first word would be pushed (and offers such a first word only while ddr_TREADY
    is high, so it never commits to it before that decision), and pulses route_we ROUTE_TO_HEAD cycles
    before each layer's routing becomes visible. Random TDATA / tags while TVALID is low. Cycle 0 is the first
    call's ap_ready cycle; the DDR starts in cycle -1 (the frame's start), whose one refill is
    applied at the start."""

    def __init__(self, dut):
        self.dut = dut
        self.task = None
        self.words: list = []
        self.rng = np.random.default_rng(7)
        self.pushed = 0
        self.kept_left = 0
        # driven from the start: Verilator's random initial value would write masks before the first
        # call (and trips weight_fifo's check of two route_we in a row)
        dut.route_we.value = 0
        dut.ddr_TVALID.value = 0

    def load(self, segments, data, throttle, routes):
        """segments: cosim.weight_fifo_schedule.Segment list; data: each segment's words; routes:
        {layer: (visible cycle, active experts)}."""
        if len(segments) != len(data) or any(g.words != len(d) for g, d in zip(segments, data)):
            raise ValueError("DdrWords.load: one word list per segment, of the segment's length")
        self.segments, self.data, self.th, self.routes = segments, data, throttle, routes
        self.we = {vis - ROUTE_TO_HEAD: (layer, act) for layer, (vis, act) in routes.items()}
        self.kept_left = sum(g.words for g in segments
                             if g.expert is None or g.expert[1] in routes.get(g.expert[0], (0, ()))[1])

    def start(self):
        if self.task is None:
            self.task = cocotb.start_soon(self._run())

    def empty(self):
        return self.task is None or self.task.done()

    def clear(self):
        if self.task:
            self.task.cancel()
        self.task = None
        self.dut.ddr_TVALID.value = 0
        self.dut.route_we.value = 0

    async def _run(self):
        d, th, segs = self.dut, self.th, self.segments
        dma = DdrDma(segs, self.routes, rate=th.rate, word=th.word, cap=th.cap,
                     credit=min(th.cap, th.rate))          # cycle -1's refill
        if dma.credit >= th.word:
            raise ValueError("DdrWords: a word would be pushed in cycle -1, before the driver runs (w_rate >= word)")
        c = 0
        while True:
            await FallingEdge(d.ap_clk)
            layer_act = self.we.get(c)
            d.route_we.value = int(layer_act is not None)
            if layer_act is not None:
                d.route_layer.value = layer_act[0]
                d.route_active.value = sum(1 << e for e in layer_act[1])
            dma.refill()
            tready = int(d.ddr_TREADY.value)     # a flip-flop of weight_fifo (!level[AW])
            offer = dma.offer(c, bool(tready))
            drive_ddr(d, offer, segs, self.data, self.rng)
            await RisingEdge(d.ap_clk)
            if offer is not None and tready:
                dma.push()
                self.pushed += 1
            c += 1
            if dma.done and c > max(self.we, default=0):
                break
        await FallingEdge(d.ap_clk)
        d.ddr_TVALID.value = 0
        d.route_we.value = 0


def drive_ddr(d, offer, segments, data, rng) -> None:
    """A DMA's ddr_ port (weight_fifo's s side) for one cycle: the offered word (segment, offset) of
    ``segments`` / ``data`` with its tags (an expert's words speculative, with layer and expert), or
    TVALID low with random TDATA and tags (the FIFO must ignore them)."""
    d.ddr_TVALID.value = int(offer is not None)
    if offer is None:
        d.ddr_TDATA.value = int.from_bytes(rng.bytes((len(d.ddr_TDATA) + 7) // 8), "little") & ((1 << len(d.ddr_TDATA)) - 1)
        d.ddr_TLAST.value = int(rng.integers(2))
        d.ddr_TUSER_spec.value = int(rng.integers(2))
        d.ddr_TUSER_layer.value = int(rng.integers(1 << len(d.ddr_TUSER_layer)))
        d.ddr_TUSER_expert.value = int(rng.integers(1 << len(d.ddr_TUSER_expert)))
        return
    seg, off = offer
    g = segments[seg]
    d.ddr_TDATA.value = data[seg][off]
    d.ddr_TLAST.value = int(off == g.words - 1)
    d.ddr_TUSER_spec.value = int(g.expert is not None)
    d.ddr_TUSER_layer.value = g.expert[0] if g.expert else 0
    d.ddr_TUSER_expert.value = g.expert[1] if g.expert else 0


def words_to_lanes(words, lanes, width):
    return [(w >> (j * width)) & ((1 << width) - 1) for w in words for j in range(lanes)]


def prepare_call(tb: LinearTB, label, x_src, w, b, w_role, b_role, rng, *, x_fmt=None, gelu=False,
                 gather=None, out0=None, scatter=None, scores=None) -> dict:
    """One engine call as the host prepares it: the expected destination, the scalar arguments and
    every stream's beats (checked against the engine's limits: bad input is a clear error)."""
    e, cfg, act = tb, tb.cfg, tb.act
    li, lo = tb.li, tb.lo
    x_fmt = x_fmt or act
    n_out, n_in = w.shape
    want = compute_linear(x_src, w, b, cfg, w_fmt=cfg.fmt(w_role), b_fmt=cfg.fmt(b_role), x_fmt=x_fmt, gelu=gelu,
                          gather=gather, out=out0, scatter=scatter, scores=scores)
    if e.corrupt:
        want = want.copy()
        want.flat[want.size // 2] ^= 1
        e.corrupt = False
    mode = "store" if out0 is None else ("scaled" if scores is not None else "accumulate")
    sel = np.arange(x_src.shape[0]) if gather is None else np.asarray(gather)
    rows = len(sel)
    targets = np.arange(rows) if scatter is None else np.asarray(scatter)
    n_ib, n_ob = -(-n_in // li), -(-n_out // lo)
    # host-side preconditions of the engine (bad input: a clear error, not a hang)
    if not (1 <= rows <= tb.max_rows and 1 <= n_in <= tb.max_in and n_out >= 1):
        raise ValueError(f"{label}: rows {rows}, in {n_in}, out {n_out} outside the engine "
                         f"(MAX_ROWS {tb.max_rows}, MAX_IN {tb.max_in})")
    if mode != "store" and len(set(targets.tolist())) != rows:
        raise ValueError(f"{label}: scatter targets must be distinct within one engine call")

    # x: processed rows in gather order; act values (pixels converted exactly); padding = garbage
    xa = x_src[sel].astype(np.int64) << (act.frac - x_fmt.frac)
    xp = rand_raw(act, (rows, n_ib * li), rng)
    xp[:, :n_in] = xa
    w_words = pack_matrix_w(w, cfg.fmt(w_role), tb.w_bits, tb.w_rows, tb.li)
    w_lanes = words_to_lanes(w_words, tb.e_w, cfg.fmt(w_role).width)
    bfmt = cfg.fmt(b_role)
    b_lanes = words_to_lanes(pack_vector_axi(b, bfmt, cfg.hardware.axi_width), cfg.hardware.axi_width // bfmt.width,
                             bfmt.width)
    prev = None
    if mode != "store":  # the previous destination blocks in the output order; padding lanes garbage
        prev = rand_raw(act, (rows, n_ob * lo), rng)
        prev[:, :n_out] = out0[targets]
    args = dict(in_dim=n_in, out_dim=n_out, rows=rows, w_kind=W_KIND[w_role], b_kind=B_KIND[b_role],
                use_gelu=int(gelu), mode=MODES[mode])
    return dict(label=label, want=want, mode=mode, rows=rows, targets=targets, n_in=n_in, n_out=n_out, n_ib=n_ib,
                n_ob=n_ob, gelu=bool(gelu), xp=xp, w_words=w_words, w_lanes=w_lanes, b_lanes=b_lanes, prev=prev,
                scores=scores, out0=out0, args=args)


def set_args(tb: LinearTB, c: dict):
    for k, v in c["args"].items():
        if k == "in_dim" and tb.ln:
            if v != tb.cfg.model.dim:
                raise ValueError(f"{c['label']}: in_dim {v}: a call through LayerNorm takes rows of D = {tb.cfg.model.dim}")
            continue
        getattr(tb.dut, k).value = v


def start_streams(tb: LinearTB, c: dict, x_delay: int = 0):
    """Queue the call's input streams (from its ap_start on; x_ ``x_delay`` cycles later): the engine
    takes them when it gets there."""
    act, lo = tb.act, tb.lo

    async def send_x():
        if x_delay:
            await ClockCycles(tb.dut.ap_clk, x_delay)
        for row in c.get("x_frames") or (tb.lanes(c["xp"][k], act.width) for k in range(c["rows"])):
            await tb.x.send(row)

    async def send_acc():
        for ob in range(c["n_ob"]):
            await tb.acc.send(tb.lanes(c["prev"][:, ob * lo:(ob + 1) * lo], act.width))

    cocotb.start_soon(send_x())
    if tb.w_fifo:
        tb.w_fifo.start()   # the whole sequence's words, loaded by the test (idempotent)
    elif tb.w_throttled:
        tb.w_throttled.send(c["w_words"])
    else:
        cocotb.start_soon(tb.w.send(AxiStreamFrame(c["w_lanes"])))
    cocotb.start_soon(tb.b.send(AxiStreamFrame(c["b_lanes"])))
    if c["mode"] != "store":
        cocotb.start_soon(send_acc())
    if c["mode"] == "scaled":
        cocotb.start_soon(tb.s.send(tb.lanes(c["scores"], act.width)))


def call_budget(tb: LinearTB, c: dict) -> int:
    words = c["n_out"] * (-(-c["n_in"] // tb.e_w))
    budget = 2000 + 20 * (c["rows"] * c["n_ob"] * c["n_ib"] + words * 2 + c["rows"] * c["n_ob"])
    if tb.ddr:
        budget += 2 * words * tb.e_w // tb.ddr.rate
    return budget


def check_streams_consumed(tb: LinearTB, label):
    for m, name in ((tb.x, "x"), (tb.w_fifo or tb.w_throttled or tb.w, "w"), (tb.b, "b"), (tb.acc, "acc"), (tb.s, "s")):
        if not m.empty() or int(getattr(tb.dut, f"{name}_TVALID").value):
            raise AssertionError(f"{label}: the engine did not consume the whole {name}_ stream")


def check_call(tb: LinearTB, c: dict, frames) -> int:
    """The host's write-back of the call's output frames and the comparison with python_ref; returns
    the mismatches (logged) and raises on a misplaced TLAST or nonzero padding lanes."""
    label, lo, rows, n_out = c["label"], tb.lo, c["rows"], c["n_out"]
    y = np.zeros((rows, c["n_ob"] * lo), dtype=np.int64)
    for ob, fr in enumerate(frames):
        v = tb.signed(fr, tb.act.width)
        if len(v) != rows * lo:
            raise AssertionError(f"{label}: output frame {ob} holds {len(v) // lo} beats, expected {rows} "
                                 f"(TLAST misplaced)")
        y[:, ob * lo:(ob + 1) * lo] = v.reshape(rows, lo)
    pad_nonzero = int(np.count_nonzero(y[:, n_out:]))
    if pad_nonzero:
        raise AssertionError(f"{label}: {pad_nonzero} output lanes past out_dim are not zero")
    # host: beat (ob, k) -> out[target k][ob*LO:(ob+1)*LO]
    if c["mode"] == "store":
        got = y[:, :n_out]
    else:
        got = c["out0"].copy()
        got[c["targets"]] = y[:, :n_out]
    tb.last_got = got
    want = c["want"]
    bad = np.argwhere(got != want)
    for r, col in bad[:10]:
        msg = f"{label}: MISMATCH row {r} output {col}: expected {int(want[r, col])} got {int(got[r, col])}"
        tb.dut._log.error(msg)
        tb.first_mismatch = tb.first_mismatch or msg
    tb.results.add("layers", 1)
    tb.results.add("out_values", got.size)
    tb.results.add("mismatches", len(bad))
    return len(bad)


async def run_layer(tb: LinearTB, label, x_src, w, b, w_role, b_role, rng, *, x_fmt=None, gelu=False,
                    gather=None, out0=None, scatter=None, scores=None, timeout_cycles=None) -> dict:
    """One engine call as the host runs it; returns the run record (mismatches, cycles)."""
    cfg, dut = tb.cfg, tb.dut
    li, lo = tb.li, tb.lo
    c = prepare_call(tb, label, x_src, w, b, w_role, b_role, rng, x_fmt=x_fmt, gelu=gelu, gather=gather, out0=out0,
                     scatter=scatter, scores=scores)
    rows, n_out, n_in, n_ob, n_ib, mode = c["rows"], c["n_out"], c["n_in"], c["n_ob"], c["n_ib"], c["mode"]
    set_args(tb, c)
    while not int(dut.ap_idle.value):
        await RisingEdge(dut.ap_clk)
    tb.start_cycle = tb.done_cycle = None
    y0, held0, yheld0 = tb.y_beats, tb.stalls, tb.y_held
    dut.ap_start.value = 1
    await RisingEdge(dut.ap_clk)
    dut.ap_start.value = 0
    start_streams(tb, c)

    frames = []

    async def receive():
        for _ in range(n_ob):
            frames.append(await tb.y.recv())
        while tb.done_cycle is None:
            await RisingEdge(dut.ap_clk)

    budget = timeout_cycles or call_budget(tb, c)
    try:
        tb.rx_task = cocotb.start_soon(receive())  # a test that abandons the call cancels it
        await with_timeout(tb.rx_task, budget * CLOCK_PERIOD_NS, "ns")
    except Exception as exc:  # SimTimeoutError: name the state instead of a bare timeout
        if type(exc).__name__ != "SimTimeoutError":
            raise
        raise AssertionError(f"{label}: timed out after {budget} cycles with {len(frames)} of {n_ob} output frames, "
                             f"{tb.y_beats - y0} of {rows * n_ob} beats: the engine hung or lost beats") from None
    await ClockCycles(dut.ap_clk, 20)  # nothing may follow the last beat
    if tb.y_beats - y0 != rows * n_ob:
        raise AssertionError(f"{label}: {tb.y_beats - y0} output beats, expected {rows * n_ob}")
    check_streams_consumed(tb, label)
    nbad = check_call(tb, c, frames)
    cycles = tb.done_cycle - tb.start_cycle
    ideal = rows * n_ob * n_ib
    model = predicted_cycles(cfg, n_out, n_in, rows, c["gelu"], lo, li, w_bits=tb.w_bits, throttle=tb.throttle,
                             w_rows=tb.w_rows)
    rec = {"layer": label, "out": n_out, "in": n_in, "rows": rows, "mode": mode, "gelu": c["gelu"],
           "cycles": cycles, "ideal": ideal, "block0_load": model.block0_load, "pipeline": model.pipeline,
           "utilization": round(ideal / cycles, 5), "predicted": model.cycles, "load_bound": model.load_bound,
           "w_rate": tb.throttle.rate if tb.throttle else None, "mismatches": nbad, "pad_nonzero": 0,
           "held_cycles": tb.stalls - held0, "y_held_cycles": tb.y_held - yheld0}
    tb.results.append("runs", rec)
    dut._log.info(f"{label}: {n_out}x{n_in}, {rows} rows, {mode}{' +gelu' if c['gelu'] else ''}: {cycles} cycles "
                  f"(ideal {ideal}, {100 * ideal / cycles:.2f}%), {nbad} mismatches")
    return rec


async def run_sequence(tb: LinearTB, calls: list, delays: list, label: str, x_delays: list | None = None,
                       model: list | None = None) -> list:
    """Calls issued back to back as a Vitis ap_ctrl_hs host does: ap_start with call i's arguments
    is held until ap_ready is seen (the engine took them), then call i+1's arguments follow after
    ``delays[i+1]`` cycles (0: at once); each call's streams are queued from its acceptance (x_
    ``x_delays[i]`` cycles later: activations that another unit is still producing). Outputs
    are collected in call order. Returns one record per call with its ap_ready and ap_done cycles
    (relative to the first call's ap_ready) next to cosim.linear_schedule.Sequence's prediction
    (``model``: the SeqResult list to compare with, when the caller ran the model itself)."""
    dut = tb.dut
    x_delays = x_delays or [0] * len(calls)
    while not int(dut.ap_idle.value):
        await RisingEdge(dut.ap_clk)
    await FallingEdge(dut.ap_clk)
    tb.ready_cycles, tb.done_cycles = [], []
    y0, yheld0 = tb.y_beats, tb.y_held
    frames: list = [[] for _ in calls]

    async def host():
        for n, c in enumerate(calls):
            if delays[n]:
                dut.ap_start.value = 0
                await ClockCycles(dut.ap_clk, delays[n], rising=False)
            set_args(tb, c)
            dut.ap_start.value = 1
            while True:
                await RisingEdge(dut.ap_clk)
                await ReadOnly()
                if int(dut.ap_ready.value):
                    break
            start_streams(tb, c, x_delays[n])
            await FallingEdge(dut.ap_clk)
        dut.ap_start.value = 0

    async def receive():
        for n, c in enumerate(calls):
            for _ in range(c["n_ob"]):
                frames[n].append(await tb.y.recv())
        while len(tb.done_cycles) < len(calls):
            await RisingEdge(dut.ap_clk)

    budget = sum(call_budget(tb, c) + d + xd for c, d, xd in zip(calls, delays, x_delays))
    tb.host_task = cocotb.start_soon(host())  # a test that abandons the sequence cancels it
    try:
        tb.rx_task = cocotb.start_soon(receive())
        await with_timeout(tb.rx_task, budget * CLOCK_PERIOD_NS, "ns")
    except Exception as exc:
        if type(exc).__name__ != "SimTimeoutError":
            raise
        raise AssertionError(f"{label}: timed out after {budget} cycles with {[len(f) for f in frames]} output "
                             f"frames of {[c['n_ob'] for c in calls]}: the engine hung or lost beats") from None
    await ClockCycles(dut.ap_clk, 20)  # nothing may follow the last beat
    want_beats = sum(c["rows"] * c["n_ob"] for c in calls)
    if tb.y_beats - y0 != want_beats:
        raise AssertionError(f"{label}: {tb.y_beats - y0} output beats, expected {want_beats}")
    if len(tb.ready_cycles) != len(calls) or len(tb.done_cycles) != len(calls):
        raise AssertionError(f"{label}: {len(tb.ready_cycles)} ap_ready and {len(tb.done_cycles)} ap_done pulses "
                             f"for {len(calls)} calls")
    check_streams_consumed(tb, label)
    seq = Sequence(tb.cfg, tb.lo, tb.li, tb.w_bits, tb.throttle, w_rows=tb.w_rows) if model is None else None
    r0 = tb.ready_cycles[0]
    recs = []
    for n, c in enumerate(calls):
        nbad = check_call(tb, c, frames[n])
        m = model[n] if model is not None else seq.add(SeqCall(c["n_out"], c["n_in"], c["rows"], c["gelu"],
                                                               delay=delays[n] if n else 0, x_delay=x_delays[n]))
        iso = predicted_cycles(tb.cfg, c["n_out"], c["n_in"], c["rows"], c["gelu"], tb.lo, tb.li, w_bits=tb.w_bits,
                               throttle=tb.throttle, w_rows=tb.w_rows).cycles
        rec = {"layer": f"{label}_{n}_{c['label']}", "out": c["n_out"], "in": c["n_in"], "rows": c["rows"],
               "mode": c["mode"], "gelu": c["gelu"], "delay": delays[n] if n else 0,
               "ready": tb.ready_cycles[n] - r0, "done": tb.done_cycles[n] - r0,
               "predicted_ready": m.ready, "predicted_done": m.done, "isolated": iso, "mismatches": nbad,
               "w_rate": tb.ddr.rate if tb.ddr else None, "w_fifo": tb.fifo_depth, "sequence": label,
               "seq_y_held_cycles": tb.y_held - yheld0}
        tb.results.append("runs", rec)
        dut._log.info(f"{rec['layer']}: ready {rec['ready']} (model {m.ready}), done {rec['done']} (model {m.done}), "
                      f"isolated {iso}, {nbad} mismatches")
        recs.append(rec)
    return recs


async def start(dut, stall="none"):
    tb = LinearTB(dut)
    tb.results.update(li=tb.li, lo=tb.lo)
    tb.set_stall_pattern(stall, tb.params.seed + 5)
    await tb.reset()
    return tb, tb


def check(e: LinearTB, total_bad: int, what: str):
    assert total_bad == 0, (f"{what}: {total_bad} mismatches against python_ref.kernels.linear.compute_linear; "
                            f"first: {e.first_mismatch}")


def model_calls(e: LinearTB, rng, rows: int, full_range=False):
    """The config's layer shapes as the model runs them (and the patch embedding): keyword
    arguments of run_layer."""
    cfg, act, m = e.cfg, e.act, e.cfg.model
    calls = []
    for name, o, i, wr, br in layer_shapes(cfg):
        x = rand_raw(act, (rows, i), rng, None if full_range else 1.0)
        w = rand_raw(cfg.fmt(wr), (o, i), rng, None if full_range else 1.0 / np.sqrt(i))
        b = rand_raw(cfg.fmt(br), o, rng, None if full_range else 0.1)
        kw = dict(label=name, x_src=x, w=w, b=b, w_role=wr, b_role=br)
        if name == "fc1":
            kw["gelu"] = True
        if name == "expert_fc1":  # the expert's token list: gathered rows in list order, GELU
            sel = rng.choice(rows, size=min(rows, e.expert_rows), replace=False)
            kw.update(gather=sel, gelu=True)
            e.expert_sel = sel
        if name == "expert_fc2":  # the combine: scaled scatter-accumulate into the token rows
            sel = e.expert_sel
            kw.update(x_src=x[:len(sel)], out0=rand_raw(act, (rows, o), rng, 1.0), scatter=sel,
                      scores=act.from_float(rng.uniform(0, 1, len(sel))).astype(np.int64))
        calls.append(kw)
    # patch embedding: im2col pixel rows, patch weights, accumulate onto pos[1:] (rows = patches)
    img = rand_raw(cfg.fmt("pixel"), (m.channels, m.height, m.width), rng)
    x = im2col(img, m.patch_size)
    n = min(rows, x.shape[0])
    calls.append(dict(label="patch", x_src=x[:n], w=rand_raw(cfg.fmt("patch_weight"), (m.dim, m.patch_in), rng,
                                                              None if full_range else 0.05),
                      b=rand_raw(cfg.fmt("bias"), m.dim, rng, None if full_range else 0.1), w_role="patch_weight",
                      b_role="bias", x_fmt=cfg.fmt("pixel"), out0=rand_raw(act, (n, m.dim), rng, 0.5)))
    if e.layers:
        unknown = set(e.layers) - {c["label"] for c in calls}
        if unknown:
            raise ValueError(f"run parameter layers: unknown layer(s) {sorted(unknown)}")
        calls = [c for c in calls if c["label"] in e.layers]
    return calls


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 50, timeout_unit="ms")
async def test_model_shapes(dut):
    """Every layer shape of the config (fc1 with GELU, the expert pair gathered + GELU then scaled
    scatter-accumulate) and the patch embedding onto pos, realistic values, no stalls: bit-exact,
    exact cycle counts into the summary."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed)
    total = 0
    for kw in model_calls(e, rng, e.rows):
        total += (await run_layer(tb, rng=rng, **kw))["mismatches"]
    check(e, total, "model shapes")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_odd_shapes_modes_stalls(dut):
    """Full-range values (the accumulator wraps), shapes that are not multiples of the tile or of
    the weights per word, every output mode with and without GELU, gathered rows with repeats,
    extreme corners, under the run's stall pattern on every stream."""
    e, tb = await start(dut, e_stall := RunParams.from_env().stall)
    rng = np.random.default_rng(e.params.seed + 1)
    cfg, act = e.cfg, e.act
    li, lo = tb.li, tb.lo
    shapes = [(1, 1, 1), (5, 3, 2), (13, 37, 5), (37, 13, 7), (3, 19, 1), (2 * lo + 1, 3 * li - 1, 4),
              (lo, li, 3), (lo + 1, 2 * tb.e_w + 1, 6)]
    total = 0
    for n, (o, i, r) in enumerate(shapes):
        wr, br = "weight", ("bias", "attn_bias")[n % 2]
        x = rand_raw(act, (r, i), rng)
        w = rand_raw(cfg.fmt(wr), (o, i), rng)
        b = rand_raw(cfg.fmt(br), o, rng)
        x[0, 0], w[0, 0] = act.raw_min, cfg.fmt(wr).raw_min
        x[-1, -1], w[-1, -1] = act.raw_max, cfg.fmt(wr).raw_max
        kw = dict(x_src=x, w=w, b=b, w_role=wr, b_role=br, gelu=bool(n % 2))
        mode = n % 3
        if mode:
            g = rng.integers(0, r, size=r + 1)  # gathered, with repeats
            kw["gather"] = g
            kw["scatter"] = rng.permutation(r + 3)[:r + 1]  # distinct targets
            kw["out0"] = rand_raw(act, (r + 3, o), rng)
            if mode == 2:
                s = act.from_float(rng.uniform(0, 1, r + 1)).astype(np.int64)
                s[0] = act.from_float(1.0)
                if r + 1 > 2:
                    s[1] = rand_raw(act, 1, rng)[0]  # any act value: the product wraps
                kw["scores"] = s
        total += (await run_layer(tb, f"odd_{o}x{i}_r{r}_m{mode}", rng=rng, **kw))["mismatches"]
    # patch weights through the same path, full range
    m = cfg.model
    x = rand_raw(cfg.fmt("pixel"), (3, m.patch_in), rng)
    total += (await run_layer(tb, "odd_patch", x, rand_raw(cfg.fmt("patch_weight"), (7, m.patch_in), rng),
                              rand_raw(cfg.fmt("bias"), 7, rng), "patch_weight", "bias", rng,
                              x_fmt=cfg.fmt("pixel"), out0=rand_raw(act, (3, 7), rng)))["mismatches"]
    check(e, total, f"odd shapes / {e_stall}")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_back_to_back_same_shape(dut):
    """Consecutive calls with the same shape and different weights: a stale tile-buffer bank or
    bias would give the previous call's result."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 2)
    cfg, act = e.cfg, e.act
    o, i, r = 3 * tb.lo, 2 * tb.li + 1, 5
    x = rand_raw(act, (r, i), rng, 1.0)
    total = 0
    for n in range(3):
        w = rand_raw(cfg.fmt("weight"), (o, i), rng, 0.3)
        b = rand_raw(cfg.fmt("bias"), o, rng, 0.3)
        total += (await run_layer(tb, f"b2b_{n}", x, w, b, "weight", "bias", rng))["mismatches"]
    check(e, total, "back to back")


@cocotb.skipif("vectors" not in RunParams.from_env().extra, reason="no vectors file given")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 10, timeout_unit="ms")
async def test_vectors_file(dut):
    """The calls in the run parameter ``vectors`` (a pickle file; no stalls), each checked against
    compute_linear; the host-side destinations go to ``vectors_out`` for a comparison with the C
    simulation."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 3)
    with open(e.params.extra["vectors"], "rb") as fh:
        calls = pickle.load(fh)
    total, outs = 0, []
    for kw in calls:
        total += (await run_layer(tb, rng=rng, **kw))["mismatches"]
        outs.append(tb.last_got)
    with open(e.params.extra["vectors_out"], "wb") as fh:
        pickle.dump(outs, fh)
    check(e, total, "vectors file")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_reset_midcall(dut):
    """Reset in the middle of a call (blocks loaded, tiles and output beats in flight, the sink
    paused): the engine is idle afterwards, emits no stale beat, and the next call is exact."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 4)
    cfg, act = e.cfg, e.act
    o, i, r = 3 * tb.lo, 3 * tb.li + 1, 6
    args = [rand_raw(act, (r, i), rng, 1.0), rand_raw(cfg.fmt("weight"), (o, i), rng, 0.3),
            rand_raw(cfg.fmt("bias"), o, rng, 0.3), "weight", "bias", rng]
    tb.y.pause = True
    call = cocotb.start_soon(run_layer(tb, "interrupted", *args, gelu=True))
    await ClockCycles(dut.ap_clk, 60)
    assert not int(dut.ap_idle.value), "the interrupted call already finished: make it longer"
    call.cancel()
    tb.rx_task.cancel()
    await tb.reset_mid_call()
    check(e, (await run_layer(tb, "after_reset", *args, gelu=True))["mismatches"], "after reset")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 50, timeout_unit="ms")
async def test_expert_tokens_ddr(dut):
    """The expert pair (fc1 gathered + GELU, fc2 scaled scatter-accumulate) at the token counts of
    the run parameter ``tokens``, the weight stream throttled like DDR (w_rate, w_burst): the
    load-bound regime measured, bit-exact, cycles into the summary (the model must predict them)."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 6)
    cfg, act, m = e.cfg, e.act, e.cfg.model
    total = 0
    shapes = {s[0]: s for s in layer_shapes(cfg)}
    for t in e.params.extra.get("tokens", [1, 2, 16]):
        if not 1 <= t <= min(m.tokens, tb.max_rows):
            raise ValueError(f"run parameter tokens: {t} outside 1..{min(m.tokens, tb.max_rows)}")
        sel = rng.choice(m.tokens, size=t, replace=False)
        _, o1, i1, wr, br = shapes["expert_fc1"]
        x = rand_raw(act, (m.tokens, i1), rng, 1.0)
        w1 = rand_raw(cfg.fmt(wr), (o1, i1), rng, 1.0 / np.sqrt(i1))
        b1 = rand_raw(cfg.fmt(br), o1, rng, 0.1)
        h = compute_linear(x, w1, b1, cfg, w_fmt=cfg.fmt(wr), b_fmt=cfg.fmt(br), gelu=True, gather=sel)
        total += (await run_layer(tb, f"expert_fc1_t{t}", x, w1, b1, wr, br, rng, gelu=True,
                                  gather=sel))["mismatches"]
        _, o2, i2, wr, br = shapes["expert_fc2"]
        w2 = rand_raw(cfg.fmt(wr), (o2, i2), rng, 1.0 / np.sqrt(i2))
        b2 = rand_raw(cfg.fmt(br), o2, rng, 0.1)
        scores = act.from_float(rng.uniform(0, 1, t)).astype(np.int64)
        total += (await run_layer(tb, f"expert_fc2_t{t}", h, w2, b2, wr, br, rng, out0=rand_raw(act, (m.tokens, o2), rng, 1.0),
                                  scatter=sel, scores=scores))["mismatches"]
    check(e, total, "expert tokens under the throttled weight stream")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 50, timeout_unit="ms")
async def test_random_calls(dut):
    """Random calls until the run parameter n_random output values were produced and checked:
    random shapes (up to 8 tiles or the engine's limits; rarely multiples of the tile or the word),
    rows, modes, GELU, weight and bias kinds, realistic or full-range values, gathered rows (with
    and without repeats), distinct scatter targets, under the run's stall pattern. Few large calls:
    the simulation's cost is per cycle, the calls' fixed costs are small."""
    e, tb = await start(dut, RunParams.from_env().stall)
    rng = np.random.default_rng(e.params.seed + 7)
    cfg, act = e.cfg, e.act
    max_rows = min(tb.max_rows, cfg.model.tokens, 33)
    total, produced, n = 0, 0, 0
    while produced < e.params.n_random:
        o = int(rng.integers(1, 8 * tb.lo + 1))
        i = int(rng.integers(1, min(tb.max_in, 8 * tb.li) + 1))
        r = int(rng.integers(max(1, max_rows // 2), max_rows + 1))
        full = bool(rng.integers(0, 2))
        wr, br = ("weight", "patch_weight")[int(rng.integers(0, 2))], ("bias", "attn_bias")[int(rng.integers(0, 2))]
        x = rand_raw(act, (max_rows, i), rng, None if full else 1.0)
        w = rand_raw(cfg.fmt(wr), (o, i), rng, None if full else 1.0 / np.sqrt(i))
        b = rand_raw(cfg.fmt(br), o, rng, None if full else 0.1)
        kw = dict(gelu=bool(rng.integers(0, 2)), gather=rng.choice(max_rows, size=r, replace=bool(rng.integers(0, 2))))
        mode = int(rng.integers(0, 3))
        if mode:
            kw["scatter"] = rng.permutation(max_rows)[:r]
            kw["out0"] = rand_raw(act, (max_rows, o), rng, None if full else 1.0)
            if mode == 2:
                kw["scores"] = (rand_raw(act, r, rng) if full else
                                act.from_float(rng.uniform(0, 1, r)).astype(np.int64))
        total += (await run_layer(tb, f"rand{n}_{o}x{i}_r{r}_m{mode}", x, w, b, wr, br, rng, **kw))["mismatches"]
        produced += r * o
        n += 1
    e.results.update(random_calls=n, random_values=produced)
    check(e, total, "random calls")


def sequence_calls(tb: LinearTB, rng) -> list:
    """Calls of different shapes and modes for the overlapped-call tests: multi-block and single-block
    calls, one row, in_dim <= LI (a beat per step), every output mode, GELU on and off between
    neighbours, both weight and bias kinds, the same shape twice with other weights, the expert pair;
    full-range values (the accumulator wraps) except the expert pair."""
    cfg, act, li, lo, e_w = tb.cfg, tb.act, tb.li, tb.lo, tb.e_w
    shapes = [(3 * lo, 2 * li + 1, 5, 0, False), (lo, li, 3, 1, True), (2 * lo + 1, 3 * li - 1, 4, 2, False),
              (5, 3, 1, 0, True), (lo + 1, 2 * e_w + 1, 6, 1, False), (13, 37, 5, 2, True), (13, 37, 5, 2, True),
              (1, 1, 2, 0, False), (3 * lo, 2 * li + 1, 5, 0, False)]
    calls = []
    for n, (o, i, r, mode, gelu) in enumerate(shapes):
        wr, br = ("weight", "patch_weight")[n % 2], ("bias", "attn_bias")[(n // 2) % 2]
        x = rand_raw(act, (r, i), rng)
        kw = dict(gelu=gelu)
        if mode:
            kw["gather"] = rng.integers(0, r, size=r)
            kw["scatter"] = rng.permutation(r + 2)[:r]
            kw["out0"] = rand_raw(act, (r + 2, o), rng)
            if mode == 2:
                kw["scores"] = rand_raw(act, r, rng)
        calls.append(prepare_call(tb, f"s{o}x{i}_r{r}_m{mode}", x, rand_raw(cfg.fmt(wr), (o, i), rng),
                                  rand_raw(cfg.fmt(br), o, rng), wr, br, rng, **kw))
    shapes_cfg = {s[0]: s for s in layer_shapes(cfg)}
    m = cfg.model
    t = min(tb.expert_rows, m.tokens, tb.max_rows)
    sel = rng.choice(m.tokens, size=t, replace=False)
    _, o1, i1, wr, br = shapes_cfg["expert_fc1"]
    x = rand_raw(act, (m.tokens, i1), rng, 1.0)
    w1, b1 = rand_raw(cfg.fmt(wr), (o1, i1), rng, 1.0 / np.sqrt(i1)), rand_raw(cfg.fmt(br), o1, rng, 0.1)
    h = compute_linear(x, w1, b1, cfg, w_fmt=cfg.fmt(wr), b_fmt=cfg.fmt(br), gelu=True, gather=sel)
    calls.append(prepare_call(tb, "expert_fc1", x, w1, b1, wr, br, rng, gelu=True, gather=sel))
    _, o2, i2, wr, br = shapes_cfg["expert_fc2"]
    calls.append(prepare_call(tb, "expert_fc2", h, rand_raw(cfg.fmt(wr), (o2, i2), rng, 1.0 / np.sqrt(i2)),
                              rand_raw(cfg.fmt(br), o2, rng, 0.1), wr, br, rng,
                              out0=rand_raw(act, (m.tokens, o2), rng, 1.0), scatter=sel,
                              scores=act.from_float(rng.uniform(0, 1, t)).astype(np.int64)))
    return calls


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 10, timeout_unit="ms")
async def test_overlapped_calls(dut):
    """Back-to-back calls of different shapes and modes, ap_start held for the next call as soon as
    ap_ready shows the previous arguments taken: the loader loads the next call's block 0 while the
    current call computes. Every output bit-exact; every call's ap_ready and ap_done cycle equal to
    cosim.linear_schedule.Sequence (also under the throttled weight stream)."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 8)
    calls = sequence_calls(tb, rng)
    recs = await run_sequence(tb, calls, [0] * len(calls), "seq")
    check(e, sum(r["mismatches"] for r in recs), "overlapped calls")
    off = [(r["layer"], r["ready"], r["predicted_ready"], r["done"], r["predicted_done"]) for r in recs
           if (r["ready"], r["done"]) != (r["predicted_ready"], r["predicted_done"])]
    assert not off, f"overlapped calls: measured cycles differ from the model: {off}"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 10, timeout_unit="ms")
async def test_reset_mid_sequence(dut):
    """Reset while one call computes and the next is taken (its block 0 loading or loaded, the call
    waiting for act / issue / out), the sink paused: idle afterwards, no stale beat, and a new
    sequence is exact (bit-exact, every ap_ready / ap_done = the model: banks, bank pointers, final
    masks and the queue's registers all start over)."""
    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 11)
    calls = sequence_calls(tb, rng)[:4]
    tb.y.pause = True
    seq = cocotb.start_soon(run_sequence(tb, calls, [0] * len(calls), "interrupted"))
    for _ in range(5000):
        await RisingEdge(dut.ap_clk)
        if len(tb.ready_cycles) >= 2:
            break
    await ClockCycles(dut.ap_clk, 5)
    assert len(tb.ready_cycles) >= 2 and not tb.done_cycles, "no second call taken before the first ended"
    for t in (seq, tb.rx_task, tb.host_task):
        t.cancel()
    dut.ap_start.value = 0
    await tb.reset_mid_call()
    recs = await run_sequence(tb, sequence_calls(tb, rng)[:4], [0] * 4, "after_reset_seq")
    check(e, sum(r["mismatches"] for r in recs), "sequence after reset")
    assert all((r["ready"], r["done"]) == (r["predicted_ready"], r["predicted_done"]) for r in recs), recs


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 10, timeout_unit="ms")
async def test_overlapped_calls_gaps_stalls(dut):
    """The overlapped sequence with idle gaps between calls (the next ap_start late: some before the
    current call ends, some after it, the engine idle in between) under the run's stall pattern
    (sink backpressure, input gaps): bit-exact, every ap_done in call order."""
    e, tb = await start(dut, e_stall := RunParams.from_env().stall)
    rng = np.random.default_rng(e.params.seed + 9)
    calls = sequence_calls(tb, rng)
    delays = [0, 0, 7, 0, 300, 1, 0, 40, 0, 2, 0][:len(calls)]
    recs = await run_sequence(tb, calls, delays, f"gaps_{e_stall}")
    check(e, sum(r["mismatches"] for r in recs), f"overlapped calls with gaps / {e_stall}")
    assert all(a["done"] < b["done"] and a["ready"] < b["ready"] for a, b in zip(recs, recs[1:]))
    if e_stall == "none":
        assert all((r["ready"], r["done"]) == (r["predicted_ready"], r["predicted_done"]) for r in recs), recs


@cocotb.skipif("frame" not in RunParams.from_env().extra, reason="no frame routing given")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 20, timeout_unit="ms")
async def test_frame_sequence(dut):
    """The linear calls of one frame of the config (cosim.frame_schedule.compose with the run
    parameter ``frame``: uniform or concentrated routing) as the frame model runs them: presented as
    soon as the engine takes them, the first expert call of a layer only after the gate's softmax,
    activations offered when the unit before the call ends (the other units' cycles as gaps).
    Bit-exact (store mode, realistic values); every call's ap_ready / ap_done and the cycles the frame
    model counts for it equal the model. Needs the frame's weight stream: W_BITS and w_rate / w_burst
    of cosim.frame_schedule.ddr_throttle."""
    from cosim import frame_schedule as fs

    e, tb = await start(dut, "none")
    rng = np.random.default_rng(e.params.seed + 10)
    cfg, act = e.cfg, e.act
    def last_k(cfg):   # every token to the last k experts: the speculatively fetched first experts are dropped
        m = cfg.model
        c = [m.tokens if x >= m.experts - m.top_k else 0 for x in range(m.experts)]
        return fs.Routing("all tokens to the last k experts", {L: c for L in range(m.layers) if m.is_moe_layer(L)})

    routings = {"uniform": fs.uniform_routing, "concentrated": fs.concentrated_routing, "last_k": last_k}
    routing = routings.get(e.params.extra["frame"])
    if routing is None:
        raise ValueError(f"run parameter frame: {e.params.extra['frame']!r} is not one of {', '.join(routings)}")
    # the frame's DDR bandwidth is the run's w_rate (weights per cycle at the configured clock)
    gbs = tb.ddr.rate * fs.WEIGHT_BYTES * cfg.hardware.clock_mhz * 1e6 / 1e9 if tb.ddr else fs.DEFAULT_DDR_GBS
    if (tb.li, tb.lo) != (cfg.hardware.linear_in, cfg.hardware.linear_out):
        raise ValueError(f"frame sequence: the frame model runs the config's tile; the unit has LI {tb.li}, LO {tb.lo}")
    check_unit_rows(cfg, "frame sequence", tb.w_bits, tb.w_rows)
    frame = fs.compose(cfg, routing(cfg), gbs=gbs, w_bits=tb.w_bits, fifo_depth=tb.fifo_depth)
    if tb.ddr != fs.ddr_throttle(cfg, frame.gbs, tb.w_bits):
        raise ValueError(f"run parameters w_rate / w_burst: the frame streams weights as "
                         f"{fs.ddr_throttle(cfg, frame.gbs, tb.w_bits)}, the run as {tb.ddr}")
    model_fifo = fs.weight_fifo(frame, tb.w_bits) if tb.fifo_depth else None
    seq_calls, res, starts = fs.linear_sequence(frame, tb.w_bits, fifo=model_fifo)
    delays = [0] + [max(0, c.start - res[n - 1].ready) if c.start is not None else 0
                    for n, c in enumerate(seq_calls) if n]
    x_delays = [max(0, c.x_from - r.ready) for c, r in zip(seq_calls, res)]
    calls = []
    for n, c in enumerate(seq_calls):
        x = rand_raw(act, (c.rows, c.n_in), rng, 1.0)
        w = rand_raw(cfg.fmt("weight"), (c.n_out, c.n_in), rng, 1.0 / np.sqrt(c.n_in))
        calls.append(prepare_call(tb, f"f{n}", x, w, rand_raw(cfg.fmt("bias"), c.n_out, rng, 0.1), "weight", "bias",
                                  rng, gelu=c.gelu))
    if tb.prefetch:     # the RTL FIFO in front of the engine: the DMA pushes every segment's words
        segs = fs.weight_segments(frame, tb.w_bits)
        kept = iter(calls)
        data = []
        for g in segs:
            active = g.expert is None or g.expert[1] in model_fifo.routes[g.expert[0]][1]
            data.append(list(next(kept)["w_words"]) if active else
                        [int.from_bytes(rng.bytes(tb.w_bits // 8), "little") for _ in range(g.words)])
        if next(kept, None) is not None or any(len(d) != g.words for d, g in zip(data, segs)):
            raise AssertionError("frame sequence: the weight segments do not match the linear calls")
        tb.w_fifo.load(segs, data, tb.ddr, dict(model_fifo.routes))
    elif tb.fifo_depth:   # a fresh model of the same path drives w_, with the routing the frame model gave
        drive = fs.weight_fifo(frame, tb.w_bits)
        for layer, (visible, active) in model_fifo.routes.items():
            drive.route(layer, active, visible)
        tb.w_fifo.load(drive, [(w, int(k == len(c["w_words"]) - 1)) for c in calls for k, w in enumerate(c["w_words"])])
    recs = await run_sequence(tb, calls, delays, "frame", x_delays, model=res)
    check(e, sum(r["mismatches"] for r in recs), "frame sequence")
    counted = [c.cycles for c in frame.linear_calls]
    for rec, t, want in zip(recs, starts, counted):
        rec["frame_cycles"], rec["frame_model_cycles"] = rec["done"] + 1 - t, want
    off = [(r["layer"], r["ready"], r["predicted_ready"], r["done"], r["predicted_done"], r["frame_cycles"],
            r["frame_model_cycles"]) for r in recs
           if (r["ready"], r["done"], r["frame_cycles"]) != (r["predicted_ready"], r["predicted_done"],
                                                             r["frame_model_cycles"])]
    assert not off, f"frame sequence: measured cycles differ from the model: {off}"
    e.results.update(frame_linear_cycles=sum(counted), frame_linear_isolated=sum(c.isolated_cycles
                                                                                 for c in frame.linear_calls),
                     fifo_stats=dict(frame.fifo_stats) if tb.fifo_depth else None,
                     fifo_dropped=model_fifo.dropped if model_fifo else 0)
