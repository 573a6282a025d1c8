"""RTL LayerNorm streamed into the linear engine (rtl/src/layernorm_linear.sv) under cocotb + Verilator:
bit-exact against python_ref's composition (layernorm_raw, then compute_linear) with and without
stalls, and, in the frame's order, every call's ap_ready / ap_done equal to the frame model's rule
(cosim.frame_schedule.layernorm_lead: LayerNorm's first output beat, then the engine's x_ a beat a
cycle, no gap). edge_moe is the configuration the frame counts by this rule (LANES = LI = 32): it runs
at LO = 8 (the 32 x 32 engine's build takes > 30 minutes; x_'s acceptance does not depend on LO).
tiny's engine tile is 4 wide and its LayerNorm 2 lanes, so there the top is built at LI = LANES = 2
(its default: row-major weight words)."""
from __future__ import annotations

import pytest

from cosim import frame_schedule as fs
from cosim.runner import CosimError, run_unit
from python_ref.config import load_config

pytestmark = pytest.mark.cosim

LABELS = ["qkv", "fc1", "gate", "out1", "row1", "acc_gather", "scaled", "qkv_again"]


def run(config: str, stall: str, run_name: str, **kw) -> dict:
    return run_unit("layernorm_linear", config, stall=stall, run_name=run_name, **kw)


@pytest.mark.parametrize("config,stall,params", [("tiny", "none", None), ("tiny", "both", None),
                                                  ("edge_moe", "none", {"LO": 8})])
def test_layernorm_linear(config, stall, params):
    cfg = load_config(config)
    r = run(config, stall, stall, parameters=params)
    assert r["mismatches"] == 0 and r["layers"] == 2 * len(LABELS) and r["li"] == cfg.hardware.layernorm_lanes
    if config == "edge_moe":   # the frame's rule holds where the frame uses it; >= 10^5 values compared
        assert fs.layernorm_streams(cfg) and r["out_values"] >= 100_000
    runs = {x["layer"]: x for x in r["runs"]}
    frame = [runs[f"ln_frame_{n}_{lab}"] for n, lab in enumerate(LABELS)]
    # the frame order: the cycles the frame model gives (asserted by the bench as well), no xn_ gap,
    # and LayerNorm's first output P - 1 + latency cycles after its first input
    assert all((x["ready"], x["done"]) == (x["predicted_ready"], x["predicted_done"]) for x in frame)
    assert r["ln_gaps"] == [0] * len(LABELS) and all(x["xn_gap_cycles"] == 0 for x in frame)
    lat = fs.layernorm_period(cfg) - 1 + fs.layernorm_latency(cfg)
    assert all(x["ln_first_out"] == lat for x in frame)
    # each call's LayerNorm input starts in the cycle the call before it has ap_done high
    assert all(b["ln_in_first"] == a["done"] for a, b in zip(frame, frame[1:]))
    calls = [runs[f"ln_{stall}_{n}_{lab}"] for n, lab in enumerate(LABELS)]
    assert all(x["mismatches"] == 0 for x in calls)
    if stall == "both":   # the stalls reached the engine's output and LayerNorm's input
        assert calls[-1]["seq_y_held_cycles"] > 100 and max(x["ln_first_out"] for x in calls) > lat
    else:   # LayerNorm's output held back while the engine computes the call before
        assert max(x["xn_gap_cycles"] for x in calls) > 0


def test_layernorm_linear_scoreboard_can_fail():
    with pytest.raises(CosimError, match="mismatch") as err:
        run("tiny", "none", "corrupt", testcase="test_ln_calls", corrupt=True)
    assert err.value.summary is not None and err.value.summary["mismatches"] == 1
