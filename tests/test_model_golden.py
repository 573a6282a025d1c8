"""Versioned golden vectors (python_ref/model/golden.py, scripts/golden.py): round trip, metadata, and
the reader refusing mismatched files with a message naming the file and the field."""
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from python_ref.config import REPO_ROOT, load_config, parse_config
from python_ref.model import (FORMAT_VERSION, M3ViT, GoldenError, capture_shapes, load_image,
                              read_golden, seeded_weights)
from python_ref.model.golden import generate

SCRIPT = REPO_ROOT / "scripts" / "golden.py"


@pytest.fixture(scope="module")
def tiny_golden(tmp_path_factory):
    cfg = load_config("tiny")
    w = seeded_weights(cfg, 0)
    img = load_image(cfg, "chelsea")
    model = M3ViT.from_weights(cfg, w)
    path = generate(model, w, img, 1, tmp_path_factory.mktemp("golden"))
    return cfg, w, img, model, path


def _rewrite(src: Path, dst: Path, meta_update=None, drop=None) -> Path:
    with np.load(src) as z:
        data = {k: z[k] for k in z.files}
    meta = json.loads(str(data["meta"]))
    meta.update(meta_update or {})
    data["meta"] = np.array(json.dumps(meta))
    if drop:
        del data[drop]
    np.savez(dst, **data)
    return dst


def test_round_trip_and_metadata(tiny_golden):
    cfg, w, img, model, path = tiny_golden
    assert path.name == "chelsea_task1_seed0.npz" and path.parent.name == "tiny"
    g = read_golden(path, cfg, task=1, seed=0, image="chelsea", weights_digest=w.digest())
    m = g.meta
    assert m["format_version"] == FORMAT_VERSION and m["config_digest"] == cfg.digest
    assert m["torch_version"] == torch.__version__ and m["numpy_version"] == np.__version__
    assert m["torch_threads"] == 1
    assert "skimage.data.chelsea" in m["image_source"] and m["weights_source"].startswith("seeded (seed 0")
    assert m["stand_in_experts"] == [] and m["dtype"] == "float32" and m["created"].endswith("+00:00")
    out, caps = model(img.pixels, 1, capture=True)
    np.testing.assert_array_equal(g.input, img.pixels.astype(np.float32))
    np.testing.assert_array_equal(g.output, out.numpy())
    assert list(g.tensors) == list(capture_shapes(cfg))
    for name, t in caps.items():
        np.testing.assert_array_equal(g[name], t.numpy(), err_msg=name)
    assert g["layer1.topk_idx"].dtype == np.int64


def test_reader_refuses_mismatches(tiny_golden, tmp_path):
    cfg, w, img, model, path = tiny_golden
    other = parse_config(dict(cfg.as_dict(), model=dict(cfg.as_dict()["model"], layernorm_eps=1e-5)))
    with pytest.raises(GoldenError, match=rf"{path.name}: config_digest is '{cfg.digest}'.*another configuration"):
        read_golden(path, other)
    with pytest.raises(GoldenError, match=rf"{path.name}: task is 1 but 0 was expected"):
        read_golden(path, cfg, task=0)
    with pytest.raises(GoldenError, match="weights_digest"):
        read_golden(path, cfg, weights_digest=seeded_weights(cfg, 1).digest())
    old = _rewrite(path, tmp_path / "old.npz", {"format_version": FORMAT_VERSION - 1})
    with pytest.raises(GoldenError, match=rf"old.npz: format_version is {FORMAT_VERSION - 1} but {FORMAT_VERSION}"):
        read_golden(old)
    shapes = {n: list(s) for n, s in capture_shapes(cfg).items()}
    shapes["layer0.qkv"] = [17, 95]
    bad = _rewrite(path, tmp_path / "shape.npz", {"tensors": shapes})
    with pytest.raises(GoldenError, match=r"shape.npz: shape of layer0.qkv is \(17, 95\) but \(17, 96\)"):
        read_golden(bad, cfg)
    with pytest.raises(GoldenError, match=r"stored shape of layer0.qkv"):
        read_golden(bad)  # without a config: the stored array disagrees with the metadata
    gone = _rewrite(path, tmp_path / "gone.npz", drop="t/layer1.moe")
    with pytest.raises(GoldenError, match=r"gone.npz: tensor 'layer1.moe' listed in the metadata is missing"):
        read_golden(gone)
    nometa = _rewrite(path, tmp_path / "nometa.npz", drop="meta")
    with pytest.raises(GoldenError, match="no metadata"):
        read_golden(nometa)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(GoldenError, match="junk.npz: not a readable golden"):
        read_golden(junk)
    with pytest.raises(GoldenError, match="not found; create it with `make golden`"):
        read_golden(tmp_path / "absent.npz")
    assert zipfile.is_zipfile(path)


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=300)


def _main(monkeypatch, *args) -> int:
    """scripts/golden.py's main() in this process (no second torch import)."""
    spec = importlib.util.spec_from_file_location("golden_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
    return mod.main()


def test_make_golden_script_on_tiny(tmp_path):
    r = _run("--config", "configs/tiny.yaml", "--weights", "seeded", "--seed", "3", "--task", "0",
             "--image", "coffee,astronaut", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    cfg = load_config("tiny")
    for image in ("coffee", "astronaut"):
        g = read_golden(tmp_path / "tiny" / f"{image}_task0_seed3.npz", cfg, task=0, seed=3, image=image,
                        weights_digest=seeded_weights(cfg, 3).digest())
        ref = M3ViT.from_weights(cfg, seeded_weights(cfg, 3))(load_image(cfg, image).pixels, 0)
        np.testing.assert_array_equal(g.output, ref.numpy())


def test_script_errors_are_one_line(tmp_path, monkeypatch, capsys):
    assert _main(monkeypatch, "--config", "tiny", "--image", "lena", "--out", str(tmp_path)) == 2
    assert "error: unknown image 'lena'" in capsys.readouterr().err
    assert _main(monkeypatch, "--config", "tiny", "--task", "2", "--out", str(tmp_path)) == 2
    assert "error: --task 2: config 'tiny' has tasks 0..1" in capsys.readouterr().err
    assert _main(monkeypatch, "--config", "nope", "--out", str(tmp_path)) == 2
    assert "error: config file 'nope' not found" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.published
def test_script_requires_explicit_stand_in_experts(tmp_path, monkeypatch, capsys):
    assert _main(monkeypatch, "--config", "edge_moe", "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "l1_htoh4_weight.float32.bin" in err and "l11_h4toh_weight.float32.bin" in err
    assert "--stand-in-experts" in err
    assert not any(tmp_path.iterdir())
