"""RTL LayerNorm (rtl/src/layernorm.sv, LANES features per beat) against python_ref under cocotb +
Verilator: adversarial rows (zero / tiny variance, identical values), random rows of every scale,
(edge_moe, no stalls) the real layer-0/1 LayerNorm inputs; every stall pattern; latency, the
sustained row period of rows streamed back to back, and the overlap of one row's output with later
rows' input. The measured schedule equals cosim.frame_schedule's LayerNorm model exactly."""
from __future__ import annotations

import pytest

from cosim import frame_schedule as fs
from cosim.runner import CosimError, broken_copy, run_unit
from python_ref.config import load_config

STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
CONFIGS = ["edge_moe", "tiny"]
BURST_ROWS = 64  # cosim/test_layernorm.py::test_latency_throughput

pytestmark = pytest.mark.cosim

# (one Verilator build per config: the default set builds edge_moe only)
# (edge_moe rows are 3 beats: enough of them that the stalled runs stall the output > 100 cycles)
RUNS = [("edge_moe", "none", 20, False), ("edge_moe", "both", 48, False), ("edge_moe", "reactive", 3, False)]
RUNS += [(c, s, 10 if c == "tiny" else 64, True) for c in CONFIGS for s in STALLS
         if (c, s) not in {(r[0], r[1]) for r in RUNS}]
RUNS += [("edge_moe", "none", 530, True), ("tiny", "none", 3200, True)]  # >= 100k values each


def run(config: str, stall: str, rows: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("layernorm", config, stall=stall, n_random=rows, run_name=run_name, testcase=testcase, **kw)


NOT_REAL = ["test_adversarial", "test_random", "test_latency_throughput"]  # test_real: its own run


@pytest.mark.parametrize("config,stall,rows", [
    pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in RUNS])
def test_layernorm_cosim(config, stall, rows):
    cfg = load_config(config)
    d, lanes = cfg.model.dim, cfg.hardware.layernorm_lanes
    r = run(config, stall, rows, f"{stall}_{rows}", testcase=NOT_REAL)
    assert r["mismatches"] == 0 and r["out_values"] == r["beats"] * lanes >= rows * d
    assert r["lanes"] == lanes
    p = fs.layernorm_period(cfg)  # D / LANES beats: a row per P cycles in and out
    assert r["beats_per_row"] == p and r["cycles_per_row"] == [p] and r["input_cycles_per_row"] == [p]
    assert r["latency_cycles"] == fs.layernorm_latency(cfg)
    # first input -> last output of the burst: the first row's P input beats, latency, P output beats,
    # and the other rows one period each (= the frame model's layernorm_cycles - 2)
    assert r["burst_rows"] == BURST_ROWS and r["burst_cycles"] == fs.layernorm_cycles(cfg, BURST_ROWS) - 2
    # rows overlap: while a row is emitted the unit accepts later rows' input; a slot is always free
    # in time, so the unstalled input never waits
    assert all(n > 0 for n in r["overlap_later"][:4]) and r["burst_input_stall_cycles"] == 0
    if rows >= 500:
        assert r["out_values"] >= 100_000
    if stall in ("backpressure", "both"):
        assert r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0


def test_layernorm_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("edge_moe", "none", 2, "corrupt", testcase="test_adversarial", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


# Broken copies of the flags registered ahead of time (issue 14): each must fail the stalled run,
# through its simulation assertion ("differs") or the scoreboard. ce_d_stall: the mirror of the
# output pipeline's last valid bit advances even when the pipeline is stalled (ce_d high while ce is
# low); vnw_ld_phase: the normalisation step's enable set for NORM's first phase instead of its second;
# hand_group: the hand-over's registered group OR (H1) without each group's last engine;
# gbuf_read_stage: a slice of the distributed row buffer reading one output stage early.
LAYERNORM_BROKEN = {
    "ce_d_stall": ("axis_pipe_mirror.sv", [("wire ce_hold = !v_n[STAGES] ||", "wire ce_hold = !v[STAGES-1] ||")]),
    "vnw_ld_phase": ("layernorm_stats.sv", [("vnw_ld <= state == VSUM1 || (state == NORM && !nph);",
                                             "vnw_ld <= state == VSUM1 || (state == NORM && nph);")]),
    # the hand-over's group stage leaving out each group's last engine (tiny: 9 engines, groups of 6)
    "hand_group": ("layernorm.sv", [("for (int e = g * HG; e < (g + 1) * HG && e < NST; e++) begin",
                                     "for (int e = g * HG; e < (g + 1) * HG - 1 && e < NST; e++) begin")]),
    # a row buffer slice reading {beta, gamma} one output stage early (another beat's entry)
    "gbuf_read_stage": ("layernorm.sv", [("ga_c <= oa[7];", "ga_c <= oa[6];")]),
}


# one broken copy in `make test` (each is a Verilator build of its own), the others in `make test-full`
@pytest.mark.parametrize("bug", [pytest.param(b, marks=[] if b in {'ce_d_stall'} else [pytest.mark.slow])
                                 for b in sorted(LAYERNORM_BROKEN)])
def test_layernorm_broken_copies_fail(bug, tmp_path):
    name, edits = LAYERNORM_BROKEN[bug]
    replace = broken_copy(tmp_path, name, edits)
    with pytest.raises(CosimError, match="differs|mismatch|failed"):
        run("tiny", "both", 40, f"broken_{bug}", testcase=["test_random", "test_rows_one_by_one"],
            variant=f"broken_{bug}", replace=replace)


def test_layernorm_rows_one_by_one():
    """Rows each alone under stalls on both sides (tiny): the unit drains between rows, so the output
    stalls with bubbles behind a row's last beats (the broken ce_d copy above fails here)."""
    r = run("tiny", "both", 40, "one_by_one", testcase="test_rows_one_by_one")
    assert r["mismatches"] == 0 and r["beats"] == 40 * load_config("tiny").model.dim // load_config(
        "tiny").hardware.layernorm_lanes and r["output_stall_cycles"] > 100


@pytest.mark.published
def test_layernorm_real_rows():
    """The LayerNorm inputs of layers 0 and 1 on the published weights (4 x 129 rows): bit-exact."""
    r = run("edge_moe", "none", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == 4 * 129
