"""The bit-accurate fixed-point network (python_ref/model/fixed_model.py) on tiny frames: equal to an
independent step-by-step composition of the kernel calls (both tasks, both linear rules), the engine
calls and residual structure the hardware uses, determinism, capture names and shapes equal to the
float model's, the range checks, every error message; the format-study options of the config and
the kernels (defaults unchanged); the per_product fast path against the literal definition; and one
edge_moe frame on the published weights (``published``: skipped with the reason when absent)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from cosim.vectors import rand_raw
from python_ref.config import ConfigError, load_config, parse_config
from python_ref.fixed import FixedFormat
from python_ref.kernels import linear as linear_mod
from python_ref.kernels.attention import attention, attention_raw
from python_ref.kernels.gelu import gelu_raw
from python_ref.kernels.layernorm import layernorm_raw
from python_ref.kernels.linear import (LinearError, accumulate, compute_linear, patch_embed, per_product_sum,
                                       quantize_per_channel, quantized_products)
from python_ref.kernels.moe import MoEError, MoEWeights, moe_raw
from python_ref.model import M3ViT, load_image, seeded_weights
from python_ref.model import fixed_model as fm
from python_ref.model.fixed_model import FixedM3ViT, FixedModelError, quantize_weights
from python_ref.model.float_model import capture_shapes

TINY = load_config("tiny")


def variant(base, **numerics):
    """A python_ref-only config: the base YAML with numerics fields replaced (buildable=False)."""
    raw = base.as_dict()
    raw["numerics"].update(numerics)
    return parse_config(raw, f"{base.name}.yaml (variant)", buildable=False)


EXACT = variant(TINY, linear_sum="exact")
PER_PRODUCT = variant(TINY, linear_sum="per_product")  # Edge-MoE's rule (the shipped configs use exact)
KV18 = {"width": 18, "int": 7, "quant": "RND", "overflow": "SAT_SYM"}   # = the shipped configs' attention_kv
OPERAND27 = {"width": 27, "int": 9, "quant": "RND", "overflow": "SAT_SYM"}  # formats.operand: K / V split hi / lo
W8 = {"format": {"width": 8, "int": 8, "quant": "RND", "overflow": "SAT_SYM"},
      "scale": {"width": 18, "int": -5, "signed": False, "quant": "RND", "overflow": "SAT"}}


@pytest.fixture(scope="module")
def tiny_weights():
    return seeded_weights(TINY, 0)


@pytest.fixture(scope="module")
def pixels():
    return {name: load_image(TINY, name).raw for name in ("chelsea", "coffee")}


# ---------------------------------------------------------------------------------------------
# Independent reference: the frame written out as kernel calls, weights quantized here


def wrap_add(a, b, width=32):
    """act(a + b) for TRN/WRAP act raws: integer add, two's complement wrap (no python_ref.fixed)."""
    s = np.asarray(a, dtype=object) + np.asarray(b, dtype=object)
    m, h = 1 << width, 1 << (width - 1)
    return np.array([(int(v) + h) % m - h for v in s.ravel()], dtype=np.int64).reshape(s.shape)


def reference_frame(cfg, ws, px, task):
    """Every step as the hardware issues it (fused fc1 + GELU, accumulate-mode proj and fc2)."""
    m = cfg.model
    f = cfg.fmt
    t = ws.tensors

    def q(name, role):
        return f(role).from_float(np.asarray(t[name], dtype=np.float64)).astype(np.int64)

    x = patch_embed(px, q("patch_embed_weight", "patch_weight").reshape(m.dim, -1), q("patch_embed_bias", "bias"),
                    q("pos_embed", "act"), cfg)
    steps = {"embed": x}
    for L in range(m.layers):
        p, n = f"layer{L}.", f"l{L}_"
        h = layernorm_raw(x, q(n + "norm1_weight", "norm_param"), q(n + "norm1_bias", "norm_param"), cfg)
        qkv = compute_linear(h, q(n + "qkv_weight", "weight"), q(n + "qkv_bias", "attn_bias"), cfg,
                             w_fmt=f("weight"), b_fmt=f("attn_bias"))
        a = attention_raw(qkv, cfg)
        x = compute_linear(a, q(n + "attn_proj_weight", "weight"), q(n + "attn_proj_bias", "attn_bias"), cfg,
                           w_fmt=f("weight"), b_fmt=f("attn_bias"), out=x)
        steps.update({p + "ln1": h, p + "qkv": qkv, p + "attn_out": a, p + "res1": x})
        h = layernorm_raw(x, q(n + "norm2_weight", "norm_param"), q(n + "norm2_bias", "norm_param"), cfg)
        steps[p + "ln2"] = h
        if m.is_moe_layer(L):
            r = moe_raw(h, MoEWeights.from_float(t, L, cfg), task, cfg)
            x = wrap_add(x, r.moe_acc)
            steps.update({p + "moe": r.moe_acc, p + "topk_idx": r.topk_idx})
        else:
            g = compute_linear(h, q(n + "fc1_weight", "weight"), q(n + "fc1_bias", "bias"), cfg, w_fmt=f("weight"),
                               b_fmt=f("bias"), gelu=True)
            x = compute_linear(g, q(n + "fc2_weight", "weight"), q(n + "fc2_bias", "bias"), cfg, w_fmt=f("weight"),
                               b_fmt=f("bias"), out=x)
            steps[p + "gelu"] = g
        steps[p + "out"] = x
    return x, steps


@pytest.mark.parametrize("cfg", [PER_PRODUCT, EXACT], ids=["per_product", "exact"])
@pytest.mark.parametrize("task", [0, 1])
def test_frame_equals_the_composition_of_kernel_calls(cfg, task, tiny_weights, pixels):
    model = FixedM3ViT(cfg, tiny_weights)
    for name, px in pixels.items():
        want, steps = reference_frame(cfg, tiny_weights, px, task)
        frame = model(px, task, capture=True)
        assert np.array_equal(frame.out, want), (name, task)
        for k, v in steps.items():
            assert np.array_equal(frame.raw[k], v), (name, task, k)
        assert np.array_equal(model(px, task).out, want)  # without capture: the same frame


def test_the_two_linear_rules_and_the_tasks_give_different_frames(tiny_weights, pixels):
    px = pixels["chelsea"]
    outs = {(c.numerics.linear_sum, t): FixedM3ViT(c, tiny_weights)(px, t).out for c in (PER_PRODUCT, EXACT) for t in (0, 1)}
    assert not np.array_equal(outs["per_product", 0], outs["exact", 0])
    assert not np.array_equal(outs["exact", 0], outs["exact", 1])
    # the task acts only at the gates: layer 0 (dense) is the same for both tasks
    f0, f1 = (FixedM3ViT(EXACT, tiny_weights)(px, t, capture=True) for t in (0, 1))
    assert np.array_equal(f0.raw["layer0.out"], f1.raw["layer0.out"])
    assert not np.array_equal(f0.raw["layer1.gate_logits"], f1.raw["layer1.gate_logits"])


def test_deterministic_and_capture_does_not_change_the_frame(tiny_weights, pixels):
    px = pixels["coffee"]
    a = FixedM3ViT(EXACT, tiny_weights)(px, 1, capture=True)
    b = FixedM3ViT(EXACT, quantize_weights(EXACT, tiny_weights))(px.copy(), 1, capture=True)
    c = FixedM3ViT(EXACT, tiny_weights)(px, 1)
    assert np.array_equal(a.out, b.out) and np.array_equal(a.out, c.out)
    assert list(a.raw) == list(b.raw)
    for k in a.raw:
        assert np.array_equal(a.raw[k], b.raw[k]), k
    assert c.raw == {} and c.checks == {}


def test_capture_names_and_shapes_equal_the_float_model(tiny_weights, pixels):
    frame = FixedM3ViT(TINY, tiny_weights)(pixels["chelsea"], 0, capture=True)
    model = M3ViT.from_weights(TINY, tiny_weights, dtype=torch.float64)
    _, caps = model(torch.as_tensor(load_image(TINY, "chelsea").pixels), 0, capture=True)
    assert list(frame.raw) == list(caps) == list(capture_shapes(TINY))
    floats = frame.floats()
    for name, t in caps.items():
        assert frame.raw[name].shape == tuple(t.shape) == floats[name].shape, name
        assert frame.raw[name].dtype.kind == "i", name
    assert floats["layer1.topk_idx"].dtype == np.int64
    # the float views are close to the float model (tiny seeded weights: cosine of the output)
    a, b = floats["layer1.out"].ravel(), caps["layer1.out"].numpy().ravel()
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.999
    assert np.array_equal(floats["input"], load_image(TINY, "chelsea").pixels)
    np.testing.assert_array_equal(frame.float("layer0.attn_probs").sum(-1).round(5), 1.0)


def test_what_the_captured_names_hold(tiny_weights, pixels):
    """embed, res1 and out are the accumulate-mode results of the store-mode tensors; fc1 + GELU is
    the engine's fused call; the attention captures are the unit's s and p = e * r; topk_prob holds
    the act scores; the expert tensors are the queue's engine calls put back per token and slot."""
    cfg = EXACT
    act = cfg.fmt("act")
    frame = FixedM3ViT(cfg, tiny_weights)(pixels["chelsea"], 0, capture=True)
    r = frame.raw
    pos = act.from_float(tiny_weights["pos_embed"].astype(np.float64))
    assert np.array_equal(r["embed"][0], pos[0])
    assert np.array_equal(r["embed"][1:], wrap_add(pos[1:], r["patch_embed"]))
    prev = r["embed"]
    for L in range(cfg.model.layers):
        p = f"layer{L}."
        assert np.array_equal(r[p + "res1"], wrap_add(prev, r[p + "proj"]))
        mlp = r[p + "moe"] if cfg.model.is_moe_layer(L) else r[p + "fc2"]
        assert np.array_equal(r[p + "out"], wrap_add(r[p + "res1"], mlp))
        prev = r[p + "out"]
    assert np.array_equal(r["layer0.gelu"], gelu_raw(r["layer0.fc1"], cfg))
    a = attention(r["layer0.qkv"], cfg)
    assert np.array_equal(r["layer0.attn_scores"], a.s)
    np.testing.assert_array_equal(frame.float("layer0.attn_probs"), a.p)
    res = frame.moe[1]
    assert np.array_equal(r["layer1.topk_prob"], res.topk_score)
    assert np.array_equal(r["layer1.gate_probs"], res.p)
    w = MoEWeights.from_float(tiny_weights.tensors, 1, cfg)
    for t in (0, 7, 16):
        for j in range(cfg.model.top_k):
            e = int(res.topk_idx[t, j])
            y1 = compute_linear(r["layer1.ln2"][t:t + 1], w.w1[e], w.b1[e], cfg, w_fmt=cfg.fmt("weight"),
                                b_fmt=cfg.fmt("bias"))
            assert np.array_equal(r["layer1.expert_fc1"][t, j], y1[0])
            assert np.array_equal(r["layer1.expert_gelu"][t, j], gelu_raw(y1, cfg)[0])
            y2 = compute_linear(gelu_raw(y1, cfg), w.w2[e], w.b2[e], cfg, w_fmt=cfg.fmt("weight"),
                                b_fmt=cfg.fmt("bias"))
            assert np.array_equal(r["layer1.expert_fc2"][t, j], y2[0])


def test_engine_calls_follow_the_hardware_structure(tiny_weights, pixels, monkeypatch):
    """Without capture, the frame issues exactly the hardware's engine calls: per layer qkv (store),
    the projection accumulated onto x (out = the residual stream), and on dense layers fc1 (store,
    GELU after it) and fc2 accumulated onto x; the MoE unit gets LN2's output and its moe_acc is
    added to x once."""
    calls = []
    real_linear, real_moe = fm.compute_linear, fm.moe_raw

    def spy_linear(x, w, b, cfg, **kw):
        calls.append(("linear", np.asarray(w).shape, kw.get("out") is not None, kw.get("gelu", False)))
        return real_linear(x, w, b, cfg, **kw)

    def spy_moe(x, weights, task, cfg):
        calls.append(("moe", task))
        return real_moe(x, weights, task, cfg)

    monkeypatch.setattr(fm, "compute_linear", spy_linear)
    monkeypatch.setattr(fm, "moe_raw", spy_moe)
    FixedM3ViT(TINY, tiny_weights)(pixels["chelsea"], 1)
    D, m = TINY.model.dim, TINY.model
    layer0 = [("linear", (3 * D, D), False, False), ("linear", (D, D), True, False),
              ("linear", (m.mlp_hidden, D), False, False), ("linear", (D, m.mlp_hidden), True, False)]
    layer1 = [("linear", (3 * D, D), False, False), ("linear", (D, D), True, False), ("moe", 1)]
    assert calls == layer0 + layer1


def test_range_checks_count_wraps_and_saturations(tiny_weights, pixels):
    act = TINY.fmt("act")
    frame = FixedM3ViT(EXACT, tiny_weights)(pixels["chelsea"], 0, capture=True)
    assert frame.outside_total() == 0
    names = set(frame.checks)
    for need in ("patch_embed", "embed", "layer0.ln1", "layer0.qkv", "layer0.qkv:q", "layer0.qkv:kv",
                 "layer0.attn_scores", "layer0.attn_out", "layer0.proj", "layer0.res1", "layer0.fc1", "layer0.fc2",
                 "layer0.out", "layer1.gate_logits", "layer1.expert_fc1", "layer1.expert_fc2", "layer1.moe",
                 "layer0.qkv:operand", "layer0.fc2:operand"):
        assert need in names, need
    c = frame.checks["layer0.qkv"]
    assert c.values == TINY.model.tokens * 3 * TINY.model.dim and c.how == "shadow" and 0 < c.max_abs < 64
    # a position embedding near the top of act: the patch embedding's accumulate wraps, and the check counts it
    ws = dataclasses.replace(tiny_weights, tensors=dict(tiny_weights.tensors))
    pos = np.array(ws.tensors["pos_embed"], dtype=np.float64)
    pos[1:] = act.max - 1e-3
    ws.tensors["pos_embed"] = pos.astype(np.float32)
    wrapped = FixedM3ViT(EXACT, ws)(pixels["chelsea"], 0, capture=True)
    exact_sum = act.from_float(pos[1:].astype(np.float32)) + wrapped.raw["patch_embed"]
    n = int((exact_sum > act.raw_max).sum())
    assert wrapped.checks["embed"].outside == n > 0
    assert int((wrapped.raw["embed"][1:] < 0).sum()) == n  # the wraps themselves: from +512 to -512


def test_operand_saturation_is_counted():
    op = EXACT.fmt("operand")
    x = np.array([[0, 1 << 30, -(1 << 30), int(op.max * 2 ** 22)]], dtype=np.int64)
    assert fm._outside_exact(x, 22, op)[:2] == (4, 2)
    assert fm._outside_exact(x, 22, op)[2] == pytest.approx(256.0)


# ---------------------------------------------------------------------------------------------
# Errors


def test_bad_inputs_name_the_problem(tiny_weights, pixels):
    model = FixedM3ViT(TINY, tiny_weights)
    px = pixels["chelsea"]
    cases = [
        ((px[:, :8], 0), r"image shape \(3, 8, 16\): config 'tiny' expects raw pixels \(3, 16, 16\)"),
        ((px.astype(np.float64) / 256, 0), r"pixels: expected raw integers of ap_ufixed<8,0,AP_TRN,AP_WRAP>, got dtype float64"),
        ((px + 256, 0), r"pixels: raw values in \[\d+, \d+\] lie outside ap_ufixed<8,0,AP_TRN,AP_WRAP> \[0, 255\]"),
        ((px, 2), r"task 2: config 'tiny' has tasks 0..1"),
        ((px, -1), r"task -1: config 'tiny' has tasks 0..1"),
        ((px, True), r"task True: config 'tiny' has tasks 0..1"),
        ((px, 1.0), r"task 1.0: config 'tiny' has tasks 0..1"),
    ]
    for args, msg in cases:
        with pytest.raises(FixedModelError, match=msg):
            model(*args)


def test_weights_of_another_config_are_refused(tiny_weights):
    edge = load_config("edge_moe")
    with pytest.raises(FixedModelError, match=r"do not fit config 'tiny' \(weights of another config\?\): "
                                              r"patch_embed_weight has shape \(192, 3, 16, 16\), config expects \(32, 3, 4, 4\)"):
        FixedM3ViT(TINY, seeded_weights(edge, 0))
    partial = dataclasses.replace(tiny_weights, tensors={k: v for k, v in tiny_weights.tensors.items() if k != "l1_qkv_bias"})
    with pytest.raises(FixedModelError, match=r"l1_qkv_bias missing"):
        quantize_weights(TINY, partial)
    with pytest.raises(FixedModelError, match=r"weights: expected a WeightSet"):
        quantize_weights(TINY, dict(tiny_weights.tensors))
    # quantized for other weight formats (a study variant with a wider weight format)
    raw = TINY.as_dict()
    raw["formats"]["weight"] = {"width": 18, "int": 2}
    wide = parse_config(raw, "tiny (wider weights)", buildable=False)
    with pytest.raises(FixedModelError, match=r"weights were quantized for config 'tiny', whose model shape or weight "
                                              r"formats differ from config 'tiny'"):
        FixedM3ViT(wide, quantize_weights(TINY, tiny_weights))
    # numerics that do not touch the weights may share them
    FixedM3ViT(EXACT, quantize_weights(TINY, tiny_weights))
    with pytest.raises(FixedModelError, match=r"cfg: expected a Config"):
        FixedM3ViT("tiny", tiny_weights)


def test_unknown_capture_name(tiny_weights, pixels):
    frame = FixedM3ViT(TINY, tiny_weights)(pixels["chelsea"], 0, capture=True)
    with pytest.raises(KeyError, match=r"no captured tensor 'layer9.out'"):
        frame.float("layer9.out")


# ---------------------------------------------------------------------------------------------
# Format-study options (python_ref only; defaults unchanged)


def test_study_options_parse_and_are_not_buildable():
    cfg = variant(TINY, linear_sum="exact", attention_kv=KV18, expert_weights=W8)
    assert cfg.numerics.attention_kv.c_type == "ap_fixed<18,7,AP_RND,AP_SAT_SYM>"
    assert cfg.numerics.expert_weights.format.c_type == "ap_fixed<8,8,AP_RND,AP_SAT_SYM>"
    assert cfg.numerics.expert_weights.scale.c_type == "ap_ufixed<18,-5,AP_RND,AP_SAT>"
    assert not cfg.numerics.expert_weights.dense_mlp
    assert TINY.numerics.attention_kv.c_type == "ap_fixed<18,7,AP_RND,AP_SAT_SYM>"   # shipped: one array pass
    assert TINY.numerics.expert_weights is None
    raw = TINY.as_dict()
    raw["numerics"]["expert_weights"] = W8
    with pytest.raises(ConfigError, match=r"numerics.expert_weights: a python_ref-only option of the format study .* "
                                          r"load such a config with buildable=False"):
        parse_config(raw)
    # the attention operands are buildable (python_ref and C++; tests/test_attention.py checks their limits)
    raw = TINY.as_dict()
    raw["numerics"]["attention_kv"] = KV18
    assert parse_config(raw).numerics.attention_kv.c_type == "ap_fixed<18,7,AP_RND,AP_SAT_SYM>"
    bad = [({"attention_kv": {"width": 28, "int": 9}}, r"numerics.attention_kv: K and V are a signed MAC operand no "
                                                       r"wider than formats.operand \(27 bits\)"),
           ({"linear_sum": "per_product", "expert_weights": W8},
            r"numerics.expert_weights: per-channel scaled weights are defined for numerics.linear_sum: exact only, "
            r"got 'per_product'"),
           ({"linear_sum": "exact", "expert_weights": {**W8, "scale": {"width": 18, "int": -5}}},
            r"numerics.expert_weights.scale: a scale is unsigned"),
           ({"linear_sum": "exact", "expert_weights": {**W8, "dense_mlp": 1}}, r"numerics.expert_weights.dense_mlp: "
                                                                               r"expected true or false, got 1"),
           ({"linear_sum": "exact", "expert_weights": {"format": W8["format"]}},
            r"numerics.expert_weights: missing field\(s\) scale"),
           ({"kv": 1}, r"numerics: unknown field\(s\) kv; allowed: linear_sum, attention_kv, attention_q, "
                       r"expert_weights")]
    for fields, msg in bad:
        with pytest.raises(ConfigError, match=msg):
            variant(TINY, **fields)


def test_attention_operands_default_to_operand_and_18_bit_kv_differs():
    rng = np.random.default_rng(3)
    qkv = rand_raw(TINY.fmt("act"), (TINY.model.tokens, 3 * TINY.model.dim), rng, 2.0)
    raw = TINY.as_dict()
    del raw["numerics"]["attention_kv"], raw["numerics"]["attention_q"]
    split = parse_config(raw, "tiny.yaml (operands unset)")
    same = variant(split, attention_kv=OPERAND27, attention_q=OPERAND27)
    assert np.array_equal(attention_raw(qkv, same), attention_raw(qkv, split))
    kv18 = variant(split, attention_kv=KV18)
    a, b = attention(qkv, kv18), attention(qkv, split)
    assert np.array_equal(a.q, b.q) and not np.array_equal(a.out, b.out)
    assert np.array_equal(a.k, KV18_FMT.quantize(qkv[:, 32:64].reshape(17, 2, 16).transpose(1, 0, 2), 22))
    # the error of 18-bit K/V (11 fraction bits) against float64 attention stays at the 2^-11 scale
    assert np.abs(TINY.fmt("act").to_float(a.out) - TINY.fmt("act").to_float(b.out)).max() < 2 ** -9


KV18_FMT = FixedFormat(18, 7, True, "RND", "SAT_SYM")


def test_per_channel_scaled_weights():
    cfg = variant(TINY, linear_sum="exact", expert_weights=W8)
    xw = cfg.numerics.expert_weights
    rng = np.random.default_rng(5)
    w = rng.normal(0, 0.05, (6, 32))
    w[2] = 0.0
    wq, sc = quantize_per_channel(w, xw.format, xw.scale)
    assert wq.shape == (6, 32) and sc.shape == (6,) and sc[2] == 0 and not wq[2].any()
    assert np.abs(wq).max(axis=1)[[0, 1, 3]].tolist() == [127, 127, 127]
    np.testing.assert_allclose(wq * xw.scale.to_float(sc)[:, None], w, atol=xw.scale.to_float(sc).max() * 0.51)
    # y = act(b + scale_o * sum operand(x) w): Python integers
    x = rand_raw(cfg.fmt("act"), (3, 32), rng, 2.0)
    b = rand_raw(cfg.fmt("bias"), 6, rng, 1.0)
    got = compute_linear(x, wq, b, cfg, w_fmt=xw.format, b_fmt=cfg.fmt("bias"), w_scale=sc, s_fmt=xw.scale)
    op = cfg.fmt("operand")
    xo = op.quantize(x, 22)
    frac = op.frac + xw.scale.frac
    for k in range(3):
        for o in range(6):
            v = int(sc[o]) * sum(int(a) * int(c) for a, c in zip(xo[k], wq[o])) + (int(b[o]) << (frac - 11))
            assert got[k, o] == ((v >> (frac - 22)) + (1 << 31)) % (1 << 32) - (1 << 31)
    with pytest.raises(LinearError, match=r"w_scale \(per-channel scaled weights\) needs numerics.linear_sum: exact"):
        compute_linear(x, wq, b, PER_PRODUCT, w_fmt=xw.format, b_fmt=cfg.fmt("bias"), w_scale=sc, s_fmt=xw.scale)
    with pytest.raises(LinearError, match=r"w_scale: expected shape \(6,\)"):
        compute_linear(x, wq, b, cfg, w_fmt=xw.format, b_fmt=cfg.fmt("bias"), w_scale=sc[:5], s_fmt=xw.scale)


def test_moe_weights_with_and_without_scales(tiny_weights):
    cfg = variant(TINY, linear_sum="exact", expert_weights=W8)
    w8 = MoEWeights.from_float(tiny_weights.tensors, 1, cfg)
    assert w8.w1_scale.shape == (4, 64) and np.abs(w8.w1).max() == 127
    w16 = MoEWeights.from_float(tiny_weights.tensors, 1, EXACT)
    assert w16.w1_scale is None
    x = rand_raw(cfg.fmt("act"), (17, 32), np.random.default_rng(2), 1.0)
    with pytest.raises(MoEError, match=r"MoE weights w1_scale: missing; config 'tiny' sets numerics.expert_weights"):
        moe_raw(x, w16, 0, cfg)
    with pytest.raises(MoEError, match=r"per-channel scales given, but config 'tiny' has no numerics.expert_weights"):
        moe_raw(x, w8, 0, EXACT)
    assert moe_raw(x, w8, 0, cfg).moe_acc.shape == (17, 32)


@pytest.mark.parametrize("fields", [dict(attention_kv=OPERAND27, attention_q=OPERAND27), dict(expert_weights=W8),
                                    dict(expert_weights={**W8, "dense_mlp": True})],
                         ids=["kv27", "experts8", "experts8_dense"])
def test_study_variants_run_and_stay_close(fields, tiny_weights, pixels):
    cfg = variant(TINY, linear_sum="exact", **fields)
    act = cfg.fmt("act")
    base = FixedM3ViT(EXACT, tiny_weights)(pixels["chelsea"], 0).out
    frame = FixedM3ViT(cfg, tiny_weights)(pixels["chelsea"], 0, capture=True)
    assert not np.array_equal(frame.out, base)
    a, b = act.to_float(frame.out).ravel(), act.to_float(base).ravel()
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.99
    assert frame.outside_total() == 0


# ---------------------------------------------------------------------------------------------
# The per_product fast path (speed only) equals the literal definition


def test_per_product_fast_path_equals_the_definition():
    rng = np.random.default_rng(9)
    act = TINY.fmt("act")
    formats = [(act, TINY.fmt("weight")), (TINY.fmt("pixel"), TINY.fmt("patch_weight")),
               (FixedFormat(20, 3), FixedFormat(18, 2)), (FixedFormat(40, 4), FixedFormat(30, 1))]
    accs = [act, FixedFormat(24, 10), FixedFormat(32, 10, True, "RND", "WRAP"), FixedFormat(32, 10, True, "TRN", "SAT")]
    for trial in range(24):
        xf, wf = formats[trial % 4]
        rows, n_out, n_in = (int(v) for v in rng.integers(1, [12, 30, 70]))
        x, w = rand_raw(xf, (rows, n_in), rng), rand_raw(wf, (n_out, n_in), rng)
        for a in accs:
            b = rand_raw(a, n_out, rng)
            want = accumulate(b, quantized_products(x, w, xf, wf, a), a, sequential=a.overflow != "WRAP")
            assert np.array_equal(per_product_sum(x, w, b, xf, wf, a), want), (trial, a)
    assert linear_mod.compute_linear is compute_linear


# ---------------------------------------------------------------------------------------------
# Published weights: one edge_moe frame


@pytest.mark.published
def test_published_edge_moe_frame_tracks_the_float_model():
    from python_ref.model.real_data import published_run, published_weights

    cfg = load_config("edge_moe")
    run = published_run("edge_moe", 0)
    frame = FixedM3ViT(cfg, published_weights())(run.pixels_raw, 0)
    a, b = frame.out_float.ravel(), run.tensors["layer11.out"].ravel()
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.999
    agree = (np.sort(frame.moe[1].topk_idx, 1) == np.sort(run.tensors["layer1.topk_idx"], 1)).all(1)
    assert agree.sum() >= cfg.model.tokens - 2
