"""Reusable cocotb testbench pieces for the AXI-Stream kernels (imported inside the simulator).

:class:`StreamTB` owns the clock (``ap_clk``), the active-low synchronous reset (``ap_rst_n``), a
cocotbext-axi ``AxiStreamSource`` on the input prefix and ``AxiStreamSink`` on the output prefix
(Vitis names: ``x_TDATA``/``x_TVALID``/... match cocotbext-axi's lower-case names through
cocotb-bus' case-insensitive lookup), random idle / backpressure generators, and a handshake
monitor that counts clock cycles and records the cycle and TLAST of every beat on both streams
(for exact latency, throughput and beat-count checks).

The bus models treat one lane (``lane_bits``, e.g. one 32-bit activation) as their "byte", so a
frame is a list of lane values and the sink converts TDATA once per lane instead of once per byte
(4x faster at 32 bits). cocotbext-axi allows that only without TKEEP on the bus, so TKEEP/TSTRB are
handled here: the input's are held at all ones, the output's are checked on every beat.
"""
from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


class AxiStreamDataBus(AxiStreamBus):
    """AXI-Stream bus with TDATA, TVALID, TREADY, TLAST only (TKEEP/TSTRB driven and checked by StreamTB)."""

    _optional_signals = ["tvalid", "tready", "tlast"]


CLOCK_PERIOD_NS = 10

# Stall patterns: name -> ((probability, longest burst) of source idle cycles, same for sink pauses).
# Source gaps are short; sink pauses come in bursts up to 12 cycles so the output slice and the
# whole pipeline fill and x_TREADY drops. About 40% of the cycles are idle / paused.
STALL_PATTERNS = {
    "none": (None, None),
    "gaps": ((0.2, 4), None),
    "backpressure": (None, (0.1, 12)),
    "both": ((0.2, 4), (0.1, 12)),
}


def env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "")
    try:
        return int(v) if v.strip() else default
    except ValueError:
        raise ValueError(f"environment variable {name}={v!r} is not an integer") from None


def random_pauses(probability: float, max_burst: int, seed: int):
    """Endless bool generator: True pauses the bus model for that cycle. Pauses come in bursts of
    1..max_burst cycles so long stalls (the pipeline filling behind a stopped sink) happen too."""
    rng = random.Random(seed)
    while True:
        if rng.random() < probability:
            for _ in range(rng.randint(1, max_burst)):
                yield True
        else:
            yield False


class StreamTB:
    """Clock, reset, source/sink bus models, stall generators and a handshake monitor for one
    AXI-Stream kernel with ports <in>_T* and <out>_T* (Vitis names)."""

    def __init__(self, dut, lane_bits: int, in_prefix: str = "x", out_prefix: str = "y",
                 clock: str = "ap_clk", reset_n: str = "ap_rst_n"):
        self.dut = dut
        self.log = dut._log
        self.clk = getattr(dut, clock)
        self.rst_n = getattr(dut, reset_n)
        Clock(self.clk, CLOCK_PERIOD_NS, unit="ns").start()
        self.lane_bits = lane_bits
        self.in_bus = AxiStreamDataBus.from_prefix(dut, in_prefix)
        self.out_bus = AxiStreamDataBus.from_prefix(dut, out_prefix)
        for bus in (self.in_bus, self.out_bus):
            if len(bus.tdata) % lane_bits:
                raise ValueError(f"{bus._name}_TDATA is {len(bus.tdata)} bits, not a multiple of {lane_bits}-bit lanes")
        self.lanes = len(self.in_bus.tdata) // lane_bits
        self.source = AxiStreamSource(self.in_bus, self.clk, self.rst_n, reset_active_level=False,
                                      byte_size=lane_bits)
        self.sink = AxiStreamSink(self.out_bus, self.clk, self.rst_n, reset_active_level=False,
                                  byte_size=lane_bits)
        # cocotbext-axi logs every frame at INFO: far too much for 100k-value runs
        for model in (self.source, self.sink):
            model.log.setLevel(logging.WARNING)
        # Vitis ap_axiu ports carry TKEEP and TSTRB: inputs held at all ones, outputs checked per beat
        for name in ("TKEEP", "TSTRB"):
            sig = getattr(dut, f"{in_prefix}_{name}", None)
            if sig is not None:
                sig.value = (1 << len(sig)) - 1
        self.out_keep = [s for s in (getattr(dut, f"{out_prefix}_{n}", None) for n in ("TKEEP", "TSTRB"))
                         if s is not None]
        self.keep_errors = 0  # output beats whose TKEEP/TSTRB were not all ones
        self.cycle = 0
        self.in_beats: list[tuple[int, int]] = []   # (cycle, tlast) of every input handshake
        self.out_beats: list[tuple[int, int]] = []  # (cycle, tlast) of every output handshake
        self.in_stalls = 0   # cycles with x_TVALID high and x_TREADY low (backpressure reached the input)
        self.out_stalls = 0  # cycles with y_TVALID high and y_TREADY low
        cocotb.start_soon(self._monitor())

    async def _monitor(self):
        """Sample both handshakes at every rising edge (as cocotbext-axi does)."""
        ib, ob = self.in_bus, self.out_bus
        edge = RisingEdge(self.clk)
        while True:
            await edge
            self.cycle += 1
            if ib.tvalid.value:
                if ib.tready.value:
                    self.in_beats.append((self.cycle, int(ib.tlast.value)))
                else:
                    self.in_stalls += 1
            if ob.tvalid.value:
                if ob.tready.value:
                    self.out_beats.append((self.cycle, int(ob.tlast.value)))
                    for sig in self.out_keep:
                        if not sig.value.is_resolvable or sig.value.to_unsigned() != (1 << len(sig)) - 1:
                            self.keep_errors += 1
                else:
                    self.out_stalls += 1

    def set_stall_pattern(self, name: str, seed: int):
        if name not in STALL_PATTERNS:
            raise ValueError(f"stall pattern {name!r} unknown; allowed: {', '.join(STALL_PATTERNS)}")
        idle, pause = STALL_PATTERNS[name]
        self.source.set_pause_generator(random_pauses(*idle, seed=seed) if idle else None)
        self.sink.set_pause_generator(random_pauses(*pause, seed=seed + 1) if pause else None)
        if not idle:
            self.source.pause = False
        if not pause:
            self.sink.pause = False

    async def reset(self, cycles: int = 4):
        self.rst_n.value = 0
        await ClockCycles(self.clk, cycles)
        self.rst_n.value = 1
        await ClockCycles(self.clk, 2)
        self.in_beats.clear()
        self.out_beats.clear()
        self.in_stalls = self.out_stalls = self.keep_errors = 0

    async def idle(self, cycles: int):
        await ClockCycles(self.clk, cycles)

    # ---- packing: lane i of a beat is value i (lane 0 in the low bits), values in two's complement
    def check_accounting(self, label: str, in0: int, out0: int, want_in_last: list, want_out_last: list,
                         results: "ResultWriter", stalls0: tuple[int, int]) -> None:
        """Beat-level accounting since input beat ``in0`` / output beat ``out0``: TLAST exactly where
        ``want_*_last`` says on both interfaces (so no beat was lost or duplicated), TKEEP/TSTRB all
        ones, nothing left in the sink; records the stall cycles seen since ``stalls0``."""
        got_in = [last for _, last in self.in_beats[in0:]]
        got_out = [last for _, last in self.out_beats[out0:]]
        if got_in != list(want_in_last):
            raise AssertionError(f"{label}: {len(got_in)} input beats accepted, {len(want_in_last)} sent, "
                                 f"or TLAST misplaced")
        if got_out != list(want_out_last):
            raise AssertionError(f"{label}: {len(got_out)} output beats with TLAST at "
                                 f"{[i for i, l in enumerate(got_out) if l][:8]}..., expected {len(want_out_last)} "
                                 f"beats with TLAST at {[i for i, l in enumerate(want_out_last) if l][:8]}... "
                                 f"(lost, duplicated or TLAST misplaced)")
        if self.keep_errors:
            raise AssertionError(f"{label}: {self.keep_errors} output beats without y_TKEEP/y_TSTRB all ones")
        if not self.sink.empty():
            raise AssertionError(f"{label}: the sink holds extra frames after the last one")
        results.add("input_stall_cycles", self.in_stalls - stalls0[0])
        results.add("output_stall_cycles", self.out_stalls - stalls0[1])

    def values_to_frame(self, raw: np.ndarray) -> AxiStreamFrame:
        w = self.lane_bits
        return AxiStreamFrame([int(v) & ((1 << w) - 1) for v in np.asarray(raw).tolist()])

    def frame_to_values(self, frame: AxiStreamFrame) -> np.ndarray:
        w = self.lane_bits
        u = np.array(list(frame.tdata), dtype=np.int64 if w <= 62 else object)
        return np.where(u >= (1 << (w - 1)), u - (1 << w), u)


class ResultWriter:
    """Accumulates the JSON summary of one simulator run at $COSIM_RESULT_JSON (rewritten after
    every update, so it survives a later test failing)."""

    def __init__(self, **fields):
        self.path = os.environ.get("COSIM_RESULT_JSON")
        self.data = dict(fields)

    def update(self, **fields):
        self.data.update(fields)
        self.write()

    def add(self, key: str, n: int):
        self.data[key] = self.data.get(key, 0) + int(n)
        self.write()

    def write(self):
        if self.path:
            p = Path(self.path)
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
            os.replace(tmp, p)
