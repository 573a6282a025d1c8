"""cocotb testbench of rtl/src/axis_fifo.sv (the credit-fed FIFO with a registered output slice)
against a cycle model of it: every cycle, m_axis_tvalid, m_axis_tdata (while valid) and freed must
equal the model's. The model is the documented behaviour, written once for both read styles, so
SYNC_READ = 1 (block-RAM read through a register, with its forwarding) is checked cycle for cycle
against the asynchronous read it claims to equal. tests/test_cosim_axis_fifo.py runs it for several
DEPTH x SYNC_READ, including DEPTH = 2, which no unit instantiates.

Stimulus: the producer holds one credit per free entry (the FIFO has no s_ready: a push into a full
FIFO is a producer bug) and gets a credit back on each `freed` pulse; random TDATA while TVALID is
low. Phases: random pushes and random TREADY; fill to full with TREADY low, then drain; push and
pop every cycle (one beat per cycle through). Run parameter corrupt: one wrong expected value.
"""
from __future__ import annotations

import random
from collections import deque

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from cosim.tb import ResultWriter, RunParams, clock_and_reset

TEST_TIMEOUT_MS = 100


class FifoModel:
    """axis_fifo's registers, edge by edge: the memory's queue (count entries), the output slice
    (axis_skid: output slot + skid slot, s_ready = skid slot empty) and freed = the last edge's pop."""

    def __init__(self):
        self.mem: deque[int] = deque()
        self.m_valid = self.skid_valid = False
        self.m_data = self.skid_data = 0
        self.freed = False

    def edge(self, push: bool, data: int, m_ready: bool):
        s_ready = not self.skid_valid
        pop = bool(self.mem) and s_ready           # nonempty is count != 0, registered
        head = self.mem[0] if self.mem else None
        out_free = not self.m_valid or m_ready
        if out_free:
            if self.skid_valid:
                self.m_valid, self.m_data, self.skid_valid = True, self.skid_data, False
            else:
                self.m_valid = pop
                if pop:
                    self.m_data = head
        elif pop:
            self.skid_valid, self.skid_data = True, head
        if pop:
            self.mem.popleft()
        if push:
            self.mem.append(data)
        self.freed = pop


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_cycle_model(dut):
    params = RunParams.from_env()
    depth, width, sync = int(dut.DEPTH.value), int(dut.WIDTH.value), int(dut.SYNC_READ.value)
    rng = random.Random(params.seed)
    res = ResultWriter(kernel="axis_fifo", config=params.cfg().name, depth=depth, width=width, sync_read=sync,
                       cycles=0, pushes=0, pops=0, mismatches=0, first_mismatch=None, max_fill=0)
    await clock_and_reset(dut, {"s_axis_tvalid": 0, "s_axis_tdata": 0, "m_axis_tready": 0})
    model = FifoModel()
    credits = depth
    corrupt_at = 37 if params.corrupt else None
    pops = 0

    def phases():
        for _ in range(600):                       # random pushes, random TREADY
            yield rng.random() < 0.6, rng.random() < 0.5
        for _ in range(3):
            for _ in range(depth + 6):             # fill with TREADY low (credits run out), then drain
                yield True, False
            for _ in range(depth + 6):
                yield False, True
        for _ in range(200):                       # a beat per cycle through
            yield True, True
        for _ in range(depth + 8):                 # drain
            yield False, True

    for want_push, ready in phases():
        push = want_push and credits > 0
        data = rng.getrandbits(width)
        dut.s_axis_tvalid.value = int(push)
        dut.s_axis_tdata.value = data              # random while TVALID is low too
        dut.m_axis_tready.value = int(ready)
        await RisingEdge(dut.clk)
        # the registers as this edge samples them (values of the cycle ending here)
        got = (int(dut.m_axis_tvalid.value), int(dut.freed.value))
        want = (int(model.m_valid), int(model.freed))
        want_data = model.m_data
        if model.m_valid and ready:
            pops += 1
            if pops == corrupt_at:
                want_data ^= 1
        bad = got != want or (model.m_valid and int(dut.m_axis_tdata.value) != want_data)
        if bad:
            res.add("mismatches", 1)
            if res.data["first_mismatch"] is None:
                res.update(first_mismatch=f"cycle {res.data['cycles']}: (tvalid, freed) = {got}, model {want}; "
                                          f"tdata {int(dut.m_axis_tdata.value):#x}, model {want_data:#x}")
        credits += int(model.freed) - int(push)    # freed of this cycle returns a credit
        model.edge(push, data, ready)
        res.update(max_fill=max(res.data["max_fill"], len(model.mem)))
        res.add("cycles", 1)
        res.add("pushes", int(push))
        await FallingEdge(dut.clk)
    res.update(pops=pops)
    assert not model.mem and not model.m_valid, "the stimulus did not drain the FIFO"
    assert res.data["mismatches"] == 0, res.data["first_mismatch"]
