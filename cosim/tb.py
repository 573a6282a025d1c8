"""Reusable cocotb testbench pieces (imported inside the simulator), in the style of cocotbext-axi's
and verilog-axis' testbenches: a TB object per test owns the clock, the reset, the bus models, the
stall generators, a handshake monitor and the scoreboard; nothing is shared between tests through
module-level state.

* :class:`RunParams`: what the pytest side (cosim/runner.py) asked for: config, seed, stall
  pattern, vector counts, kernel-specific knobs. One JSON document in ``$COSIM_PARAMS``.
* :class:`ResultWriter`: the JSON summary of one simulator run at ``$COSIM_RESULT_JSON``; every
  test of the run adds to it (it is re-read on creation, so each test makes its own writer).
* :class:`StreamTB`: one AXI-Stream kernel with ports ``<in>_T*`` and ``<out>_T*`` (Vitis names:
  ``x_TDATA``/``x_TVALID``/... match cocotbext-axi's lower-case names through cocotb-bus'
  case-insensitive lookup): clock (``ap_clk``), active-low synchronous reset (``ap_rst_n``),
  cocotbext-axi ``AxiStreamSource``/``AxiStreamSink``, random idle / backpressure generators, and a
  monitor that records the cycle and TLAST of every beat on both streams (exact latency,
  throughput and beat counts) and checks that a stalled output beat holds TVALID, TDATA and TLAST
  until it is taken.
* :meth:`StreamTB.check_frames` / :meth:`StreamTB.check_values`: the one stream scoreboard (every
  output value bit for bit against python_ref, TLAST placement and beat counts on both streams,
  TKEEP/TSTRB, silence after the last frame).

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.handle import Immediate
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, SimTimeoutError, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from python_ref.config import Config, load_config

CLOCK_PERIOD_NS = 10
MAX_REPORTED = 10  # mismatches logged per check

# Stall patterns: name -> ((probability, longest burst) of source idle cycles, same for sink pauses).
# Source gaps are short; sink pauses come in bursts up to 12 cycles so the output slice and the
# whole pipeline fill and x_TREADY drops. About 40% of the cycles are idle / paused.
# "reactive": a sink that raises TREADY only after it has seen TVALID (legal AXI-Stream; a unit
# whose TVALID waits for TREADY deadlocks against it), with source gaps.
STALL_PATTERNS = {
    "none": (None, None),
    "gaps": ((0.2, 4), None),
    "backpressure": (None, (0.1, 12)),
    "both": ((0.2, 4), (0.1, 12)),
    "reactive": ((0.2, 4), "reactive"),
}


class AxiStreamDataBus(AxiStreamBus):
    """AXI-Stream bus with TDATA, TVALID, TREADY, TLAST only (TKEEP/TSTRB driven and checked by StreamTB)."""

    _optional_signals = ["tvalid", "tready", "tlast"]


def start_clock_in_reset(clk, rst_n):
    """Drive the active-low reset before the clock's first edge, then start the clock. Verilator
    starts every signal at a random value (+verilator+rand+reset+2), the reset input included: a clock
    started first can give an edge at time 0 with the reset released, where the RTL's simulation
    checks (``if (ap_rst_n && ...) $error``) see random state (seed 3 stopped softmax and layernorm)."""
    rst_n.set(Immediate(0))   # now, not at the end of the time step, where the clock's first edge lands first
    Clock(clk, CLOCK_PERIOD_NS, unit="ns").start()


async def clock_and_reset(dut, inputs: dict, cycles: int = 3, clock: str = "clk", reset_n: str = "rst_n"):
    """Start the clock, drive ``inputs`` (name -> value), hold reset for ``cycles`` edges and release it
    at the next falling edge: the start of a unit-level bench that has no bus models."""
    rst = getattr(dut, reset_n)
    start_clock_in_reset(getattr(dut, clock), rst)
    for name, value in inputs.items():
        getattr(dut, name).value = value
    await ClockCycles(getattr(dut, clock), cycles)
    await FallingEdge(getattr(dut, clock))
    rst.value = 1


@dataclass(frozen=True)
class RunParams:
    """The run's parameters, from ``$COSIM_PARAMS`` (written by cosim.runner.run_cosim)."""

    config: str  # config name or YAML path
    seed: int = 1
    stall: str = "both"  # a STALL_PATTERNS name: the pattern of the stalled tests
    n_random: int = 1000  # random vectors (kernel-specific unit: values, rows, ...)
    corrupt: bool = False  # flip one expected bit per check call: proves the scoreboard can fail
    extra: dict = field(default_factory=dict)  # kernel-specific knobs

    @classmethod
    def from_env(cls) -> "RunParams":
        text = os.environ.get("COSIM_PARAMS")
        if not text:
            raise RuntimeError("COSIM_PARAMS is not set: run this testbench through cosim.runner.run_cosim")
        d = json.loads(text)
        known = {"config", "seed", "stall", "n_random", "corrupt"}
        p = cls(**{k: v for k, v in d.items() if k in known}, extra={k: v for k, v in d.items() if k not in known})
        if p.stall not in STALL_PATTERNS:
            raise ValueError(f"stall pattern {p.stall!r} unknown; allowed: {', '.join(STALL_PATTERNS)}")
        return p

    def cfg(self) -> Config:
        return load_config(self.config)

    def int(self, key: str, default: int) -> int:
        v = self.extra.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"run parameter {key}={v!r} is not an integer")
        return v


class ResultWriter:
    """The JSON summary of one simulator run at ``$COSIM_RESULT_JSON``, rewritten after every update
    (so it survives a later test failing). Creating a writer re-reads what earlier tests of the run
    wrote, and ``defaults`` fill only missing fields."""

    def __init__(self, **defaults):
        self.path = os.environ.get("COSIM_RESULT_JSON")
        self.data: dict = {}
        if self.path and Path(self.path).is_file():
            self.data = json.loads(Path(self.path).read_text())
        for k, v in defaults.items():
            self.data.setdefault(k, v)
        self.write()

    def update(self, **fields):
        self.data.update(fields)
        self.write()

    def add(self, key: str, n: int):
        self.data[key] = self.data.get(key, 0) + int(n)
        self.write()

    def append(self, key: str, item):
        self.data.setdefault(key, []).append(item)
        self.write()

    def write(self):
        if self.path:
            p = Path(self.path)
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
            os.replace(tmp, p)


def real_rows_skip(has_shape, shape: str) -> str | None:
    """Why a test case on the published weights' rows cannot run in this simulation (None: it can):
    the weights are absent (python_ref.model.real_data.missing_reason), or the run's config does not
    have the published shapes (``has_shape(cfg)`` false; ``shape`` says what is needed)."""
    from python_ref.model.real_data import missing_reason
    reason = missing_reason()
    if reason:
        return reason
    cfg = RunParams.from_env().cfg()
    return None if has_shape(cfg) else f"the real rows need {shape}; config {cfg.name} does not have it"


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


def split_frames(values: np.ndarray, rng: np.random.Generator, max_len: int, unit: int = 1) -> list[np.ndarray]:
    """Cut a 1-D array into frames of random length (1..max_len units of ``unit`` values; the last
    frame takes the remainder)."""
    out, i = [], 0
    while i < len(values):
        n = int(rng.integers(1, max_len, endpoint=True)) * unit
        out.append(values[i:i + n])
        i += n
    return out


class PipeFlowModel:
    """Cycle model of a stall-as-a-whole pipeline (rtl/src/axis_pipe_ctrl.sv, STAGES registered
    stages) followed by an output register slice (axis_skid): the flow control of gelu, exp and
    softmax_prob. step() takes the cycle's x_TVALID and y_TREADY and returns the x_TREADY and
    y_TVALID the RTL must show in that cycle, then advances by one clock edge. The pipeline advances
    unless its last stage holds a beat the slice cannot take: it closes every bubble at its end."""

    def __init__(self, stages: int):
        if stages < 1:
            raise ValueError(f"PipeFlowModel: stages must be >= 1, got {stages}")
        self.stages = stages
        self.reset()

    def __repr__(self) -> str:
        return f"PipeFlowModel(stages={self.stages})"

    def reset(self):
        self.running = False
        self.v = [False] * self.stages  # v[-1]: the last stage holds a beat
        self.m_valid = False            # the slice's output register (y_TVALID)
        self.skid = False               # the slice's parking register

    def step(self, x_tvalid: bool, y_tready: bool) -> tuple[bool, bool]:
        s_ready = not self.skid
        ce = not self.v[-1] or s_ready
        x_tready = self.running and ce
        y_tvalid = self.m_valid
        s_fire = self.v[-1] and s_ready
        if not self.m_valid or y_tready:          # the output slot is empty or drains
            if self.skid:
                self.m_valid, self.skid = True, False
            else:
                self.m_valid = s_fire
        elif s_fire:
            self.skid = True
        if ce:
            self.v = [x_tvalid and self.running] + self.v[:-1]
        self.running = True
        return x_tready, y_tvalid


class StreamTB:
    """Clock, reset, source/sink bus models, stall generators, a handshake monitor and the stream
    scoreboard for one AXI-Stream kernel with ports <in>_T* and <out>_T* (Vitis names)."""

    def __init__(self, dut, params: RunParams, kernel: str, lane_bits: int, in_prefix: str = "x",
                 out_prefix: str = "y", clock: str = "ap_clk", reset_n: str = "ap_rst_n", start_clock: bool = True,
                 **summary_defaults):
        self.dut = dut
        self.log = dut._log
        self.params = params
        self.cfg = params.cfg()
        self.act = self.cfg.fmt("act")
        self.corrupt = params.corrupt
        self.results = ResultWriter(kernel=kernel, config=self.cfg.name, stall=params.stall, seed=params.seed,
                                    vectors=0, beats=0, out_values=0, mismatches=0, latency_cycles=None,
                                    cycles_per_beat=None, **summary_defaults)
        self.first_mismatch = ""
        self.clk = getattr(dut, clock)
        self.rst_n = getattr(dut, reset_n)
        if start_clock:   # False: another TB on the same top already drives the clock
            start_clock_in_reset(self.clk, self.rst_n)
        self.lane_bits = lane_bits
        self.in_bus = AxiStreamDataBus.from_prefix(dut, in_prefix)
        self.out_bus = AxiStreamDataBus.from_prefix(dut, out_prefix)
        for bus in (self.in_bus, self.out_bus):
            if len(bus.tdata) % lane_bits:
                raise ValueError(f"{bus._name}_TDATA is {len(bus.tdata)} bits, not a multiple of {lane_bits}-bit lanes")
        self.lanes = len(self.in_bus.tdata) // lane_bits
        self.out_lanes = len(self.out_bus.tdata) // lane_bits
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
        self.hold_errors = 0  # stalled output beats that changed or dropped before being taken
        self.first_hold_error = ""
        self.cycle = 0
        self.in_beats: list[tuple[int, int]] = []   # (cycle, tlast) of every input handshake
        self.out_beats: list[tuple[int, int]] = []  # (cycle, tlast) of every output handshake
        self.in_stalls = 0   # cycles with x_TVALID high and x_TREADY low (backpressure reached the input)
        self.out_stalls = 0  # cycles with y_TVALID high and y_TREADY low
        self.x_errors = 0    # cycles after reset with an X/Z on a TVALID or TREADY
        self.first_x_error = ""
        # Throughput property of the unit under backpressure (None: not checked): per check, input
        # stall cycles <= output stall cycles + stall_slack. A pipeline that keeps closing bubbles
        # stalls its input only while its output is stalled (plus its depth); see check_accounting.
        self.stall_slack: int | None = None
        # Flow-control model of the unit (None: not checked), e.g. PipeFlowModel: fed the sampled
        # x_TVALID / y_TREADY, it predicts x_TREADY and y_TVALID every cycle; any difference (a
        # pipeline that stops closing a bubble, a TVALID that waits for TREADY) is an error.
        self.flow_model: PipeFlowModel | None = None
        self.flow_errors = 0
        self.first_flow_error = ""
        self._reactive = None
        self._scramble_rng = random.Random(params.seed + 77)
        cocotb.start_soon(self._monitor())
        # hold_idle_inputs (evidence runs only): leave TDATA/TLAST as cocotbext-axi holds them, to
        # show that a unit consuming data without a handshake passes that way and fails by default
        if not params.extra.get("hold_idle_inputs", False):
            cocotb.start_soon(self._scramble_idle_inputs())

    @classmethod
    async def create(cls, dut, stall: str | None = None, **kw) -> "StreamTB":
        """A TB for this test: the run's parameters, the stall pattern (default the run's), reset."""
        tb = cls(dut, RunParams.from_env(), **kw)
        tb.set_stall_pattern(tb.params.stall if stall is None else stall, tb.params.seed)
        await tb.reset()
        return tb

    async def _scramble_idle_inputs(self):
        """Hostile source: whenever the input's TVALID is low, TDATA, TLAST and TKEEP/TSTRB carry
        random values (cocotbext-axi would hold the last beat), so a unit that samples data without
        a valid handshake sees garbage and fails the scoreboard. Driven at the falling edge, when the
        source model (which drives at the rising edge) is not writing."""
        ib, rng = self.in_bus, self._scramble_rng
        keep = [getattr(self.dut, f"{self.in_bus._name}_{n}", None) for n in ("TKEEP", "TSTRB")]
        edge = FallingEdge(self.clk)
        while True:
            await edge
            if ib.tvalid.value.is_resolvable and not int(ib.tvalid.value):
                ib.tdata.value = rng.getrandbits(len(ib.tdata))
                ib.tlast.value = rng.getrandbits(1)
                for sig in keep:
                    if sig is not None:
                        sig.value = rng.getrandbits(len(sig))
            else:
                for sig in keep:  # a valid beat carries TKEEP/TSTRB all ones
                    if sig is not None:
                        sig.value = (1 << len(sig)) - 1

    async def _react(self):
        """The "reactive" sink: TREADY follows TVALID, never leads it (pause until TVALID is seen)."""
        edge = FallingEdge(self.clk)
        while True:
            await edge
            v = self.out_bus.tvalid.value
            self.sink.pause = not (v.is_resolvable and int(v))

    async def _monitor(self):
        """Sample both handshakes at every rising edge (as cocotbext-axi does). A beat offered while
        TREADY is low must be offered again, unchanged, at the next edge (AXI-Stream: once TVALID is
        high it stays high with TDATA/TLAST stable until the handshake), and after reset no TVALID
        or TREADY may be X or Z."""
        ib, ob = self.in_bus, self.out_bus
        edge = RisingEdge(self.clk)
        held = None  # (tdata, tlast) of the output beat stalled at the previous edge
        while True:
            await edge
            self.cycle += 1
            if not self.rst_n.value:
                held = None
                if self.flow_model is not None:
                    self.flow_model.reset()
                continue
            if self.flow_model is not None and ib.tvalid.value.is_resolvable and ob.tready.value.is_resolvable:
                want = self.flow_model.step(bool(ib.tvalid.value), bool(ob.tready.value))
                got = (bool(ib.tready.value), bool(ob.tvalid.value))
                if got != want:
                    self.flow_errors += 1
                    self.first_flow_error = self.first_flow_error or (
                        f"cycle {self.cycle}: (x_TREADY, y_TVALID) = {got}, the flow model says {want}")
            for name, sig in (("in TVALID", ib.tvalid), ("in TREADY", ib.tready), ("out TVALID", ob.tvalid),
                              ("out TREADY", ob.tready)):
                if not sig.value.is_resolvable:
                    self.x_errors += 1
                    self.first_x_error = self.first_x_error or f"cycle {self.cycle}: {name} = {sig.value}"
            if ib.tvalid.value:
                if ib.tready.value:
                    self.in_beats.append((self.cycle, int(ib.tlast.value)))
                else:
                    self.in_stalls += 1
            valid = bool(ob.tvalid.value)
            if held is not None:  # only stalled beats are sampled in full (cheap on long runs)
                beat = (str(ob.tdata.value), str(ob.tlast.value)) if valid else None
                if beat != held:
                    self.hold_errors += 1
                    self.first_hold_error = self.first_hold_error or (
                        f"cycle {self.cycle}: stalled output beat {'dropped TVALID' if beat is None else 'changed'}")
                held = None
            if valid:
                if ob.tready.value:
                    self.out_beats.append((self.cycle, int(ob.tlast.value)))
                    for sig in self.out_keep:
                        if not sig.value.is_resolvable or sig.value.to_unsigned() != (1 << len(sig)) - 1:
                            self.keep_errors += 1
                else:
                    self.out_stalls += 1
                    held = (str(ob.tdata.value), str(ob.tlast.value))

    def set_stall_pattern(self, name: str, seed: int):
        if name not in STALL_PATTERNS:
            raise ValueError(f"stall pattern {name!r} unknown; allowed: {', '.join(STALL_PATTERNS)}")
        idle, pause = STALL_PATTERNS[name]
        if self._reactive is not None:
            self._reactive.cancel()
            self._reactive = None
        self.source.set_pause_generator(random_pauses(*idle, seed=seed) if idle else None)
        if pause == "reactive":
            self.sink.set_pause_generator(None)
            self._reactive = cocotb.start_soon(self._react())
        else:
            self.sink.set_pause_generator(random_pauses(*pause, seed=seed + 1) if pause else None)
        if not idle:
            self.source.pause = False
        if not pause:
            self.sink.pause = False

    async def reset(self, cycles: int = 4):
        self.rst_n.value = 0
        await ClockCycles(self.clk, cycles)
        if self.flow_model is None:
            self.rst_n.value = 1
            await ClockCycles(self.clk, 2)
        else:
            await self._offer_through_reset()
        self.in_beats.clear()
        self.out_beats.clear()
        self.in_stalls = self.out_stalls = self.keep_errors = 0

    async def _offer_through_reset(self):
        """Hostile upstream (another reset domain, not AXI-compliant): a random beat is offered from
        the last reset cycle through the first edge after reset. Units with a flow model document
        x_TREADY low until that edge has passed (axis_pipe_ctrl's `running`), so they must take
        nothing and show nothing: the flow model (fed TVALID = 1 there) and the empty beat counts
        below see a phantom beat at once; the next check's accounting would see it too."""
        ib = self.in_bus
        self.in_beats.clear()
        self.out_beats.clear()
        await FallingEdge(self.clk)
        ib.tdata.value = self._scramble_rng.getrandbits(len(ib.tdata))
        ib.tlast.value = self._scramble_rng.getrandbits(1)
        ib.tvalid.value = 1
        self.rst_n.value = 1
        await RisingEdge(self.clk)  # the first edge with reset released: x_TREADY must still be low
        took = bool(ib.tready.value)  # as this edge samples it (read before the edge's updates, like the monitor)
        await FallingEdge(self.clk)
        ib.tvalid.value = 0
        ib.tlast.value = 0  # the bus model's idle level (the idle-input scrambler, when on, overrides it)
        await ClockCycles(self.clk, 2 + self.flow_model.stages + 2)  # a phantom beat would reach the output
        if took or self.in_beats or self.out_beats or int(self.out_bus.tvalid.value):
            raise AssertionError(f"a beat entered the unit without a handshake around reset (a beat offered through "
                                 f"the first edge after reset, TREADY low, then idle inputs): x_TREADY at that edge "
                                 f"{int(took)}, {len(self.in_beats)} input and {len(self.out_beats)} output handshakes, "
                                 f"y_TVALID {self.out_bus.tvalid.value}")

    async def idle(self, cycles: int):
        await ClockCycles(self.clk, cycles)

    def rng(self, offset: int) -> np.random.Generator:
        return np.random.default_rng(self.params.seed + offset)

    # ---- packing: lane i of a beat is value i (lane 0 in the low bits), values in two's complement
    def values_to_frame(self, raw: np.ndarray) -> AxiStreamFrame:
        w = self.lane_bits
        return AxiStreamFrame([int(v) & ((1 << w) - 1) for v in np.asarray(raw).tolist()])

    def frame_to_values(self, frame: AxiStreamFrame) -> np.ndarray:
        w = self.lane_bits
        u = np.array(list(frame.tdata), dtype=np.int64 if w <= 62 else object)
        return np.where(u >= (1 << (w - 1)), u - (1 << w), u)

    def check_accounting(self, label: str, in0: int, out0: int, want_in_last: list, want_out_last: list,
                         stalls0: tuple[int, int]) -> None:
        """Beat-level accounting since input beat ``in0`` / output beat ``out0``: TLAST exactly where
        ``want_*_last`` says on both interfaces (so no beat was lost or duplicated), TKEEP/TSTRB all
        ones, stalled beats held, nothing left in the sink; records the stall cycles since ``stalls0``."""
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
            raise AssertionError(f"{label}: {self.keep_errors} output beats without TKEEP/TSTRB all ones")
        if self.hold_errors:
            raise AssertionError(f"{label}: {self.hold_errors} stalled output beats were not held until taken; "
                                 f"first at {self.first_hold_error}")
        if self.x_errors:
            raise AssertionError(f"{label}: {self.x_errors} cycles with X/Z on a handshake after reset; first at "
                                 f"{self.first_x_error}")
        d_in, d_out = self.in_stalls - stalls0[0], self.out_stalls - stalls0[1]
        if self.stall_slack is not None and d_in > d_out + self.stall_slack:
            raise AssertionError(f"{label}: the input stalled {d_in} cycles against {d_out} output stall cycles "
                                 f"(+ {self.stall_slack} allowed): the unit stops closing bubbles under backpressure")
        if self.flow_errors:
            raise AssertionError(f"{label}: {self.flow_errors} cycles where the handshakes differ from the flow "
                                 f"model {self.flow_model} (first at {self.first_flow_error}): a bubble not "
                                 f"closed, or a TVALID that waits for TREADY")
        if not self.sink.empty():
            raise AssertionError(f"{label}: the sink holds extra frames after the last one")
        self.results.add("input_stall_cycles", self.in_stalls - stalls0[0])
        self.results.add("output_stall_cycles", self.out_stalls - stalls0[1])

    # ---- the scoreboard
    async def check_frames(self, in_frames: list[np.ndarray], want: list[np.ndarray], label: str,
                           out_bits: int | None = None, cycles_per_beat: int = 1,
                           describe=None) -> int:
        """Send each input frame (lane values, TLAST on its last beat) and expect the matching output
        frame ``want[i]`` (lane values), bit for bit. ``out_bits``: compare outputs as unsigned values
        of that many bits (the sink reads lanes as signed). ``describe(frame, index)`` names an input
        in mismatch messages. Returns the number of mismatching values (logged, MAX_REPORTED at most)."""
        want = [np.asarray(w, dtype=np.int64).copy() for w in want]
        if self.corrupt:
            want[len(want) // 2][0] ^= 1
            self.corrupt = False  # one flipped bit per TB proves the comparison
        for f, w in zip(in_frames, want):
            if len(f) % self.lanes or len(w) % self.out_lanes:
                raise ValueError(f"{label}: frames must fill whole beats ({self.lanes} lanes in, {self.out_lanes} out)")
        in0, out0 = len(self.in_beats), len(self.out_beats)
        stalls0 = (self.in_stalls, self.out_stalls)
        received = []

        async def receive():
            for _ in in_frames:
                received.append(await self.sink.recv())

        async def send():
            for f in in_frames:
                await self.source.send(self.values_to_frame(f))

        rx = cocotb.start_soon(receive())
        cocotb.start_soon(send())
        beats_in = sum(len(f) for f in in_frames) // self.lanes
        beats_out = sum(len(w) for w in want) // self.out_lanes
        budget = (400 + (20 + 3 * cycles_per_beat) * (beats_in + beats_out)) * CLOCK_PERIOD_NS
        try:
            await with_timeout(rx, budget, "ns")
        except SimTimeoutError:
            raise AssertionError(f"{label}: timed out after {budget} ns with {len(received)} of {len(in_frames)} "
                                 f"frames and {len(self.out_beats) - out0} of {beats_out} beats received: beats lost "
                                 f"or the DUT hung") from None
        await self.idle(100)  # anything after the last frame would be a duplicated or invented beat

        mismatches = reported = 0
        for i, (frame, w) in enumerate(zip(received, want)):
            got = self.frame_to_values(frame)
            if out_bits is not None:
                got = got & ((1 << out_bits) - 1)
            if len(got) != len(w):
                raise AssertionError(f"{label}: output frame {i} has {len(got)} values, expected {len(w)} "
                                     f"(TLAST misplaced, or beats lost or duplicated)")
            bad = np.nonzero(got != w)[0]
            mismatches += len(bad)
            for j in bad[:max(0, MAX_REPORTED - reported)]:
                what = describe(i, j) if describe else f"frame {i} value {j}"
                msg = f"{label}: MISMATCH {what}: expected {int(w[j])} got {int(got[j])}"
                self.log.error(msg)
                self.first_mismatch = self.first_mismatch or msg
                reported += 1
        want_in = [int(b == len(f) // self.lanes - 1) for f in in_frames for b in range(len(f) // self.lanes)]
        want_out = [int(b == len(w) // self.out_lanes - 1) for w in want for b in range(len(w) // self.out_lanes)]
        self.check_accounting(label, in0, out0, want_in, want_out, stalls0)
        self.results.add("vectors", sum(len(f) for f in in_frames))
        self.results.add("beats", beats_in)
        self.results.add("out_values", sum(len(w) for w in want))
        self.results.add("mismatches", mismatches)
        self.log.info(f"{label}: {beats_in} input beats in {len(in_frames)} frames, {mismatches} mismatches")
        return mismatches

    async def check_values(self, values: np.ndarray, expected: np.ndarray, label: str, rng: np.random.Generator,
                           max_frame_beats: int = 32, out_bits: int | None = None) -> int:
        """One value per lane in and out (elementwise units): ``values`` padded to whole beats, sent in
        frames of random length, each output compared with ``expected``."""
        values = np.asarray(values, dtype=np.int64)
        expected = np.asarray(expected, dtype=np.int64)
        pad = (-len(values)) % self.lanes
        if pad:  # padding lanes carry zeros; their outputs are compared too (python_ref of 0)
            raise ValueError(f"{label}: {len(values)} values do not fill whole {self.lanes}-lane beats")
        frames = split_frames(values, rng, max_frame_beats, self.lanes)
        bounds = np.cumsum([0] + [len(f) for f in frames])
        want = [expected[bounds[i]:bounds[i + 1]] for i in range(len(frames))]
        return await self.check_frames(frames, want, label, out_bits=out_bits,
                                       describe=lambda i, j: f"value {bounds[i] + j} (x={int(values[bounds[i] + j])})")

    def expect_exact(self, mismatches: int, label: str, spec: str):
        if mismatches:
            raise AssertionError(f"{label}: {mismatches} output values mismatch {spec} (first {MAX_REPORTED} in the "
                                 f"log); first: {self.first_mismatch}")

    async def measure_throughput(self, values: np.ndarray, expected: np.ndarray, spec: str,
                                 latency_values: int | None = None) -> tuple[int, float]:
        """No stalls: exact latency of one beat into an empty pipeline, then cycles per beat over a
        gap-free burst of frames (TLAST must not cost a cycle). Records both in the summary and
        returns (latency, cycles per beat)."""
        one = latency_values or self.lanes
        rng = self.rng(13)
        self.expect_exact(await self.check_values(values[:one], expected[:one], "latency", rng, 1), "latency", spec)
        latency = self.out_beats[-1][0] - self.in_beats[-1][0]
        i0, o0 = len(self.in_beats), len(self.out_beats)
        self.expect_exact(await self.check_values(values[one:], expected[one:], "burst", rng, 64), "burst", spec)
        ins, outs = self.in_beats[i0:], self.out_beats[o0:]
        cpb = max((ins[-1][0] - ins[0][0] + 1) / len(ins), (outs[-1][0] - outs[0][0] + 1) / len(outs))
        lat_all = {o[0] - i[0] for i, o in zip(ins, outs)} if len(ins) == len(outs) else {None}
        self.results.update(latency_cycles=latency, cycles_per_beat=cpb, burst_beats=len(ins))
        self.log.info(f"latency {latency} cycles (input handshake -> output handshake), {cpb} cycles per beat "
                      f"over {len(ins)} beats")
        if lat_all != {latency}:
            raise AssertionError(f"latency varies inside an unstalled burst: {sorted(lat_all, key=str)}")
        return latency, cpb
