"""cocotb testbench of rtl/src/exp.sv, python_ref.kernels.exp.exp_neg_raw as the scoreboard.

Run through cosim.runner.run_cosim (tests/test_cosim_exp.py); not a pytest module.
Environment (set by the runner / the pytest entry):
  COSIM_CONFIG            config name or YAML path
  COSIM_RESULT_JSON       where the JSON summary goes
  COSIM_SEED              seed of the vectors, frame sizes and stall generators
  COSIM_STALL             stall pattern of the directed and random tests (cosim.tb.STALL_PATTERNS)
  COSIM_RANDOM_VECTORS    random values per distribution
  COSIM_BURST_BEATS       beats of the throughput burst
  COSIM_CORRUPT_EXPECTED  1: flip the LSB of one expected value (proves the scoreboard can fail)

Every output beat is compared bit for bit; beats and TLAST positions are counted on both streams,
and after the last frame the output must stay silent (nothing lost, nothing duplicated).
"""
from __future__ import annotations

import os

import numpy as np

import cocotb
from cocotb.triggers import with_timeout

from cosim.nonlinear_vectors import exp_directed, exp_random
from cosim.tb import STALL_PATTERNS, ResultWriter, StreamTB, env_int
from python_ref.config import load_config
from python_ref.kernels.exp import exp_neg_raw

TEST_TIMEOUT_MS = 2000  # simulated time; each phase also has a budget proportional to its beats
MAX_REPORTED = 10
LANE_W = 40  # the exp.sv default: ap_fixed<33,11> in the low bits of a 40-bit lane


class ExpEnv:
    def __init__(self):
        cfg_arg = os.environ.get("COSIM_CONFIG")
        if not cfg_arg:
            raise RuntimeError("COSIM_CONFIG is not set: run this testbench through cosim.runner.run_cosim")
        self.cfg = load_config(cfg_arg)
        self.act = self.cfg.fmt("act")
        self.in_w = self.act.width + 1
        self.seed = env_int("COSIM_SEED", 1)
        self.stall = os.environ.get("COSIM_STALL", "both")
        if self.stall not in STALL_PATTERNS:
            raise ValueError(f"COSIM_STALL={self.stall!r} unknown; allowed: {', '.join(STALL_PATTERNS)}")
        self.corrupt = os.environ.get("COSIM_CORRUPT_EXPECTED", "0") not in ("", "0")
        self.results = ResultWriter(kernel="exp", config=self.cfg.name, stall=self.stall, vectors=0, beats=0,
                                    mismatches=0, latency_cycles=None, cycles_per_beat=None, seed=self.seed)


_ENV: ExpEnv | None = None


def exp_env() -> ExpEnv:
    global _ENV
    if _ENV is None:
        _ENV = ExpEnv()
    return _ENV


async def start(dut, stall: str):
    env = exp_env()
    tb = StreamTB(dut, LANE_W, "x", "y")
    if tb.lanes != 1 or len(tb.out_bus.tdata) != LANE_W:
        raise AssertionError(f"exp: expected one {LANE_W}-bit lane on x and y, got x_TDATA {len(tb.in_bus.tdata)} "
                             f"and y_TDATA {len(tb.out_bus.tdata)} bits")
    tb.set_stall_pattern(stall, env.seed)
    await tb.reset()
    return env, tb


async def stream_and_check(tb: StreamTB, env: ExpEnv, values: np.ndarray, label: str, rng: np.random.Generator,
                           max_frame_beats: int = 64) -> int:
    """Send ``values`` in frames of random length, check every output value and beat."""
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    expected = exp_neg_raw(values, env.act.frac).astype(np.int64)
    if env.corrupt:
        expected[n // 2] ^= 1
        env.corrupt = False
    sizes = []
    left = n
    while left:
        sizes.append(int(min(left, rng.integers(1, max_frame_beats, endpoint=True))))
        left -= sizes[-1]
    bounds = np.cumsum([0] + sizes)
    in0, out0 = len(tb.in_beats), len(tb.out_beats)
    stalls0 = (tb.in_stalls, tb.out_stalls)

    async def receive():
        return [await tb.sink.recv() for _ in sizes]

    async def send():
        for i in range(len(sizes)):
            await tb.source.send(tb.values_to_frame(values[bounds[i]:bounds[i + 1]]))

    rx = cocotb.start_soon(receive())
    cocotb.start_soon(send())
    frames = await with_timeout(rx, (200 + 20 * n) * 10, "ns")
    await tb.idle(50)

    mismatches = reported = 0
    for i, frame in enumerate(frames):
        got = tb.frame_to_values(frame)
        exp = expected[bounds[i]:bounds[i + 1]]
        if len(got) != len(exp):
            raise AssertionError(f"{label}: frame {i} came back with {len(got)} values, sent {len(exp)}")
        bad = np.nonzero(got != exp)[0]
        mismatches += len(bad)
        for j in bad[:max(0, MAX_REPORTED - reported)]:
            tb.log.error(f"{label}: MISMATCH value {bounds[i] + j}: x={int(values[bounds[i] + j])} "
                         f"expected {int(exp[j])} got {int(got[j])}")
            reported += 1
    want_last = [int(b == s - 1) for s in sizes for b in range(s)]
    if [t for _, t in tb.in_beats[in0:]] != want_last:
        raise AssertionError(f"{label}: input beats accepted differ from the {n} sent (or TLAST misplaced)")
    if [t for _, t in tb.out_beats[out0:]] != want_last:
        raise AssertionError(f"{label}: output beats differ from the {n} expected (lost, duplicated or TLAST misplaced)")
    if tb.keep_errors:
        raise AssertionError(f"{label}: {tb.keep_errors} output beats without y_TKEEP/y_TSTRB all ones")
    if not tb.sink.empty():
        raise AssertionError(f"{label}: the sink holds extra frames after the last one")
    env.results.add("input_stall_cycles", tb.in_stalls - stalls0[0])
    env.results.add("output_stall_cycles", tb.out_stalls - stalls0[1])
    env.results.add("vectors", n)
    env.results.add("beats", n)
    env.results.add("mismatches", mismatches)
    tb.log.info(f"{label}: {n} values in {len(sizes)} frames, {mismatches} mismatches")
    return mismatches


def check_no_mismatch(mismatches: int, label: str):
    if mismatches:
        raise AssertionError(f"{label}: {mismatches} output values mismatch python_ref.kernels.exp.exp_neg_raw")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_directed(dut):
    """Corners: every integer / half-integer to -40 +-1 LSB, -n ln2 boundaries, 0, positives, extremes."""
    env = exp_env()
    env, tb = await start(dut, env.stall)
    rng = np.random.default_rng(env.seed)
    lo, hi = -(1 << (env.in_w - 1)), (1 << (env.in_w - 1)) - 1
    v = np.concatenate([exp_directed(env.act.frac), [1, 2, hi, hi - 1, lo, lo + 1]])
    check_no_mismatch(await stream_and_check(tb, env, v, f"directed/{env.stall}", rng), "directed")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Random x in (-40, 0], in [-1, 0], and over the full raw range of ap_fixed<33,11>."""
    env = exp_env()
    env, tb = await start(dut, env.stall)
    n = env_int("COSIM_RANDOM_VECTORS", 20000)
    rng = np.random.default_rng(env.seed + 7)
    f = env.act.frac
    sets = {"uniform (-40, 0]": exp_random(f, n, env.seed + 1),
            "uniform [-1, 0]": exp_random(f, n // 4, env.seed + 2, limit=1.0),
            "full raw range": rng.integers(-(1 << (env.in_w - 1)), 1 << (env.in_w - 1), n // 4, dtype=np.int64)}
    total = 0
    for name, v in sets.items():
        total += await stream_and_check(tb, env, v, f"{name}/{env.stall}", rng)
    check_no_mismatch(total, "random")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: exact latency of a lone value, then cycles per value over a long gap-free burst."""
    env = exp_env()
    env, tb = await start(dut, "none")
    rng = np.random.default_rng(env.seed + 13)
    f = env.act.frac
    check_no_mismatch(await stream_and_check(tb, env, exp_random(f, 1, env.seed + 3), "latency", rng, 1), "latency")
    (c_in, _), (c_out, _) = tb.in_beats[-1], tb.out_beats[-1]
    latency = c_out - c_in
    beats = env_int("COSIM_BURST_BEATS", 2048)
    i0, o0 = len(tb.in_beats), len(tb.out_beats)
    check_no_mismatch(await stream_and_check(tb, env, exp_random(f, beats, env.seed + 4), "burst", rng), "burst")
    ins, outs = tb.in_beats[i0:], tb.out_beats[o0:]
    cpb_in = (ins[-1][0] - ins[0][0] + 1) / len(ins)
    cpb_out = (outs[-1][0] - outs[0][0] + 1) / len(outs)
    lat_all = {o[0] - i[0] for i, o in zip(ins, outs)}
    env.results.update(latency_cycles=latency, cycles_per_beat=max(cpb_in, cpb_out), burst_beats=beats)
    assert lat_all == {latency}, f"latency varies inside an unstalled burst: {sorted(lat_all)}"
    assert cpb_in == 1.0 and cpb_out == 1.0, f"throughput below one value per cycle: {cpb_in} / {cpb_out}"
