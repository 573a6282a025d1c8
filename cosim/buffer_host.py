"""The host side shared by the benches of the tops built on the residual buffer
(cosim/test_residual_linear.py, cosim/test_residual_layernorm.py, the block tops' benches
cosim/test_mlp_block.py, test_moe_block.py, test_attention_block.py, and cosim/test_backbone.py): clock
and reset, AXI-Stream models by port prefix, the buffers' command words, loading x and reading it out (host_wr_ / host_rd_),
the ap_ctrl_hs call handshake, a monitor of ap_ready / ap_done and of the buffer's err, and each call's
cycles against cosim.linear_schedule; :class:`BlockHost` adds a block top's routed engine call and
:class:`AttentionHost` attention's layer on the shared array.
Imported inside the simulator."""
from __future__ import annotations

import logging

import numpy as np

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamFrame, AxiStreamSink, AxiStreamSource

from cosim.attention_schedule import predict
from cosim.linear_schedule import SeqCall, Sequence
from cosim.tb import CLOCK_PERIOD_NS, AxiStreamDataBus, RunParams, start_clock_in_reset
from cosim.test_linear import LinearTB
from cosim.vectors import norm_param_lanes
from python_ref.kernels.act_buffer import Access, BufferShape, command_words


class BufferHost:
    """A top with ap_ctrl_hs, an act_buffer behind xb_cmd_ / xb_err, and a ``shape``. Subclasses add
    their streams with :meth:`source` / :meth:`sink` and may extend :meth:`on_edge` (called at every
    rising edge, after the ap_ready / ap_done bookkeeping)."""

    def __init__(self, dut, shape: BufferShape):
        self.dut = dut
        self.params = RunParams.from_env()
        self.cfg = self.params.cfg()
        self.act = self.cfg.fmt("act")
        self.shape = shape
        start_clock_in_reset(dut.ap_clk, dut.ap_rst_n)
        self.cmd = self.source("xb_cmd", 64)
        self.cycle = 0
        self.ready_cycles: list[int] = []
        self.done_cycles: list[int] = []
        self.x_offer = None                # the engine's x_ TVALID inside the top (watch_x)
        self.first_x: int | None = None    # the first edge of the current call with it high
        dut.ap_start.value = 0
        cocotb.start_soon(self._monitor())

    signed = LinearTB.signed

    def source(self, name: str, lane: int) -> AxiStreamSource:
        s = AxiStreamSource(AxiStreamDataBus.from_prefix(self.dut, name), self.dut.ap_clk, self.dut.ap_rst_n,
                            reset_active_level=False, byte_size=lane)
        s.log.setLevel(logging.WARNING)
        return s

    def sink(self, name: str, lane: int) -> AxiStreamSink:
        s = AxiStreamSink(AxiStreamDataBus.from_prefix(self.dut, name), self.dut.ap_clk, self.dut.ap_rst_n,
                          reset_active_level=False, byte_size=lane)
        s.log.setLevel(logging.WARNING)
        return s

    def on_edge(self):
        pass

    async def _monitor(self):
        d = self.dut
        while True:
            await RisingEdge(d.ap_clk)
            self.cycle += 1
            if int(d.ap_done.value):
                self.done_cycles.append(self.cycle)
            if int(d.ap_ready.value):
                self.ready_cycles.append(self.cycle)
            if self.x_offer is not None and self.first_x is None and int(self.x_offer.value):
                self.first_x = self.cycle
            self.on_edge()
            if int(d.ap_rst_n.value) and int(d.xb_err.value):   # the buffer's state is random before reset
                raise AssertionError(f"cycle {self.cycle}: the buffer's err is set")

    async def reset(self):
        self.dut.ap_rst_n.value = 0
        await ClockCycles(self.dut.ap_clk, 4)
        self.dut.ap_rst_n.value = 1
        await ClockCycles(self.dut.ap_clk, 2)

    async def send_norm_params(self, g, b):
        """A LayerNorm call's {beta, gamma} on ``self.gb`` (the top's gb_ source), per LayerNorm lane
        (rtl/src/ln_param_zip.sv: gamma in the low 16 bits of each 32-bit lane)."""
        await self.gb.send(LinearTB.lanes(norm_param_lanes(g, b), 32))

    async def send_to(self, port: AxiStreamSource, shape: BufferShape, acc: Access):
        """An access's command words on a buffer's cmd_ source (``port``) of that ``shape``."""
        for w in command_words(acc, shape):
            await port.send(AxiStreamFrame([w]))

    async def send_cmd(self, acc: Access):
        await self.send_to(self.cmd, self.shape, acc)

    async def wait_drained(self, what: str, budget: int, queues, idles):
        """Until every source of ``queues`` has sent all its beats, host_wr_TVALID is low and every signal of
        ``idles`` is high; AssertionError after ``budget`` cycles."""
        d = self.dut
        for _ in range(budget):
            await RisingEdge(d.ap_clk)
            # idle, not empty: a source's queue empties when its last frame starts, and with idle cycles
            # in that frame TVALID is low between its beats (a drain seen then was not one)
            if (all(q.idle() for q in queues) and not int(d.host_wr_TVALID.value)
                    and all(int(s.value) for s in idles)):
                return
        raise AssertionError(f"{what}: not idle after {budget} cycles")

    async def load_rows(self, x: np.ndarray, drain=()):
        """The previous unit writes x (T x D act, row-major) through host_wr_ (``self.host_wr``), padded
        to whole beats; returns once every command word and beat (and every stream of ``drain``) is
        taken and the buffer is idle (before the buffer sees the command it is idle too)."""
        sh = self.shape
        xp = np.zeros((sh.rows, sh.nb * sh.lanes), dtype=np.int64)
        xp[:, :sh.values] = x
        await self.send_cmd(Access(False, tuple(range(sh.rows))))
        await self.host_wr.send(LinearTB.lanes(xp, self.act.width))
        await self.wait_drained("loading x", 20 * sh.depth + 500, (self.cmd, self.host_wr, *drain), (self.dut.xb_idle,))

    async def read_rows(self) -> np.ndarray:
        """The next unit reads x (row-major) through host_rd_ (``self.host_rd``): T x D act."""
        sh = self.shape
        await self.send_cmd(Access(True, tuple(range(sh.rows))))
        frame = await with_timeout(self.host_rd.recv(), (20 * sh.depth + 500) * CLOCK_PERIOD_NS, "ns")
        return self.signed(frame, self.act.width).reshape(sh.rows, sh.nb * sh.lanes)[:, :sh.values]

    def compare_x(self, got: np.ndarray, want: np.ndarray, label: str, corrupt: bool = False):
        """x read out against python_ref's into ``self.res`` (values_checked, mismatches, the first
        mismatch); ``corrupt``: one expected value flipped (in the comparison only)."""
        if corrupt:
            want = want.copy()
            want.flat[want.size // 2] ^= 1
        bad = np.argwhere(got != want)
        self.res.add("values_checked", want.size)
        self.res.add("mismatches", len(bad))
        if len(bad) and not self.res.data.get("first_mismatch"):
            r, c = bad[0]
            self.res.update(first_mismatch=f"{label}: x[{r}][{c}] = {got[r, c]:#x}, python_ref {want[r, c]:#x}")

    def watch_x(self, signal):
        """Record the first cycle of each call (from take_call on) in which ``signal``, the engine's x_
        TVALID inside the top, is high: call_record's input."""
        self.x_offer = signal

    def call_record(self, label: str, c: dict, eng) -> dict:
        """The call just done (``c``: prepare_call's, ``eng`` its engine) against the engine's cycle
        model: ap_ready -> ap_done measured and predicted by cosim.linear_schedule.Sequence from the
        cycle the call's x_ was first offered (the buffer's read latency, and LayerNorm's, are the
        host's: the benches issue the commands after the call is taken). SeqCall's x_delay is the cycle
        the host queues x_, its first beat offered the cycle after."""
        ready, done = self.ready_cycles[-1], self.done_cycles[-1]
        x_delay = self.first_x - ready - 1
        m = Sequence(self.cfg, eng.lo, eng.li, eng.w_bits, None, w_rows=eng.w_rows).add(
            SeqCall(c["n_out"], c["n_in"], c["rows"], c["gelu"], x_delay=x_delay))
        return {"call": label, "rows": c["rows"], "in": c["n_in"], "out": c["n_out"], "ready": ready, "done": done,
                "x_delay": x_delay, "cycles": done - ready, "predicted_cycles": m.done - m.ready}

    async def take_call(self, args: dict):
        """ap_start with the call's arguments, held until the engine takes it (ap_ready at an edge).
        Returns in that edge's read-only phase: the caller waits for the falling edge before it drives
        anything (the next call's arguments, ap_start low)."""
        for k, v in args.items():
            getattr(self.dut, k).value = v
        self.first_x = None
        self.dut.ap_start.value = 1
        while True:
            await RisingEdge(self.dut.ap_clk)
            await ReadOnly()
            if int(self.dut.ap_ready.value):
                return


def check_descriptor_words(label: str, words: list[int], want: list[int]) -> None:
    """The router's descriptor words (rtl/src/moe_router.sv's d_) against python_ref's, word for word:
    AssertionError naming the first word that differs."""
    if words != want:
        i = next((i for i, (g, e) in enumerate(zip(words, want)) if g != e), min(len(words), len(want)))
        raise AssertionError(f"{label}: the router's descriptor words differ from python_ref's at word {i} "
                             f"({len(words)} words, python_ref {len(want)})")


class BlockHost(BufferHost):
    """A block top (rtl/src/mlp_block.sv, moe_block.sv, attention_block.sv, backbone.sv): BufferHost plus its
    `route` port, the engine's w_ / b_ (/ s_) sources ``self.w``, ``self.b`` (``self.s``), what
    prepare_call reads (``self.eng``), what must drain before the next call (``self.queues``,
    ``self.idles``) and the other buffers' err outputs (``self.errs``), set by the subclass."""

    call_args = ("in_dim", "out_dim", "rows", "use_gelu", "mode")
    errs: tuple = ()     # the names of the other buffers' err outputs (x's is BufferHost's)

    def on_edge(self):
        if int(self.dut.ap_rst_n.value):
            for name in self.errs:
                if int(getattr(self.dut, name).value):
                    raise AssertionError(f"cycle {self.cycle}: {name} is set")

    async def settle(self, what: str, budget: int):
        """Every queued word and beat taken, the buffers and the units idle."""
        await self.wait_drained(what, budget, self.queues, self.idles)

    async def run_call(self, route: int, c: dict, label: str, budget: int, commands, scores=None,
                       x_beats=None) -> dict:
        """One engine call on ``route``: its arguments taken, then the buffers' commands (``commands``:
        (cmd_ source, shape, Access) in issue order), its x_ from the host on host_wr_ (``x_beats``, a
        frame; rtl/src/backbone.sv's patch route), its w_, b_ (and s_) images; waits until everything
        is idle; returns its call_record."""
        self.dut.route.value = route
        await self.take_call({k: c["args"][k] for k in self.call_args})
        await FallingEdge(self.dut.ap_clk)
        self.dut.ap_start.value = 0
        for port, shape, acc in commands:
            await self.send_to(port, shape, acc)
        if x_beats is not None:
            await self.host_wr.send(x_beats)
        await self.w.send(AxiStreamFrame(c["w_lanes"]))
        await self.b.send(AxiStreamFrame(c["b_lanes"]))
        if scores is not None:
            await self.s.send(LinearTB.lanes(scores, self.act.width))
        await self.settle(label, budget)
        return self.call_record(label, c, self.eng)


class AttentionHost(BlockHost):
    """A block top with attention on the engine's array (rtl/src/attention_block.sv, backbone.sv: its
    attn_ap_* / tokens ports, the array's owner `sel` and the hidden buffer's read valid `hr_v`):
    BlockHost plus attention's handshake recorded at every edge and :meth:`run_attention`. The subclass
    calls :meth:`init_attention` with the array's cosim.attention_schedule.Geometry."""

    def init_attention(self, geom):
        self.geom = geom
        self.attn_start: int | None = None
        self.attn_done: list[int] = []
        self.dut.attn_ap_start.value = 0

    def on_edge(self):
        d = self.dut
        if int(d.attn_ap_start.value) and int(d.attn_ap_idle.value):
            self.attn_start = self.cycle
        if int(d.attn_ap_done.value):
            self.attn_done.append(self.cycle)
        super().on_edge()

    async def run_attention(self, route: int, label: str, T: int, budget: int, commands) -> dict:
        """:meth:`start_attention`, then waits until everything is idle; returns the layer's cycles beside
        cosim.attention_schedule.predict's."""
        n_done = len(self.attn_done)
        await self.start_attention(route, label, T, budget, commands)
        await self.settle(label, budget)
        if len(self.attn_done) != n_done + 1:
            raise AssertionError(f"{label}: {len(self.attn_done) - n_done} ap_done pulses of attention")
        return {"call": label, "T": T, "cycles": self.attn_done[-1] - self.attn_start,
                "predicted_cycles": predict(self.geom, T).cycles}

    async def start_attention(self, route: int, label: str, T: int, budget: int, commands) -> None:
        """The array handed to attention (``route``), the hidden buffer's commands issued (``commands``:
        (cmd_ source, shape, Access)), the layer started once its first input beat waits in the buffer;
        returns when the start is taken (``self.attn_start`` its cycle)."""
        d = self.dut
        d.route.value = route
        for _ in range(budget):
            await RisingEdge(d.ap_clk)
            if int(d.sel.value):
                break
        else:
            raise AssertionError(f"{label}: the array did not pass to attention")
        for port, shape, acc in commands:
            await self.send_to(port, shape, acc)
        while not int(d.hr_v.value):
            await RisingEdge(d.ap_clk)
        await FallingEdge(d.ap_clk)
        d.tokens.value = T
        d.attn_ap_start.value = 1
        self.attn_start = None
        while self.attn_start is None:
            await RisingEdge(d.ap_clk)
        await FallingEdge(d.ap_clk)
        d.attn_ap_start.value = 0
