"""cocotb testbench of rtl/src/backbone.sv: a whole frame of the network in RTL, from pos and the pixels to
the last layer's x, checked value for value against python_ref's fixed-point network (FixedM3ViT, the
definition of python_ref.kernels.backbone.backbone_raw), and its latency at the DDR's bandwidth.

The host part is the frame's controller, python_ref/kernels/frame_ctrl.py: run_frame issues the frame on
its model of the buffers, and this bench replays what it issued, step by step (frame_ctrl.Step: a route,
the buffers' commands and the calls on it) - nothing here knows the network's order. It issues the steps
as early as the RTL lets a sequencer (:meth:`BackboneTB.run_frame`):

* the next engine call is started (ap_start held until ap_ready) as soon as the current step is issued,
  so the engine takes it once its loader has finished the current call and loads its block 0 while the
  current call computes; an expert's call once the router's descriptor words up to its own (its CALL word
  and rows) have come out on d_. During attention the array is attention's: a call started then is taken
  after the array has passed back (rtl/src/linear_attention.sv's grant);
* a step's route, LayerNorm's {beta, gamma}, its buffer commands and the pixel rows (the patch
  embedding) follow once the step before has drained: every command and beat taken, the buffers idle,
  attention idle and every engine call before it done (the route changes only with its units idle);
* attention starts once its first input beat waits in the hidden buffer; b_ and s_ (an expert fc2's
  scores) are queued when the engine takes the call.

The weights come from a DMA model (:class:`FrameDma`, cosim.weight_fifo_schedule.DdrDma) into the top's
weight prefetch FIFO: the frame's weight stream in the order the calls take it, each MoE layer's experts
fetched speculatively in index order until the router's routing pulse (route_we) makes the routing
visible, at the run's DDR bandwidth (token bucket, bursts of 8 words). The DMA starts with the patch
embedding step, as cosim.frame_schedule's frame does.

Recorded and checked: the router's descriptor words word for word against the controller's (which
decided the expert steps); every linear call's ap_ready / ap_done against one cosim.linear_schedule
.Sequence run of the whole frame through cosim.weight_fifo_schedule.WeightFifo, fed with the measured
cycles the host raised each call and offered its first x_ beat and the routing's visible cycles (exact
where the model applies: on configs whose LayerNorm has fewer lanes than the engine, tiny's, a call fed
through the lane join stalls its x_, which the model does not describe, so only the calls before the first
such call are compared); attention against cosim.attention_schedule.predict; the frame's cycles from the
DMA's start to the last call's output (``frame_cycles``), beside cosim.frame_schedule.compose's figure for
the same routing and bandwidth (``composed_cycles``, make perf's model).

Run parameters: image (a python_ref.model.images name: "edge_moe" is Edge-MoE's published frame; or
"random": full-range pixels from the seed), task, layers (the frame's first blocks, 0 = the patch embedding
only; all by default), weights ("seeded", the default, with weight_seed; or "published": Edge-MoE's trained
weights with seeded stand-in expert matrices, python_ref.model.real_data.published_weights), weight_gain
(the float weights multiplied by it before their conversion, which saturates: activations near act's range),
ddr_gbs (the DMA's bandwidth, default cosim.frame_schedule.DEFAULT_DDR_GBS), stalls (a cosim.tb.STALL_PATTERNS
name, default none: random idle cycles on the host's sources, pauses on its sinks; the engine calls are then
not compared with the model, which has no stalls), kv_rounded (the odd writes
rounded half up: must fail), corrupt (one wrong expected value: exactly one mismatch must be reported).
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, with_timeout
from cocotbext.axi import AxiStreamFrame

from cosim import frame_schedule as fs
from cosim.attention_schedule import Geometry, predict
from cosim.buffer_host import AttentionHost, check_descriptor_words
from cosim.linear_schedule import SeqCall, Sequence
from cosim.tb import CLOCK_PERIOD_NS, STALL_PATTERNS, ResultWriter, RunParams, random_pauses
from cosim.test_linear import LinearTB, drive_ddr, prepare_call
from cosim.weight_fifo_schedule import ROUTE_TO_HEAD, DdrDma, Segment, WeightFifo
from python_ref.kernels.act_buffer import BufferShape
from python_ref.kernels.backbone import first_blocks
from python_ref.kernels.frame_ctrl import ROUTES, FrameCtrl, Step, run_frame
from python_ref.kernels.linear import pack_vector_axi
from python_ref.model import load_image, seeded_weights
from python_ref.model.fixed_model import FixedM3ViT, quantize_weights

TEST_TIMEOUT_MS = 3000
ROUTE = {r: i for i, r in enumerate(ROUTES)}
ENGINE_ROUTES = tuple(r for r, route in ROUTES.items() if "linear" in route.units)   # the steps with an engine call


def weight_stream(cfg, calls, w_bits, rng):
    """The frame's weight stream as the DMA fetches it (cosim.frame_schedule.weight_segments' order):
    each engine call's w_ image in step order (``calls``: each step's prepared engine call or None, its
    frame_ctrl Role in "role"), where a MoE layer's expert calls are replaced, right after
    its gate call, by every expert's fc1 and fc2 image in index order (tagged speculative); the inactive
    experts' images are random words (dropped or skipped: a word of them reaching the engine would change
    the frame). Returns (Segment list, each segment's words)."""
    m = cfg.model
    segs, data, slot = [], [], {}
    for c in calls:
        if c is None:
            continue
        role = c["role"]
        if role.expert is None:
            segs.append(Segment(len(c["w_words"]), None, c["label"]))
            data.append(list(c["w_words"]))
            if role.part == "gate":
                L = role.layer
                for e in range(m.experts):
                    for fc, (o, i) in (("fc1", (m.expert_hidden, m.dim)), ("fc2", (m.dim, m.expert_hidden))):
                        slot[(L, e, fc)] = len(segs)
                        segs.append(Segment(fs.w_image_words(cfg, o, i, w_bits), (L, e), f"layer {L} expert {e} {fc}"))
                        data.append(None)
            continue
        k = slot.get((role.layer, role.expert, role.part))
        if k is None or data[k] is not None or len(c["w_words"]) != segs[k].words:
            raise AssertionError(f"{c['label']}: no free slot of its size in the frame's weight stream")
        data[k] = list(c["w_words"])
    active_order = [k for k, g in enumerate(segs) if g.expert is not None and data[k] is not None]
    expert_calls = [slot[(r.layer, r.expert, r.part)] for c in calls
                    if c is not None and (r := c["role"]).expert is not None]
    if active_order != expert_calls:
        raise AssertionError("the experts' calls do not come in the weight stream's order (index order, fc1 then fc2)")
    for k, g in enumerate(segs):
        if data[k] is None:
            data[k] = [int.from_bytes(rng.bytes(w_bits // 8), "little") for _ in range(g.words)]
    return segs, data


class FrameDma:
    """The DMA in front of the top's weight FIFO (ddr_), and the frame's cycle record: one coroutine per
    falling edge, cycle ``c`` counted from the DMA's start (c = 0 is its first cycle). In each cycle it
    reads route_we (the router's routing pulse: the routing is visible to the FIFO's head ROUTE_TO_HEAD
    cycles later, and the DMA skips an inactive expert from then on), drives ddr_ for the cycle (DdrDma's
    rule; random TDATA / tags while TVALID is low), and in the read-only phase records what the model
    needs: the cycle each call's ap_start reaches the engine (ap_start with the array granted to it), its
    ap_ready and ap_done, the cycle its first x_ beat is offered at the engine's own x_."""

    def __init__(self, tb, segments, data, throttle):
        self.tb, self.dut = tb, tb.dut
        self.segments, self.data, self.th = segments, data, throttle
        self.dma = DdrDma(segments, {}, rate=throttle.rate, word=throttle.word, cap=throttle.cap, credit=0)
        self.routes: dict[int, tuple[int, frozenset]] = {}
        self.c = -1
        self.starts: dict[int, int] = {}
        self.ready: list[int] = []
        self.done: list[int] = []
        self.x_first: dict[int, int] = {}
        self.d_words: list[int] = []     # the router's descriptor words as they are handshaken
        self.pushed = 0
        self.rng = np.random.default_rng(11)
        self.task = None
        d = self.dut
        d.ddr_TVALID.value = 0
        d.moe_layer.value = 0

    def start(self):
        self.task = cocotb.start_soon(self._run())

    async def _run(self):
        d, tb, dma = self.dut, self.tb, self.dma
        while True:
            await FallingEdge(d.ap_clk)
            self.c += 1
            c = self.c
            if int(d.route_we.value):
                layer = int(d.moe_layer.value)
                if layer in self.routes:
                    raise AssertionError(f"cycle {c}: a second routing pulse for MoE layer {layer}")
                act = int(d.route_active.value)
                self.routes[layer] = (c + ROUTE_TO_HEAD, frozenset(e for e in range(len(d.route_active)) if act >> e & 1))
                dma.routes[layer] = self.routes[layer]
            offer = None
            if not dma.done:
                dma.refill()
                offer = dma.offer(c, bool(int(d.ddr_TREADY.value)))   # TREADY: a flip-flop of weight_fifo
            drive_ddr(d, offer, self.segments, self.data, self.rng)
            await ReadOnly()
            took = offer is not None and int(d.ddr_TREADY.value)
            n = tb.pending
            if n is not None and n not in self.starts and int(d.ap_start.value) and int(d.u_la.grant_lin.value):
                self.starts[n] = c
            if int(d.ap_ready.value):
                self.ready.append(c)
            if int(d.ap_done.value):
                self.done.append(c)
            n = tb.x_call
            if n is not None and n not in self.x_first and int(d.ex_v.value):
                self.x_first[n] = c
            if int(d.d_TVALID.value) and int(d.d_TREADY.value):
                self.d_words.append(int(d.d_TDATA.value))
            if took:
                dma.push()
                self.pushed += 1


class BackboneTB(AttentionHost):
    """BlockHost on the three buffers' command ports, the engine's, attention's and the router's
    controls and streams; the buffers' shapes checked against the frame controller's."""

    call_args = ("in_dim", "out_dim", "rows", "w_kind", "b_kind", "use_gelu", "mode")

    def __init__(self, dut):
        cfg = RunParams.from_env().cfg()
        ctl = FrameCtrl(cfg)       # the frame controller's config checks (a clear error for a config it cannot run)
        self.l, self.lnl = int(dut.L.value), int(dut.LNL.value)
        rows = int(dut.ROWS.value)
        super().__init__(dut, BufferShape(self.l, cfg.model.dim, rows))
        m, hw = cfg.model, cfg.hardware
        self.shapes = {"x_": self.shape, "h_": BufferShape(self.l, int(dut.HIDDEN.value), rows, narrow=True),
                       "g_": BufferShape(int(dut.GL.value), m.experts, rows)}
        if self.shapes != ctl.shapes:
            raise ValueError(f"config {cfg.name!r}: rtl/src/backbone.sv's buffers {self.shapes} differ from the frame "
                             f"controller's {ctl.shapes} (python_ref.kernels.act_buffer.BufferShape.frame)")
        if cfg.numerics.expert_weights is not None:
            raise ValueError(f"config {cfg.name!r}: numerics.expert_weights (per-channel scales) is not in the RTL "
                             "engine's w_ stream; the backbone bench runs configs without it")
        if int(dut.WF_DEPTH.value) != hw.weight_fifo_depth:
            raise ValueError(f"config {cfg.name!r}: backbone.sv's weight FIFO has {int(dut.WF_DEPTH.value)} words, "
                             f"hardware.weight_fifo.depth {hw.weight_fifo_depth}")
        w_bits = hw.w_bits
        self.eng = SimpleNamespace(cfg=cfg, act=self.act, li=self.l, lo=self.l, max_in=int(dut.u_la.MAX_IN.value),
                                   max_rows=rows, w_bits=w_bits, w_rows=hw.weight_word_rows, corrupt=False,
                                   e_w=w_bits // cfg.fmt("weight").width)
        self.init_attention(Geometry.from_config(cfg))
        self.gbs = fs.check_bandwidth(float(self.params.extra.get("ddr_gbs", fs.DEFAULT_DDR_GBS)))
        self.res = ResultWriter(kernel="backbone", config=cfg.name, mismatches=0, first_mismatch=None, values_checked=0,
                                steps=[], calls=[], attention=[], descriptor_words=0, frame_cycles=None,
                                ddr_gbs=self.gbs)
        aw = self.act.width
        self.ports = {"x_": self.cmd, "h_": self.source("hb_cmd", 64), "g_": self.source("gb_cmd", 64)}
        self.b = self.source("b", hw.axi_width)     # a whole bias word a beat
        self.s = self.source("s", aw)
        self.host_wr, self.host_rd, self.gb = self.source("host_wr", aw), self.sink("host_rd", aw), self.source("gb", 32)
        self.d = self.sink("d", 64)
        # run parameter stalls (a cosim.tb.STALL_PATTERNS name, default none): random idle cycles on every
        # source the host drives (the buffers' commands, pos and pixels, LayerNorm's parameters, b_, s_)
        # and pauses on its sinks (the router's descriptor words, the frame's output)
        self.stalls = str(self.params.extra.get("stalls", "none"))
        gaps, pauses = STALL_PATTERNS.get(self.stalls, ("?", "?"))
        if gaps == "?" or pauses == "reactive":
            raise ValueError(f"run parameter stalls={self.stalls!r}: one of none, gaps, backpressure, both")
        seed = self.params.seed
        for k, src in enumerate((*self.ports.values(), self.host_wr, self.gb, self.b, self.s)):
            if gaps:
                src.set_pause_generator(random_pauses(*gaps, seed + 100 + k))
        for k, snk in enumerate((self.d, self.host_rd)):
            if pauses:
                snk.set_pause_generator(random_pauses(*pauses, seed + 200 + k))
        self.queues = (*self.ports.values(), self.host_wr, self.gb, self.b, self.s)
        # what a step's drain waits for: its commands, pixel rows and LayerNorm parameters (b_ and s_ belong to
        # engine calls already taken, which consume them on their own schedule: the next call's wait for it)
        self.step_queues = (*self.ports.values(), self.host_wr, self.gb)
        self.idles = (dut.xb_idle, dut.hb_idle, dut.gb_idle, dut.u_la.u_lin.ap_idle, dut.u_la.u_attn.ap_idle)
        self.errs = ("hb_err", "gb_err")
        self.pending: int | None = None    # the engine call whose ap_start is raised and not yet taken
        self.x_call: int | None = None     # the engine call whose x_ the current route carries
        self.take_task = None
        self.word_error: str | None = None
        dut.route.value = ROUTE["host"]
        dut.tokens.value = rows
        dut.task_id.value = 0
        dut.n_tokens.value = rows
        for name in self.call_args:
            getattr(dut, name).value = 0

    def commands(self, st: Step):
        """The step's commands on their ports; with the run parameter kv_rounded=1 the odd writes (qkv's
        K | V, and Q where it is odd too) rounded half up instead: the double rounding the odd store
        avoids, which must make the frame differ."""
        rounded = self.params.int("kv_rounded", 0)
        return [(self.ports[p], self.shapes[p], dataclasses.replace(acc, odd=False) if rounded else acc)
                for p, acc in st.commands]

    def budget(self) -> int:
        m = self.cfg.model
        widest = max(m.dim, m.mlp_hidden, m.expert_hidden, m.patch_in)
        return 60 * self.shape.rows * widest * widest // (self.l * self.l) + 40 * self.shape.rows ** 2 * m.dim // self.l + 20000

    def engine_call(self, call, rng) -> dict:
        """frame_ctrl's linear call as the host prepares it (prepare_call: the engine's arguments, x padded
        with garbage lanes), b_ as whole words."""
        a, cfg = call.args, self.cfg
        if a["w_scale"] is not None:
            raise ValueError(f"{call.name}: per-channel weight scales are not in the RTL engine's w_ stream")
        # the gate's weights are weight_t on the engine (FrameCtrl refuses a config where they differ)
        w_role = "weight" if a["w_role"] == "gate_weight" else a["w_role"]
        c = prepare_call(self.eng, call.name, a["x_rows"], a["w"], a["b"], w_role, a["b_role"], rng,
                         x_fmt=a["x_fmt"], gelu=a["gelu"], out0=a["acc_rows"], scores=a["scores"])
        c["b_words"] = pack_vector_axi(a["b"], cfg.fmt(a["b_role"]), cfg.hardware.axi_width)
        return c

    # ---- the sequencer's pieces
    def start_call(self, n: int, c: dict, rec: FrameDma, words: int = 0):
        """Raise ap_start with engine call n's arguments (after call n - 1 was taken and, for an expert's
        call, once the router's first ``words`` descriptor words of the frame are in: its CALL word and rows)
        and hold it until the engine takes the call; then queue its b_ words (and an expert fc2's scores)."""
        prev = self.take_task

        async def take():
            if prev is not None:
                await prev
            d = self.dut
            while len(rec.d_words) < words:
                await FallingEdge(d.ap_clk)
            await FallingEdge(d.ap_clk)
            self.pending = n
            await self.take_call({k: c["args"][k] for k in self.call_args})
            await FallingEdge(d.ap_clk)
            d.ap_start.value = 0
            self.pending = None
            await self.b.send(AxiStreamFrame(c["b_words"]))
            if c["scores"] is not None:
                await self.s.send(LinearTB.lanes(c["scores"], self.act.width))

        self.take_task = cocotb.start_soon(take())

    async def drained(self, label: str, engine_calls: int, rec: FrameDma, engine_idle: bool):
        """The steps before are complete: every command word, pixel row and LayerNorm parameter sent (the
        sources idle, as in BufferHost.wait_drained), host_wr_ quiet, the buffers and attention idle, the first ``engine_calls``
        engine calls done (and, with ``engine_idle``, the engine idle)."""
        d = self.dut
        idles = (d.xb_idle, d.hb_idle, d.gb_idle, d.u_la.u_attn.ap_idle) + ((d.u_la.u_lin.ap_idle,) if engine_idle else ())
        for _ in range(self.budget()):
            await FallingEdge(d.ap_clk)
            if self.word_error:     # a wrong routing leaves the engine waiting for dropped weights
                raise AssertionError(self.word_error)
            if (all(q.idle() for q in self.step_queues) and not int(d.host_wr_TVALID.value) and len(rec.done) >= engine_calls
                    and all(int(s.value) for s in idles)):
                return
        names = ("xb_cmd", "hb_cmd", "gb_cmd", "host_wr", "gb")
        waiting = [f"{n} words not sent" for n, q in zip(names, self.step_queues) if not q.idle()]
        waiting += [f"{s._name} low" for s in idles if not int(s.value)]
        if len(rec.done) < engine_calls:
            waiting.append(f"{len(rec.done)} of the first {engine_calls} engine calls done ({len(rec.ready)} taken)")
        raise AssertionError(f"{label}: the steps before it did not drain in {self.budget()} cycles "
                             f"({', '.join(waiting) or 'host_wr_TVALID high'}; the weight FIFO holds "
                             f"{int(d.wf_level.value)} words)")

    async def issue_linear(self, st: Step, n: int, c: dict):
        """A drained linear step's route, commands and pixel rows (its call is taken or pending)."""
        d = self.dut
        d.route.value = ROUTE[st.route]
        self.x_call = n
        for port, shape, acc in self.commands(st):
            await self.send_to(port, shape, acc)
        if st.route == "patch":
            await self.host_wr.send(LinearTB.lanes(c["xp"], self.act.width))

    async def host_step(self, st: Step) -> np.ndarray | None:
        """pos written (host_beats) or the frame's x read out (returned, T x D act)."""
        self.dut.route.value = ROUTE["host"]
        ((port, acc),) = st.commands
        if acc.read:
            return await self.read_rows()
        await self.send_to(self.ports[port], self.shapes[port], acc)
        await self.host_wr.send(LinearTB.lanes(st.host_beats, self.act.width))
        await self.settle(st.label, 20 * self.shape.depth + 500)
        return None


def frame_inputs(tb: BackboneTB):
    """The run's weights (its first ``layers`` blocks), pixels and task, recorded in the result."""
    cfg, p, m = tb.cfg, tb.params, tb.cfg.model
    weights = str(p.extra.get("weights", "seeded"))
    if weights == "seeded":
        ws = seeded_weights(cfg, p.int("weight_seed", 0))
    elif weights == "published":
        from python_ref.model.real_data import published_weights   # FileNotFoundError naming the folder
        ws = published_weights()
    else:
        raise ValueError(f"run parameter weights={weights!r}: 'seeded' or 'published'")
    gain = float(p.extra.get("weight_gain", 1))
    if gain != 1:   # the float weights scaled before their conversion (which saturates): x near act's range
        ws = dataclasses.replace(ws, tensors=OrderedDict((k, v * gain) for k, v in ws.tensors.items()))
    fw = quantize_weights(cfg, ws)
    layers = p.int("layers", m.layers)
    fw = first_blocks(fw, cfg, layers)       # BackboneError naming the range
    image = str(p.extra.get("image", "chelsea"))
    task = p.int("task", 0)
    tb.res.update(layers=layers, task=task, image=image, weights=weights)
    if image == "random":
        px = np.random.default_rng(p.seed).integers(0, 1 << cfg.fmt("pixel").width, (m.channels, m.height, m.width))
    else:
        px = load_image(cfg, image).raw
    return fw, px, task


def model_check(tb: BackboneTB, rec: FrameDma, calls: list, segs: list, th) -> None:
    """Every engine call's ap_ready / ap_done against one Sequence run of the whole frame through the
    WeightFifo model, fed with the measured host cycles (Sequence cycle 0 = the first call's ap_ready),
    into the result's ``calls`` in frame cycles (the DMA's); AssertionError naming the calls that differ
    (where the model applies)."""
    cfg = tb.cfg
    off = -rec.ready[0]
    fifo = WeightFifo(segs, cfg.hardware.weight_fifo_depth, th.rate, th.word, th.burst, start=off)
    for layer, (vis, act) in rec.routes.items():
        fifo.route(layer, act, vis + off)
    seq = Sequence(cfg, w_bits=tb.eng.w_bits, fifo=fifo)
    lane_join = tb.lnl < tb.l
    exact, off_model = tb.stalls == "none", []     # the model has no stalls of b_, s_ or the commands
    for n, (label, route, c) in enumerate(calls):
        if exact and lane_join and route in ("ln", "gate"):
            exact = False      # x_ through LayerNorm's lane join: stalls the model does not describe
        if not exact:
            r = None
        else:
            r = seq.add(SeqCall(c["n_out"], c["n_in"], c["rows"], c["gelu"],
                                start=None if n == 0 else rec.starts[n] + off, x_from=rec.x_first[n] - 1 + off))
        got = {"call": label, "route": route, "layer": c["role"].layer, "part": c["role"].part,
               "expert": c["role"].expert, "rows": c["rows"], "in": c["n_in"], "out": c["n_out"],
               "start": rec.starts[n], "x_first": rec.x_first[n], "ready": rec.ready[n], "done": rec.done[n],
               "cycles": rec.done[n] - rec.ready[n], "exact_model": r is not None,
               "predicted_ready": None if r is None else r.ready - off,
               "predicted_done": None if r is None else r.done - off}
        tb.res.append("calls", got)
        if r is not None and (got["predicted_ready"], got["predicted_done"]) != (got["ready"], got["done"]):
            off_model.append((label, got["ready"], got["predicted_ready"], got["done"], got["predicted_done"]))
    assert not off_model, f"engine calls off their model (call, ready, model, done, model): {off_model[:6]}"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_backbone(dut):
    tb = BackboneTB(dut)
    cfg = tb.cfg
    fw, px, task = frame_inputs(tb)
    want = FixedM3ViT(cfg, fw)(px, task).out
    ctl_out, issued = run_frame(cfg, fw, px, task)
    assert np.array_equal(ctl_out, want), "python_ref: the frame controller's x differs from FixedM3ViT's"
    tb.res.update(max_abs_x=int(np.abs(want).max()))
    steps = issued.steps
    rng = np.random.default_rng(tb.params.seed)
    # every engine call prepared up front: the DMA streams their weights ahead of the calls
    prepared, calls, index = [], [], {}
    for k, st in enumerate(steps):
        lin = [x for x in st.calls if x.unit == "linear"]
        if (st.route in ENGINE_ROUTES) != (len(lin) == 1) or len(lin) > 1:
            raise AssertionError(f"{st.label}: a {st.route} step with engine calls {[x.name for x in lin]}")
        prepared.append(dict(tb.engine_call(lin[0], rng), role=lin[0].role) if lin else None)
        if lin:
            index[k] = len(calls)
            calls.append((lin[0].name, st.route, prepared[-1]))
    # an expert's call needs the router's descriptor words up to its own CALL word and rows (docs/moe.md:
    # per MoE layer GATE, LOAD, then each call's header and rows, in the order of the expert steps)
    need, total, pos = {}, 0, None
    for k, st in enumerate(steps):
        router = next((x for x in st.calls if x.unit == "moe_router"), None)
        if router is not None:
            pos, total = total + 2, total + len(router.args["words"])
        elif pos is not None and prepared[k] is not None and prepared[k]["role"].expert is not None:
            pos += 1 + prepared[k]["rows"]
            need[k] = pos
    segs, data = weight_stream(cfg, prepared, tb.eng.w_bits, rng)
    th = fs.ddr_throttle(cfg, tb.gbs, tb.eng.w_bits)
    rec = FrameDma(tb, segs, data, th)
    await tb.reset()
    tb.attn_done.clear()        # a pulse of the unit's random state before the reset

    started: set[int] = set()
    attn: list = []
    word_checks = []

    async def router_words(router):
        """The router's descriptor words of one layer (its d_ frame) against the controller's; a difference
        is raised by the next drain (the experts' calls may already run on the controller's routing)."""
        frame = await tb.d.recv()
        words = [int(v) for v in frame.tdata]
        tb.res.add("descriptor_words", len(words))
        try:
            check_descriptor_words(router.name, words, router.args["words"])
        except AssertionError as exc:
            tb.word_error = tb.word_error or str(exc)

    got = None

    def start(k: int):
        if index[k] not in started:
            started.add(index[k])
            tb.start_call(index[k], prepared[k], rec, need.get(k, 0))

    for k, st in enumerate(steps):
        if st.route == "host":
            await tb.drained(st.label, len(started), rec, engine_idle=True)
            out = await tb.host_step(st)
            got = out if out is not None else got
        elif st.route == "attention":
            await tb.drained(st.label, len(started), rec, engine_idle=True)
            (call,) = st.calls        # AttentionHost.run_attention without its wait for the end
            await tb.start_attention(ROUTE["attention"], st.label, call.args["tokens"], tb.budget(), tb.commands(st))
            attn.append((call.name, call.args["tokens"], tb.attn_start))
        else:
            if st.route == "patch" and rec.task is None:
                rec.start()         # the DDR starts with the frame's first engine call (frame_schedule's frame)
            start(k)
            router = next((x for x in st.calls if x.unit == "moe_router"), None)
            ln = next((x for x in st.calls if x.unit == "layernorm"), None)
            if ln is not None:  # LayerNorm is idle: the steps either side of a LayerNorm step do not use it
                await tb.send_norm_params(ln.args["g"], ln.args["b"])
            await tb.drained(st.label, index[k], rec, engine_idle=False)
            if router is not None:      # the router's scalars and the FIFO's layer, before the first logit
                dut.task_id.value = router.args["task"]
                dut.n_tokens.value = router.args["tokens"]
                dut.moe_layer.value = router.role.layer
            await tb.issue_linear(st, index[k], prepared[k])
            if router is not None:
                word_checks.append(cocotb.start_soon(router_words(router)))
        tb.res.append("steps", {"step": st.label, "route": st.route, "issued": rec.c})
        # the next engine call is started at once: the engine takes it when its loader is free (after the
        # host's pos step too: nothing else runs then; an expert's call once its descriptor words are in)
        if k + 1 < len(steps) and steps[k + 1].route in ENGINE_ROUTES and (st.route != "host" or k == 0):
            start(k + 1)
    assert got is not None, "the frame controller issued no read of x"
    for t in word_checks:
        await with_timeout(t, tb.budget() * CLOCK_PERIOD_NS, "ns")
    if tb.word_error:
        raise AssertionError(tb.word_error)
    if len(attn) != len(tb.attn_done):
        raise AssertionError(f"{len(attn)} attention layers started, {len(tb.attn_done)} ap_done pulses")
    for (label, T, t0), t1 in zip(attn, tb.attn_done):
        tb.res.append("attention", {"call": label, "T": T, "cycles": t1 - t0, "predicted_cycles": predict(tb.geom, T).cycles})
    if not rec.dma.done or rec.pushed != sum(g.words for n, g in enumerate(segs) if n not in rec.dma.skipped):
        raise AssertionError(f"the DMA pushed {rec.pushed} words and is {'done' if rec.dma.done else 'not done'}")
    if int(dut.wf_level.value) != 0:
        raise AssertionError(f"{int(dut.wf_level.value)} words left in the weight FIFO after the frame")
    inactive = [k for k, g in enumerate(segs) if g.expert is not None and g.expert[1] not in rec.routes[g.expert[0]][1]]
    skipped = set(rec.dma.skipped)
    tb.res.update(ddr_words=rec.pushed, expert_images_skipped=len(skipped),
                  expert_words_dropped=sum(segs[k].words for k in inactive if k not in skipped),
                  routing_pulses=len(rec.routes))
    if not skipped <= set(inactive):
        raise AssertionError("the DMA skipped an active expert's image")
    # the frame: from the DMA's first cycle (c = 0) to the last engine call's ap_done, inclusive, as
    # cosim.frame_schedule counts it
    t_end = rec.done[-1] + 1
    tb.res.update(frame_cycles=t_end, frame_ms=t_end / (cfg.hardware.clock_mhz * 1e3))
    if fw.layers and len(fw.layers) == cfg.model.layers:   # make perf's composed frame for the same routing
        fc1 = [(c["role"].layer, c["role"].expert, c["rows"]) for _l, _r, c in calls
               if c["role"].expert is not None and c["role"].part == "fc1"]
        frame = fs.compose(cfg, fs.routing_from_calls(cfg, fc1), gbs=tb.gbs)
        tb.res.update(composed_cycles=frame.cycles, composed_ms=frame.ms(), ratio_to_composed=t_end / frame.cycles,
                      mac_roofline_cycles=round(frame.roofline))
    tb.compare_x(got, want, "frame", tb.params.corrupt)
    model_check(tb, rec, calls, segs, th)
    assert tb.res.data["mismatches"] == 0, tb.res.data["first_mismatch"]
