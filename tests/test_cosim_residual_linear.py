"""rtl/src/residual_linear.sv: the linear engine's accumulate calls with acc_ from and y_ into the
residual buffer (cosim/test_residual_linear.py): x bit-exact against python_ref after proj, a dense
fc2, two experts' scaled scatter-accumulates and the patch embedding's rows 1.., back to back, three
rounds, every call's ap_ready / ap_done equal to cosim.linear_schedule.Sequence; a corrupt run."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit

pytestmark = pytest.mark.cosim


def test_residual_linear_tiny():
    r = run_unit("residual_linear", "tiny", run_name="calls")
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == 3 * 17 * 32
    calls = r["calls"]
    assert [c["mode"] for c in calls] == ["accumulate", "accumulate", "scaled", "scaled", "accumulate"] * 3
    assert all((c["ready"], c["done"]) == (c["predicted_ready"], c["predicted_done"]) for c in calls), calls


def test_residual_linear_comparison_can_fail():
    with pytest.raises(CosimError, match="mismatch|python_ref") as exc:
        run_unit("residual_linear", "tiny", run_name="corrupt", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


# The acc_ side of the read mux open while the host reads x out: the engine's acc_ slice takes a beat
# of the read-out, and the next round's first accumulate adds it where its own acc_ beat belonged.
RESIDUAL_BROKEN = {"acc_open_to_host": ("residual_linear.sv", [("assign acc_valid      = !host_sel && rd_valid;",
                                                                 "assign acc_valid      = rd_valid;")])}


@pytest.mark.parametrize("bug", sorted(RESIDUAL_BROKEN))
def test_residual_linear_broken_fails(bug, tmp_path):
    name, edits = RESIDUAL_BROKEN[bug]
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("residual_linear", "tiny", run_name="broken", variant=f"broken_{bug}",
                 replace=broken_copy(tmp_path, name, edits))
    assert_failed_with(exc.value, r"round[12]: x\[\d+\]\[\d+\] = .*python_ref", f"residual_linear broken copy {bug}")
