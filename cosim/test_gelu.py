"""cocotb testbench of rtl/src/gelu.sv, python_ref.kernels.gelu.gelu_raw as the scoreboard.

Run through cosim.runner.run_unit (tests/test_cosim_gelu.py, `make sim`); not a pytest module.
Run parameters (cosim.tb.RunParams): stall (the pattern of test_directed / test_random), n_random
(random values per distribution: n over the full range, n realistic, n/4 over the table range),
burst_beats (the throughput burst), corrupt (one flipped expected bit: the scoreboard must fail).

Every output beat is compared bit for bit; beats and TLAST positions are counted on both streams,
y_TKEEP/y_TSTRB checked on every beat, a stalled output beat must hold until taken, and after the
last frame the output must stay silent (nothing lost, nothing duplicated).
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, Timer

from cosim.tb import StreamTB, PipeFlowModel
from cosim.vectors import gelu_directed, gelu_realistic, random_full
from python_ref.kernels.gelu import gelu_raw

# Input stall cycles allowed beyond the output's, per check: the pipeline depth and its output slice.
PIPELINE_SLACK = 16
PIPE_STAGES = 7  # rtl/src/gelu.sv: axis_pipe_ctrl STAGES (S1..S7)
TEST_TIMEOUT_MS = 2000  # simulated time; each check also has a budget proportional to its beats
SPEC = "python_ref.kernels.gelu.gelu_raw"


class GeluTB(StreamTB):
    def __init__(self, dut, params):
        cfg = params.cfg()
        super().__init__(dut, params, "gelu", cfg.fmt("act").width, method=cfg.hardware.gelu.method)
        if self.out_lanes != self.lanes:
            raise AssertionError(f"x_TDATA has {self.lanes} lanes, y_TDATA {self.out_lanes}")
        self.g = self.cfg.hardware.gelu
        # the ROM word's fields as the RTL sized them (TN: T bits, DN: diff bits; BR_W of them in block RAM)
        self.results.update(lanes=self.lanes, rom_fields=[int(getattr(dut, n).value) for n in ("TN", "DN", "BR_W")])
        # a stall-as-a-whole pipeline: the input waits only while the output does (plus its depth)
        self.stall_slack = PIPELINE_SLACK
        if not self.params.extra.get("no_flow_model", False):  # evidence runs only
            self.flow_model = PipeFlowModel(PIPE_STAGES)

    def pad(self, v: np.ndarray) -> np.ndarray:
        extra = (-len(v)) % self.lanes
        return np.concatenate([v, np.zeros(extra, dtype=np.int64)]) if extra else v

    async def check(self, values: np.ndarray, label: str, rng, max_frame_beats: int = 32) -> int:
        v = self.pad(np.asarray(values, dtype=np.int64))
        return await self.check_values(v, gelu_raw(v, self.cfg), label, rng, max_frame_beats)

    def directed(self) -> np.ndarray:
        """The shared corners (cosim.vectors.gelu_directed: 0, +-LSB, min, max, every table node, +-1
        LSB and mid-segment around it, +-range) plus every power of two and its neighbours, both signs
        (each bit of |x| and of the sign handling) and the node one step beyond the range."""
        act, g = self.act, self.g
        tb_bits = act.frac - g.table_step_log2
        extra = []
        for b in range(act.width - 1):
            p = 1 << b
            extra += [p, p - 1, p + 1, -p, -(p - 1), -(p + 1)]
        beyond = g.table_entries << tb_bits
        extra += [beyond - 1, beyond, beyond + 1, -(beyond - 1), -beyond, -(beyond + 1), act.raw_min + 2]
        v = np.union1d(gelu_directed(self.cfg), np.array(extra, dtype=np.int64))
        return v[(v >= act.raw_min) & (v <= act.raw_max)]

    def random_sets(self, n: int, rng) -> dict[str, np.ndarray]:
        """The shared sets (cosim.vectors): n uniform over the full range, n realistic (normal, sigma
        0.5..3); plus n/4 uniform over the table range and one step beyond it (~140 values per
        interpolation segment and sign per 100k)."""
        act, g = self.act, self.g
        range_raw = g.table_entries << (act.frac - g.table_step_log2)
        seed = self.params.seed + 101
        return {"uniform_full": random_full(self.cfg, n, seed),
                "realistic_normal": gelu_realistic(self.cfg, n, seed + 1),
                "uniform_table": rng.integers(-range_raw, range_raw, n // 4, endpoint=True, dtype=np.int64)}


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_directed(dut):
    """Corners: 0, +-LSB, min/max, every table node +-1 LSB (incl. +-range), every power of two +-1."""
    tb = await GeluTB.create(dut)
    tb.expect_exact(await tb.check(tb.directed(), f"directed/{tb.params.stall}", tb.rng(0)), "directed", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Random values over the full range, realistic (normal, sigma 0.5..3), and the table range."""
    tb = await GeluTB.create(dut)
    rng = tb.rng(7)
    total = 0
    for name, v in tb.random_sets(tb.params.n_random, rng).items():
        total += await tb.check(v, f"{name}/{tb.params.stall}", rng, max_frame_beats=64)
    tb.expect_exact(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: exact latency of a lone beat, then cycles per beat over a long gap-free burst."""
    tb = await GeluTB.create(dut, stall="none")
    rng = tb.rng(13)
    beats = tb.params.int("burst_beats", 2048)
    v = rng.integers(tb.act.raw_min, tb.act.raw_max, (beats + 1) * tb.lanes, endpoint=True, dtype=np.int64)
    _, cpb = await tb.measure_throughput(v, gelu_raw(v, tb.cfg), SPEC)
    assert cpb == 1.0, f"throughput below one beat per cycle: {cpb} cycles per beat"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_reset_midstream(dut):
    """Reset with beats in flight and the output stalled: x_TREADY/y_TVALID drop during reset, no
    stale beat appears afterwards, and the next stream is exact."""
    tb = await GeluTB.create(dut, stall="none")
    rng = tb.rng(29)
    act, lanes = tb.act, tb.lanes
    v = rng.integers(act.raw_min, act.raw_max, 64 * lanes, endpoint=True, dtype=np.int64)
    for i in range(4):
        await tb.source.send(tb.values_to_frame(v[i * 16 * lanes:(i + 1) * 16 * lanes]))
    tb.sink.set_pause_generator(None)
    tb.sink.pause = True
    await tb.idle(30)  # the pipeline and the output slice fill behind the stopped sink
    stalls = (tb.in_stalls, tb.out_stalls)
    assert int(dut.y_TVALID.value) == 1 and int(dut.x_TREADY.value) == 0, \
        "expected a full pipeline (y_TVALID high, x_TREADY low) before the reset"
    # x_TREADY comes from flip-flops only: raising y_TREADY mid-cycle must not change it before the
    # next clock edge (at that edge the DUT and the sink both take one beat; the reset follows).
    await FallingEdge(tb.clk)
    dut.y_TREADY.value = 1
    await Timer(1, "ns")
    assert int(dut.x_TREADY.value) == 0, "combinational path from y_TREADY to x_TREADY"

    tb.rst_n.value = 0
    await tb.idle(1)
    for _ in range(3):
        await tb.idle(1)
        assert int(dut.x_TREADY.value) == 0, "x_TREADY high during reset"
        assert int(dut.y_TVALID.value) == 0, "y_TVALID high during reset"
    tb.source.clear()
    tb.sink.clear()
    tb.in_stalls, tb.out_stalls = stalls  # the deliberate stall above is not part of the stall pattern
    tb.rst_n.value = 1
    out_before = len(tb.out_beats)
    tb.set_stall_pattern(tb.params.stall, tb.params.seed + 3)
    await tb.idle(40)
    assert len(tb.out_beats) == out_before, f"{len(tb.out_beats) - out_before} stale beats after reset"
    assert tb.sink.empty(), "the sink received a frame after reset"
    tb.expect_exact(await tb.check(tb.directed(), "after-reset", rng), "after reset", SPEC)
