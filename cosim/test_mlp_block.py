"""cocotb testbench of rtl/src/mlp_block.sv: a dense MLP block, x <- x + fc2(GELU(fc1(LN2(x)))), with
x and fc1's hidden rows in their act_buffers, LayerNorm and the linear engine between them.

The host part (the frame's controller): load the layer's {beta, gamma} and x (route 0); fc1 (route 1:
the x read of every row through LayerNorm into the engine, the hidden rows written block-major into
h); once fc1 is done, fc2 (route 2: h read row-major into the engine's x_, x read block-major into
acc_, y_ written back onto x); then read x out (route 0) and compare every value with python_ref:
compute_linear(h, W2, b2, out=x) with h = compute_linear(layernorm_raw(x), W1, b1, gelu). The hidden
rows pass the narrow buffer (operands), which the engine's own conversion of x_ makes exact. Each
round draws new x and weights; x is checked after each. Every call's ap_ready -> ap_done is recorded
beside cosim.linear_schedule's from the cycle its x_ came (BufferHost.call_record).

Run parameter corrupt: one wrong expected value (the comparison must report exactly one mismatch).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import cocotb

from cosim.buffer_host import BlockHost
from cosim.tb import ResultWriter, RunParams
from cosim.test_linear import prepare_call
from cosim.vectors import layernorm_params, rand_raw
from python_ref.kernels.act_buffer import Access, BufferShape
from python_ref.kernels.layernorm import layernorm_raw

TEST_TIMEOUT_MS = 800
ROUNDS = 2


class MlpTB(BlockHost):
    """BlockHost on the x buffer, the h buffer's command port, the streams, what prepare_call reads."""

    def __init__(self, dut):
        cfg = RunParams.from_env().cfg()
        self.l = int(dut.L.value)
        rows = int(dut.ROWS.value)
        super().__init__(dut, BufferShape(self.l, cfg.model.dim, rows))
        self.hshape = BufferShape(self.l, int(dut.HIDDEN.value), rows, narrow=True)
        aw = self.act.width
        w_bits = int(dut.W_BITS.value)
        self.eng = SimpleNamespace(cfg=cfg, act=self.act, li=self.l, lo=self.l, max_in=max(cfg.model.dim, self.hshape.values),
                                   max_rows=rows, w_bits=w_bits, w_rows=int(dut.W_ROWS.value), corrupt=False,
                                   e_w=w_bits // cfg.fmt("weight").width)
        self.res = ResultWriter(kernel="mlp_block", config=cfg.name, mismatches=0, first_mismatch=None, values_checked=0,
                                calls=[])
        self.hcmd = self.source("hb_cmd", 64)
        self.w, self.b = self.source("w", cfg.fmt("weight").width), self.source("b", cfg.fmt("bias").width)
        self.host_wr, self.host_rd, self.gb = self.source("host_wr", aw), self.sink("host_rd", aw), self.source("gb", 32)
        self.queues = (self.cmd, self.hcmd, self.host_wr, self.gb, self.w, self.b)
        self.idles = (dut.xb_idle, dut.hb_idle, dut.ap_idle)
        self.errs = ("hb_err",)
        self.watch_x(dut.ex_v)
        dut.route.value = 0
        for name in self.call_args:
            getattr(dut, name).value = 0


async def mlp_round(tb: MlpTB, rng, label: str, corrupt: bool):
    dut, cfg, act, m = tb.dut, tb.cfg, tb.act, tb.cfg.model
    T, D, H = tb.shape.rows, m.dim, tb.hshape.values
    allr = tuple(range(T))
    x = rand_raw(act, (T, D), rng, 2.0)
    g, b = layernorm_params(cfg, int(rng.integers(1 << 30)))
    w1 = rand_raw(cfg.fmt("weight"), (H, D), rng, 1.0 / np.sqrt(D))
    w2 = rand_raw(cfg.fmt("weight"), (D, H), rng, 1.0 / np.sqrt(H))
    c1 = prepare_call(tb.eng, "fc1", layernorm_raw(x, g, b, cfg), w1, rand_raw(cfg.fmt("bias"), H, rng, 0.1),
                      "weight", "bias", rng, gelu=True)
    c2 = prepare_call(tb.eng, "fc2", c1["want"], w2, rand_raw(cfg.fmt("bias"), D, rng, 0.1), "weight", "bias", rng,
                      out0=x)
    budget = 50 * (T * (D + H) * max(D, H) // (tb.l * tb.l)) + 20000

    # load: the layer's {beta, gamma} and x
    dut.route.value = 0
    await tb.send_norm_params(g, b)
    await tb.load_rows(x, drain=(tb.gb,))

    # fc1: x's rows through LayerNorm into the engine, the hidden rows into h
    tb.res.append("calls", await tb.run_call(1, c1, f"{label}_fc1", budget, [
        (tb.cmd, tb.shape, Access(True, allr)),
        (tb.hcmd, tb.hshape, Access(False, allr, block_major=True))]))
    # fc2: h into the engine, acc_ from x, y_ back onto x
    tb.res.append("calls", await tb.run_call(2, c2, f"{label}_fc2", budget, [
        (tb.hcmd, tb.hshape, Access(True, allr)),
        (tb.cmd, tb.shape, Access(True, allr, block_major=True)),
        (tb.cmd, tb.shape, Access(False, allr, block_major=True))]))

    # read x out
    dut.route.value = 0
    tb.compare_x(await tb.read_rows(), c2["want"], label, corrupt)

@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_mlp_block(dut):
    tb = MlpTB(dut)
    await tb.reset()
    rng = np.random.default_rng(tb.params.seed)
    for rnd in range(ROUNDS):
        await mlp_round(tb, rng, f"round{rnd}", tb.params.corrupt and rnd == ROUNDS - 1)
    assert tb.res.data["mismatches"] == 0, tb.res.data["first_mismatch"]
