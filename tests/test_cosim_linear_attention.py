"""The linear engine and the attention unit on ONE MAC array (rtl/src/linear_attention.sv, issue #13)
under cocotb + Verilator on tiny (cosim/test_linear_attention.py): both units' own benches and
scoreboards (python_ref.kernels.linear.compute_linear, python_ref.kernels.attention.attention_raw) on
one instance, calls interleaved linear -> attention -> linear -> ..., every output bit compared, every
unstalled call's cycles equal to the stand-alone unit's model (cosim.linear_schedule,
cosim.attention_schedule); a start for the non-owner is held; the array monitor's sharing rules hold;
the scoreboards and the monitor catch a corrupted expectation and broken copies of the top."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, broken_copy, run_unit

pytestmark = pytest.mark.cosim

TOP = "linear_attention"
INTERLEAVED_UNITS = ["linear", "attention", "linear", "attention", "linear", "linear", "attention", "linear",
                     "attention"]


def run(stall, run_name, testcase, **kw):
    return run_unit(TOP, "tiny", stall=stall, n_random=0, run_name=run_name, testcase=testcase, **kw)


def test_linear_attention_shared_array():
    r = run("none", "none", ["test_interleaved", "test_held_start"])
    assert r["tests_run"] == 2
    assert (r["mismatches"], r["attn_mismatches"], r["array_errors"]) == (0, 0, 0), r.get("array_first_error")
    calls = r["calls"]
    # the interleaved sequence, then the held-start test: linear, held attention, attention, linear
    assert [c["unit"] for c in calls] == INTERLEAVED_UNITS + ["linear", "attention", "attention", "linear"]
    off = [c for c in calls if c["cycles"] != c["predicted"] or c["mismatches"]]
    assert not off, f"calls off the stand-alone model or inexact: {off}"
    assert r["switches"] >= 7 and r["lin_results"] > 0 and r["attn_results"] > 0
    h = r["held"]
    assert h["lin_busy_cycles"] >= 50 and h["attn_core_started"] == h["sel_changed"] == h["boundary_idle"] == 0, h


def test_linear_attention_stalls():
    r = run("both", "both", "test_interleaved_stalls")
    assert (r["mismatches"], r["attn_mismatches"], r["array_errors"]) == (0, 0, 0), r.get("array_first_error")
    assert [c["unit"] for c in r["calls"]] == INTERLEAVED_UNITS
    # both units' sinks paused (the linear engine's y_ held, attention's output stalled)
    assert sum(x["y_held_cycles"] for x in r["runs"]) > 0 and r["attn_output_stall_cycles"] > 0


def test_linear_attention_scoreboards_can_fail():
    with pytest.raises(CosimError, match="failed") as exc:
        run("none", "corrupt", "test_interleaved", corrupt=True)
    s = exc.value.summary
    assert s is not None and s["mismatches"] == 1 and s["attn_mismatches"] == 1


# Plausible one-line bugs of the shared top, each of which the bench must catch: out_valid not gated by
# the select (the linear core also sees attention's results), the owner switched as soon as asked
# (mid-call, not when the array is idle), and a non-owner's start not held (attention starts while the
# linear engine owns the array).
BROKEN = {
    "out_valid_not_gated": ("wire                    lin_out_valid  = out_valid && !sel_o;",
                            "wire                    lin_out_valid  = out_valid;"),
    "switch_mid_call": ("wire           switch_ok = req_r != sel && lin_idle_c && attn_idle_c && quiet_z;",
                        "wire           switch_ok = req_r != sel;"),
    "start_not_held": (".ap_start(attn_ap_start && grant_attn)", ".ap_start(attn_ap_start)"),
}


# a build each (~2 minutes): the two rules of the brief by default, the held start in `make test-full`
SLOW_BUGS = {"start_not_held", "switch_mid_call"}   # make test keeps out_valid_not_gated


@pytest.mark.parametrize("bug", [pytest.param(b, marks=[pytest.mark.slow] if b in SLOW_BUGS else []) for b in sorted(BROKEN)])
def test_linear_attention_broken_copies_fail(bug, tmp_path):
    with pytest.raises(CosimError, match="failed"):
        run("none", "none", ["test_interleaved", "test_held_start"], variant=f"broken_{bug}",
            replace=broken_copy(tmp_path, f"{TOP}.sv", [BROKEN[bug]]))
