"""cocotb testbench of rtl/src/residual_linear.sv: the linear engine's accumulate calls on the
residual buffer (rtl/src/act_buffer.sv), the way the frame runs proj, the dense fc2 and the experts'
fc2: acc_ from the buffer, y_ back into it, the buffer's commands issued beside the engine's calls.

The host part (what the frame's controller will do): load x into the buffer (host_sel = 1), then for
each call hold ap_start until ap_ready and, once it is taken, queue the call's buffer commands (a
block-major read of its destination rows for acc_, a block-major write of the same rows for y_;
listed for a scatter), its x_ rows, w_ and b_ images and (scaled) s_ scores; at the end read x out
(host_sel = 1) and compare it, every value, with python_ref: the calls applied in order by
compute_linear(x_rows, W, b, out=x, scatter=, scores=). The calls of a sequence go back to back, and
every call's ap_ready and ap_done must equal cosim.linear_schedule.Sequence's prediction: the buffer
feeds acc_ without slowing the engine (the read command waits behind the fence for the previous
call's writes, then runs ahead of the output stage).

Run parameter corrupt: one wrong expected value (the comparison must report exactly one mismatch).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiStreamFrame

from cosim.buffer_host import BufferHost
from cosim.linear_schedule import SeqCall, Sequence
from cosim.tb import ResultWriter
from cosim.test_linear import LinearTB, prepare_call
from cosim.vectors import rand_raw
from python_ref.kernels.act_buffer import Access, BufferShape

TEST_TIMEOUT_MS = 400
ROUNDS = 3


class ResidualTB(BufferHost):
    """The engine's streams and the host's buffer ports on top of BufferHost, and what prepare_call
    reads of a linear testbench."""

    def __init__(self, dut):
        super().__init__(dut, BufferShape(int(dut.LO.value), int(dut.VALUES.value), int(dut.ROWS.value)))
        cfg, aw = self.cfg, self.act.width
        self.li, self.lo = int(dut.LI.value), int(dut.LO.value)
        self.eng = SimpleNamespace(cfg=cfg, act=self.act, li=self.li, lo=self.lo, max_in=int(dut.MAX_IN.value),
                                   max_rows=int(dut.MAX_ROWS.value), w_bits=int(dut.W_BITS.value),
                                   w_rows=int(dut.W_ROWS.value), corrupt=False,
                                   e_w=int(dut.W_BITS.value) // cfg.fmt("weight").width)
        self.res = ResultWriter(kernel="residual_linear", config=cfg.name, calls=[], mismatches=0, first_mismatch=None,
                                values_checked=0)
        self.x, self.b, self.s = self.source("x", aw), self.source("b", cfg.fmt("bias").width), self.source("s", aw)
        self.w = self.source("w", cfg.fmt("weight").width)
        self.host_wr, self.host_rd = self.source("host_wr", aw), self.sink("host_rd", aw)
        self.beats: dict[str, int] = {}    # handshakes per stream (acc_ and y_ inside the top)
        dut.host_sel.value = 1
        for name in ("in_dim", "out_dim", "rows", "w_kind", "b_kind", "use_gelu", "mode"):
            getattr(dut, name).value = 0

    def on_edge(self):
        d = self.dut
        for name, v, r in (("acc", d.acc_valid, d.acc_ready), ("y", d.y_valid, d.y_ready), ("w", d.w_TVALID, d.w_TREADY),
                           ("x", d.x_TVALID, d.x_TREADY), ("cmd", d.xb_cmd_TVALID, d.xb_cmd_TREADY)):
            if int(v.value) and int(r.value):
                self.beats[name] = self.beats.get(name, 0) + 1

    async def wait_idle(self, what: str, budget: int):
        """The buffer and the engine idle."""
        await self.wait_drained(what, budget, (), (self.dut.xb_idle, self.dut.ap_idle))

    async def load(self, x: np.ndarray):
        """The previous unit writes x (host_sel = 1)."""
        self.dut.host_sel.value = 1
        await self.load_rows(x)
        await self.wait_idle("loading x", 200)

    async def read_out(self) -> np.ndarray:
        """The next unit reads x (host_sel = 1)."""
        self.dut.host_sel.value = 1
        return await self.read_rows()


def accumulate_calls(tb: ResidualTB, rng: np.random.Generator, x0: np.ndarray, plan: list) -> tuple[list, np.ndarray]:
    """``plan``: (label, n_in, rows or None (all), scaled). Each call's destination is x as the calls
    before it left it (python_ref applied in order); returns the prepared calls and the final x."""
    cfg, act = tb.cfg, tb.act
    T, D = tb.shape.rows, tb.shape.values
    x = x0.copy()
    calls = []
    for label, n_in, rows, scaled in plan:
        # rows None: every row in order; "tail": rows 1.. (the patch embedding onto pos[1:], base 1);
        # a count: that many rows in a random order, listed (an expert's scatter)
        if rows is None:
            targets = np.arange(T)
        elif rows == "tail":
            targets = np.arange(1, T)
        else:
            targets = rng.permutation(T)[:rows]
        n = len(targets)
        x_src = rand_raw(act, (n, n_in), rng)
        w = rand_raw(cfg.fmt("weight"), (D, n_in), rng)
        b = rand_raw(cfg.fmt("bias"), (D,), rng)
        scores = rand_raw(act, (n,), rng) if scaled else None
        c = prepare_call(tb.eng, label, x_src, w, b, "weight", "bias", rng, out0=x,
                         scatter=None if rows is None else targets, scores=scores)
        c["targets"] = targets
        c["listed"] = rows not in (None, "tail")
        x = c["want"]
        calls.append(c)
    return calls, x


async def run_calls(tb: ResidualTB, calls: list, label: str) -> list:
    """The calls back to back (ap_start with the next call's arguments as soon as the engine took the
    last), each call's buffer commands, x_, w_, b_, s_ queued from its acceptance; returns the call
    records (ap_ready / ap_done against Sequence)."""
    dut, act = tb.dut, tb.act
    dut.host_sel.value = 0
    await FallingEdge(dut.ap_clk)
    tb.ready_cycles, tb.done_cycles = [], []

    async def queue(c):
        rows = tuple(int(t) for t in c["targets"])
        await tb.send_cmd(Access(True, rows, True, c["listed"]))
        await tb.send_cmd(Access(False, rows, True, c["listed"]))

    async def send_x(c):
        for k in range(c["rows"]):
            await tb.x.send(LinearTB.lanes(c["xp"][k], act.width))

    async def host():
        for c in calls:
            await tb.take_call(c["args"])
            cocotb.start_soon(queue(c))
            cocotb.start_soon(send_x(c))
            cocotb.start_soon(tb.w.send(AxiStreamFrame(c["w_lanes"])))
            cocotb.start_soon(tb.b.send(AxiStreamFrame(c["b_lanes"])))
            if c["mode"] == "scaled":
                cocotb.start_soon(tb.s.send(LinearTB.lanes(c["scores"], act.width)))
            await FallingEdge(dut.ap_clk)
        dut.ap_start.value = 0

    budget = sum(3000 + 30 * c["rows"] * (c["n_ob"] * c["n_ib"] + c["n_ob"]) + 2 * len(c["w_lanes"]) for c in calls)
    cocotb.start_soon(host())
    for _ in range(budget):
        await RisingEdge(dut.ap_clk)
        if len(tb.done_cycles) == len(calls):
            break
    else:
        state = ", ".join(f"{p} {int(getattr(dut, p + '_TVALID').value)}/{int(getattr(dut, p + '_TREADY').value)}"
                          for p in ("x", "w", "b", "s", "xb_cmd"))
        raise AssertionError(f"{label}: {len(tb.done_cycles)} of {len(calls)} calls done ({len(tb.ready_cycles)} taken) "
                             f"after {budget} cycles; TVALID/TREADY {state}; ap_idle {int(dut.ap_idle.value)}, "
                             f"xb_idle {int(dut.xb_idle.value)}; inside: acc {int(dut.acc_valid.value)}/"
                             f"{int(dut.acc_ready.value)}, y {int(dut.y_valid.value)}/{int(dut.y_ready.value)}; beats {tb.beats}; "
                             f"buffer run_v {dut.u_x.run_v.value} pend_v {dut.u_x.pend_v.value} pend_rdy {dut.u_x.pend_rdy.value} "
                             f"credit {int(dut.u_x.credit.value)} h_v {dut.u_x.h_v.value} wr_done {int(dut.u_x.wr_done.value)} "
                             f"wr_disp {int(dut.u_x.wr_disp.value)}")
    await tb.wait_idle(label, 2000)
    seq = Sequence(tb.cfg, tb.lo, tb.li, tb.eng.w_bits, None, w_rows=tb.eng.w_rows)
    r0 = tb.ready_cycles[0]
    recs = []
    for n, c in enumerate(calls):
        m = seq.add(SeqCall(c["n_out"], c["n_in"], c["rows"], c["gelu"]))
        rec = {"call": f"{label}_{n}_{c['label']}", "in": c["n_in"], "rows": c["rows"], "mode": c["mode"],
               "ready": tb.ready_cycles[n] - r0, "done": tb.done_cycles[n] - r0,
               "predicted_ready": m.ready, "predicted_done": m.done}
        tb.res.append("calls", rec)
        dut._log.info(f"{rec['call']}: ready {rec['ready']} (model {m.ready}), done {rec['done']} (model {m.done})")
        recs.append(rec)
    return recs


async def check_x(tb: ResidualTB, want: np.ndarray, label: str, corrupt: bool = False):
    """x read out against python_ref's; ``corrupt``: one expected value flipped (in the comparison only:
    the next round starts from python_ref's true x)."""
    tb.compare_x(await tb.read_out(), want, label, corrupt)

@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_accumulates_on_the_buffer(dut):
    """proj, a dense fc2, two experts' scaled scatter-accumulates and an accumulate onto rows 1.. (the
    patch embedding's shape), back to back; ROUNDS times, x read out and checked after each round."""
    tb = ResidualTB(dut)
    await tb.reset()
    rng = np.random.default_rng(tb.params.seed)
    m = tb.cfg.model
    T = tb.shape.rows
    x0 = rand_raw(tb.act, (T, tb.shape.values), rng)
    await tb.load(x0)
    n_e = max(1, T // 3)
    plan = [("proj", m.dim, None, False), ("fc2", m.mlp_hidden, None, False),
            ("expert_a_fc2", m.expert_hidden, n_e, True), ("expert_b_fc2", m.expert_hidden, T - n_e, True),
            ("patch_rows", m.dim, "tail", False)]
    recs, x = [], x0
    for rnd in range(ROUNDS):       # each round's calls back to back, x read out and checked after each
        calls, x = accumulate_calls(tb, rng, x, plan)
        recs += await run_calls(tb, calls, f"round{rnd}")
        await check_x(tb, x, f"round{rnd}", corrupt=tb.params.corrupt and rnd == ROUNDS - 1)
    late = [r for r in recs if (r["ready"], r["done"]) != (r["predicted_ready"], r["predicted_done"])]
    assert tb.res.data["mismatches"] == 0, tb.res.data["first_mismatch"]
    assert not late, f"calls off the engine's schedule with acc_ from the buffer: {late}"
