"""The host side shared by the benches of the tops built on the residual buffer
(cosim/test_residual_linear.py, cosim/test_residual_layernorm.py, cosim/test_mlp_block.py): clock and
reset, AXI-Stream models by port prefix, the buffer's command words, loading x and reading it out
(host_wr_ / host_rd_), the ap_ctrl_hs call handshake and a monitor of ap_ready / ap_done and of the
buffer's err. Imported inside the simulator."""
from __future__ import annotations

import logging

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamFrame, AxiStreamSink, AxiStreamSource

from cosim.tb import CLOCK_PERIOD_NS, AxiStreamDataBus, RunParams
from cosim.test_linear import LinearTB
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
        Clock(dut.ap_clk, CLOCK_PERIOD_NS, unit="ns").start()
        self.cmd = self.source("xb_cmd", 64)
        self.cycle = 0
        self.ready_cycles: list[int] = []
        self.done_cycles: list[int] = []
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
            self.on_edge()
            if int(d.ap_rst_n.value) and int(d.xb_err.value):   # the buffer's state is random before reset
                raise AssertionError(f"cycle {self.cycle}: the buffer's err is set")

    async def reset(self):
        self.dut.ap_rst_n.value = 0
        await ClockCycles(self.dut.ap_clk, 4)
        self.dut.ap_rst_n.value = 1
        await ClockCycles(self.dut.ap_clk, 2)

    async def send_cmd(self, acc: Access):
        for w in command_words(acc, self.shape):
            await self.cmd.send(AxiStreamFrame([w]))

    async def load_rows(self, x: np.ndarray, drain=()):
        """The previous unit writes x (T x D act, row-major) through host_wr_ (``self.host_wr``), padded
        to whole beats; returns once every command word and beat (and every stream of ``drain``) is
        taken and the buffer is idle (before the buffer sees the command it is idle too)."""
        sh = self.shape
        xp = np.zeros((sh.rows, sh.nb * sh.lanes), dtype=np.int64)
        xp[:, :sh.values] = x
        await self.send_cmd(Access(False, tuple(range(sh.rows))))
        await self.host_wr.send(LinearTB.lanes(xp, self.act.width))
        for _ in range(20 * sh.depth + 500):
            await RisingEdge(self.dut.ap_clk)
            if (self.cmd.empty() and self.host_wr.empty() and all(s.empty() for s in drain)
                    and not int(self.dut.host_wr_TVALID.value) and int(self.dut.xb_idle.value)):
                return
        raise AssertionError("loading x: the buffer did not take it")

    async def read_rows(self) -> np.ndarray:
        """The next unit reads x (row-major) through host_rd_ (``self.host_rd``): T x D act."""
        sh = self.shape
        await self.send_cmd(Access(True, tuple(range(sh.rows))))
        frame = await with_timeout(self.host_rd.recv(), (20 * sh.depth + 500) * CLOCK_PERIOD_NS, "ns")
        return self.signed(frame, self.act.width).reshape(sh.rows, sh.nb * sh.lanes)[:, :sh.values]

    async def take_call(self, args: dict):
        """ap_start with the call's arguments, held until the engine takes it (ap_ready at an edge).
        Returns in that edge's read-only phase: the caller waits for the falling edge before it drives
        anything (the next call's arguments, ap_start low)."""
        for k, v in args.items():
            getattr(self.dut, k).value = v
        self.dut.ap_start.value = 1
        while True:
            await RisingEdge(self.dut.ap_clk)
            await ReadOnly()
            if int(self.dut.ap_ready.value):
                return
