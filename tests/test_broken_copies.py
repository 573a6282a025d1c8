"""Deliberately broken copies of the RTL, one per class of bug the shared testbench code must catch
(cosim/tb.py StreamTB, used by every stream unit's testbench). Each broken copy is a plausible
one-line bug that produces the right values in a lenient setting; the slow tests show it passing
there (so the class is real, `make test-full`) and the default ones failing it in the checks every
run has (so the class is closed, `make test`):

1. data consumed without a valid handshake: the shared pipeline control (axis_pipe_ctrl, under
   GELU) admits a beat on TLAST alone (`TVALID || TLAST`, a "flush on last" shortcut). cocotbext-axi
   drives TLAST low (and holds TDATA) while TVALID is low, so nothing happens by luck; StreamTB
   drives random TDATA/TLAST on idle cycles and phantom beats come out.
2. TVALID waiting for TREADY: GELU's output valid gated by y_TREADY. Every sink that raises TREADY
   on its own accepts the data (an always-ready sink sees nothing wrong at all); the "reactive"
   sink (TREADY only after TVALID, legal AXI-Stream) deadlocks it, and the cocotb timeout fails
   the run.
3. a pipeline that stops closing bubbles: the shared pipeline control (axis_pipe_ctrl) advances
   only when the output slice is ready, even while its last stage is empty. The values stay
   right and the input stalls no longer than the output (the coarse throughput property holds);
   the cycle-exact flow model of the pipeline (cosim.tb.PipeFlowModel) fails.
Runs of test 2 turn the flow model off (run parameter no_flow_model), to show what the reactive
sink alone catches.
(The fourth class, an out-of-bounds table read in the C++, is tests/test_csim_sanitized.py.)
"""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, broken_copy, run_unit

pytestmark = pytest.mark.cosim

N = 2000  # values per run: enough to hit every bug many times


def run_broken(top: str, variant: str, replace: dict, stall: str, testcase=None, **extra) -> dict:
    name = f"{stall}_{N}" + "".join(f"_{k}" for k in extra) + (f"_{testcase}" if testcase else "")
    return run_unit(top, "tiny", stall=stall, n_random=N, run_name=name, replace=replace, variant=variant,
                    testcase=testcase, **extra)


def novalid_copy(tmp_path):
    return broken_copy(tmp_path, "axis_pipe_ctrl.sv",
                       [("if (ce) v <= STAGES'({v, s_axis_tvalid && running});",
                         "if (ce) v <= STAGES'({v, (s_axis_tvalid || s_axis_tlast) && running});")])


def validready_copy(tmp_path):
    return broken_copy(tmp_path, "gelu.sv", [
        (".m_axis_tvalid(y_TVALID),", ".m_axis_tvalid(y_valid_q),"),
        ("  assign y_TKEEP = {KEEP_W{1'b1}};",
         "  logic y_valid_q;\n  assign y_TVALID = y_valid_q && y_TREADY;\n  assign y_TKEEP = {KEEP_W{1'b1}};")])


def bubbles_copy(tmp_path):
    return broken_copy(tmp_path, "axis_pipe_ctrl.sv",
                       [("assign ce        = !v[STAGES] || m_axis_tready;", "assign ce        = m_axis_tready;")])


# ---- each bug passes in its lenient setting (so the class is real): make test-full

@pytest.mark.slow
def test_data_without_valid_passes_with_held_idle_inputs(tmp_path):
    held = run_broken("gelu", "brk_novalid", novalid_copy(tmp_path), "gaps", testcase="test_random",
                      hold_idle_inputs=True)
    assert held["mismatches"] == 0, "with cocotbext-axi's idle TLAST = 0 the bug is invisible"


@pytest.mark.slow
def test_valid_waiting_for_ready_passes_an_always_ready_sink(tmp_path):
    # test_random only: the reset test and the flow model would catch it too, in any run
    free = run_broken("gelu", "brk_validready", validready_copy(tmp_path), "gaps", testcase="test_random",
                      no_flow_model=True)
    assert free["mismatches"] == 0, "a sink that always raises TREADY accepts every beat"


@pytest.mark.slow
def test_pipeline_not_closing_bubbles_passes_unstalled(tmp_path):
    plain = run_broken("gelu", "brk_bubbles", bubbles_copy(tmp_path), "none")
    assert plain["mismatches"] == 0 and plain["cycles_per_beat"] == 1.0, "unstalled, the bug is invisible"


# ---- and fails the default checks (so the class is closed): make test

def test_data_without_valid_is_caught(tmp_path):
    # caught right after reset (scrambled idle TLAST makes a phantom beat) or by the scoreboard later
    with pytest.raises(CosimError, match="flow model|beats lost or duplicated|mismatch|without a handshake"):
        run_broken("gelu", "brk_novalid", novalid_copy(tmp_path), "gaps", testcase="test_random")


def test_valid_waiting_for_ready_is_caught(tmp_path):
    with pytest.raises(CosimError, match="(?i)timeout|timed out"):
        run_broken("gelu", "brk_validready", validready_copy(tmp_path), "reactive", testcase="test_random",
                   no_flow_model=True)


def test_pipeline_not_closing_bubbles_is_caught(tmp_path):
    with pytest.raises(CosimError, match="bubble not closed"):
        run_broken("gelu", "brk_bubbles", bubbles_copy(tmp_path), "both")


def test_broken_copy_refuses_a_needle_that_moved(tmp_path):
    """cosim.runner.broken_copy (every bench's broken copies): a needle found zero or several times
    fails with the file and the needle named, before any build; a good one edits exactly that line."""
    with pytest.raises(AssertionError, match=r"gelu.sv: the line this broken copy edits moved \(found 0 times\)"):
        broken_copy(tmp_path, "gelu.sv", [("no such line in gelu.sv", "x")])
    with pytest.raises(AssertionError, match=r"found ([2-9]|\d\d+) times"):
        broken_copy(tmp_path, "gelu.sv", [("end", "x")])
    out = broken_copy(tmp_path, "reciprocal.sv", [("assign x_TREADY = idle;", "assign x_TREADY = 1'b1;")])
    assert list(out) == ["reciprocal.sv"] and "assign x_TREADY = 1'b1;" in out["reciprocal.sv"].read_text()
