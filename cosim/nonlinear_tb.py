"""Scoreboard shared by the cocotb testbenches of the nonlinear units (exp, reciprocal, softmax_stats,
softmax_prob): send frames through a :class:`cosim.tb.StreamTB`, compare every output value bit for
bit with python_ref's, and count beats and TLAST positions on both streams (imported inside the
simulator)."""
from __future__ import annotations

import os

import numpy as np

import cocotb
from cocotb.triggers import with_timeout

from cosim.tb import STALL_PATTERNS, ResultWriter, StreamTB, env_int
from python_ref.config import load_config

TEST_TIMEOUT_MS = 4000  # simulated time; each phase also has a budget proportional to its cycles
MAX_REPORTED = 10


class UnitEnv:
    """Config, stall pattern, seed and the shared JSON summary of one simulator run."""

    def __init__(self, kernel: str):
        cfg_arg = os.environ.get("COSIM_CONFIG")
        if not cfg_arg:
            raise RuntimeError("COSIM_CONFIG is not set: run this testbench through cosim.runner.run_cosim")
        self.cfg = load_config(cfg_arg)
        self.act = self.cfg.fmt("act")
        self.seed = env_int("COSIM_SEED", 1)
        self.stall = os.environ.get("COSIM_STALL", "both")
        if self.stall not in STALL_PATTERNS:
            raise ValueError(f"COSIM_STALL={self.stall!r} unknown; allowed: {', '.join(STALL_PATTERNS)}")
        self.corrupt = os.environ.get("COSIM_CORRUPT_EXPECTED", "0") not in ("", "0")
        self.results = ResultWriter(kernel=kernel, config=self.cfg.name, stall=self.stall, vectors=0, beats=0,
                                    out_values=0, mismatches=0, latency_cycles=None, cycles_per_beat=None,
                                    seed=self.seed)


async def start(dut, env: UnitEnv, lane_bits: int, stall: str) -> StreamTB:
    tb = StreamTB(dut, lane_bits, "x", "y")
    tb.set_stall_pattern(stall, env.seed)
    await tb.reset()
    return tb


async def stream_frames(tb: StreamTB, env: UnitEnv, in_frames: list[np.ndarray], want: list[np.ndarray],
                        label: str, out_bits: int | None = None, cycles_per_beat: int = 1) -> int:
    """Send each input frame (lane values, TLAST on its last beat) and expect the matching output
    frame ``want[i]`` (lane values). ``out_bits``: compare the outputs as unsigned values of that
    many bits (the sink reads lanes as signed). Returns the number of mismatching values."""
    in_lanes = tb.lanes
    out_lanes = len(tb.out_bus.tdata) // tb.lane_bits
    want = [np.asarray(w, dtype=np.int64).copy() for w in want]
    if env.corrupt:
        want[len(want) // 2][0] ^= 1
        env.corrupt = False  # one flipped bit per run proves the comparison
    for f, w in zip(in_frames, want):
        if len(f) % in_lanes or len(w) % out_lanes:
            raise ValueError(f"{label}: frames must fill whole beats ({in_lanes} lanes in, {out_lanes} out)")
    in0, out0 = len(tb.in_beats), len(tb.out_beats)
    stalls0 = (tb.in_stalls, tb.out_stalls)

    async def receive():
        return [await tb.sink.recv() for _ in in_frames]

    async def send():
        for f in in_frames:
            await tb.source.send(tb.values_to_frame(f))

    rx = cocotb.start_soon(receive())
    cocotb.start_soon(send())
    beats_in = sum(len(f) for f in in_frames) // in_lanes
    beats_out = sum(len(w) for w in want) // out_lanes
    budget = (400 + 20 * (beats_in + beats_out) + 3 * cycles_per_beat * (beats_in + beats_out)) * 10
    frames = await with_timeout(rx, budget, "ns")
    await tb.idle(100)  # anything after the last frame would be a duplicated or invented beat

    mismatches = reported = 0
    for i, (frame, w) in enumerate(zip(frames, want)):
        got = tb.frame_to_values(frame)
        if out_bits is not None:
            got = got & ((1 << out_bits) - 1)
        if len(got) != len(w):
            raise AssertionError(f"{label}: output frame {i} has {len(got)} values, expected {len(w)} "
                                 f"(TLAST misplaced, or beats lost or duplicated)")
        bad = np.nonzero(got != w)[0]
        mismatches += len(bad)
        for j in bad[:max(0, MAX_REPORTED - reported)]:
            tb.log.error(f"{label}: MISMATCH frame {i} value {j}: expected {int(w[j])} got {int(got[j])}")
            reported += 1
    want_in = [int(b == len(f) // in_lanes - 1) for f in in_frames for b in range(len(f) // in_lanes)]
    want_out = [int(b == len(w) // out_lanes - 1) for w in want for b in range(len(w) // out_lanes)]
    tb.check_accounting(label, in0, out0, want_in, want_out, env.results, stalls0)
    env.results.add("vectors", sum(len(f) for f in in_frames))
    env.results.add("beats", beats_in)
    env.results.add("out_values", sum(len(w) for w in want))
    env.results.add("mismatches", mismatches)
    tb.log.info(f"{label}: {beats_in} input beats in {len(in_frames)} frames, {mismatches} mismatches")
    return mismatches


def split_frames(values: np.ndarray, rng: np.random.Generator, max_len: int) -> list[np.ndarray]:
    """Cut a 1-D array into frames of random length 1..max_len."""
    out, i = [], 0
    while i < len(values):
        n = int(rng.integers(1, max_len, endpoint=True))
        out.append(values[i:i + n])
        i += n
    return out


def check_no_mismatch(mismatches: int, label: str, spec: str):
    if mismatches:
        raise AssertionError(f"{label}: {mismatches} output values mismatch {spec} (first {MAX_REPORTED} in the log)")
