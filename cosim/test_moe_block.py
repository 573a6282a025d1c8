"""cocotb testbench of rtl/src/moe_block.sv: a MoE block of the frame, x <- x + MoE(LN2(x)), with x, LN2(x)
beside an expert's hidden rows, and the gate logits in their act_buffers, LayerNorm, the linear engine and
moe_router between them.

The host part (the frame's controller): load the layer's {beta, gamma} and x (route 0); the gate (route 1:
x's rows through LayerNorm into the engine and, the same beats, into the hidden buffer; the logits into
their buffer, read back into the router); the router's descriptor words, checked word for word against
python_ref's descriptor_words(route(gate_logits(LN2(x)))) and decoded (python_ref's decode_descriptors)
into the experts' calls; per active expert fc1 (route 2: the expert's listed rows of LN2(x) into the
engine, its hidden rows written block-major after them) and fc2 (route 3: the hidden rows into the engine,
x's listed rows block-major into acc_, the scores on s_, y_ back onto the same rows of x); then read x
out (route 0) and compare every value with python_ref's network step x + moe_raw(LN2(x)).moe_acc
(python_ref/model/fixed_model.py). The experts accumulate straight onto x, which equals that under act's
WRAP (python_ref/kernels/moe.py, "Order over experts"); the bench checks the equality on python_ref's side
too. Round 0 draws realistic x and weights, round 1 full-range ones (the sums wrap). Every call's
ap_ready -> ap_done is recorded beside cosim.linear_schedule's from the cycle its x_ came
(BufferHost.call_record).

Run parameter corrupt: one wrong expected value (the comparison must report exactly one mismatch).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import cocotb
from cocotb.triggers import with_timeout

from cosim.buffer_host import BlockHost, check_descriptor_words
from cosim.tb import CLOCK_PERIOD_NS, ResultWriter, RunParams
from cosim.test_linear import prepare_call
from cosim.vectors import layernorm_params, rand_raw
from python_ref.kernels.act_buffer import Access, BufferShape
from python_ref.kernels.frame_ctrl import FrameCtrl
from python_ref.kernels.layernorm import layernorm_raw
from python_ref.kernels.moe import MoEWeights, decode_descriptors, descriptor_words, gate_logits, moe_raw

TEST_TIMEOUT_MS = 1500
ROUNDS = 2
ROUTE = {"host": 0, "gate": 1, "fc1": 2, "fc2": 3}


class MoeBlockTB(BlockHost):
    """BlockHost on the x buffer, the hidden and logits buffers' command ports, the engine's streams,
    the router's descriptor words, what prepare_call reads."""

    def __init__(self, dut):
        cfg = RunParams.from_env().cfg()
        FrameCtrl(cfg)   # the frame controller's rules: act wraps (the experts accumulate onto x), gate_weight = weight
        self.l = int(dut.L.value)
        rows = int(dut.ROWS.value)
        super().__init__(dut, BufferShape(self.l, cfg.model.dim, rows))
        m = cfg.model
        self.nd = self.shape.nb
        self.hshape = BufferShape(self.l, int(dut.HIDDEN.value), rows, narrow=True)
        self.gshape = BufferShape(int(dut.GL.value), m.experts, rows)
        aw = self.act.width
        w_bits = int(dut.W_BITS.value)
        self.eng = SimpleNamespace(cfg=cfg, act=self.act, li=self.l, lo=self.l, max_in=max(m.dim, m.expert_hidden),
                                   max_rows=rows, w_bits=w_bits, w_rows=int(dut.W_ROWS.value), corrupt=False,
                                   e_w=w_bits // cfg.fmt("weight").width)
        self.res = ResultWriter(kernel="moe_block", config=cfg.name, mismatches=0, first_mismatch=None, values_checked=0,
                                descriptor_words=0, active_experts=[], calls=[])
        self.hcmd, self.gcmd = self.source("hb_cmd", 64), self.source("gb_cmd", 64)
        self.w, self.b = self.source("w", cfg.fmt("weight").width), self.source("b", cfg.fmt("bias").width)
        self.s = self.source("s", aw)
        self.host_wr, self.host_rd, self.gb = self.source("host_wr", aw), self.sink("host_rd", aw), self.source("gb", 32)
        self.d = self.sink("d", 64)
        self.queues = (self.cmd, self.hcmd, self.gcmd, self.host_wr, self.gb, self.w, self.b, self.s)
        self.idles = (dut.xb_idle, dut.hb_idle, dut.gb_idle, dut.ap_idle)
        self.errs = ("hb_err", "gb_err")
        self.watch_x(dut.ex_v)
        dut.route.value = 0
        dut.task_id.value = 0
        dut.n_tokens.value = rows
        for name in self.call_args:
            getattr(dut, name).value = 0

    async def call(self, route: str, c: dict, label: str, budget: int, commands, scores=None):
        """One engine call on ``route`` (BlockHost.run_call), recorded."""
        self.res.append("calls", await self.run_call(ROUTE[route], c, label, budget, commands, scores))


def draw_layer(tb: MoeBlockTB, rng, full: bool):
    """x, LayerNorm's parameters and the layer's weights: realistic or full range (the sums wrap)."""
    cfg, m = tb.cfg, tb.cfg.model
    E, D, H = m.experts, m.dim, m.expert_hidden
    s = (lambda v: None if full else v)
    wfmt, bfmt = cfg.fmt("weight"), cfg.fmt("bias")
    x = rand_raw(tb.act, (tb.shape.rows, D), rng, None if full else 2.0)
    g, b = layernorm_params(cfg, int(rng.integers(1 << 30)))
    w = MoEWeights(rand_raw(cfg.fmt("gate_weight"), (m.tasks, E, D), rng, s(2 / np.sqrt(D))),
                   rand_raw(wfmt, (E, H, D), rng, s(1 / np.sqrt(D))), rand_raw(bfmt, (E, H), rng, s(0.1)),
                   rand_raw(wfmt, (E, D, H), rng, s(1 / np.sqrt(H))), rand_raw(bfmt, (E, D), rng, s(0.1)))
    return x, g, b, w


async def moe_round(tb: MoeBlockTB, rng, label: str, full: bool, corrupt: bool):
    dut, cfg, act, m = tb.dut, tb.cfg, tb.act, tb.cfg.model
    T, D, EH, L = tb.shape.rows, m.dim, m.expert_hidden, tb.l
    allr = tuple(range(T))
    x, g, b, w = draw_layer(tb, rng, full)
    task = int(rng.integers(m.tasks))
    ln2 = layernorm_raw(x, g, b, cfg)
    ref = moe_raw(ln2, w, task, cfg)
    want_words = [int(v) for v in descriptor_words(ref.routing, ref.schedule, task, cfg)]
    # the network's residual add (python_ref/model/fixed_model.py: an act_t assignment)
    want = (act.fx(x) + act.fx(ref.moe_acc)).cast(act).raw.astype(np.int64)
    budget = 50 * (T * (D + EH) * max(D, EH) // (L * L)) + 20000

    # load: the layer's {beta, gamma} and x
    dut.route.value = ROUTE["host"]
    await tb.send_norm_params(g, b)
    await tb.load_rows(x, drain=(tb.gb,))

    # the gate: LN2(x) into the engine and the hidden buffer, the logits into theirs and on to the router
    dut.task_id.value = task
    dut.n_tokens.value = T
    cg = prepare_call(tb.eng, "gate", ln2, w.w_gate[task], np.zeros(m.experts, dtype=np.int64), "weight", "bias", rng)
    assert np.array_equal(cg["want"], gate_logits(ln2, w.w_gate, task, cfg)), "python_ref: the gate call is gate_logits"
    words_rx = cocotb.start_soon(tb.d.recv())
    await tb.call("gate", cg, f"{label}_gate", budget, [
        (tb.cmd, tb.shape, Access(True, allr)),
        (tb.hcmd, tb.hshape, Access(False, allr, n_beats=tb.nd)),
        (tb.gcmd, tb.gshape, Access(False, allr, block_major=True)),
        (tb.gcmd, tb.gshape, Access(True, allr))])
    frame = await with_timeout(words_rx, budget * CLOCK_PERIOD_NS, "ns")
    words = [int(v) for v in frame.tdata]
    tb.res.add("descriptor_words", len(words))
    check_descriptor_words(label, words, want_words)
    _task, _rows, sched = decode_descriptors(words, cfg)
    tb.res.append("active_experts", [int(e) for e in ref.active])

    # the experts, as the descriptor words say: fc1 from LN2(x)'s listed rows, fc2 onto x's listed rows
    xs, h = x.copy(), None
    ehb = EH // L
    for c in sched.calls:
        e, n = c.expert, len(c.gather)
        if c.layer == "fc1":
            toks = tuple(int(t) for t in c.gather)
            cc = prepare_call(tb.eng, "fc1", ln2, w.w1[e], w.b1[e], "weight", "bias", rng, gelu=True, gather=c.gather)
            await tb.call("fc1", cc, f"{label}_e{e}_fc1", budget, [
                (tb.hcmd, tb.hshape, Access(True, toks, listed=True, n_beats=tb.nd)),
                (tb.hcmd, tb.hshape, Access(False, tuple(range(n)), block_major=True, first=tb.nd, n_beats=ehb))])
            h = cc["want"]
        else:
            toks = tuple(int(t) for t in c.scatter)
            cc = prepare_call(tb.eng, "fc2", h, w.w2[e], w.b2[e], "weight", "bias", rng, out0=xs, scatter=c.scatter,
                              scores=c.scores)
            await tb.call("fc2", cc, f"{label}_e{e}_fc2", budget, [
                (tb.hcmd, tb.hshape, Access(True, tuple(range(n)), first=tb.nd, n_beats=ehb)),
                (tb.cmd, tb.shape, Access(True, toks, block_major=True, listed=True)),
                (tb.cmd, tb.shape, Access(False, toks, block_major=True, listed=True))], scores=c.scores)
            xs = cc["want"]
    assert np.array_equal(xs, want), "python_ref: the experts accumulated onto x differ from x + moe_acc"

    # read x out
    dut.route.value = ROUTE["host"]
    tb.compare_x(await tb.read_rows(), want, label, corrupt)

@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_moe_block(dut):
    tb = MoeBlockTB(dut)
    await tb.reset()
    rng = np.random.default_rng(tb.params.seed)
    for rnd in range(ROUNDS):
        await moe_round(tb, rng, f"round{rnd}", bool(rnd % 2), tb.params.corrupt and rnd == ROUNDS - 1)
    assert tb.res.data["mismatches"] == 0, tb.res.data["first_mismatch"]
