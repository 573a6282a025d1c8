"""RTL reciprocal (rtl/src/reciprocal.sv, bit-serial restoring division) against python_ref under
cocotb + Verilator, through cosim.runner: directed corners, random values under every stall pattern,
latency and cycles per value."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, broken_copy, check_wrapped_lint, run_unit

STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
K = 56  # softmax instance: 24 + 31 + 1
LATENCY_CYCLES = K + 2  # documented in the header of rtl/src/reciprocal.sv

pytestmark = pytest.mark.cosim


def run(stall: str, n: int, run_name: str, testcase=None, **kw) -> dict:
    return run_unit("reciprocal", "edge_moe", stall=stall, n_random=n, run_name=run_name, testcase=testcase, **kw)


@pytest.mark.parametrize("stall", [pytest.param(s, marks=[] if s in ("none", "both", "reactive") else [pytest.mark.slow])
                                   for s in STALLS])
def test_reciprocal_cosim(stall):
    n = 3000 if stall == "none" else 500
    r = run(stall, n, f"{stall}_{n}")
    assert r["mismatches"] == 0 and r["vectors"] >= n + n // 10 + 1000
    assert r["out_values"] == r["vectors"] == r["beats"]
    assert r["latency_cycles"] == LATENCY_CYCLES and r["cycles_per_beat"] == K + 3
    if stall in ("backpressure", "both"):
        assert r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0


@pytest.mark.parametrize("seed", [6, 8, 9])
def test_reset_before_the_first_clock_edge(seed):
    """Verilator starts every signal at a random value, ap_rst_n included. With the clock started
    before the reset was driven (cosim.tb.start_clock_in_reset), these seeds gave a rising edge at
    time 0 with the reset released and the random state stopped the run on the unit's own
    simulation checks (idle / done against the state); the same build, so a few seconds each."""
    r = run("none", 10, f"seed{seed}", testcase="test_random", seed=seed)
    assert r["mismatches"] == 0 and r["seed"] == seed


def test_reciprocal_scoreboard_can_fail():
    with pytest.raises(CosimError) as err:
        run("none", 100, "corrupt", testcase="test_directed", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1


# Broken copies of the flip-flops that stand for state decodes (each checked against its definition by
# a simulation assertion): idle set in DONE before the y_ handshake, done cleared without it. Each
# must fail the directed corners under backpressure.
RECIPROCAL_BROKEN = {
    "idle_early": [("else if (done && y_TREADY) idle <= 1'b1;", "else if (done) idle <= 1'b1;")],
    "done_no_ready": [("else if (y_TREADY) done <= 1'b0;", "else done <= 1'b0;")],
}


# one broken copy in `make test` (each is a Verilator build of its own), the others in `make test-full`
@pytest.mark.parametrize("bug", [pytest.param(b, marks=[] if b in {'idle_early'} else [pytest.mark.slow])
                                 for b in sorted(RECIPROCAL_BROKEN)])
def test_reciprocal_broken_copies_fail(bug, tmp_path):
    with pytest.raises(CosimError, match="differs|mismatch|failed"):
        run("backpressure", 100, f"broken_{bug}", testcase="test_directed", variant=f"broken_{bug}",
            replace=broken_copy(tmp_path, "reciprocal.sv", RECIPROCAL_BROKEN[bug]))


# The parameter guard at its edges: each legal corner (smallest WI, WO, K; K = 62; LANE_W = WI = WO;
# K = WO + 1) elaborates and lints clean, one step outside each bound hits the guard. The shipped
# instances (softmax 32 / 56 / 32, LayerNorm's) are far from every edge.
_RECIP_WRAPPER = """module reciprocal_edge (
    input  logic ap_clk, input logic ap_rst_n,
    input  logic [{lw1}:0] x_TDATA, input logic x_TVALID, output logic x_TREADY, input logic x_TLAST,
    input  logic [0:0] x_TUSER, input logic [{kw1}:0] x_TKEEP, input logic [{kw1}:0] x_TSTRB,
    output logic [{lw1}:0] y_TDATA, output logic y_TVALID, input logic y_TREADY, output logic y_TLAST,
    output logic [0:0] y_TUSER, output logic [{kw1}:0] y_TKEEP, output logic [{kw1}:0] y_TSTRB);
  reciprocal #(.WI({wi}), .K({k}), .WO({wo}), .LANE_W({lw}), .UW(1)) u (.*);
endmodule
"""
RECIP_EDGES = [  # (WI, K, WO, LANE_W, legal)
    (2, 2, 1, 8, True), (32, 62, 61, 64, True), (8, 9, 8, 8, True),
    (1, 2, 1, 8, False), (2, 2, 0, 8, False), (32, 63, 61, 64, False), (8, 8, 8, 8, False),
    (9, 10, 8, 8, False), (8, 10, 9, 8, False), (8, 9, 8, 12, False)]


@pytest.mark.parametrize("wi,k,wo,lw,ok", RECIP_EDGES)
def test_reciprocal_parameter_edges(wi, k, wo, lw, ok, tmp_path):
    check_wrapped_lint(tmp_path, "reciprocal_edge",
                       _RECIP_WRAPPER.format(wi=wi, k=k, wo=wo, lw=lw, lw1=lw - 1, kw1=max(lw // 8, 1) - 1),
                       ["reciprocal.sv"], None if ok else "reciprocal: bad geometry")


# Every input of small legal geometries through the RTL (the exhaustive-sweep harness, no cocotb),
# against python_ref: K = WO + 1 is the tightest (x = 2 and 3 give 2^(WO-1) and 2^(WO-1) / 1.5, which
# do not saturate), where the shipped instances (K >= WO + 24) saturate every x <= 2^(K-1-WO) and so
# cannot tell an early saturation test (x <= 3 instead of x <= 1) from the right one.
@pytest.mark.parametrize("wi,k,wo", [(8, 9, 8), (10, 13, 12), (12, 9, 4)])
def test_reciprocal_small_geometries_every_input(wi, k, wo):
    from cosim import exhaustive as ex
    from python_ref.config import load_config
    u = ex.reciprocal_unit(f"reciprocal_w{wi}_k{k}_o{wo}", load_config("tiny"), wi, k, wo, copies=4)
    r = ex.run_sweep(u, segments=[ex.Range(0, 1 << wi, label="every input")], timeout=600)
    assert r.mismatches == 0 and r.values == 1 << wi, r.summary()
