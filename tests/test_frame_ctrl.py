"""python_ref.kernels.frame_ctrl: the frame as the controller issues it on the three activation buffers
(every buffer command, every call) equals python_ref's fixed-point network (FixedM3ViT) bit for bit, so
the buffers' layout, the narrow operand storage, qkv's round-to-odd wait, the gathers and scatters and
the experts' accumulation onto x lose nothing; and the issued program has the structure the RTL runs
(rtl/src/attention_block.sv, mlp_block.sv, moe_block.sv; its steps on rtl/src/backbone.sv's routes)."""
from __future__ import annotations

import numpy as np
import pytest

from python_ref.config import load_config
from python_ref.kernels.act_buffer import Access
from python_ref.kernels.frame_ctrl import ROUTES, FrameCtrl, FrameCtrlError, Role, run_frame
from python_ref.model import load_image, seeded_weights
from python_ref.model.fixed_model import FixedM3ViT, quantize_weights

TINY = load_config("tiny")


@pytest.fixture(scope="module")
def tiny_fw():
    return quantize_weights(TINY, seeded_weights(TINY, 0))


@pytest.mark.parametrize("task", [0, 1])
@pytest.mark.parametrize("image", ["chelsea", "coffee"])
def test_frame_on_the_buffers_is_the_network(tiny_fw, image, task):
    px = load_image(TINY, image).raw
    got, issued = run_frame(TINY, tiny_fw, px, task)
    want = FixedM3ViT(TINY, tiny_fw)(px, task).out
    assert np.array_equal(got, want)
    calls = issued.calls()
    m = TINY.model
    assert calls[0] == ("linear", "patch embedding")
    assert sum(u == "attention" for u, _n in calls) == m.layers
    assert sum(u == "moe_router" for u, _n in calls) == sum(m.is_moe_layer(L) for L in range(m.layers))
    # qkv waits in the hidden rows: Q rounded half up, K | V to odd, every layer
    odd = [a for a in issued.commands("h_") if a.odd]
    assert len(odd) == m.layers and all(a.first == m.dim // TINY.hardware.linear_in and not a.read for a in odd)


def test_random_pixels_full_range(tiny_fw):
    """Pixels over their whole range, both tasks: still the network's x."""
    g = np.random.default_rng(3)
    m = TINY.model
    px = g.integers(0, 1 << TINY.fmt("pixel").width, (m.channels, m.height, m.width))
    for task in (0, 1):
        got, _ = run_frame(TINY, tiny_fw, px, task)
        assert np.array_equal(got, FixedM3ViT(TINY, tiny_fw)(px, task).out)


def test_kv_rounded_half_up_would_differ(tiny_fw, monkeypatch):
    """What the odd store prevents: with K and V written rounded half up, some frame differs."""
    orig = FrameCtrl.write

    def rnd_write(self, port, acc, beats):
        if acc.odd:
            acc = Access(acc.read, acc.rows, acc.block_major, acc.listed, acc.n_beats, acc.first, False)
        return orig(self, port, acc, beats)
    monkeypatch.setattr(FrameCtrl, "write", rnd_write)
    g = np.random.default_rng(4)
    m = TINY.model
    differs = False
    for _ in range(4):
        px = g.integers(0, 1 << TINY.fmt("pixel").width, (m.channels, m.height, m.width))
        got, _ = run_frame(TINY, tiny_fw, px, 0)
        differs |= not np.array_equal(got, FixedM3ViT(TINY, tiny_fw)(px, 0).out)
    assert differs


def test_steps_are_the_program_on_routes(tiny_fw):
    """The steps (what a host or sequencer replays on rtl/src/backbone.sv) hold every entry in issue
    order, each step calls exactly its route's units, and the routes follow the network's order: pos,
    the patch embedding, per layer LN1 + qkv, attention, proj, then LN2 + fc1 and fc2 (dense) or the
    gate and the experts' fc1 / fc2 pairs (MoE), the output."""
    _, issued = run_frame(TINY, tiny_fw, load_image(TINY, "chelsea").raw, 1)
    flat = []
    for st in issued.steps:
        assert [c.unit for c in st.calls] == list(ROUTES[st.route].units), st.label
        flat += [("cmd", p, a) for p, a in st.commands]
        flat += [("call", c.unit, c.name) for c in st.calls]
    # within a step the calls and commands interleave; per kind the order is the program's
    assert [e for e in flat if e[0] == "cmd"] == [e for e in issued.entries if e[0] == "cmd"]
    assert [e for e in flat if e[0] == "call"] == [e for e in issued.entries if e[0] == "call"]
    routes = [st.route for st in issued.steps]
    m = TINY.model
    want = ["host", "patch"]
    for L in range(m.layers):
        want += ["ln", "attention", "acc"]
        if m.is_moe_layer(L):
            n_exp = sum(1 for st in issued.steps if st.label.startswith(f"layer {L} expert") and st.route == "hidden")
            assert n_exp >= 1
            want += ["gate"] + ["hidden", "acc"] * n_exp
        else:
            want += ["ln", "acc"]
    assert routes == want + ["host"]
    assert issued.steps[0].host_beats is not None and issued.steps[-1].host_beats is None


def test_every_call_has_its_role(tiny_fw):
    """Issuers tell the calls apart by their Role, not by parsing names (cosim/test_backbone.py: the
    weight stream's order, an expert's wait for its descriptor words, the router's layer): every call
    has one, no two calls share one, an expert's fc1 / fc2 come in pairs per expert in the steps the
    router's words gave, and each MoE layer has one gate and one router call."""
    m = TINY.model
    for task in (0, 1):
        _, issued = run_frame(TINY, tiny_fw, load_image(TINY, "chelsea").raw, task)
        calls = [c for st in issued.steps for c in st.calls]
        roles = [c.role for c in calls]
        assert None not in roles and len(set(roles)) == len(roles)
        assert roles[0] == Role(None, "patch embedding")
        for L in range(m.layers):
            parts = [(r.part, r.expert) for r in roles if r.layer == L]
            assert [p for p, _e in parts[:5]] == ["LN1", "qkv", "attention", "proj", "LN2"]
            if not m.is_moe_layer(L):
                assert parts[5:] == [("fc1", None), ("fc2", None)]
                continue
            assert parts[5:7] == [("gate", None), ("router", None)]
            experts = parts[7:]
            assert experts and experts == [(p, e) for _p, e in experts[::2] for p in ("fc1", "fc2")]
            assert all(c.unit == "linear" for c in calls if c.role.expert is not None)


def test_routes_are_the_rtl_route_numbers():
    """rtl/src/backbone.sv's route constants (R_<NAME> = 3'd<i>) number the routes in ROUTES' order."""
    import re
    from pathlib import Path
    sv = (Path(__file__).resolve().parents[1] / "rtl" / "src" / "backbone.sv").read_text()
    consts = {m.group(1).lower(): int(m.group(2)) for m in re.finditer(r"\bR_([A-Z]+) = 3'd(\d+)", sv)}
    assert consts == {name: i for i, name in enumerate(ROUTES)}


def test_a_command_off_the_route_is_refused():
    ctl = FrameCtrl(TINY)
    with pytest.raises(FrameCtrlError, match="a command or call before the first step"):
        ctl.read("x_", Access(True, (0,)))
    ctl.step("hidden", "an expert's fc1")
    with pytest.raises(FrameCtrlError, match="route 'hidden' does not connect x_ rd"):
        ctl.read("x_", Access(True, (0,)))
    with pytest.raises(FrameCtrlError, match=r"route 'hidden' calls \('linear',\), not attention"):
        ctl.call("attention", "attention")
    with pytest.raises(FrameCtrlError, match="route 'bus' is not one of"):
        ctl.step("bus", "?")


@pytest.mark.parametrize("dense_mlp", [False, True])
def test_per_channel_scaled_weights(dense_mlp):
    """The format study's per-channel scaled weights (numerics.expert_weights: the experts', and with
    dense_mlp the dense MLP's too) through the controller: the same weight-format rule as the network
    (python_ref.kernels.linear.weight_formats), so the same x."""
    from python_ref.config import parse_config
    raw = TINY.as_dict()
    raw["numerics"]["expert_weights"] = {
        "format": {"width": 8, "int": 8, "quant": "RND", "overflow": "SAT_SYM"},
        "scale": {"width": 18, "int": -5, "signed": False, "quant": "RND", "overflow": "SAT"}, "dense_mlp": dense_mlp}
    cfg = parse_config(raw, "tiny.yaml (expert_weights)", buildable=False)
    fw = quantize_weights(cfg, seeded_weights(cfg, 0))
    px = load_image(cfg, "coffee").raw
    got, issued = run_frame(cfg, fw, px, 1)
    assert np.array_equal(got, FixedM3ViT(cfg, fw)(px, 1).out)
    scaled = [c for st in issued.steps for c in st.calls if c.unit == "linear" and c.args["w_scale"] is not None]
    n_experts = sum(1 for st in issued.steps if st.route == "hidden")
    n_dense = sum(not TINY.model.is_moe_layer(L) for L in range(TINY.model.layers))
    assert len(scaled) == 2 * n_experts + (2 * n_dense if dense_mlp else 0)


def test_bad_input_is_named(tiny_fw):
    m = TINY.model
    with pytest.raises(FrameCtrlError, match=r"pixels: expected shape \(C, H, W\)"):
        run_frame(TINY, tiny_fw, np.zeros((1, 2, 3), dtype=np.int64))
    with pytest.raises(FrameCtrlError, match="task 5: the config has 2 tasks"):
        run_frame(TINY, tiny_fw, np.zeros((m.channels, m.height, m.width), dtype=np.int64), 5)
    from dataclasses import replace
    sat = replace(TINY, formats={**TINY.formats, "act": replace(TINY.fmt("act"), overflow="SAT")})
    with pytest.raises(FrameCtrlError, match="formats.act must wrap"):
        FrameCtrl(sat)


def test_edge_moe_seeded():
    """edge_moe's shapes (32-lane tile, 16 experts, 12 layers) with seeded weights, both tasks."""
    cfg = load_config("edge_moe")
    fw = quantize_weights(cfg, seeded_weights(cfg, 0))
    px = load_image(cfg, "chelsea").raw
    for task in (0, 1):
        got, issued = run_frame(cfg, fw, px, task)
        assert np.array_equal(got, FixedM3ViT(cfg, fw)(px, task).out)
    assert len(issued.commands("h_")) > len(issued.commands("x_")) > 0


def test_edge_moe_published(published_dir):
    """The published weights (seeded stand-in expert matrices) on a photograph, task 0."""
    from python_ref.model.real_data import published_weights
    cfg = load_config("edge_moe")
    fw = quantize_weights(cfg, published_weights())
    px = load_image(cfg, "coffee").raw
    got, _ = run_frame(cfg, fw, px, 0)
    assert np.array_equal(got, FixedM3ViT(cfg, fw)(px, 0).out)
