"""rtl/src/axis_fifo.sv on its own against its cycle model (cosim/test_axis_fifo.py): every DEPTH
class (2, which no unit uses, up to 64) with both read styles, SYNC_READ = 1 cycle for cycle equal
to the asynchronous read."""
from __future__ import annotations

import pytest

from cosim.runner import CosimError, run_unit

pytestmark = pytest.mark.cosim


@pytest.mark.parametrize("sync", [0, 1])
@pytest.mark.parametrize("depth", [2, 4, 64])
def test_axis_fifo_cycle_model(depth, sync):
    r = run_unit("axis_fifo", "tiny", run_name=f"d{depth}_s{sync}",
                 parameters={"DEPTH": depth, "WIDTH": 12, "SYNC_READ": sync})
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert (r["depth"], r["sync_read"], r["tests_run"]) == (depth, sync, 1)
    assert r["max_fill"] == depth, "the fill phase must reach a full FIFO"
    assert r["pops"] == r["pushes"] > 300


def test_axis_fifo_comparison_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_unit("axis_fifo", "tiny", run_name="d4_corrupt", parameters={"DEPTH": 4, "WIDTH": 12}, corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1
