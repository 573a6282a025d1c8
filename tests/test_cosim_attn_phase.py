"""The attention unit's phase order (rtl/src/attn_phase.sv) for every head count 1 .. 6, not only
the shipped configs' 2 and 3, against cosim.attention_schedule.phase_order (cosim/test_attn_phase.py)."""
from __future__ import annotations

import pytest

from cosim.attention_schedule import phase_order
from cosim.runner import CosimError, run_unit

pytestmark = pytest.mark.cosim


@pytest.mark.parametrize("heads", [1, 2, 3, 4, 5, 6])
def test_attn_phase_order(heads):
    r = run_unit("attn_phase", "tiny", run_name=f"h{heads}", parameters={"H": heads})
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["heads"] == heads and r["layers"] == 3 and r["tests_run"] == 1
    # three full layers and a restarted one: every phase after QK0 checked, plus done
    assert r["phases"] == 3 * len(phase_order(heads)) + min(2, 2 * heads - 1)


def test_attn_phase_comparison_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_unit("attn_phase", "tiny", run_name="h3_corrupt", parameters={"H": 3}, corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] >= 1
