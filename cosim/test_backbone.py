"""cocotb testbench of rtl/src/backbone.sv: a whole frame of the network in RTL, from pos and the pixels to
the last layer's x, checked value for value against python_ref's fixed-point network (FixedM3ViT, the
definition of python_ref.kernels.backbone.backbone_raw).

The host part is the frame's controller, python_ref/kernels/frame_ctrl.py: run_frame issues the frame on
its model of the buffers, and this bench replays what it issued, step by step (frame_ctrl.Step: a route,
the buffers' commands and the calls on it) - nothing here knows the network's order. Per step: the route;
LayerNorm's {beta, gamma} on gb_; the engine's call taken, then the step's commands in issue order, the
pixel rows on host_wr_ (the patch embedding), the weights and biases (one w_ word and one b_ word a beat)
and an expert fc2's scores on s_; attention started on the array once its input waits; the router's
descriptor words on d_ compared word for word with the controller's (python_ref's route, schedule and
descriptor_words of the RTL's own logits), which decided the expert steps that follow. The frame's x is
read out on the last (host) step.

Recorded: every linear call's ap_ready -> ap_done against cosim.linear_schedule's model from the cycle its
x_ came (BufferHost.call_record; exact where the x_ does not pass LayerNorm's lane join, tiny's LN1 / LN2
calls), attention's against cosim.attention_schedule.predict, the descriptor words, and the frame's cycles
as this host drives it (it issues a call's commands after the call is taken and waits for every unit to be
idle between steps: not the accelerator's latency, which is docs/performance.md's).

Run parameters: image (a python_ref.model.images name: "edge_moe" is Edge-MoE's published frame; or
"random": full-range pixels from the seed), task, layers (the frame's first blocks, 0 = the patch embedding
only; all by default), weights ("seeded", the default, with weight_seed; or "published": Edge-MoE's trained
weights with seeded stand-in expert matrices, python_ref.model.real_data.published_weights), weight_gain
(the float weights multiplied by it before their conversion, which saturates: activations near act's range),
kv_rounded (the odd writes rounded half up: must fail), corrupt (one wrong expected value: exactly one
mismatch must be reported).
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np

import cocotb
from cocotb.triggers import with_timeout

from cosim.attention_schedule import Geometry
from cosim.buffer_host import AttentionHost, check_descriptor_words
from cosim.tb import CLOCK_PERIOD_NS, ResultWriter, RunParams
from cosim.vectors import norm_param_lanes
from cosim.test_linear import LinearTB, prepare_call
from python_ref.kernels.act_buffer import BufferShape
from python_ref.kernels.frame_ctrl import ROUTES, FrameCtrl, Step, run_frame
from python_ref.kernels.linear import pack_vector_axi
from python_ref.model import load_image, seeded_weights
from python_ref.model.fixed_model import FixedM3ViT, quantize_weights

TEST_TIMEOUT_MS = 3000
ROUTE = {r: i for i, r in enumerate(ROUTES)}


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
        w_bits = hw.w_bits
        self.eng = SimpleNamespace(cfg=cfg, act=self.act, li=self.l, lo=self.l, max_in=int(dut.u_la.MAX_IN.value),
                                   max_rows=rows, w_bits=w_bits, w_rows=hw.weight_word_rows, corrupt=False,
                                   e_w=w_bits // cfg.fmt("weight").width)
        self.init_attention(Geometry.from_config(cfg))
        self.res = ResultWriter(kernel="backbone", config=cfg.name, mismatches=0, first_mismatch=None, values_checked=0,
                                steps=[], calls=[], attention=[], descriptor_words=0, frame_cycles=None)
        aw = self.act.width
        self.ports = {"x_": self.cmd, "h_": self.source("hb_cmd", 64), "g_": self.source("gb_cmd", 64)}
        # w_ and b_ a whole word a beat: the weight and bias formats of the calls differ in width in general
        self.w, self.b = self.source("w", w_bits), self.source("b", hw.axi_width)
        self.s = self.source("s", aw)
        self.host_wr, self.host_rd, self.gb = self.source("host_wr", aw), self.sink("host_rd", aw), self.source("gb", 32)
        self.d = self.sink("d", 64)
        self.queues = (*self.ports.values(), self.host_wr, self.gb, self.w, self.b, self.s)
        self.idles = (dut.xb_idle, dut.hb_idle, dut.gb_idle, dut.u_la.u_lin.ap_idle, dut.u_la.u_attn.ap_idle)
        self.errs = ("hb_err", "gb_err")
        self.watch_x(dut.ex_v)      # the engine's own x_ (behind its register slice)
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

    async def send_norm_params(self, g, b):
        """A LayerNorm call's {beta, gamma}, per LayerNorm lane (rtl/src/ln_param_zip.sv)."""
        await self.gb.send(LinearTB.lanes(norm_param_lanes(g, b), 32))

    def engine_call(self, call, rng) -> dict:
        """frame_ctrl's linear call as the host prepares it (prepare_call: the engine's arguments, x padded
        with garbage lanes), w_ and b_ as whole words."""
        a, cfg = call.args, self.cfg
        if a["w_scale"] is not None:
            raise ValueError(f"{call.name}: per-channel weight scales are not in the RTL engine's w_ stream")
        # the gate's weights are weight_t on the engine (FrameCtrl refuses a config where they differ)
        w_role = "weight" if a["w_role"] == "gate_weight" else a["w_role"]
        c = prepare_call(self.eng, call.name, a["x_rows"], a["w"], a["b"], w_role, a["b_role"], rng,
                         x_fmt=a["x_fmt"], gelu=a["gelu"], out0=a["acc_rows"], scores=a["scores"])
        c["w_lanes"] = c["w_words"]
        c["b_lanes"] = pack_vector_axi(a["b"], cfg.fmt(a["b_role"]), cfg.hardware.axi_width)
        return c

    async def linear_step(self, st: Step, rng):
        """A step with one engine call (patch, ln, gate, hidden, acc), its LayerNorm and router calls."""
        d = self.dut
        by_unit = {c.unit: c for c in st.calls}
        if sorted(by_unit) != sorted(c.unit for c in st.calls) or "linear" not in by_unit:
            raise AssertionError(f"{st.label}: a {st.route} step needs one engine call, got {[c.unit for c in st.calls]}")
        lin = by_unit["linear"]
        if "layernorm" in by_unit:
            await self.send_norm_params(by_unit["layernorm"].args["g"], by_unit["layernorm"].args["b"])
        router = by_unit.get("moe_router")
        words_rx = None
        if router is not None:
            d.task_id.value = router.args["task"]
            d.n_tokens.value = router.args["tokens"]
            words_rx = cocotb.start_soon(self.d.recv())
        c = self.engine_call(lin, rng)
        x_beats = LinearTB.lanes(c["xp"], self.act.width) if st.route == "patch" else None
        rec = await self.run_call(ROUTE[st.route], c, lin.name, self.budget(), self.commands(st), scores=c["scores"],
                                  x_beats=x_beats)
        rec["route"] = st.route
        rec["exact_model"] = st.route not in ("ln", "gate") or self.lnl == self.l
        self.res.append("calls", rec)
        if router is not None:
            frame = await with_timeout(words_rx, self.budget() * CLOCK_PERIOD_NS, "ns")
            words = [int(v) for v in frame.tdata]
            self.res.add("descriptor_words", len(words))
            check_descriptor_words(router.name, words, router.args["words"])

    async def attention_step(self, st: Step):
        """Attention on the array, the step's reads and write commanded (AttentionHost.run_attention)."""
        (call,) = st.calls
        self.res.append("attention", await self.run_attention(ROUTE["attention"], call.name, call.args["tokens"],
                                                              self.budget(), self.commands(st)))

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
    if not 0 <= layers <= m.layers:
        raise ValueError(f"run parameter layers={layers}: config {cfg.name!r} has blocks 0..{m.layers}")
    fw = dataclasses.replace(fw, layers=fw.layers[:layers])
    image = str(p.extra.get("image", "chelsea"))
    task = p.int("task", 0)
    tb.res.update(layers=layers, task=task, image=image, weights=weights)
    if image == "random":
        px = np.random.default_rng(p.seed).integers(0, 1 << cfg.fmt("pixel").width, (m.channels, m.height, m.width))
    else:
        px = load_image(cfg, image).raw
    return fw, px, task


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_backbone(dut):
    tb = BackboneTB(dut)
    fw, px, task = frame_inputs(tb)
    want = FixedM3ViT(tb.cfg, fw)(px, task).out
    ctl_out, issued = run_frame(tb.cfg, fw, px, task)
    assert np.array_equal(ctl_out, want), "python_ref: the frame controller's x differs from FixedM3ViT's"
    tb.res.update(max_abs_x=int(np.abs(want).max()))
    await tb.reset()
    rng = np.random.default_rng(tb.params.seed)
    start, got = tb.cycle, None
    for st in issued.steps:
        t0 = tb.cycle
        if st.route == "host":
            out = await tb.host_step(st)
            got = out if out is not None else got
        elif st.route == "attention":
            await tb.attention_step(st)
        else:
            await tb.linear_step(st, rng)
        tb.res.append("steps", {"step": st.label, "route": st.route, "cycles": tb.cycle - t0})
    tb.res.update(frame_cycles=tb.cycle - start)
    assert got is not None, "the frame controller issued no read of x"
    tb.compare_x(got, want, "frame", tb.params.corrupt)
    assert tb.res.data["mismatches"] == 0, tb.res.data["first_mismatch"]
