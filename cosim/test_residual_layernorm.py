"""cocotb testbench of rtl/src/residual_layernorm.sv: LayerNorm's rows read from the residual buffer
(rtl/src/act_buffer.sv), zipped with the layer's {beta, gamma} and streamed into the linear engine,
the frame's LN1 -> qkv, LN2 -> fc1 and LN2 -> gate.

The host part: load the layer's {beta, gamma} (gb_) and x (a write command and host_wr_), then per
call hold ap_start until ap_ready and, once it is taken, issue the buffer's row-major read of the
call's rows (all rows, or a gather list; in the frame's order, once the call before is done) and
queue the call's w_ and b_ images. Each call's y_ is
compared with python_ref, compute_linear(layernorm_raw(x, gamma, beta)[rows], W, b), every value
(cosim/test_linear.py's check_call). The calls go back to back; per call the bench records LayerNorm's
input from the buffer and its output into the engine, and asserts that both run a beat a cycle inside
a call (the buffer keeps LayerNorm's input rate, LayerNorm keeps the engine's: D / L beats a row).

Run parameter corrupt: one wrong expected value (the comparison must report exactly one mismatch).
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiStreamFrame

from cosim.buffer_host import BufferHost
from cosim.tb import ResultWriter, RunParams
from cosim.test_linear import check_call, prepare_call
from cosim.vectors import layernorm_params, rand_raw
from python_ref.kernels.act_buffer import Access, BufferShape
from python_ref.kernels.layernorm import layernorm_raw

TEST_TIMEOUT_MS = 400


class ResidualLnTB(BufferHost):
    """The streams on top of BufferHost, LayerNorm's input and output beats, and what check_call /
    prepare_call read of a linear testbench."""

    def __init__(self, dut):
        cfg = RunParams.from_env().cfg()
        super().__init__(dut, BufferShape(int(dut.L.value), cfg.model.dim, int(dut.ROWS.value)))
        self.l, self.lo = int(dut.L.value), int(dut.LO.value)
        self.li = self.l                                  # the engine's LI is LayerNorm's lanes
        self.max_in, self.max_rows = cfg.model.dim, int(dut.MAX_ROWS.value)
        self.w_bits, self.w_rows = int(dut.W_BITS.value), int(dut.W_ROWS.value)
        self.e_w = self.w_bits // cfg.fmt("weight").width
        self.corrupt = self.params.corrupt
        self.first_mismatch = None
        self.results = ResultWriter(kernel="residual_layernorm", config=cfg.name, layers=0, out_values=0, mismatches=0,
                                    calls=[])
        self.w, self.b = self.source("w", cfg.fmt("weight").width), self.source("b", cfg.fmt("bias").width)
        self.host_wr, self.gb = self.source("host_wr", self.act.width), self.source("gb", 32)
        self.y = self.sink("y", self.act.width)
        self.ln_in: list[int] = []       # cycles of LayerNorm's input beats (the buffer's reads)
        self.xn: list[int] = []          # cycles of LayerNorm's output beats into the engine
        for name in ("out_dim", "rows", "w_kind", "b_kind", "use_gelu"):
            getattr(dut, name).value = 0

    def on_edge(self):
        d = self.dut
        if int(d.u_lnl.x_TVALID.value) and int(d.u_lnl.x_TREADY.value):
            self.ln_in.append(self.cycle)
        if int(d.xn_TVALID.value) and int(d.xn_TREADY.value):
            self.xn.append(self.cycle)

    async def load(self, x: np.ndarray, g: np.ndarray, b: np.ndarray):
        """The layer's {beta, gamma} (gamma in a lane's low 16 bits) and x (T x D, row-major)."""
        await self.send_norm_params(g, b)
        await self.load_rows(x, drain=(self.gb,))


async def run_calls(tb: ResidualLnTB, calls: list, label: str) -> list:
    dut = tb.dut
    await FallingEdge(dut.ap_clk)
    tb.ready_cycles, tb.done_cycles, tb.ln_in, tb.xn = [], [], [], []
    frames: list = [[] for _ in calls]

    async def read_rows(n, c):
        # the frame's order: a call's LayerNorm input starts once the call before it is done (its engine
        # free to take x_ at LayerNorm's rate), as cosim.frame_schedule.linear_sequence counts it
        while len(tb.done_cycles) < n:
            await RisingEdge(dut.ap_clk)
        await tb.send_cmd(Access(True, tuple(int(r) for r in c["sel"]), listed=c["listed"]))

    async def host():
        for n, c in enumerate(calls):
            await tb.take_call({k: c["args"][k] for k in ("out_dim", "rows", "w_kind", "b_kind", "use_gelu")})
            cocotb.start_soon(read_rows(n, c))
            cocotb.start_soon(tb.w.send(AxiStreamFrame(c["w_lanes"])))
            cocotb.start_soon(tb.b.send(AxiStreamFrame(c["b_lanes"])))
            await FallingEdge(dut.ap_clk)
        dut.ap_start.value = 0

    async def receive():
        for n, c in enumerate(calls):
            for _ in range(c["n_ob"]):
                frames[n].append(await tb.y.recv())

    cocotb.start_soon(host())
    rx = cocotb.start_soon(receive())
    budget = sum(4000 + 40 * c["rows"] * (c["n_ob"] * c["n_ib"] + c["n_ob"]) + 2 * len(c["w_lanes"]) for c in calls)
    for _ in range(budget):
        await RisingEdge(dut.ap_clk)
        if rx.done() and len(tb.done_cycles) == len(calls):
            break
    else:
        raise AssertionError(f"{label}: {len(tb.done_cycles)} of {len(calls)} calls done after {budget} cycles, "
                             f"{[len(f) for f in frames]} output frames")
    nb = tb.shape.nb
    recs, k = [], 0
    for n, c in enumerate(calls):
        bad = check_call(tb, c, frames[n])
        beats = c["rows"] * nb
        cin, cxn = tb.ln_in[k:k + beats], tb.xn[k:k + beats]
        k += beats
        rec = {"call": f"{label}_{n}_{c['label']}", "rows": c["rows"], "out": c["n_out"], "mismatches": bad,
               "ready": tb.ready_cycles[n], "done": tb.done_cycles[n], "ln_in_first": cin[0], "xn_first": cxn[0],
               "ln_in_gap_cycles": cin[-1] - cin[0] + 1 - beats, "xn_gap_cycles": cxn[-1] - cxn[0] + 1 - beats}
        tb.results.append("calls", rec)
        dut._log.info(f"{rec}")
        recs.append(rec)
    return recs


def ln_calls(tb: ResidualLnTB, rng, x: np.ndarray, g: np.ndarray, b: np.ndarray) -> list:
    """qkv, fc1 with GELU and the gate on every row, then a call on a gather list (an odd out_dim)."""
    cfg, m = tb.cfg, tb.cfg.model
    T = tb.shape.rows
    xn = layernorm_raw(x, g, b, cfg)
    out = []
    for label, n_out, gelu, b_role, sel, listed in (
            ("qkv", 3 * m.dim, False, "attn_bias", np.arange(T), False),
            ("fc1", m.mlp_hidden, True, "bias", np.arange(T), False),
            ("gate", m.experts, False, "bias", np.arange(T), False),
            ("gathered", 2 * tb.lo + 1, True, "bias", rng.permutation(T)[:max(1, T // 2)], True)):
        w = rand_raw(cfg.fmt("weight"), (n_out, m.dim), rng, 1.0 / np.sqrt(m.dim))
        c = prepare_call(tb, label, xn, w, rand_raw(cfg.fmt(b_role), n_out, rng, 0.1), "weight", b_role, rng,
                         gelu=gelu, gather=sel)
        c["sel"], c["listed"] = sel, listed
        out.append(c)
    return out


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_ln_calls_from_the_buffer(dut):
    tb = ResidualLnTB(dut)
    await tb.reset()
    rng = np.random.default_rng(tb.params.seed)
    T, D = tb.shape.rows, tb.cfg.model.dim
    x = rand_raw(tb.act, (T, D), rng, 2.0)
    g, b = layernorm_params(tb.cfg, tb.params.seed)
    await tb.load(x, g, b)
    recs = await run_calls(tb, ln_calls(tb, rng, x, g, b), "ln")
    assert tb.results.data["mismatches"] == 0, tb.first_mismatch
    gaps = [(r["call"], r["ln_in_gap_cycles"], r["xn_gap_cycles"]) for r in recs
            if r["ln_in_gap_cycles"] or r["xn_gap_cycles"]]
    assert not gaps, f"LayerNorm's input from the buffer or its output into the engine had gaps: {gaps}"
