"""The C simulation of every kernel of the registry (cosim/registry.py): its registered vector set
(the one `make sim` and `make vitis-csim` use) through its C testbench is bit-exact to python_ref on
every shipped config, and every testbench checks its outputs itself (vendor csim relies on it):
it fails on one wrong expected value and names it, and rejects unusable input with exit status 2."""
import subprocess

import numpy as np
import pytest

from cosim.csim import build_tb, run_kernel, run_tb
from cosim.registry import KERNELS, resolve
from python_ref.config import load_config

pytestmark = pytest.mark.csim
CONFIGS = ["edge_moe", "tiny"]


def min_values(kernel: str, cfg) -> int:
    if kernel == "backbone":  # whole frames: at least one frame's output
        return cfg.model.tokens * cfg.model.dim
    return 100_000 if kernel != "linear" or cfg.name == "edge_moe" else 5_000


# A whole edge_moe frame (backbone) is a make test-full run (about a minute with its build).
REGISTERED = [pytest.param(k, c, marks=pytest.mark.slow) if (k, c) == ("backbone", "edge_moe") else (k, c)
              for c in CONFIGS for k in KERNELS]


@pytest.mark.parametrize("kernel,config", REGISTERED)
def test_registered_vectors_bit_exact(kernel, config, tmp_path):
    cfg = load_config(config)
    vectors, res = run_kernel(kernel, cfg, tmp_path)
    assert res.exact, f"{kernel}/{config}: {res.mismatches} of {vectors.expected.size} values differ\n{res.stderr[-2000:]}"
    assert "0 mismatches" in res.stdout
    assert vectors.expected.size >= min_values(kernel, cfg)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_testbench_detects_a_wrong_output(kernel, tmp_path):
    """One expected value off by one: exit status 1, one mismatch, reported."""
    cfg = load_config("tiny")
    vectors = resolve(KERNELS[kernel].vectors)(cfg)
    vectors.expected = vectors.expected.copy()
    k = vectors.expected.size // 2
    vectors.expected[k] += 1
    res = run_tb(build_tb(kernel, "tiny"), vectors, tmp_path)
    assert res.mismatches == 1 and "1 mismatches" in res.stdout and "mismatch" in res.stderr
    assert np.flatnonzero(res.out != vectors.expected).tolist() == [k]


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_testbench_rejects_unusable_input(kernel, tmp_path):
    exe = build_tb(kernel, "tiny")
    vectors = resolve(KERNELS[kernel].vectors)(load_config("tiny"))
    folder = vectors.write(tmp_path / "v")
    first = next(iter(vectors.inputs))
    (folder / first).write_text("12\nnot-a-number\n")
    res = subprocess.run([str(exe), str(folder)], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "error:" in res.stderr and first in res.stderr, res.stderr
    res = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "usage:" in res.stderr


def test_layernorm_csim_at_the_largest_variance(tmp_path):
    """LayerNorm at its largest dim (256) with eps = 1e-3: the min/max alternating row gives v = D^2 var
    + EPS_V = 2^78 - 2^47 + 2^49.9, past 2^78, so the variance's top bits are used (the shipped dims,
    32 and 192, keep v below 2^76: a variance datapath a few bits short passes on them)."""
    from python_ref.config import parse_config
    from python_ref.kernels.layernorm import eps_v, layernorm_stats_raw
    raw = load_config("tiny").as_dict()
    raw["name"] = "tiny_layernorm_d256"
    raw["model"].update(dim=256, heads=4, layernorm_eps=1e-3)
    cfg = parse_config(raw, "tiny_layernorm_d256.yaml")
    vectors, res = run_kernel("layernorm", cfg, tmp_path)
    assert res.exact, f"{res.mismatches} of {vectors.expected.size} values differ\n{res.stderr[-2000:]}"
    v = layernorm_stats_raw(vectors.inputs["x.txt"].reshape(-1, 256)[:40], cfg)["v"]
    assert max(int(x) for x in v) >= 1 << 78 and eps_v(cfg) > 1 << 49


def test_an_ap_types_misuse_that_returns_the_right_value_fails(tmp_path):
    """exp.h writing its result through y.range(25, 0) of a 25-bit y (one bit past the MSB): the bits
    that land are right, but the ap_types library only prints a warning and carries on (Vitis flags
    it); run_tb fails such a run, naming the library's message."""
    import shutil

    from cosim.csim import CSIM_OPT, CsimError
    from cosim.toolchain import HLS_DIR, compile_cpp, hls_includes
    src = (HLS_DIR / "src" / "exp.h").read_text()
    needle = "y.range(24, 0) = yr(24, 0);"
    assert needle in src, "exp.h's output write moved: update this mutation"
    mutant = tmp_path / "mutant"
    mutant.mkdir()
    (mutant / "exp.h").write_text(src.replace(needle, "y.range(25, 0) = yr(24, 0);"))
    shutil.copy(HLS_DIR / "src" / "exp.cpp", mutant / "exp.cpp")  # includes "exp.h" from its own folder
    exe = compile_cpp([HLS_DIR / "tb" / "exp_tb.cpp", mutant / "exp.cpp"], tmp_path / "exp_tb_mutant",
                      [mutant] + hls_includes("tiny") + [HLS_DIR / "tb"], opt=CSIM_OPT)
    vectors = resolve(KERNELS["exp"].vectors)(load_config("tiny"))
    with pytest.raises(CsimError, match=r"the ap_types library reported \d+ misuse\(s\).*"
                                        r"WARNING: Out of bounds in range\(\)"):
        run_tb(exe, vectors, tmp_path / "run")


def test_exp_csim_every_input_in_minus_one_to_zero_and_the_extremes(tmp_path):
    """Every raw x in (-1, 0] (2^22 inputs on tiny) through the exp C-sim, and the input format's
    extremes (+-2^k +- 64 beyond the x <= -32 cut-off, its smallest and largest values). A rounding
    edge of the polynomial's stages changes an output for only a few hundred inputs of the whole
    domain (q1 rounded at a quarter instead of a half: 267, 164 of them in (-1, 0]), and -x needs all
    W + 1 bits only for |x| >= 2^(W-2): both are missed by the random vectors in (-40, 0]. The RTL's
    every-input sweep is tests/test_exhaustive.py."""
    from cosim import exhaustive as ex
    from cosim.csim import VectorSet, build_tb
    from python_ref.kernels.exp import exp_neg_raw
    cfg = load_config("tiny")
    f = cfg.fmt("act").frac
    first = -(1 << f) + 1  # (-1, 0], swept whole below; the corners outside it (exp's whole input range)
    ends = ex.corner_values(ex.unit("exp", cfg), f + 5, 64, 0, 0, "", (first, 0)).source
    x = np.concatenate([-np.arange(0, 1 << f, dtype=np.int64), ends])
    vectors = VectorSet("exp", {"values": x.size}, {"in.txt": x}, exp_neg_raw(x, f))
    res = run_tb(build_tb("exp", "tiny"), vectors, tmp_path)
    assert res.exact, f"{res.mismatches} of {x.size} values differ\n{res.stderr[-2000:]}"


def test_attention_csim_on_a_tile_with_more_outputs_than_inputs(tmp_path):
    """Attention on a 4-input x 8-output array (the shipped tiles are square, the unusual config's
    8 x 4): the QK^T and AV block counts and the buffer banks for LO > LI, which only a config with
    that shape builds (the static_assert that the array tiles a head must accept it)."""
    from python_ref.config import parse_config
    raw = load_config("tiny").as_dict()
    raw["name"] = "tiny_tile_4x8"
    raw["hardware"]["linear_tile"] = {"in": 4, "out": 8}
    vectors, res = run_kernel("attention", parse_config(raw, "tiny_tile_4x8.yaml"), tmp_path)
    assert res.exact and vectors.expected.size > 0, f"{res.mismatches} mismatches\n{res.stderr[-2000:]}"
