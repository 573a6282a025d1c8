"""cocotb testbench of rtl/src/exp.sv, python_ref.kernels.exp.exp_neg_raw as the scoreboard.

Run through cosim.runner.run_unit (tests/test_cosim_exp.py, `make sim`); not a pytest module.
Run parameters (cosim.tb.RunParams): stall, n_random (random values per distribution), burst_beats,
corrupt. Every output beat is compared bit for bit; beats and TLAST positions are counted on both
streams, stalled beats must hold, and after the last frame the output must stay silent.
"""
from __future__ import annotations

import numpy as np

import cocotb

from cosim.tb import StreamTB, PipeFlowModel
from cosim.vectors import exp_directed, exp_random
from python_ref.kernels.exp import exp_neg_raw, input_format

# Input stall cycles allowed beyond the output's, per check: the pipeline depth and its output slice.
PIPELINE_SLACK = 16
PIPE_STAGES = 12  # rtl/src/exp.sv: STAGES = exp_core_pkg::EXP_CORE_LATENCY
TEST_TIMEOUT_MS = 2000
SPEC = "python_ref.kernels.exp.exp_neg_raw"
LANE_W = 40  # the exp.sv default: ap_fixed<33,11> in the low bits of a 40-bit lane


class ExpTB(StreamTB):
    def __init__(self, dut, params):
        super().__init__(dut, params, "exp", LANE_W)
        if self.lanes != 1 or self.out_lanes != 1:
            raise AssertionError(f"exp: expected one {LANE_W}-bit lane on x and y")
        self.in_fmt = input_format(self.cfg)  # the difference of two activations
        self.stall_slack = PIPELINE_SLACK  # stall-as-a-whole pipeline: input waits only with the output
        self.flow_model = PipeFlowModel(PIPE_STAGES)

    async def check(self, x, label, rng, max_frame_beats=64) -> int:
        x = np.asarray(x, dtype=np.int64)
        return await self.check_values(x, exp_neg_raw(x, self.act.frac), label, rng, max_frame_beats)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_directed(dut):
    """Corners: every integer / half-integer to -40 +-1 LSB, -n ln2 boundaries, 0, positives, extremes."""
    tb = await ExpTB.create(dut)
    f = tb.in_fmt
    v = np.concatenate([exp_directed(tb.act.frac), [1, 2, f.raw_max, f.raw_max - 1, f.raw_min, f.raw_min + 1]])
    tb.expect_exact(await tb.check(v, f"directed/{tb.params.stall}", tb.rng(0)), "directed", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """Random x in (-40, 0], in [-1, 0], and over the full raw range of ap_fixed<33,11>."""
    tb = await ExpTB.create(dut)
    n, rng, fr, f = tb.params.n_random, tb.rng(7), tb.act.frac, tb.in_fmt
    sets = {"uniform (-40, 0]": exp_random(fr, n, tb.params.seed + 1),
            "uniform [-1, 0]": exp_random(fr, n // 4, tb.params.seed + 2, limit=1.0),
            "full raw range": rng.integers(f.raw_min, f.raw_max + 1, n // 4, dtype=np.int64)}
    total = 0
    for name, v in sets.items():
        total += await tb.check(v, f"{name}/{tb.params.stall}", rng)
    tb.expect_exact(total, "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_latency_throughput(dut):
    """No stalls: exact latency of a lone value, then cycles per value over a long gap-free burst."""
    tb = await ExpTB.create(dut, stall="none")
    v = exp_random(tb.act.frac, tb.params.int("burst_beats", 2048) + 1, tb.params.seed + 4)
    _, cpb = await tb.measure_throughput(v, exp_neg_raw(v, tb.act.frac), SPEC)
    assert cpb == 1.0, f"throughput below one value per cycle: {cpb}"
