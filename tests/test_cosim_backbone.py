"""rtl/src/backbone.sv: a whole frame in RTL (cosim/test_backbone.py), issued as early as the RTL allows in the
frame controller's steps (python_ref.kernels.frame_ctrl.run_frame), the weights from a DMA model at a DDR
bandwidth through the top's weight prefetch FIFO: the last layer's x bit-exact against python_ref's
FixedM3ViT, the router's descriptor words equal the controller's, the engine calls on one
cosim.linear_schedule.Sequence run of the frame through the weight FIFO's model (every call on edge_moe; on
tiny the calls before the first one fed through LayerNorm's lane join), attention on
cosim.attention_schedule's; a corrupt run; broken copies. tiny (the array at 4 x 4, LayerNorm's 2 lanes
through a split and a join; layer 0 dense, layer 1 MoE)."""
from __future__ import annotations

import re

import pytest

from cosim.runner import CosimError, assert_failed_with, broken_copy, run_unit
from python_ref.config import load_config

pytestmark = pytest.mark.cosim

TINY = load_config("tiny")


def _check_frame(r, cfg, layers, model=True):
    m = cfg.model
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["values_checked"] == m.tokens * m.dim
    n_moe = sum(m.is_moe_layer(L) for L in range(layers))
    assert len(r["attention"]) == layers
    assert [a["cycles"] for a in r["attention"]] == [a["predicted_cycles"] for a in r["attention"]]
    calls = r["calls"]
    exact = [c for c in calls if c["exact_model"]]
    assert bool(exact) == model and [(c["call"], c["ready"], c["done"]) for c in exact] == \
        [(c["call"], c["predicted_ready"], c["predicted_done"]) for c in exact]
    routes = [c["route"] for c in calls]
    assert routes[0] == "patch" and routes.count("gate") == n_moe
    if n_moe:
        assert r["descriptor_words"] > 0 and "hidden" in routes and r["routing_pulses"] == n_moe
    # the frame ends with its last call; calls overlap: the engine took a call before the one before it was
    # done (its block 0 loaded meanwhile), which a host that waits between steps never shows
    assert r["frame_cycles"] == calls[-1]["done"] + 1
    assert sum(c["ready"] < p["done"] for p, c in zip(calls, calls[1:])) >= len(calls) // 2
    return exact


def test_backbone_tiny_frame():
    """The whole tiny frame (both layers) on a real photo, task 0, weights at 14.4 GB/s: the calls before the
    first LayerNorm-fed one on the frame's model (tiny's LayerNorm has 2 of the engine's 4 lanes: the lane
    join stalls x_, which the model does not describe, and the calls after it depend on its cycles). The
    same frame with the weights at 0.5 GB/s (0.83 weights a cycle), from other random initial values:
    bit-exact, and load-bound: no shorter than the DMA's transfer of the frame's words, which alone is
    longer than the frame at 14.4 GB/s."""
    r = run_unit("backbone", "tiny", run_name="frame")
    _check_frame(r, TINY, TINY.model.layers)
    first_ln = next(i for i, c in enumerate(r["calls"]) if c["route"] in ("ln", "gate"))
    assert [c["exact_model"] for c in r["calls"]] == [i < first_ln for i in range(len(r["calls"]))]
    # Verilator seed 9: the initial values under which attn_exp's walk, not reset until attention's first
    # start, ran phantom rows after the reset and stopped the frame on its credit check
    slow = run_unit("backbone", "tiny", run_name="slow_ddr", ddr_gbs=0.5, seed=9)
    _check_frame(slow, TINY, TINY.model.layers)
    assert slow["ddr_words"] == r["ddr_words"]
    words_cycles = slow["ddr_words"] * TINY.hardware.w_bits / 8 / 0.5e9 * TINY.hardware.clock_mhz * 1e6
    assert slow["frame_cycles"] >= words_cycles > r["frame_cycles"]


@pytest.mark.slow
def test_perf_rtl_tiny(capsys):
    """`make perf-rtl`'s report on tiny: both tasks' frames through the RTL beside the composed figure."""
    from scripts import perf

    assert perf.main(["--rtl", "--config", "configs/tiny.yaml"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (\d) \| \*\*([\d,]+)\*\* \| \*\*([\d.]+)\*\* \| ([\d,]+) \| [\d.]+ \| ([\d.]+) \| ([\d.]+) \| "
                      r"(\d+) of (\d+) \| ([\d,]+) of ([\d,]+) \|", out, re.M)
    assert [int(t) for t, *_ in rows] == list(range(TINY.model.tasks)), out
    for _t, rtl, ms, comp, ratio, roof, on_model, n_calls, ok, values in rows:
        rtl, comp = int(rtl.replace(",", "")), int(comp.replace(",", ""))
        assert abs(float(ratio) - rtl / comp) < 1e-4 and float(roof) > 1 and ok == values
        assert 0 < int(on_model) < int(n_calls)      # tiny: the calls before the first LayerNorm-fed one
    assert "Slowest task" in out and "make perf-rtl" in out


def test_backbone_tiny_stress():
    """Full-range pixels, the other task (the router's task field, the other gate weights) and the weights
    x 16 before their conversion: the frame's x reaches act's range (wraps and saturations on the way), and
    the routing leaves an expert without tokens; with random idle cycles on every stream the host drives
    (the buffers' commands, pos, the pixels, LayerNorm's parameters, b_, s_) and pauses on its sinks (the
    router's words, the output), so the engine calls are not on the model (which has no stalls)."""
    r = run_unit("backbone", "tiny", run_name="stress", image="random", task=1, seed=5, weight_gain=16, stalls="both")
    _check_frame(r, TINY, TINY.model.layers, model=False)
    assert r["max_abs_x"] > 2 ** 30      # act: 32 bits
    # an expert without tokens: its images fetched before the routing was known dropped at the FIFO's head,
    # those after it skipped by the DMA, and the frame still exact
    assert r["expert_words_dropped"] > 0 and r["expert_images_skipped"] > 0


def test_backbone_comparison_can_fail():
    """The patch embedding alone (layers=0) with one wrong expected value: exactly one mismatch."""
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("backbone", "tiny", run_name="corrupt", corrupt=True, layers=0)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


def test_backbone_kv_rounded_fails():
    """K and V written rounded half up instead of to odd: attention sees a second rounding on some values
    and the frame's x differs (the odd store is what makes the hidden rows exact, frame_ctrl's rule)."""
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("backbone", "tiny", run_name="kv_rounded", kv_rounded=1)
    # the first place it shows: layer 1's gate logits, so its router's words (else the output)
    assert_failed_with(exc.value, r"router's descriptor words differ|x\[\d+\]\[\d+\] = .*python_ref", "kv_rounded")


@pytest.mark.slow
def test_backbone_edge_moe_frame():
    """A whole edge_moe frame (the 32 x 32 array, LayerNorm at 32 lanes: no converter, T = 129, 16 experts,
    12 blocks), seeded weights, a photograph: bit-exact, every call on its model (~3 min of simulation
    after a ~5 min build)."""
    cfg = load_config("edge_moe")
    r = run_unit("backbone", "edge_moe", run_name="edge_frame")
    exact = _check_frame(r, cfg, cfg.model.layers)
    assert len(exact) == len(r["calls"])


@pytest.mark.slow
def test_backbone_edge_moe_published(published_dir):
    """Edge-MoE's own frame on its published weights (seeded stand-in expert matrices: the published set
    has none), task 1: real activation ranges through every unit of the RTL."""
    cfg = load_config("edge_moe")
    r = run_unit("backbone", "edge_moe", run_name="edge_published", image="edge_moe", weights="published", task=1)
    exact = _check_frame(r, cfg, cfg.model.layers)
    assert len(exact) == len(r["calls"])
    assert r["expert_words_dropped"] + r["expert_images_skipped"] > 0     # inactive experts on this routing


# Broken copies: LN2(x) not kept for the experts (h's write from the engine in the gate route), the
# patch embedding's x_ from the hidden buffer instead of the host's pixel rows, the experts' scores not
# wired to the engine (as in attention_block, which has no scaled call).
BACKBONE_BROKEN = {
    "ln2_not_kept": ("backbone.sv", [("assign hw_d = sel_attn ? ay_d : sel_gate ? lnw_d : ly_d;",
                                      "assign hw_d = sel_attn ? ay_d : ly_d;")]),
    "patch_x_from_h": ("backbone.sv", [("assign lx_d = sel_from_h ? hr_d : sel_patch ? host_wr_TDATA : lnw_d;",
                                        "assign lx_d = sel_from_h || sel_patch ? hr_d : lnw_d;")]),
    "scores_lost": ("backbone.sv", [(".lin_s_TDATA(s_TDATA)", ".lin_s_TDATA('0)")]),
}
BACKBONE_REASON = {
    "ln2_not_kept": r"x\[\d+\]\[\d+\] = .*python_ref",
    "patch_x_from_h": r"router's descriptor words differ",     # the first place the wrong x shows
    "scores_lost": r"x\[\d+\]\[\d+\] = .*python_ref",
}


# one copy in `make test` (a Verilator build each, ~40 s on CI's cores), the others in `make test-full`
FAST_BROKEN = ("ln2_not_kept",)


@pytest.mark.parametrize("bug", [b if b in FAST_BROKEN else pytest.param(b, marks=pytest.mark.slow)
                                 for b in sorted(BACKBONE_BROKEN)])
def test_backbone_broken_fails(bug, tmp_path):
    file, edits = BACKBONE_BROKEN[bug]
    with pytest.raises(CosimError, match="failed") as exc:
        run_unit("backbone", "tiny", run_name="broken", variant=f"broken_{bug}",
                 replace=broken_copy(tmp_path, file, edits))
    assert_failed_with(exc.value, BACKBONE_REASON[bug], f"backbone broken copy {bug}")
