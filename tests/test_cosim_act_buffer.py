"""rtl/src/act_buffer.sv (an activation buffer between calls) against python_ref.kernels.act_buffer
(cosim/test_act_buffer.py): random accesses with stalls on every stream, the frame's residual accesses
with the exact cycle claims, and the malformed command words. Shapes: tiny's residual x (4 lanes,
8 beats a row, 17 rows), a narrow buffer whose rows end inside a beat (operand storage), edge_moe's
residual x (32 lanes of 192 values, 129 rows: 774 entries in block RAM) and its hidden rows (768
values, narrow: 3,096 entries, the last 24 in distributed RAM)."""
from __future__ import annotations

import pytest

from cosim.frame_schedule import ACT_BUFFER_FENCE, ACT_BUFFER_READ_LATENCY
from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit

pytestmark = pytest.mark.cosim

SHAPES = {
    "tiny_x": ("tiny", {}, 3000),
    "tiny_narrow_odd": ("tiny", {"VALUES": 30, "ROWS": 11, "NARROW": 1}, 3000),
    "edge_x": ("edge_moe", {}, 4000),
    "edge_hidden": ("edge_moe", {"VALUES": 768, "NARROW": 1}, 7000),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_act_buffer_cosim(shape):
    config, params, n = SHAPES[shape]
    r = run_unit("act_buffer", config, run_name=shape, parameters=params, n_random=n)
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["tests_run"] == 3
    assert r["beats_read"] + r["beats_written"] > n and r["beats_read"] > n // 4 and r["beats_written"] > n // 4
    assert (r["read_latency"], r["fence_latency"]) == (ACT_BUFFER_READ_LATENCY, ACT_BUFFER_FENCE) == (9, 10)
    assert len(r["errors_checked"]) >= 9 + (not params.get("NARROW"))
    if params.get("NARROW"):
        assert r["odd_beats"] > n // 10, "round-to-odd writes of the narrow buffer"
    if shape.startswith("edge"):
        assert r["values_read"] >= 100_000, "bit-exactness evidence: at least 10^5 values"


def test_act_buffer_comparison_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_unit("act_buffer", "tiny", run_name="corrupt", n_random=500, corrupt=True, testcase="test_random")
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


# Broken copies the comparison must catch, each for its own reason (a pattern in the simulation log):
# the identity row not restarting at base after a column of rows (block-major reads and writes of the
# wrong rows), the narrow store truncating instead of rounding (the shared operand_round.sv), the fence ignored (a read overtakes the
# write commanded before it: old data, and the frame test's fence latency), the round-to-odd flag
# ignored (the odd writes stored rounded half up).
ACT_BUFFER_BROKEN = {
    "row_restart": ("act_buffer_seq.sv", [("rid <= k_last ? base : rid + 1'b1;", "rid <= rid + 1'b1;")]),
    "no_rounding": ("operand_round.sv", [("+ (AW + 1)'(odd ? 0 : 1 << (SH - 1));", ";")]),
    "no_fence": ("act_buffer.sv", [(".allow(d == 0 || fence_gap >= 0)", ".allow(1'b1)")]),
    "odd_ignored": ("operand_round.sv", [("(AW + 1)'(odd ? 0 : 1 << (SH - 1));", "(AW + 1)'(1 << (SH - 1));"),
                                         ("r_stk[i] <= !zero[i] && odd && x[i*AW +: SH] != '0;", "r_stk[i] <= 1'b0;")]),
}
ACT_BUFFER_REASON = {
    "row_restart": r"read beat \d+ .*want|past the \d+ entries",
    "no_rounding": r"lane \d+: -?0x[0-9a-f]+, want",
    "no_fence": r"read beat \d+ .*want|fence: first read beat",
    "odd_ignored": r"lane \d+: -?0x[0-9a-f]+, want",
}


@pytest.mark.parametrize("bug", sorted(ACT_BUFFER_BROKEN))
def test_act_buffer_broken_fails(bug, tmp_path):
    file, edits = ACT_BUFFER_BROKEN[bug]
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("act_buffer", "tiny", run_name="broken", parameters={"VALUES": 30, "ROWS": 11, "NARROW": 1},
                 n_random=1500, variant=f"broken_{bug}", replace=broken_copy(tmp_path, file, edits))
    assert_failed_with(exc.value, ACT_BUFFER_REASON[bug], f"act_buffer broken copy {bug}")


@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
def test_act_buffers_cosim(config):
    """The frame's three buffers (rtl/src/act_buffers.sv) at the config's shapes."""
    from python_ref.config import load_config
    from python_ref.kernels.act_buffer import BufferShape
    cfg = load_config(config)
    r = run_unit("act_buffers", config, run_name="frame", n_random=2000)
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["tests_run"] == 3
    want = {p: [s.lanes, s.values, s.rows, s.narrow, s.nb] for p, s in BufferShape.frame(cfg).items()}
    assert r["buffers"] == want
    assert r["beats_read"] > 4000 and (r["read_latency"], r["fence_latency"]) == (ACT_BUFFER_READ_LATENCY, ACT_BUFFER_FENCE)
