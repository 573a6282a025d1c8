"""cocotb testbench of rtl/src/attention_block.sv: an attention block of the frame,
x <- x + proj(attention(qkv(LN1(x)))), with x and the hidden rows (qkv, then attention's output) in their
act_buffers, LayerNorm, and the linear engine and attention on one MAC array between them.

The host part (the frame's controller): load the layer's {beta, gamma} and x (route 0); qkv (route 1:
x's rows through LayerNorm into the engine, qkv written block-major into the hidden buffer, Q's blocks
rounded half up and K's and V's to odd: python_ref.kernels.act_buffer's odd store, which attention's
K / V conversion cannot tell from the value itself); attention (route 2, the array handed over to
attention: the hidden buffer read back in the phases' order, one read command a segment, attention's
output written after qkv); proj (route 3, the array back to the engine: the attention output into x_,
x block-major into acc_, y_ back onto x); then read x out (route 0) and compare every value with
python_ref's network step: compute_linear(attention(compute_linear(layernorm_raw(x), W_qkv, b_qkv)).out,
W_p, b_p, out=x), attn_bias biases (python_ref/model/fixed_model.py). Round 0 draws realistic weights,
round 1 full-range ones (qkv then saturates in attention's formats). Recorded: the linear calls' cycles
against cosim.linear_schedule (BufferHost.call_record; exact where LayerNorm's lanes are the engine's, a
beat every L / LNL cycles otherwise: tiny's qkv), attention's against cosim.attention_schedule.predict
(its input waits in the buffer when the layer starts).

Run parameters: corrupt, one wrong expected value (the comparison must report exactly one mismatch);
kv_rounded=1, K and V written rounded half up like Q (the double rounding the odd store avoids: the
comparison must fail on realistic data).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import cocotb

from cosim.attention_schedule import Geometry, input_segments
from cosim.buffer_host import AttentionHost
from cosim.tb import ResultWriter, RunParams
from cosim.test_linear import prepare_call
from cosim.vectors import layernorm_params, rand_raw
from python_ref.kernels.act_buffer import Access, BufferShape
from python_ref.kernels.attention import attention
from python_ref.kernels.frame_ctrl import FrameCtrl
from python_ref.kernels.layernorm import layernorm_raw

TEST_TIMEOUT_MS = 1500
ROUNDS = 2
ROUTE = {"host": 0, "qkv": 1, "attention": 2, "proj": 3}


class AttentionBlockTB(AttentionHost):
    """BlockHost on the x buffer, the hidden buffer's command port, the engine's and attention's
    controls, what prepare_call reads."""

    call_args = ("in_dim", "out_dim", "rows", "w_kind", "b_kind", "use_gelu", "mode")

    def __init__(self, dut):
        cfg = RunParams.from_env().cfg()
        self.l, self.lnl = int(dut.L.value), int(dut.LNL.value)
        rows = int(dut.ROWS.value)
        super().__init__(dut, BufferShape(self.l, cfg.model.dim, rows))
        self.nd = self.shape.nb
        self.hshape = BufferShape(self.l, int(dut.HIDDEN.value), rows, narrow=True)
        # the frame controller's rule (python_ref.kernels.frame_ctrl): Q rounded half up when q's format
        # has the operand's fraction bits, else to odd; a config where qkv cannot wait exactly is refused
        self.q_odd = FrameCtrl(cfg).q_odd
        self.kv_odd = not self.params.int("kv_rounded", 0)
        w_bits = cfg.hardware.w_bits       # the block's engine at the config's own tile: its w_ word
        self.eng = SimpleNamespace(cfg=cfg, act=self.act, li=self.l, lo=self.l, max_in=cfg.model.dim, max_rows=rows,
                                   w_bits=w_bits, w_rows=cfg.hardware.weight_word_rows, corrupt=False,
                                   e_w=w_bits // cfg.fmt("weight").width)
        self.init_attention(Geometry.from_config(cfg))
        self.res = ResultWriter(kernel="attention_block", config=cfg.name, mismatches=0, first_mismatch=None,
                                values_checked=0, calls=[], attention=[])
        self.hcmd = self.source("hb_cmd", 64)
        self.w, self.b = self.source("w", cfg.fmt("weight").width), self.source("b", cfg.fmt("attn_bias").width)
        self.host_wr, self.host_rd, self.gb = self.source("host_wr", self.act.width), self.sink("host_rd", self.act.width), \
            self.source("gb", 32)
        # both cores' own idles: the top's are the cores' AND their grant of the array
        self.queues = (self.cmd, self.hcmd, self.host_wr, self.gb, self.w, self.b)
        self.idles = (dut.xb_idle, dut.hb_idle, dut.u_la.u_lin.ap_idle, dut.u_la.u_attn.ap_idle)
        self.errs = ("hb_err",)
        self.watch_x(dut.lx_v)
        dut.route.value = 0
        dut.tokens.value = rows
        for name in self.call_args:
            getattr(dut, name).value = 0

    async def linear_call(self, route: str, c: dict, label: str, budget: int, commands):
        """One engine call on ``route`` (BlockHost.run_call), recorded with whether its model is exact
        here (qkv through the lane join is not)."""
        rec = await self.run_call(ROUTE[route], c, label, budget, commands)
        rec["exact_model"] = route != "qkv" or self.lnl == self.l
        self.res.append("calls", rec)

    async def attention_layer(self, label: str, T: int, budget: int):
        """Attention on the array: the phases' reads of qkv and the write of its output (AttentionHost)."""
        H, dh, L = self.cfg.model.heads, self.cfg.model.head_dim, self.l
        allr = tuple(range(T))
        commands = [(self.hcmd, self.hshape, Access(True, allr, first=("QKV".index(m) * H + h) * dh // L, n_beats=dh // L))
                    for m, h in input_segments(H)]
        commands.append((self.hcmd, self.hshape, Access(False, allr, first=3 * self.nd, n_beats=self.nd)))
        self.res.append("attention", await self.run_attention(ROUTE["attention"], label, T, budget, commands))


async def attention_round(tb: AttentionBlockTB, rng, label: str, full: bool, corrupt: bool):
    dut, cfg, act, m = tb.dut, tb.cfg, tb.act, tb.cfg.model
    T, D, L, nd = tb.shape.rows, m.dim, tb.l, tb.nd
    allr = tuple(range(T))
    s = (lambda v: None if full else v)
    x = rand_raw(act, (T, D), rng, 2.0)
    g, b = layernorm_params(cfg, int(rng.integers(1 << 30)))
    w_qkv = rand_raw(cfg.fmt("weight"), (3 * D, D), rng, s(1.5 / np.sqrt(D)))
    w_p = rand_raw(cfg.fmt("weight"), (D, D), rng, s(1 / np.sqrt(D)))
    ab = cfg.fmt("attn_bias")
    cq = prepare_call(tb.eng, "qkv", layernorm_raw(x, g, b, cfg), w_qkv, rand_raw(ab, 3 * D, rng, s(0.1)), "weight",
                      "attn_bias", rng)
    a_out = attention(cq["want"], cfg).out
    cp = prepare_call(tb.eng, "proj", a_out, w_p, rand_raw(ab, D, rng, s(0.1)), "weight", "attn_bias", rng, out0=x)
    budget = 60 * (T * 4 * D * D // (L * L)) + 40 * T * T * D // L + 20000

    # load: the layer's {beta, gamma} (in LayerNorm's lanes) and x
    dut.route.value = ROUTE["host"]
    await tb.send_norm_params(g, b)
    await tb.load_rows(x, drain=(tb.gb,))

    # qkv: LN1(x) into the engine, qkv into the hidden buffer (Q half up, K and V to odd)
    await tb.linear_call("qkv", cq, f"{label}_qkv", budget, [
        (tb.cmd, tb.shape, Access(True, allr)),
        (tb.hcmd, tb.hshape, Access(False, allr, block_major=True, n_beats=nd, odd=tb.q_odd)),
        (tb.hcmd, tb.hshape, Access(False, allr, block_major=True, first=nd, n_beats=2 * nd, odd=tb.kv_odd))])
    # attention on the array, from the hidden buffer into it
    await tb.attention_layer(f"{label}_attention", T, budget)
    # proj: attention's output into the engine, acc_ from x, y_ back onto x
    await tb.linear_call("proj", cp, f"{label}_proj", budget, [
        (tb.hcmd, tb.hshape, Access(True, allr, first=3 * nd, n_beats=nd)),
        (tb.cmd, tb.shape, Access(True, allr, block_major=True)),
        (tb.cmd, tb.shape, Access(False, allr, block_major=True))])

    dut.route.value = ROUTE["host"]
    tb.compare_x(await tb.read_rows(), cp["want"], label, corrupt)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_attention_block(dut):
    tb = AttentionBlockTB(dut)
    await tb.reset()
    rng = np.random.default_rng(tb.params.seed)
    for rnd in range(ROUNDS):
        await attention_round(tb, rng, f"round{rnd}", bool(rnd % 2), tb.params.corrupt and rnd == ROUNDS - 1)
    assert tb.res.data["mismatches"] == 0, tb.res.data["first_mismatch"]
