"""C simulation of hls/src/gelu.cpp (g++ + ap_fixed headers) is bit-exact to python_ref."""
import subprocess

import numpy as np
import pytest

from cosim.csim import build_tb, run_gelu, write_ints
from python_ref.config import load_config
from python_ref.kernels.gelu import gelu_raw
from cosim.vectors import gelu_directed, gelu_realistic, random_full

pytestmark = pytest.mark.csim
CONFIGS = ["edge_moe", "tiny"]


@pytest.mark.parametrize("name", CONFIGS)
def test_csim_bit_exact(name, tmp_path):
    cfg = load_config(name)
    sets = {"directed": gelu_directed(cfg), "random_full": random_full(cfg, 100_000, 11),
            "random_realistic": gelu_realistic(cfg, 100_000, 12)}
    x = np.concatenate(list(sets.values()))
    got = run_gelu(x, name, tmp_path)
    want = gelu_raw(x, cfg)
    assert got.shape == want.shape
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} of {x.size} differ; first x={x[bad[:5]]} got={got[bad[:5]]} want={want[bad[:5]]}"
    assert x.size > 200_000


def test_csim_testbench_detects_mismatch(tmp_path):
    """gelu_tb's own compare mode fails on a wrong expectation (what vendor csim relies on)."""
    cfg = load_config("tiny")
    exe = build_tb("gelu", "tiny")
    x = gelu_directed(cfg)
    want = gelu_raw(x, cfg)
    write_ints(tmp_path / "in.txt", x)
    write_ints(tmp_path / "good.txt", want)
    want[7] += 1
    write_ints(tmp_path / "bad.txt", want)
    ok = subprocess.run([str(exe), "in.txt", "out.txt", "good.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([str(exe), "in.txt", "out.txt", "bad.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1 and "1 mismatches" in bad.stdout and "mismatch at 7" in bad.stderr


def test_csim_testbench_rejects_unreadable_input(tmp_path):
    exe = build_tb("gelu", "tiny")
    (tmp_path / "in.txt").write_text("12\nnot-a-number\n")
    res = subprocess.run([str(exe), "in.txt", "out.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "cannot read integers" in res.stderr
