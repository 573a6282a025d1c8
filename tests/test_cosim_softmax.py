"""RTL two-pass softmax (rtl/src/softmax.sv: softmax_stats + softmax_prob) against python_ref under
cocotb + Verilator: adversarial rows of every length class (1, around the lane count, the gate, the
attention row, 255), attention-like and gate rows, n = 0 (no row starts), every stall pattern, the
latency model and the throughput; (edge_moe, weights present) the real rows."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, broken_copy, run_unit
from python_ref.config import load_config
from python_ref.kernels.softmax import RECIP_INTERVAL, lanes, reciprocals

STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
CONFIGS = ["edge_moe", "tiny"]
NOT_REAL = ["test_adversarial", "test_random", "test_row_length_zero", "test_latency_throughput"]

pytestmark = pytest.mark.cosim


def latency(L: int, n: int) -> int:
    """Last input beat -> last output beat of a lone row of n scores (unstalled, idle unit), from the
    structure of rtl/src/softmax*.sv: input register 1, x FIFO / max tree log2(L) + running max + m
    FIFO 2 (3 + log2 L), pass 2 issue of the row's R = ceil(n/L) beats, d 0 (registered at the
    issue edge), exp_core 12 (exp_core_pkg::EXP_CORE_LATENCY), mask 1, e sum tree log2 L + 1, s register and s FIFO 3, dispatch 1,
    the bit-serial reciprocal K + 1 = 57 to its result, collector and r FIFO 4, pass 3 issue of R
    beats, products and rounding 2, output FIFO 2, the sink's handshake 1."""
    lv = L.bit_length() - 1
    r = -(-n // L)
    return 85 + 2 * lv + 2 * r


def run(config: str, stall: str, rows: int, run_name: str, testcase=None, parameters=None, **kw) -> dict:
    return run_unit("softmax", config, stall=stall, n_random=rows, run_name=run_name, testcase=testcase,
                    parameters=parameters, **kw)


# (config, stall, attention-like rows, slow): the default set is one unstalled, one fully stalled and
# one reactive run on edge_moe (one Verilator build); `make test-full` adds every stall pattern on
# both configs and the >= 100k-score sweeps.
RUNS = [("edge_moe", "none", 40, False), ("edge_moe", "both", 8, False), ("edge_moe", "reactive", 4, False)]
RUNS += [(c, s, 12, True) for c in CONFIGS for s in STALLS if (c, s) not in {(r[0], r[1]) for r in RUNS}]
RUNS += [("edge_moe", "none", 800, True), ("tiny", "none", 6000, True)]  # >= 100k scores each


def _params(runs):
    return [pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in runs]


@pytest.mark.parametrize("config,stall,rows", _params(RUNS))
def test_softmax_cosim(config, stall, rows):
    cfg = load_config(config)
    L, n_rec, E, T = lanes(cfg), reciprocals(cfg), cfg.model.experts, cfg.model.tokens
    r = run(config, stall, rows, f"{stall}_{rows}", testcase=NOT_REAL)
    assert r["mismatches"] == 0 and r["zero_length_checked"] == 1
    assert r["out_values"] == r["beats"] * (L + 3) and r["vectors"] >= rows * T
    assert r["latency_cycles"] == latency(L, E)
    assert r["cycles_per_beat_attention"] == 1.0  # rows of T scores: one beat per cycle
    # gate rows of R = ceil(E/L) beats: at most the reciprocal pool's steady rate (buffering helps)
    assert 1.0 <= r["cycles_per_beat_gate"] <= max(1.0, RECIP_INTERVAL / (n_rec * -(-E // L)))
    if rows >= 800:
        assert r["vectors"] >= 100_000
    if stall in ("backpressure", "both"):
        assert r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("L,n_rec", [(1, 3), (2, 1), (8, 5)])
def test_softmax_other_lanes(L, n_rec):
    """Other lane counts and reciprocal pools (HDL parameters), gaps and backpressure: bit-exact,
    the same latency model."""
    r = run("edge_moe", "both", 4, f"L{L}_R{n_rec}", testcase=NOT_REAL, parameters={"L": L, "N_REC": n_rec})
    assert r["mismatches"] == 0 and r["latency_cycles"] == latency(L, load_config("edge_moe").model.experts)


# Broken copies of the reciprocal pool's registered flags (each checked against its definition by a
# simulation assertion): w_rdy missing a unit freed by the take of its result, r_m1 missing the
# dispatch that leaves one unit free, rp_wrap one unit early. Each must fail the adversarial rows (short rows: the pool fills and drains).
SOFTMAX_BROKEN = {
    "w_rdy_take": ("softmax_stats.sv", [("w_rdy  <= take || (w_rdy && !(r_m1 && sq_valid));",
                                         "w_rdy  <= w_rdy && !(r_m1 && sq_valid);")]),
    "r_m1_fill": ("softmax_stats.sv", [("|| (r_m2 && fire && !take);", ";")]),
    "rp_wrap_early": ("softmax_stats.sv", [("rp_wrap <= N_REC == 1 || rp == NW'(N_REC - 2);",
                                            "rp_wrap <= N_REC == 1 || rp == NW'(N_REC - 3);")]),
}


# one broken copy in `make test` (each is a Verilator build of its own), the others in `make test-full`
@pytest.mark.parametrize("bug", [pytest.param(b, marks=[] if b in {'w_rdy_take'} else [pytest.mark.slow])
                                 for b in sorted(SOFTMAX_BROKEN)])
def test_softmax_broken_copies_fail(bug, tmp_path):
    name, edits = SOFTMAX_BROKEN[bug]
    replace = broken_copy(tmp_path, name, edits)
    with pytest.raises(CosimError, match="differs|mismatch|failed"):
        run("edge_moe", "none", 4, f"broken_{bug}", testcase="test_adversarial", variant=f"broken_{bug}",
            replace=replace)


def test_softmax_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("edge_moe", "none", 4, "corrupt", testcase="test_adversarial", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


@pytest.mark.published
def test_softmax_real_rows():
    """The published layer-0/1 score rows (3 heads x 129 rows each) and the layer-1 gate logits of
    both tasks (129 rows each), no stalls: bit-exact."""
    r = run("edge_moe", "none", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == 2 * 3 * 129 + 2 * 129
