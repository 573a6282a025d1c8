"""The float M3ViT model (python_ref/model/float_model.py) against an independent numpy float64
implementation (tests/model_numpy_ref.py), plus the MoE gate rules (top-k ties to the lower index,
no renormalization, task selection), capture completeness and input validation. tiny.yaml: fast."""
import numpy as np
import pytest
import torch

import model_numpy_ref as ref
from python_ref.config import load_config
from python_ref.model import (M3ViT, ModelInputError, capture_shapes, load_image, parameter_name, seeded_weights,
                              tensor_shapes, top_k_lowest_index)


@pytest.fixture(scope="module")
def tiny():
    cfg = load_config("tiny")
    w = seeded_weights(cfg, 0)
    img = load_image(cfg, "chelsea")
    return cfg, w, img


def test_parameter_names_cover_the_state_dict(tiny):
    cfg, _, _ = tiny
    state = M3ViT(cfg).state_dict()
    mapped = {parameter_name(n): s for n, s in tensor_shapes(cfg).items()}
    assert set(mapped) == set(state)
    for key, shape in mapped.items():
        assert tuple(state[key].shape) == shape, key
    assert parameter_name("l3_qkv_weight") == "blocks.3.attn.qkv.weight"
    assert parameter_name("l1_w_gate_T_task1") == "blocks.1.moe.w_gate_T_task1"


@pytest.mark.parametrize("task", [0, 1])
def test_every_tensor_matches_numpy_reference_float64(tiny, task):
    cfg, w, img = tiny
    model = M3ViT.from_weights(cfg, w, torch.float64)
    out, caps = model(img.pixels, task, capture=True)
    ref_out, ref_caps = ref.forward(cfg, w.tensors, img.pixels, task)
    assert list(caps) == list(capture_shapes(cfg))
    assert set(caps) == set(ref_caps)
    for name, t in caps.items():
        a = t.numpy()
        assert a.shape == capture_shapes(cfg)[name], name
        if name.endswith("topk_idx"):
            np.testing.assert_array_equal(a, ref_caps[name], err_msg=name)
        else:
            np.testing.assert_allclose(a, ref_caps[name], rtol=1e-10, atol=1e-10, err_msg=name)
    np.testing.assert_array_equal(out.numpy(), caps[f"layer{cfg.model.layers - 1}.out"].numpy())
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-10)


def test_float32_model_tracks_float64(tiny):
    cfg, w, img = tiny
    o32, c32 = M3ViT.from_weights(cfg, w)(img.pixels, 0, capture=True)
    o64, c64 = M3ViT.from_weights(cfg, w, torch.float64)(img.pixels, 0, capture=True)
    assert o32.dtype == torch.float32 and o64.dtype == torch.float64
    np.testing.assert_array_equal(c32["layer1.topk_idx"].numpy(), c64["layer1.topk_idx"].numpy())
    scale = o64.abs().max().item()
    assert (o32.double() - o64).abs().max().item() < 1e-5 * scale


def test_capture_does_not_change_output_and_batch_matches(tiny):
    cfg, w, img = tiny
    model = M3ViT.from_weights(cfg, w)
    out, caps = model(img.pixels, 1, capture=True)
    assert torch.equal(model(img.pixels, 1), out)
    other = load_image(cfg, "coffee").pixels
    batch = torch.as_tensor(np.stack([img.pixels, other]))
    bout, bcaps = model(batch, 1, capture=True)
    assert bout.shape == (2, cfg.model.tokens, cfg.model.dim)
    torch.testing.assert_close(bout[0], out, rtol=1e-5, atol=1e-5)
    assert torch.equal(bcaps["layer1.topk_idx"][0], caps["layer1.topk_idx"])
    torch.testing.assert_close(bout[1], model(other, 1), rtol=1e-5, atol=1e-5)


def test_top_k_ties_go_to_lower_index():
    p = torch.tensor([[0.1, 0.3, 0.3, 0.3], [0.25] * 4, [0.4, 0.1, 0.4, 0.1], [0.1, 0.2, 0.3, 0.4]])
    idx, prob = top_k_lowest_index(p, 2)
    assert idx.tolist() == [[1, 2], [0, 1], [0, 2], [3, 2]]
    assert torch.equal(prob, torch.gather(p, 1, idx))
    # many equal values (where torch.topk's order is unspecified)
    idx, _ = top_k_lowest_index(torch.full((7, 64), 0.5), 5)
    assert (idx == torch.arange(5)).all()


def test_moe_gate_ties_probabilities_not_renormalized(tiny):
    cfg, w, img = tiny
    model = M3ViT.from_weights(cfg, w)
    E, K = cfg.model.experts, cfg.model.top_k
    model.blocks[1].moe.w_gate_T_task0.zero_()  # every logit 0: all experts tie at 1/E
    _, caps = model(img.pixels, 0, capture=True)
    assert (caps["layer1.topk_idx"] == torch.arange(K)).all()
    torch.testing.assert_close(caps["layer1.topk_prob"], torch.full((cfg.model.tokens, K), 1.0 / E))
    # the MLP output is sum_j p_j * expert_j(x) with the raw probabilities (sum K/E, not 1)
    expected = (caps["layer1.topk_prob"].unsqueeze(-1) * caps["layer1.expert_fc2"]).sum(1)
    torch.testing.assert_close(caps["layer1.moe"], expected)
    # with the trained-like gate the kept mass is < 1 as well
    _, caps = M3ViT.from_weights(cfg, w)(img.pixels, 0, capture=True)
    mass = caps["layer1.topk_prob"].sum(-1)
    assert (mass < 1 - 1e-3).all()
    torch.testing.assert_close(caps["layer1.topk_prob"], torch.gather(caps["layer1.gate_probs"], 1, caps["layer1.topk_idx"]))


def test_task_selects_the_gate(tiny):
    cfg, w, img = tiny
    model = M3ViT.from_weights(cfg, w)
    o0, c0 = model(img.pixels, 0, capture=True)
    o1, c1 = model(img.pixels, 1, capture=True)
    assert torch.equal(c0["layer1.ln2"], c1["layer1.ln2"])  # the task only acts at the gate
    assert not torch.equal(c0["layer1.gate_logits"], c1["layer1.gate_logits"])
    model.blocks[1].moe.w_gate_T_task1.copy_(model.blocks[1].moe.w_gate_T_task0)
    assert torch.equal(model(img.pixels, 1), o0)


def test_bad_inputs_are_named(tiny):
    cfg, w, img = tiny
    model = M3ViT.from_weights(cfg, w)
    with pytest.raises(ModelInputError, match=r"image shape \(3, 8, 16\).*\(3, 16, 16\)"):
        model(np.zeros((3, 8, 16)), 0)
    with pytest.raises(ModelInputError, match="task 2.*tasks 0..1"):
        model(img.pixels, 2)
    with pytest.raises(ModelInputError, match="task"):
        model(img.pixels, True)
    bad = seeded_weights(cfg, 0)
    bad.tensors["l0_qkv_weight"] = bad.tensors["l0_qkv_weight"][:-1]
    with pytest.raises(ValueError, match=r"l0_qkv_weight has shape \(95, 32\).*\(96, 32\)"):
        M3ViT.from_weights(cfg, bad)
