"""cocotb testbench of rtl/src/gelu.sv, python_ref.kernels.gelu.gelu_raw as the scoreboard.

Run through cosim.runner.run_cosim (tests/test_cosim_gelu.py, scripts/sim.py); not a pytest module.
Environment (set by the runner / the pytest entry):
  COSIM_CONFIG            config name or YAML path
  COSIM_RESULT_JSON       where the JSON summary goes
  COSIM_SEED              seed of the vectors, frame sizes and stall generators
  COSIM_STALL             stall pattern of the directed and random tests (cosim.tb.STALL_PATTERNS)
  COSIM_RANDOM_VECTORS    n: random values over the full range, n realistic, n/4 over the table range
  COSIM_BURST_BEATS       beats of the throughput burst
  COSIM_CORRUPT_EXPECTED  1: flip the LSB of one expected value (proves the scoreboard can fail)

Tests: test_directed, test_random (under COSIM_STALL), test_latency_throughput (no stalls),
test_reset_midstream. Every output beat is compared bit for bit; beats and TLAST positions are
counted on both streams, y_TKEEP/y_TSTRB checked on every beat, and after the last frame the output
must stay silent (nothing lost, nothing duplicated).
"""
from __future__ import annotations

import os

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, SimTimeoutError, Timer, with_timeout

from cosim.tb import STALL_PATTERNS, ResultWriter, StreamTB, env_int
from cosim.vectors import gelu_directed, gelu_realistic, random_full
from python_ref.config import load_config
from python_ref.kernels.gelu import gelu_raw

TEST_TIMEOUT_MS = 2000  # simulated time; each phase also has a budget proportional to its beats
MAX_REPORTED = 10


class GeluEnv:
    """Config, lane count and shared results of one simulator run (module-level: the cocotb tests of
    one run add to one summary)."""

    def __init__(self):
        cfg_arg = os.environ.get("COSIM_CONFIG")
        if not cfg_arg:
            raise RuntimeError("COSIM_CONFIG is not set: run this testbench through cosim.runner.run_cosim")
        self.cfg = load_config(cfg_arg)
        self.act = self.cfg.fmt("act")
        self.g = self.cfg.hardware.gelu
        self.seed = env_int("COSIM_SEED", 1)
        self.stall = os.environ.get("COSIM_STALL", "both")
        if self.stall not in STALL_PATTERNS:
            raise ValueError(f"COSIM_STALL={self.stall!r} unknown; allowed: {', '.join(STALL_PATTERNS)}")
        self.corrupt = os.environ.get("COSIM_CORRUPT_EXPECTED", "0") not in ("", "0")
        self.first_mismatch = ""
        self.results = ResultWriter(kernel="gelu", config=self.cfg.name, method=self.g.method,
                                    stall=self.stall, vectors=0, beats=0, mismatches=0,
                                    latency_cycles=None, cycles_per_beat=None, seed=self.seed)


_ENV: GeluEnv | None = None


def gelu_env() -> GeluEnv:
    global _ENV
    if _ENV is None:
        _ENV = GeluEnv()
    return _ENV


async def start(dut, stall: str):
    env = gelu_env()
    tb = StreamTB(dut, env.act.width, "x", "y")
    if len(tb.out_bus.tdata) != len(tb.in_bus.tdata):
        raise AssertionError(f"x_TDATA is {len(tb.in_bus.tdata)} bits, y_TDATA {len(tb.out_bus.tdata)} bits")
    lanes = tb.lanes
    env.results.update(lanes=lanes)
    tb.set_stall_pattern(stall, env.seed)
    await tb.reset()
    return env, tb, lanes


# ---- stimulus ----------------------------------------------------------------------------------------
def directed_values(env: GeluEnv) -> np.ndarray:
    """The shared corners (cosim.vectors.gelu_directed: 0, +-LSB, min, max, every table node, +-1
    LSB and mid-segment around it, +-range) plus every power of two and its neighbours, both signs
    (each bit of |x| and of the sign handling) and the node one step beyond the range."""
    act, g = env.act, env.g
    tb_bits = act.frac - g.table_step_log2
    extra = []
    for b in range(act.width - 1):
        p = 1 << b
        extra += [p, p - 1, p + 1, -p, -(p - 1), -(p + 1)]
    beyond = (g.table_entries) << tb_bits
    extra += [beyond - 1, beyond, beyond + 1, -(beyond - 1), -beyond, -(beyond + 1), act.raw_min + 2]
    v = np.union1d(gelu_directed(env.cfg), np.array(extra, dtype=np.int64))
    return v[(v >= act.raw_min) & (v <= act.raw_max)]


def random_values(env: GeluEnv, n: int, seed: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The shared sets (cosim.vectors): n uniform over the full range, n realistic (normal, sigma
    0.5..3); plus n/4 uniform over the table range and one step beyond it (~140 values per
    interpolation segment and sign per 100k)."""
    act, g = env.act, env.g
    range_raw = g.table_entries << (act.frac - g.table_step_log2)
    return {"uniform_full": random_full(env.cfg, n, seed),
            "realistic_normal": gelu_realistic(env.cfg, n, seed + 1),
            "uniform_table": rng.integers(-range_raw, range_raw, n // 4, endpoint=True, dtype=np.int64)}


def pad_to_lanes(v: np.ndarray, lanes: int) -> np.ndarray:
    extra = (-len(v)) % lanes
    return np.concatenate([v, np.zeros(extra, dtype=np.int64)]) if extra else v


# ---- scoreboard --------------------------------------------------------------------------------------
async def stream_and_check(tb: StreamTB, env: GeluEnv, values: np.ndarray, lanes: int, label: str,
                           rng: np.random.Generator, max_frame_beats: int = 32) -> int:
    """Send ``values`` in frames of random length, check every output value and beat; return the
    number of mismatching values (also logged, at most MAX_REPORTED of them)."""
    values = pad_to_lanes(np.asarray(values, dtype=np.int64), lanes)
    n_beats = len(values) // lanes
    expected = gelu_raw(values, env.cfg).astype(np.int64)
    if env.corrupt:
        expected[len(expected) // 2] ^= 1
        env.corrupt = False  # one flipped bit per run is enough

    sizes = []
    left = n_beats
    while left:
        sizes.append(int(min(left, rng.integers(1, max_frame_beats, endpoint=True))))
        left -= sizes[-1]
    bounds = np.cumsum([0] + sizes) * lanes
    in0, out0 = len(tb.in_beats), len(tb.out_beats)
    stalls0 = (tb.in_stalls, tb.out_stalls)

    frames = []

    async def receive():
        for _ in sizes:
            frames.append(await tb.sink.recv())

    async def send():
        for i in range(len(sizes)):
            await tb.source.send(tb.values_to_frame(values[bounds[i]:bounds[i + 1]]))

    rx_task = cocotb.start_soon(receive())
    cocotb.start_soon(send())
    budget_ns = (200 + 20 * n_beats) * 10  # 20 cycles per beat: ample for the ~40% idle stall patterns
    try:
        await with_timeout(rx_task, budget_ns, "ns")
    except SimTimeoutError:
        raise AssertionError(f"{label}: timed out after {budget_ns} ns with {len(frames)} of {len(sizes)} frames "
                             f"and {len(tb.out_beats) - out0} of {n_beats} beats received: beats lost or the "
                             f"DUT hung") from None
    await tb.idle(50)  # anything after the last frame would be a duplicated or invented beat

    mismatches = 0
    reported = 0
    for i, frame in enumerate(frames):
        got = tb.frame_to_values(frame)
        exp = expected[bounds[i]:bounds[i + 1]]
        if len(got) != len(exp):
            raise AssertionError(f"{label}: frame {i} came back with {len(got)} values, sent {len(exp)} "
                                 f"(TLAST misplaced, or beats lost or duplicated)")
        bad = np.nonzero(got != exp)[0]
        mismatches += len(bad)
        for j in bad[:max(0, MAX_REPORTED - reported)]:
            idx = bounds[i] + j
            x = int(values[idx])
            msg = (f"{label}: MISMATCH value {idx} (frame {i}, beat {j // lanes}, lane {j % lanes}): "
                   f"x={x} ({env.act.to_float(x):+.9f}) expected {int(exp[j])} "
                   f"({env.act.to_float(int(exp[j])):+.9f}) got {int(got[j])} ({env.act.to_float(int(got[j])):+.9f})")
            tb.log.error(msg)
            env.first_mismatch = env.first_mismatch or msg
            reported += 1

    # beat-level accounting on both interfaces, TLAST exactly on each frame's last beat
    want_last = [int(b == s - 1) for s in sizes for b in range(s)]
    tb.check_accounting(label, in0, out0, want_last, want_last, env.results, stalls0)
    env.results.add("vectors", len(values))
    env.results.add("beats", n_beats)
    env.results.add("mismatches", mismatches)
    tb.log.info(f"{label}: {len(values)} values in {n_beats} beats / {len(sizes)} frames, "
                f"{mismatches} mismatches")
    return mismatches


def check_no_mismatch(mismatches: int, label: str):
    if mismatches:
        raise AssertionError(f"{label}: {mismatches} output values mismatch python_ref.kernels.gelu.gelu_raw "
                             f"(first {MAX_REPORTED} in the log); first: {gelu_env().first_mismatch}")


# ---- tests -------------------------------------------------------------------------------------------
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_directed(dut):
    """Corners: 0, +-LSB, min/max, every table node +-1 LSB (incl. +-range), every power of two +-1."""
    env = gelu_env()
    env, tb, lanes = await start(dut, env.stall)
    rng = np.random.default_rng(env.seed)
    v = directed_values(env)
    check_no_mismatch(await stream_and_check(tb, env, v, lanes, f"directed/{env.stall}", rng), "directed")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Random values over the full range, realistic (normal, sigma 0.5..3), and the table range."""
    env = gelu_env()
    env, tb, lanes = await start(dut, env.stall)
    n = env_int("COSIM_RANDOM_VECTORS", 20000)
    rng = np.random.default_rng(env.seed + 7)
    total = 0
    for name, v in random_values(env, n, env.seed + 101, rng).items():
        total += await stream_and_check(tb, env, v, lanes, f"{name}/{env.stall}", rng, max_frame_beats=64)
    check_no_mismatch(total, "random")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: exact latency of a lone beat, then cycles per beat over a long gap-free burst."""
    env = gelu_env()
    env, tb, lanes = await start(dut, "none")
    rng = np.random.default_rng(env.seed + 13)
    act = env.act

    # latency: one beat into an empty pipeline, sink always ready
    one = rng.integers(act.raw_min, act.raw_max, lanes, endpoint=True, dtype=np.int64)
    check_no_mismatch(await stream_and_check(tb, env, one, lanes, "latency", rng, max_frame_beats=1), "latency")
    (c_in, _), (c_out, _) = tb.in_beats[-1], tb.out_beats[-1]
    latency = c_out - c_in

    # throughput: frames back to back (TLAST must not cost a cycle), nothing paused
    beats = env_int("COSIM_BURST_BEATS", 2048)
    v = rng.integers(act.raw_min, act.raw_max, beats * lanes, endpoint=True, dtype=np.int64)
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    check_no_mismatch(await stream_and_check(tb, env, v, lanes, "burst", rng, max_frame_beats=64), "burst")
    ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
    cpb_in = (ins[-1][0] - ins[0][0] + 1) / len(ins)
    cpb_out = (outs[-1][0] - outs[0][0] + 1) / len(outs)
    lat_all = {o[0] - i[0] for i, o in zip(ins, outs)}
    env.results.update(latency_cycles=latency, cycles_per_beat=max(cpb_in, cpb_out),
                       burst_beats=beats)
    tb.log.info(f"latency {latency} cycles (input handshake edge -> output handshake edge), "
                f"cycles/beat in {cpb_in} out {cpb_out} over {beats} beats")
    assert lat_all == {latency}, f"latency varies inside an unstalled burst: {sorted(lat_all)}"
    assert cpb_in == 1.0 and cpb_out == 1.0, \
        f"throughput below one beat per cycle: {cpb_in} (input) / {cpb_out} (output) cycles per beat"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_reset_midstream(dut):
    """Reset with beats in flight and the output stalled: x_TREADY/y_TVALID drop during reset, no
    stale beat appears afterwards, and the next stream is exact."""
    env = gelu_env()
    env, tb, lanes = await start(dut, "none")
    rng = np.random.default_rng(env.seed + 29)
    act = env.act
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
    tb.set_stall_pattern(env.stall, env.seed + 3)
    await tb.idle(40)
    assert len(tb.out_beats) == out_before, f"{len(tb.out_beats) - out_before} stale beats after reset"
    assert tb.sink.empty(), "the sink received a frame after reset"
    check_no_mismatch(await stream_and_check(tb, env, directed_values(env), lanes, "after-reset", rng),
                      "after reset")
