"""cocotb testbench of rtl/src/attn_phase.sv, the attention unit's phase order, against
cosim.attention_schedule.phase_order (the order the cycle model and python_ref's row order assume):
QK0 QK1 AV0 QK2 AV1 ... QK(H-1) AV(H-2) AV(H-1).

The attention unit runs it only at the config's head count (2 on tiny, 3 on edge_moe); this bench
runs any H (tests/test_cosim_attn_phase.py passes 1 .. 6) so the branches a config never reaches
(H = 1: QK0 -> AV0; H >= 4: AV(k) -> QK(k+2) several times) are checked too.

Each run: reset, then layers of `start` followed by `adv` pulses spaced 2 .. 5 cycles apart (the
module's contract: a phase lasts >= 2 cycles), the (is_av, head) after every adv and `done` after
the last compared with the model; extra adv pulses after done must change nothing; a start in the
middle of a layer restarts it at QK0. Run parameters: corrupt (expect one wrong phase: the
comparison must fail).
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge

from cosim.attention_schedule import phase_order
from cosim.tb import ResultWriter, RunParams, clock_and_reset

TEST_TIMEOUT_MS = 50


class PhaseTB:
    """Clock, reset and the start/adv driver; ``phase()`` samples the outputs."""

    def __init__(self, dut):
        self.dut = dut
        self.params = RunParams.from_env()
        self.h = int(dut.H.value)
        self.rng = np.random.default_rng(self.params.seed)
        self.results = ResultWriter(kernel="attn_phase", config=self.params.cfg().name, heads=self.h, layers=0,
                                    phases=0, mismatches=0, first_mismatch=None)
        self.expected = phase_order(self.h)
        if self.params.corrupt:  # one wrong expected phase: the comparison must report it
            kind, head = self.expected[-1]
            self.expected = self.expected[:-1] + [("QK" if kind == "AV" else "AV", head)]

    @classmethod
    async def create(cls, dut) -> "PhaseTB":
        tb = cls(dut)
        await clock_and_reset(dut, {"start": 0, "adv": 0})
        return tb

    def phase(self) -> tuple[str, int, int]:
        d = self.dut
        return ("AV" if int(d.is_av.value) else "QK", int(d.head.value), int(d.done.value))

    def mismatch(self, what: str):
        self.results.add("mismatches", 1)
        if self.results.data["first_mismatch"] is None:
            self.results.update(first_mismatch=what)

    async def pulse(self, name: str):
        getattr(self.dut, name).value = 1
        await FallingEdge(self.dut.clk)
        getattr(self.dut, name).value = 0

    async def idle(self, n: int):
        for _ in range(n):
            await FallingEdge(self.dut.clk)

    async def layer(self, label: str, stop_after: int | None = None):
        """start, then adv through the layer (or only ``stop_after`` advs), checking every phase."""
        await self.pulse("start")
        got = [self.phase()]
        if got[0] != ("QK", 0, 0):
            self.mismatch(f"{label}: after start {got[0]}, want (QK, 0, not done)")
        n = len(self.expected) if stop_after is None else stop_after
        for i in range(1, n + 1):
            await self.idle(int(self.rng.integers(1, 5)))  # adv at most every other cycle
            await self.pulse("adv")
            kind, head, done = self.phase()
            if i < len(self.expected):
                want = (*self.expected[i], 0)
            else:
                want = (kind, head, 1)  # after the last phase: done; is_av/head are don't-care
            if (kind, head, done) != want:
                self.mismatch(f"{label}: after adv {i} ({kind}, {head}, done {done}), want {want}")
            self.results.add("phases", 1)
        if stop_after is None:
            for _ in range(2):  # advs after done change nothing
                before = self.phase()
                await self.idle(1)
                await self.pulse("adv")
                if self.phase() != before or not before[2]:
                    self.mismatch(f"{label}: adv after done moved {before} -> {self.phase()}")
            self.results.add("layers", 1)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_phase_order(dut):
    """Three layers back to back, with a restart in the middle of one."""
    tb = await PhaseTB.create(dut)
    if tb.phase()[2] != 1:
        tb.mismatch(f"after reset {tb.phase()}: want done")
    await tb.layer("layer 0")
    await tb.layer("restarted", stop_after=min(2, len(tb.expected) - 1))
    await tb.layer("layer 1 (after a restart)")
    await tb.layer("layer 2")
    assert tb.results.data["mismatches"] == 0, tb.results.data["first_mismatch"]
