"""rtl/src/weight_fifo.sv against its cycle model cosim/weight_fifo_schedule.py (cosim/test_weight_fifo.py):
DEPTH 4, 16 (at edge_moe's 1024-bit w_ word) and 1024 (32-bit words, to keep the simulation light; make
test-full), and DEPTH 5 and 12, which are not powers of two (the pointers' wrap at DEPTH - 1, the
ready's offset count, the banked read: edge_moe's FIFO is 15 x 1024 words; axis_fifo's own broken
copies of the wrap and the banks are in tests/test_cosim_axis_fifo.py), the DDR driven from the
model's push cycles and by the bench's own token bucket + DMA skip rule, and the scenarios doing what
they are named for (skips, drops in the FIFO, the head waiting on the routing, a full and an empty
FIFO)."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, broken_copy, check_wrapped_lint, run_unit

pytestmark = pytest.mark.cosim

# DEPTH 5 and 12 in banks of 2 words (axis_fifo's BANK; edge_moe's are 1024): 3 banks, the last of one
# word, and 6 banks in two OR groups
RUNS = {5: {"DEPTH": 5, "WIDTH": 64, "EXPERTS": 16, "FIFO_BANK": 2}, 4: {"DEPTH": 4, "WIDTH": 64, "EXPERTS": 16},
        12: {"DEPTH": 12, "WIDTH": 1024, "EXPERTS": 16, "FIFO_BANK": 2},
        16: {"DEPTH": 16, "WIDTH": 1024, "EXPERTS": 16},
        1024: {"DEPTH": 1024, "WIDTH": 32, "EXPERTS": 16}}  # the scenarios use experts up to 15


# make test: DEPTH 4, 5, 12 and 16 (both fill and drain in every scenario); DEPTH 1024, the same scenarios
# at a ten-bit address (its full-FIFO runs are the longest simulation of the file), in make test-full
@pytest.mark.parametrize("depth", [pytest.param(d, marks=[pytest.mark.slow] if d > 16 else []) for d in sorted(RUNS)])
def test_weight_fifo_cycle_model(depth):
    r = run_unit("weight_fifo", "tiny", run_name=f"d{depth}", parameters=RUNS[depth])
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert (r["depth"], r["tests_run"]) == (depth, 2)
    assert set(r["runs"]) == {"model", "dma"}
    for mode, runs in r["runs"].items():
        assert len(runs) == 10, sorted(runs)
        for name, s in runs.items():
            where = f"{mode}/{name}: {s}"
            assert s["mismatches"] == 0, where
            # every fetched word left the FIFO once: taken (kept) or dropped; skipped ones never came
            assert s["pushes"] == s["words"] - s["skipped_words"] == s["pops"] + s["drops"], where
            assert s["pops"] == s["kept_words"] > 0 and s["rtl_drops"] == s["drops"], where
            assert 0 < s["max_level"] <= depth, where
        k, d, h = runs["known_before_fetch"], runs["drop_in_fifo"], runs["head_waits"]
        assert k["skipped_segments"] == 2 and k["drops"] == 0, k
        assert d["drops"] > 0 and d["route_waits"] == 0 and d["drops_at_visible"] == 0, d
        assert h["route_waits"] == 1 and h["drops_at_visible"] == 1 and h["drops"] > 0, h
        assert h["max_level"] == depth and h["full_cycles"] > 0, h
        ai, aa = runs["all_inactive"], runs["all_active"]
        assert ai["pops"] == 2 * depth and ai["drops"] > 0, ai
        assert aa["drops"] == aa["skipped_segments"] == 0 and aa["pops"] == aa["words"], aa
        two = runs["two_layers"]   # layer 9's first word waits at the head while the mask holds layer 3's routing
        assert two["drops"] > 0 and 9 in two["waited_layers"] and len(two["route_we"]) == 2, two
        full, empty = runs["full_slow_sink"], runs["empty_slow_ddr"]
        assert full["max_level"] == depth and full["full_cycles"] > depth, full
        assert empty["max_level"] <= 2 and empty["starved_cycles"] > empty["cycles"] // 2, empty
        assert runs["fractional_bursty"]["out_stall_cycles"] > 0, runs["fractional_bursty"]
    # the bench's DMA offers words before the FIFO has room (TVALID waiting for TREADY)
    assert sum(s["in_wait_cycles"] for s in r["runs"]["dma"].values()) > 0
    # both DDR modes saw the same schedule (the model's)
    for name, s in r["runs"]["model"].items():
        t = r["runs"]["dma"][name]
        assert (s["pushes"], s["drops"], s["cycles"], s["max_level"]) == \
            (t["pushes"], t["drops"], t["cycles"], t["max_level"]), name


def test_weight_fifo_comparison_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_unit("weight_fifo", "tiny", run_name="d4_corrupt", parameters=RUNS[4], corrupt=True,
                 testcase="test_model_driven")
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


# Plausible one-line bugs of the RTL, each of which the bench must catch: the write side's ready one word
# early (the FIFO never fills), the head filter ignoring the layer (a later layer's word taken under the
# previous layer's mask), a drop waiting for the engine's TREADY, the level counting words out of the memory
# instead of out of the head (the FIFO would hold DEPTH + 3 words), the head's own word keeping its flags
# after a route_we (a word waiting at the head never sees its routing), the head's word after a route_we
# taken as the one it held (not the FIFO's word it took in the pulse's cycle), the flags' own copy of "the
# head takes a word" (h_open) missing a drop.
BROKEN = {
    "tready_early_full": [("assign s_axis_tready = !level[AW];", "assign s_axis_tready = level < (AW+1)'(DEPTH - 1);")],
    # the same at a DEPTH that is not a power of two: the offset count one word ahead (the RTL's own check
    # of it against the level removed from this copy)
    "tready_early_full_offset": [("if (!rst_n) lvo <= (AW+1)'((1 << AW) - DEPTH);",
                                  "if (!rst_n) lvo <= (AW+1)'((1 << AW) - DEPTH + 1);"),
                                 ("      if (rst_n && lvo != level", "      if (1'b0 && lvo != level")],
    "no_layer_compare": [("return flags(spec, m_valid && m_layer == layer, m_act[expert]);",
                          "return flags(spec, m_valid, m_act[expert]);"),
                         ("flags(f_spec, f_rt, f_act)", "flags(f_spec, |mask_lhot, f_act)")],
    "drop_needs_tready": [("wire leave  = h_valid && ((h_kept && m_axis_tready) || h_drop);",
                           "wire leave  = h_valid && m_axis_tready && (h_kept || h_drop);"),
                          ("wire f_take = h_open || (h_kept && m_axis_tready);",
                           "wire f_take = !h_valid || leave;")],
    "level_to_memory": [("level <= level + (AW+1)'(push) - (AW+1)'(pop);",
                         "level <= level + (AW+1)'(push) - (AW+1)'(f_freed);")],
    "held_flags_stale": [("wire [1:0] h_cand = rw_q ? (tk_q ? fr_q : hr_q) : {h_kept, h_drop};",
                          "wire [1:0] h_cand = {h_kept, h_drop};"),
                         # (the RTL's own check of the head's flags against the registered mask would stop it)
                         ("      if (h_valid && {h_kept, h_drop} != filter(", "      if (1'b0 && {h_kept, h_drop} != filter(")],
    "route_took_held": [("rw_q ? (tk_q ? fr_q : hr_q)", "rw_q ? hr_q"),
                        ("      if (h_valid && {h_kept, h_drop} != filter(", "      if (1'b0 && {h_kept, h_drop} != filter(")],
    # the bench itself must see it: the RTL's own checks of h_open and of f_take (formed from it) are
    # removed from this copy
    "open_misses_drop": [("h_open  <= !valid_n || n_flags[0];", "h_open  <= !valid_n;"),
                         ("      if (h_open != (!h_valid || h_drop))\n", "      if (1'b0)\n"),
                         ("      else if (f_take != (!h_valid || leave))", "      else if (1'b0)")],
}


@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_weight_fifo_broken_copies_fail(bug, tmp_path):
    depth = 5 if bug.endswith("_offset") else 4
    with pytest.raises(CosimError, match="mismatch|failed") as exc:
        run_unit("weight_fifo", "tiny", run_name=f"d{depth}", parameters=RUNS[depth], variant=f"broken_{bug}",
                 replace=broken_copy(tmp_path, "weight_fifo.sv", BROKEN[bug]))
    assert exc.value.summary is not None and exc.value.summary["mismatches"] > 0


def test_weight_fifo_open_invariant_stops_a_broken_copy(tmp_path):
    """The RTL's own check of h_open == !h_valid || h_drop stops a simulation whose copy breaks it."""
    with pytest.raises(CosimError, match="h_open . is not !h_valid"):
        run_unit("weight_fifo", "tiny", run_name="d4", parameters=RUNS[4], variant="broken_open_assert",
                 replace=broken_copy(tmp_path, "weight_fifo.sv", [("h_open  <= !valid_n || n_flags[0];", "h_open  <= !valid_n;")]))


# The smallest tags the module accepts, elaborated and linted in a wrapper (no shipped config reaches
# them: the frame's FIFOs have 4 layer bits and 4 or 16 experts); one below must hit the guard.
_EDGE_WRAPPER = """module wfifo_edge (
    input  logic clk, input logic rst_n,
    input  logic [7:0] s_axis_tdata, input logic s_axis_tlast, input logic s_axis_tvalid, output logic s_axis_tready,
    input  logic s_axis_tuser_spec, input logic [{lb}:0] s_axis_tuser_layer, input logic [0:0] s_axis_tuser_expert,
    input  logic route_we, input logic [{lb}:0] route_layer, input logic [1:0] route_active,
    output logic [7:0] m_axis_tdata, output logic m_axis_tlast, output logic m_axis_tvalid, input logic m_axis_tready,
    output logic [1:0] level);
  weight_fifo #(.WIDTH(8), .DEPTH(2), .EXPERTS(2), .LAYER_BITS({bits})) u (.*);
endmodule
"""


@pytest.mark.parametrize("bits,ok", [(1, True), (0, False)])
def test_weight_fifo_smallest_tags_elaborate(bits, ok, tmp_path):
    check_wrapped_lint(tmp_path, "wfifo_edge", _EDGE_WRAPPER.format(lb=max(bits, 1) - 1, bits=bits),
                       ["axis_skid.sv", "axis_fifo.sv", "weight_fifo.sv"],
                       None if ok else "EXPERTS must be >= 2 and LAYER_BITS >= 1")
