"""LayerNorm (python_ref/kernels/layernorm.py): exact statistics, zero/tiny variance behaviour,
accuracy against float64 (torch), and bit-exactness of the C simulation of hls/src/layernorm.h."""
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from cosim.csim import VectorSet, build_tb, run_tb
from cosim.vectors import layernorm_adversarial, layernorm_params, layernorm_random, real_layernorm_rows
from python_ref.config import REPO_ROOT, load_config
from python_ref.fixed import FixedPointError
from python_ref.kernels.layernorm import eps_v, layernorm_raw

TARGET = 2.0 ** -12  # issue 3 design target, relative to the row's scale (max |y| of the row)
CONFIGS = ["edge_moe", "tiny"]


def _rel_err(cfg, x, g, b):
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    y = act.to_float(layernorm_raw(x, g, b, cfg))
    ref = torch.nn.functional.layer_norm(torch.tensor(act.to_float(x)), (x.shape[1],),
                                         torch.tensor(pf.to_float(g)), torch.tensor(pf.to_float(b)),
                                         eps=cfg.model.layernorm_eps).numpy()
    scale = np.abs(ref).max(axis=1)
    return float((np.abs(y - ref).max(axis=1) / scale).max())


@pytest.mark.parametrize("name", CONFIGS)
def test_identical_values_give_beta_exactly(name):
    """Zero variance: c = 0, so y = beta exactly, for any value including the extremes."""
    cfg = load_config(name)
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    g, b = layernorm_params(cfg, 71)
    vals = [0, 1, -1, act.raw_min, act.raw_max, int(act.from_float(3.5)), int(act.from_float(-100.25))]
    x = np.repeat(np.array(vals, dtype=np.int64)[:, None], cfg.model.dim, axis=1)
    y = layernorm_raw(x, g, b, cfg)
    assert np.all(y == b[None, :] << (act.frac - pf.frac))


@pytest.mark.parametrize("name", CONFIGS)
def test_tiny_variance_is_bounded_and_accurate(name):
    """var far below eps (one LSB off, 1e-8, 2^-20 where Edge-MoE's 1/sigma wraps): no wrap, no blow-up:
    |z| <= sqrt(D) and the float64 error target holds."""
    cfg = load_config(name)
    act = cfg.fmt("act")
    g, b = layernorm_params(cfg, 72)
    adv = layernorm_adversarial(cfg)
    for key in ("one LSB off (var ~ 2^-44)", "var 1e-8 (< eps)", "var 2^-20 (Edge-MoE wraps)", "var 1e-6 (= eps)",
                "offset 100 + 1 LSB noise"):
        x = adv[key]
        y, st = layernorm_raw(x, g, np.zeros_like(b), cfg, return_stats=True)
        z_bound = math.sqrt(cfg.model.dim) * np.abs(cfg.fmt("norm_param").to_float(g)).max()
        assert np.abs(act.to_float(y)).max() <= z_bound + 1e-6, key
        assert _rel_err(cfg, x, g, b) <= TARGET, key


@pytest.mark.parametrize("name", CONFIGS)
def test_statistics_are_exact(name):
    """v = D^2 (var + eps) in 2^-2F units exactly (integers), and the normalised root/reciprocal ranges."""
    cfg = load_config(name)
    act = cfg.fmt("act")
    d = cfg.model.dim
    x = np.concatenate([layernorm_random(cfg, 40, 73)] + list(layernorm_adversarial(cfg).values()))
    _, st = layernorm_raw(x, *layernorm_params(cfg, 74), cfg, return_stats=True)
    for i, row in enumerate(x.tolist()):
        mean = Fraction(sum(row), d)
        var = sum((Fraction(v) - mean) ** 2 for v in row) / d
        assert st["v"][i] == d * d * var + eps_v(cfg)
        k = int(st["k"][i])
        vn = st["v"][i] >> 2 * k if k >= 0 else st["v"][i] << -2 * k
        assert 1 << 58 <= vn < 1 << 60 and st["sigma"][i] == math.isqrt(vn)
        assert (1 << 29) < st["r"][i] <= (1 << 30)
    eps = Fraction(cfg.model.layernorm_eps) * d * d * Fraction(2) ** (2 * act.frac)
    assert abs(eps_v(cfg) - eps) <= Fraction(1, 2)


def test_eps_constant_is_generated():
    for name in CONFIGS:
        cfg = load_config(name)
        h = (REPO_ROOT / "hls" / "generated" / name / "model_config.h").read_text()
        sv = (REPO_ROOT / "rtl" / "generated" / name / "model_pkg.sv").read_text()
        assert f"constexpr long long LAYERNORM_EPS_V = {eps_v(cfg)}LL;" in h
        assert "eps_v = LAYERNORM_EPS_V;" in h
        assert f"localparam longint LAYERNORM_EPS_V = 64'sd{eps_v(cfg)};" in sv


@pytest.mark.parametrize("name", CONFIGS)
def test_random_and_adversarial_rows_meet_target(name):
    cfg = load_config(name)
    g, b = layernorm_params(cfg, 75)
    x = np.concatenate([layernorm_random(cfg, 600, 76)] + list(layernorm_adversarial(cfg).values()))
    assert _rel_err(cfg, x, g, b) <= TARGET


@pytest.mark.published
def test_real_layer_inputs_meet_target():
    cfg = load_config("edge_moe")
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    for name, x, g, b in real_layernorm_rows():
        assert _rel_err(cfg, act.from_float(x), pf.from_float(g), pf.from_float(b)) <= TARGET, name


def test_rejects_bad_input():
    cfg = load_config("tiny")
    g, b = layernorm_params(cfg, 77)
    with pytest.raises(FixedPointError, match="model.dim"):
        layernorm_raw(np.zeros((2, 31), dtype=np.int64), g[:31], b[:31], cfg)
    with pytest.raises(FixedPointError, match="gamma/beta"):
        layernorm_raw(np.zeros((2, 32), dtype=np.int64), g[:31], b[:31], cfg)
    with pytest.raises(FixedPointError, match="outside"):
        layernorm_raw(np.full((1, 32), 1 << 40), g, b, cfg)


def _csim_check(cfg, exe, xs, g, b, folder) -> int:
    want = layernorm_raw(xs, g, b, cfg)
    vectors = VectorSet("layernorm", {"rows": len(xs)}, {"x.txt": xs, "gamma.txt": g, "beta.txt": b}, want)
    got = run_tb(exe, vectors, folder).out.reshape(xs.shape)
    bad = np.argwhere(got != want)
    assert bad.size == 0, f"{len(bad)} outputs differ, first at (row, feature) {tuple(bad[0])}"
    return xs.size


@pytest.mark.csim
@pytest.mark.parametrize("name", CONFIGS)
def test_csim_bit_exact(name, tmp_path):
    """layernorm_top (C++) equals python_ref on the adversarial rows and random rows of every scale
    (>= 100k values)."""
    cfg = load_config(name)
    d = cfg.model.dim
    x = np.concatenate(list(layernorm_adversarial(cfg).values()) + [layernorm_random(cfg, 100_000 // d + 1, 78)])
    assert _csim_check(cfg, build_tb("layernorm", name), x, *layernorm_params(cfg, 79), tmp_path) >= 100_000


@pytest.mark.csim
@pytest.mark.published
def test_csim_real_rows(tmp_path):
    """The LayerNorm inputs of layers 0 and 1 on the published weights, with their gamma/beta."""
    cfg = load_config("edge_moe")
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    exe = build_tb("layernorm", "edge_moe")
    count = sum(_csim_check(cfg, exe, act.from_float(xr), pf.from_float(g), pf.from_float(b), tmp_path / str(i))
                for i, (_, xr, g, b) in enumerate(real_layernorm_rows()))
    assert count == 4 * 129 * 192


def _fake_cfg(eps=1.0, dim=2, act_frac=0, param_frac=0):
    """Only the fields eps_v and the config check read, for values no shipped config has."""
    from types import SimpleNamespace
    fracs = {"act": act_frac, "norm_param": param_frac}
    return SimpleNamespace(model=SimpleNamespace(layernorm_eps=eps, dim=dim),
                           fmt=lambda name: SimpleNamespace(frac=fracs[name], c_type=f"<{name}>"))


def test_eps_v_rounds_to_nearest_ties_up():
    """EPS_V = round(eps D^2 2^(2F)) ties up, on values whose fraction is below, at and above 1/2
    (the shipped eps gives one value, so a rounding slip there need not show)."""
    for eps, want in [(0.25, 0), (0.4, 0), (0.5, 1), (0.6, 1), (1.4, 1), (1.5, 2), (2.75, 3)]:
        assert eps_v(_fake_cfg(eps=eps, dim=1)) == want, eps
    assert eps_v(_fake_cfg(eps=0.375, dim=2, act_frac=1)) == 6   # 0.375 * 4 * 4 = 6 exactly


def test_config_check_edges():
    """The smallest dimension (2), the fewest norm_param fraction bits that still round the output
    (Z_FRAC + param - act = 1) and the smallest eps that does not round to 0 pass; one step past
    each raises."""
    from python_ref.kernels.layernorm import MAX_DIM, Z_FRAC, _check_cfg
    _check_cfg(_fake_cfg(dim=2), 2)
    _check_cfg(_fake_cfg(dim=MAX_DIM), MAX_DIM)
    _check_cfg(_fake_cfg(act_frac=Z_FRAC - 1), 2)                             # Z_FRAC + 0 - act = 1
    _check_cfg(_fake_cfg(act_frac=Z_FRAC + 1, param_frac=2), 2)               # Z_FRAC + 2 - act = 1
    _check_cfg(_fake_cfg(eps=0.125, dim=2), 2)                                # 0.125 * 4 = 0.5 -> 1
    for cfg, d, msg in [(_fake_cfg(dim=1), 1, "outside"), (_fake_cfg(dim=MAX_DIM + 1), MAX_DIM + 1, "outside"),
                        (_fake_cfg(act_frac=Z_FRAC), 2, "too few fraction bits"),
                        (_fake_cfg(eps=0.1, dim=2), 2, "rounds to 0")]:
        with pytest.raises(FixedPointError, match=msg):
            _check_cfg(cfg, d)
