"""backbone_top (hls/src/backbone.cpp), the whole frame as one HLS top, in C simulation against the
fixed-point network model (python_ref/model/fixed_model.py: FixedM3ViT), bit for bit: tiny.yaml frames
with seeded weights for both tasks, two frames in one call, and the output after every block count
(0 = the patch embedding, against the model's capture); a one-LSB change of the packed weight image
and a layout that disagrees with backbone.h must fail; the packer rejects what the top cannot
compute. make test-full adds edge_moe.yaml frames on the published weights (seeded weights when
they are absent), both tasks."""
from __future__ import annotations

import numpy as np
import pytest

from cosim.backbone_vectors import (BackboneError, backbone_csim, pack_image, pack_weights, unpack_output,
                                    weight_layout)
from cosim.csim import build_tb, run_tb
from python_ref.kernels.backbone import backbone_raw
from python_ref.config import load_config, parse_config
from python_ref.model import load_image, seeded_weights
from python_ref.model.fixed_model import FixedM3ViT, quantize_weights
from python_ref.model.real_data import missing_reason

pytestmark = pytest.mark.csim
TINY = load_config("tiny")


@pytest.fixture(scope="module")
def tiny():
    fw = quantize_weights(TINY, seeded_weights(TINY, 0))
    images = [load_image(TINY, name).raw for name in ("chelsea", "coffee")]
    return fw, images, build_tb("backbone", "tiny")


def frames_of(cfg, out, cases):
    """The testbench's outputs as (task, layers, frame index, (T, D) array), frames in case order."""
    per = cfg.model.tokens * cfg.model.dim
    res, k = [], 0
    for task, layers, n in cases:
        for _ in range(n):
            res.append((task, layers, k, out[k * per:(k + 1) * per].reshape(cfg.model.tokens, cfg.model.dim)))
            k += 1
    assert k * per == out.size
    return res


def test_tiny_frames_equal_the_fixed_model(tiny, tmp_path):
    fw, images, exe = tiny
    vectors = backbone_csim(TINY, fw, images)
    cases = vectors.notes["cases"]
    assert {t for t, _, _ in cases} == {0, 1} and {L for _, L, _ in cases} == set(range(TINY.model.layers + 1))
    res = run_tb(exe, vectors, tmp_path)
    assert res.exact, f"{res.mismatches} of {vectors.expected.size} values differ\n{res.stderr[-2000:]}"
    # Against FixedM3ViT itself (its output, or its capture after `layers` blocks), not only the
    # vector set's expectation.
    model = FixedM3ViT(TINY, fw)
    outs = {}
    for task, layers, k, got in frames_of(TINY, res.out, cases):
        if layers == TINY.model.layers:
            want = model(images[k % 2], task).out
            outs[(task, k % 2)] = got
        else:
            cap = model(images[k % 2], task, capture=True)
            want = cap.raw["embed" if layers == 0 else f"layer{layers - 1}.out"]
        assert np.array_equal(got, want), f"task {task}, layers {layers}, frame {k}"
    # the task selects the gate: the same image gives another output under the other task
    assert not np.array_equal(outs[(0, 0)], outs[(1, 0)])


@pytest.mark.parametrize("part", ["layer0 qkv_w", "layer1 proj_b", "pos"])
def test_one_lsb_in_the_weight_image_fails(tiny, tmp_path, part):
    fw, images, exe = tiny
    vectors = backbone_csim(TINY, fw, images, cases=[(0, TINY.model.layers, 1)])
    lay = weight_layout(TINY)
    words = vectors.inputs["weights.txt"].split()
    name = part.split()[-1]
    at = lay[name] if name == "pos" else lay[part.split()[0]] + lay[name]
    words[at + 1] = f"{int(words[at + 1], 16) ^ 1:x}"
    vectors.inputs["weights.txt"] = "\n".join(words) + "\n"
    res = run_tb(exe, vectors, tmp_path)
    assert res.mismatches > 0 and "mismatch frame value" in res.stderr


def test_layout_disagreement_is_reported(tiny, tmp_path):
    import subprocess

    fw, images, exe = tiny
    vectors = backbone_csim(TINY, fw, images, cases=[(0, 0, 1)])
    vectors.inputs["layout.txt"] = vectors.inputs["layout.txt"].replace("\nproj_b ", "\nproj_b 1")
    folder = vectors.write(tmp_path / "v")
    res = subprocess.run([str(exe), str(folder)], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "layout.txt: proj_b" in res.stderr, res.stderr


def test_packer_layout_and_errors():
    fw = quantize_weights(TINY, seeded_weights(TINY, 0))
    lay = weight_layout(TINY)
    words = pack_weights(TINY, fw)
    assert len(words) == lay["total_words"] == lay[f"layer{TINY.model.layers}"]
    # the words hold what the layout says: block 1's gate rows, the pos rows, an expert's bias
    from python_ref.kernels.linear import unpack_words
    m, axi = TINY.model, TINY.hardware.axi_width
    gate = unpack_words(words[lay["layer1"] + lay["gate"]:], TINY.fmt("gate_weight"), axi, m.dim,
                        rows=m.tasks * m.experts)
    assert np.array_equal(gate.reshape(m.tasks, m.experts, m.dim), fw.layers[1].moe.w_gate)
    assert np.array_equal(unpack_output(TINY, words[lay["pos"]:lay["layer0"]]), fw.pos)
    e = m.experts - 1
    b2 = unpack_words(words[lay["layer1"] + lay["experts"] + e * lay["expert_words"] + lay["expert_b2"]:],
                      TINY.fmt("bias"), axi, m.dim)
    assert np.array_equal(b2[0], fw.layers[1].moe.b2[e])
    with pytest.raises(BackboneError, match="image shape"):
        pack_image(TINY, np.zeros((3, 8, 8), dtype=np.int64))
    raw = TINY.as_dict()
    raw["numerics"]["linear_sum"] = "per_product"
    pp = parse_config(raw, "tiny.yaml (variant)", buildable=False)
    with pytest.raises(BackboneError, match="linear_sum"):
        pack_weights(pp, quantize_weights(pp, seeded_weights(pp, 0)))
    with pytest.raises(BackboneError, match="another config"):
        pack_weights(load_config("edge_moe"), fw)
    with pytest.raises(BackboneError, match="blocks 0..2"):
        backbone_raw(load_image(TINY, "chelsea").raw, fw, 0, TINY, layers=3)


# ---------------------------------------------------------------------------------------------
# edge_moe.yaml: a whole frame per task (make test-full), published weights when present


@pytest.mark.slow
def test_edge_moe_frames_equal_the_fixed_model(tmp_path):
    cfg = load_config("edge_moe")
    reason = missing_reason(cfg)
    if reason is None:
        from python_ref.model.real_data import published_weights
        weights, image = published_weights(), load_image(cfg, "edge_moe").raw
    else:  # still a whole edge_moe frame, on seeded weights
        print(f"edge_moe backbone frames on seeded weights: {reason}")
        weights, image = seeded_weights(cfg, 0), load_image(cfg, "chelsea").raw
    fw = quantize_weights(cfg, weights)
    vectors = backbone_csim(cfg, fw, [image], cases=[(task, cfg.model.layers, 1) for task in range(cfg.model.tasks)])
    res = run_tb(build_tb("backbone", "edge_moe"), vectors, tmp_path)
    assert res.exact, f"{res.mismatches} of {vectors.expected.size} values differ\n{res.stderr[-2000:]}"
    frames = frames_of(cfg, res.out, vectors.notes["cases"])
    assert np.array_equal(frames[0][3], FixedM3ViT(cfg, fw)(image, 0).out)
    assert not np.array_equal(frames[0][3], frames[1][3])
