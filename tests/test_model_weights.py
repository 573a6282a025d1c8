"""Weights and input images of the float model: deterministic seeded weights with Edge-MoE's scales,
the Edge-MoE file loader (round trip, every error names the file, expert matrices only replaced on
request), the images, and on the published weights (skipped when the folder is absent) the layer-0
output and the layer-1 gate decisions against an independent numpy float64 computation, pinned."""
import hashlib
import math

import numpy as np
import pytest

import model_numpy_ref as ref
from python_ref.config import load_config, parse_config
from python_ref.model.real_data import missing_reason
from python_ref.model import (M3ViT, ImageError, MissingExpertWeights, WeightsError, default_weights_dir,
                              load_edge_moe_weights, load_image, seeded_weights, tensor_shapes)
from python_ref.model.images import SKIMAGE_PHOTOS
from python_ref.model.weights import (SEED_STATS, SEED_TRUNCATE, expert_matrix_names, save_weights, seeded_tensor,
                                      tensor_kind, weight_stats)


WEIGHTS_DIR = default_weights_dir()


@pytest.fixture(scope="module")
def tiny():
    return load_config("tiny")


# -- seeded weights ------------------------------------------------------------------------------

def test_seeded_weights_are_deterministic(tiny):
    a, b, c = seeded_weights(tiny, 0), seeded_weights(tiny, 0), seeded_weights(tiny, 1)
    assert a.digest() == b.digest() != c.digest()
    for name in a.tensors:
        np.testing.assert_array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name]), name
    # one generator per (seed, name): a tensor does not depend on the others (stand-ins == seeded)
    assert np.array_equal(seeded_tensor("l1_htoh4_weight", tensor_shapes(tiny)["l1_htoh4_weight"], 0),
                          a["l1_htoh4_weight"])
    # pinned: the same values on every machine and torch build (CPU generator)
    assert a.digest() == "c317d52e59c18aba"


def test_seeded_weights_have_the_configured_statistics():
    full = load_config("edge_moe")  # its sizes with 2 layers (one dense, one MoE): same kinds, 1/6 of the time
    cfg = parse_config(dict(full.as_dict(), model=dict(full.as_dict()["model"], layers=2)))
    w = seeded_weights(cfg, 3)
    pooled: dict[str, list] = {}
    for name, arr in w.tensors.items():
        assert arr.dtype == np.float32 and arr.shape == tensor_shapes(cfg)[name]
        pooled.setdefault(tensor_kind(name), []).append(arr.ravel().astype(np.float64))
    assert set(pooled) == set(SEED_STATS)
    for kind, parts in pooled.items():
        x = np.concatenate(parts)
        mean, std = SEED_STATS[kind]
        # 5 sampling standard errors (std of a sample std: std / sqrt(2n)) plus 1 %
        assert abs(x.mean() - mean) < 0.01 * std + 5 * std / math.sqrt(x.size), kind
        assert abs(x.std() - std) < 0.01 * std + 5 * std / math.sqrt(2 * x.size), kind
        assert np.abs(x - mean).max() <= SEED_TRUNCATE * std * (1 + 1e-6), kind


@pytest.mark.published
def test_seed_statistics_are_those_of_the_published_weights():
    measured = weight_stats(WEIGHTS_DIR)
    for kind, (mean, std) in measured.items():
        if kind in SEED_STATS:
            m_, s_ = SEED_STATS[kind]
            assert abs(m_ - mean) < 1e-3 and abs(s_ - std) < 1e-3 * max(1.0, std), (kind, mean, std)


# -- loader ----------------------------------------------------------------------------------------

def test_loader_round_trip(tiny, tmp_path):
    w = seeded_weights(tiny, 5)
    save_weights(w, tmp_path)
    loaded = load_edge_moe_weights(tiny, tmp_path)
    assert loaded.digest() == w.digest() and not loaded.stand_ins and loaded.tag == "published"
    assert list(loaded.tensors) == list(tensor_shapes(tiny))


def test_loader_errors_name_the_file(tiny, tmp_path):
    save_weights(seeded_weights(tiny, 5), tmp_path)
    path = tmp_path / "l0_qkv_weight.float32.bin"
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(WeightsError, match=r"l0_qkv_weight.float32.bin: 12284 bytes.*\(96, 32\) = 3072 float32"):
        load_edge_moe_weights(tiny, tmp_path)
    path.unlink()
    with pytest.raises(WeightsError, match=r"missing file\(s\) l0_qkv_weight.float32.bin"):
        load_edge_moe_weights(tiny, tmp_path)
    with pytest.raises(WeightsError, match="missing file"):  # stand-ins never replace non-expert tensors
        load_edge_moe_weights(tiny, tmp_path, stand_in_experts=True)
    save_weights(seeded_weights(tiny, 5), tmp_path)
    a = np.fromfile(tmp_path / "l1_norm2_bias.float32.bin", "<f4")
    a[3] = np.nan
    a.tofile(tmp_path / "l1_norm2_bias.float32.bin")
    with pytest.raises(WeightsError, match="l1_norm2_bias.float32.bin: 1 non-finite"):
        load_edge_moe_weights(tiny, tmp_path)
    with pytest.raises(WeightsError, match="not found; set EDGE_MOE_WEIGHTS"):
        load_edge_moe_weights(tiny, tmp_path / "nowhere")


def test_loader_rejects_weights_of_another_shape(tiny, tmp_path):
    save_weights(seeded_weights(tiny, 5), tmp_path)
    raw = dict(tiny.as_dict(), model=dict(tiny.as_dict()["model"], dim=64))
    wider = parse_config(raw, buildable=False)  # head_dim 32 is no power of 4: only the shapes matter here
    with pytest.raises(WeightsError, match=r"patch_embed_weight.float32.bin: 6144 bytes, but config 'tiny' expects "
                                           r"patch_embed_weight of shape \(64, 3, 4, 4\)"):
        load_edge_moe_weights(wider, tmp_path)


def test_missing_expert_matrices_need_explicit_stand_ins(tiny, tmp_path):
    save_weights(seeded_weights(tiny, 5), tmp_path)
    experts = expert_matrix_names(tiny)
    assert experts == ["l1_htoh4_weight", "l1_h4toh_weight"]
    for name in experts:
        (tmp_path / f"{name}.float32.bin").unlink()
    with pytest.raises(MissingExpertWeights, match="l1_htoh4_weight.float32.bin, l1_h4toh_weight.float32.bin.*"
                                                   "--stand-in-experts") as info:
        load_edge_moe_weights(tiny, tmp_path)
    assert info.value.missing == [f"{n}.float32.bin" for n in experts]
    w = load_edge_moe_weights(tiny, tmp_path, stand_in_experts=True, seed=7)
    assert w.stand_ins == experts and w.tag == "published_standin7" and "stand-ins" in w.describe()
    seeded = seeded_weights(tiny, 7)
    for name in experts:
        np.testing.assert_array_equal(w[name], seeded[name])
    np.testing.assert_array_equal(w["l0_qkv_weight"], seeded_weights(tiny, 5)["l0_qkv_weight"])


# -- images ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SKIMAGE_PHOTOS)
def test_skimage_photos_are_quantized_pixels(tiny, name):
    img = load_image(tiny, name)
    m, fmt = tiny.model, tiny.fmt("pixel")
    assert img.pixels.shape == (m.channels, m.height, m.width)
    assert img.pixels.min() >= 0 and img.pixels.max() <= fmt.max
    np.testing.assert_array_equal(img.pixels * 256, img.raw)  # multiples of 1/256
    assert img.raw.std() > 10  # a real picture, not a flat field
    np.testing.assert_array_equal(load_image(tiny, name).raw, img.raw)
    assert name in img.source


def test_image_errors(tiny):
    with pytest.raises(ImageError, match="unknown image 'lena'; available: chelsea"):
        load_image(tiny, "lena")


@pytest.mark.published
def test_edge_moe_frame(tiny):
    cfg = load_config("edge_moe")
    img = load_image(cfg, "edge_moe")
    raw = np.fromfile(WEIGHTS_DIR / "image.float32.bin", "<f4").reshape(3, 128, 256)
    np.testing.assert_array_equal(img.pixels, raw)
    with pytest.raises(ImageError, match="expects an image of shape \\(3, 16, 16\\)"):
        load_image(tiny, "edge_moe")


# -- the published weights -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def published():
    if missing_reason() is not None:
        pytest.skip(missing_reason())
    cfg = load_config("edge_moe")
    w = load_edge_moe_weights(cfg, WEIGHTS_DIR, stand_in_experts=True, seed=0)
    img = load_image(cfg, "edge_moe", WEIGHTS_DIR)
    model = M3ViT.from_weights(cfg, w)
    runs = {task: model(img.pixels, task, capture=True)[1] for task in range(cfg.model.tasks)}
    _, x = ref.embed(cfg, w.tensors, img.pixels)
    r0 = ref.block(cfg, w.tensors, 0, x, 0)
    r1 = ref.attention_half(cfg, w.tensors, 1, r0["out"])
    return cfg, w, img, model, runs, r0, r1


@pytest.mark.published
def test_published_weights_lack_only_the_expert_matrices():
    cfg = load_config("edge_moe")
    with pytest.raises(MissingExpertWeights) as info:
        load_edge_moe_weights(cfg, WEIGHTS_DIR)
    assert info.value.missing == [f"{n}.float32.bin" for n in expert_matrix_names(cfg)]
    assert len(info.value.missing) == 12


def test_published_patch_filters_are_smooth_in_the_assumed_layout(published):
    # The files have no header: this checks the layout reading (C order, (D, C, P, P)) on the data.
    # Trained patch filters vary smoothly across neighbouring pixels and colour channels; a wrong
    # axis order scrambles them (correlation 0.60 vs <= 0.13 on the published file).
    a = np.fromfile(WEIGHTS_DIR / "patch_embed_weight.float32.bin", "<f4")

    def neighbour_corr(w):  # (D, C, P, P): horizontal neighbours
        return np.corrcoef(w[..., 1:].ravel(), w[..., :-1].ravel())[0, 1]

    good = published[1]["patch_embed_weight"]  # as the loader reads it
    assert neighbour_corr(good) > 0.4 and neighbour_corr(good.transpose(0, 1, 3, 2)) > 0.4
    assert np.corrcoef(good[:, 0].ravel(), good[:, 1].ravel())[0, 1] > 0.4
    assert neighbour_corr(a.reshape(192, 16, 16, 3).transpose(0, 3, 1, 2)) < 0.2
    assert neighbour_corr(a.reshape(16, 16, 3, 192).transpose(3, 2, 0, 1)) < 0.2


def test_layer0_output_on_published_weights(published):
    cfg, w, img, model, runs, r0, _ = published
    out = runs[0]["layer0.out"].numpy()
    assert np.abs(out - r0["out"]).max() < 1e-5 * np.abs(r0["out"]).max() * 10
    np.testing.assert_array_equal(out, runs[1]["layer0.out"].numpy())  # the task acts at the gates only
    # reproducible: a second run is bit-identical; pinned values (numpy float64) fix the loader's
    # layout (Q|K|V rows, nn.Linear orientation, raster patch order, pos_embed row 0 = CLS)
    np.testing.assert_array_equal(model(img.pixels, 0, capture=True)[1]["layer0.out"].numpy(), out)
    np.testing.assert_allclose(r0["out"][0, :4], [0.38718625914, 0.01015512612, 0.31454648145, 0.42418520549],
                               atol=1e-9)
    np.testing.assert_allclose(r0["out"][64, 100:103], [-0.26852012593, -0.07551710923, 0.56522331969], atol=1e-9)
    np.testing.assert_allclose(r0["out"].sum(), 1789.69977857, atol=1e-6)
    np.testing.assert_allclose(out[0, :4], r0["out"][0, :4], atol=1e-4)


@pytest.mark.parametrize("task, pinned", [(0, "650fd85b11619247"), (1, "661ab6654b2ee6c1")])
def test_layer1_gate_decisions_on_published_weights(published, task, pinned):
    cfg, w, img, model, runs, _, r1 = published
    logits, probs, idx = ref.gate(cfg, w.tensors, 1, r1["ln2"], task)
    got = runs[task]["layer1.topk_idx"].numpy()
    np.testing.assert_array_equal(got, idx)
    assert hashlib.sha256(idx.astype("<i8").tobytes()).hexdigest()[:16] == pinned
    # stable: the k-th and (k+1)-th probabilities of every token are far apart compared with the
    # float32 model's probability error, so rounding cannot flip a decision
    k = cfg.model.top_k
    s = -np.sort(-probs, axis=1)
    gap = (s[:, k - 1] - s[:, k]).min()
    err = np.abs(runs[task]["layer1.gate_probs"].numpy() - probs).max()
    assert gap > 20 * err, (gap, err)
    # the layer-1 gate reads the model's own ln2 (task-independent), no bias, raw probabilities kept
    np.testing.assert_allclose(runs[task]["layer1.gate_logits"].numpy(), logits, atol=1e-4)
    np.testing.assert_allclose(runs[task]["layer1.topk_prob"].numpy(), np.take_along_axis(probs, idx, 1), atol=1e-5)
