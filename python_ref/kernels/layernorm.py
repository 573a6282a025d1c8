"""LayerNorm over the feature dimension: the numerical specification of hls/src/layernorm.h.

y_i = (x_i - mean) / sqrt(var + eps) * gamma_i + beta_i, var the biased variance (PyTorch's
LayerNorm). x and y are activations (ap_fixed<32,10>: F = 22 fraction bits), gamma and beta the
norm_param format (ap_fixed<16,5>: G = 11 fraction bits), D = model.dim <= 256 features.

The unit never divides by D and never rounds the mean or the variance. With x_raw the raw
integers (x = x_raw * 2^-F), exactly:

    S1 = sum x_raw,  S2 = sum x_raw^2                  (one pass; |S1| < 2^39, S2 < 2^70)
    c_i = D * x_raw_i - S1                             (= D^2 (x_i - mean) in 2^-F units, < 2^41)
    v = D * S2 - S1^2 + EPS_V                          (= D^2 (var + eps) in 2^-2F units, >= 1)
    z_i = (x_i - mean) / sqrt(var + eps) = c_i / sqrt(v)

``EPS_V = round(eps * D^2 * 2^(2F))`` (exact rational rounding, ties up, of the float64 eps;
1e-6 -> 648518346341 for D = 192). D*S2 - S1^2 = D^2 * sum (x_i - mean)^2 / D >= 0 exactly, so
the one-pass formula has no cancellation error at all.

1/sqrt(v) by a square root and a reciprocal of our own (both exact integer recurrences):

1. normalise: ``L = bit_length(v)``, ``k = ceil((L - 60) / 2)`` (may be negative),
   ``v_n = v >> 2k`` (``v << -2k`` when k < 0), so 2^58 <= v_n < 2^60 (truncation: relative error
   < 2^-58);
2. ``sigma = isqrt(v_n)`` = floor(sqrt(v_n)), 2^29 <= sigma < 2^30: restoring square root, 30
   steps of one result bit (sqrt(v) = sigma * 2^k up to < 2^-29 relative);
3. ``r = reciprocal(sigma)`` = round(2^59 / sigma) ties up, 2^29 < r <= 2^30 (reciprocal unit,
   frac_in 0, frac_out 59, 31 bits: relative error <= 2^-30).

Then per feature (roundings half up, ``round(v / 2^s) = (v + 2^(s-1)) >> s``):

4. ``a_i = round(c_i / 2^(k + 4))`` (``c_i << -(k+4)`` when k + 4 <= 0): |a_i| <= 2^30 because
   |c_i| <= sqrt(D) * sqrt(v) < 2^(34 + k) for D <= 256 (|z| <= sqrt(D) <= 16);
5. ``z_i = round(a_i * r / 2^31)``: z with Z = 24 fraction bits (|a*r| <= 2^60, |z_raw| <= 2^28);
6. ``y_i = sat(round((z_i * gamma_i + beta_i * 2^Z) / 2^(Z + G - F)))``: z*gamma is exact
   (35 fraction bits), beta is aligned exactly, one rounding to F = 22 fraction bits, then
   saturation to the activation range (|y| <= 16 * |gamma| + |beta| < 272 cannot overflow with
   the shipped formats; the saturation only makes other formats safe).

Zero variance (rows of identical values): c_i = 0 for every i, so z = 0 and y_i = beta_i
exactly; v = EPS_V >= 1 so the square root and reciprocal see a positive, normalised input.
Tiny variance: v >= EPS_V keeps 1/sqrt bounded by 1/sqrt(eps); nothing wraps or divides by zero.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..config import Config, ConfigError
from ..fixed import FixedPointError
from ..hwconfig import KernelHwConfig, constant_list
from .exp import round_shift
from .reciprocal import reciprocal_raw

MAX_DIM = 256  # |z| <= sqrt(D) <= 16 sizes a and z
V_BITS = 60  # normalised v_n in [2^58, 2^60)
SIGMA_BITS = V_BITS // 2  # isqrt(v_n) in [2^29, 2^30)
RECIP_FRAC = 2 * SIGMA_BITS - 1  # r = round(2^59 / sigma) in (2^29, 2^30]
RECIP_WIDTH = SIGMA_BITS + 1
A_EXTRA = 4  # log2(sqrt(MAX_DIM)): a = c / 2^(k + 4)
Z_FRAC = 24  # fraction bits of z = (x - mean) / sigma


def eps_v(cfg: Config) -> int:
    """EPS_V = round(eps * D^2 * 2^(2F)), ties up, from the exact binary value of the float eps."""
    f = cfg.fmt("act").frac
    val = Fraction(cfg.model.layernorm_eps) * cfg.model.dim ** 2 * Fraction(2) ** (2 * f)
    return math.floor(val + Fraction(1, 2))


def _definition_problem(cfg: Config) -> str | None:
    """Where the numerical definition itself stops (the dimension, the output rounding, eps), named
    by config field; None when it holds. One place for the spec's own check and check_config's."""
    d = cfg.model.dim
    act, p = cfg.fmt("act"), cfg.fmt("norm_param")
    if not 2 <= d <= MAX_DIM:
        return f"model.dim = {d} outside [2, {MAX_DIM}] (|z| <= sqrt(dim) <= 16 sizes the datapath)"
    if Z_FRAC + p.frac - act.frac < 1:
        return (f"formats.norm_param: {p.c_type} has too few fraction bits for the output rounding "
                f"(needs > {act.frac - Z_FRAC})")
    if eps_v(cfg) < 1:
        return f"model.layernorm_eps = {cfg.model.layernorm_eps} rounds to 0 in the integer variance"
    return None


def _check_cfg(cfg: Config, d: int) -> None:
    if d != cfg.model.dim:
        raise FixedPointError(f"layernorm: rows of {d} features, but model.dim = {cfg.model.dim}")
    problem = _definition_problem(cfg)
    if problem:
        raise FixedPointError(f"layernorm: {problem}")


def layernorm_stats_raw(x_raw, cfg: Config):
    """Per row: S1, S2 (Python ints), v, k, sigma, r. Returns a dict of object/int64 arrays."""
    act = cfg.fmt("act")
    x = act.check_raw(np.asarray(x_raw), "layernorm input")
    if x.ndim != 2:
        raise FixedPointError(f"layernorm input: expected a (rows, dim) array, got shape {x.shape}")
    d = x.shape[1]
    _check_cfg(cfg, d)
    x = x.astype(np.int64)
    s1 = x.sum(axis=1)  # |S1| < 2^(31+8): int64 is exact
    # S2 needs up to 70 bits: split x = hi * 2^16 + lo (lo in [0, 2^16)) and add the partial sums
    # (each < 2^47 * D) as Python integers.
    hi, lo = x >> 16, x & 0xFFFF
    p_hh = (hi * hi).sum(axis=1)
    p_hl = (hi * lo).sum(axis=1)
    p_ll = (lo * lo).sum(axis=1)
    ev = eps_v(cfg)
    v, k, sigma, r = [], [], [], []
    for a, hh, hl, ll in zip(s1.tolist(), p_hh.tolist(), p_hl.tolist(), p_ll.tolist()):
        s2 = (hh << 32) + (hl << 17) + ll
        vi = d * s2 - a * a + ev
        ki = (vi.bit_length() - V_BITS + 1) // 2  # ceil((L - 60) / 2)
        vn = vi >> (2 * ki) if ki >= 0 else vi << (-2 * ki)
        v.append(vi)
        k.append(ki)
        sigma.append(math.isqrt(vn))
    k = np.array(k, dtype=np.int64)
    sigma = np.array(sigma, dtype=np.int64)
    r = reciprocal_raw(sigma, 0, RECIP_WIDTH, RECIP_FRAC)
    return {"s1": s1, "v": np.array(v, dtype=object), "k": k, "sigma": sigma, "r": r}


def layernorm_raw(x_raw, gamma_raw, beta_raw, cfg: Config, return_stats: bool = False):
    """LayerNorm of each row of ``x_raw`` (rows, dim): raw activation integers in and out."""
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    st = layernorm_stats_raw(x_raw, cfg)
    d = np.asarray(x_raw).shape[1]
    g = pf.check_raw(np.asarray(gamma_raw), "layernorm gamma").astype(np.int64)
    b = pf.check_raw(np.asarray(beta_raw), "layernorm beta").astype(np.int64)
    if g.shape != (d,) or b.shape != (d,):
        raise FixedPointError(f"layernorm gamma/beta: expected shape ({d},), got {g.shape} and {b.shape}")
    x = np.asarray(x_raw).astype(np.int64)
    c = d * x - st["s1"][:, None]
    sh = (st["k"] + A_EXTRA)[:, None]
    a = np.where(sh > 0, round_shift(c, np.maximum(sh, 1)), c << np.maximum(-sh, 0))
    z = round_shift(a * st["r"][:, None], RECIP_FRAC - A_EXTRA - Z_FRAC)
    acc = z * g[None, :] + (b[None, :] << Z_FRAC)
    y = round_shift(acc, Z_FRAC + pf.frac - act.frac)
    y = np.clip(y, act.raw_min, act.raw_max)
    return (y, st) if return_stats else y


def layernorm_float(x, gamma, beta, cfg: Config) -> np.ndarray:
    """Convenience: quantize floats (x to act, gamma/beta to norm_param), return float outputs."""
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    return act.to_float(layernorm_raw(act.from_float(np.atleast_2d(x)), pf.from_float(gamma),
                                      pf.from_float(beta), cfg))


def check_config(cfg: Config) -> None:
    """What the C++ and RTL LayerNorm units are built for (raises ConfigError naming the field)."""
    problem = _definition_problem(cfg)
    if problem:
        raise ConfigError(f"LayerNorm: {problem}")
    act, p = cfg.fmt("act"), cfg.fmt("norm_param")
    if act.width != 32 or not act.signed:
        raise ConfigError(f"formats.act: the LayerNorm RTL datapath is sized for signed 32-bit activations, got "
                          f"{act.c_type}")
    if p.width != 16 or not p.signed:
        raise ConfigError(f"formats.norm_param: the LayerNorm RTL packs gamma and beta as signed 16-bit halves of a "
                          f"32-bit beat, got {p.c_type}")
    # EPS_V is a 64-bit parameter of rtl/src/layernorm_stats.sv; below 2^64, v = D^2 var + EPS_V <
    # 2^78 + 2^64 fits the units' 82-bit variance (2W + 18 bits: D S2 < 2^(2W-2+16))
    if eps_v(cfg) >= 1 << 64:
        raise ConfigError(f"model.layernorm_eps = {cfg.model.layernorm_eps}: eps * dim^2 * 2^(2 F) = 2^"
                          f"{eps_v(cfg).bit_length() - 1}.. exceeds the LayerNorm units' 64-bit EPS_V")


def hw_config(cfg: Config) -> KernelHwConfig:
    return KernelHwConfig(
        "layernorm", "LAYERNORM", "LayerNorm with exact integer statistics (python_ref/kernels/layernorm.py)",
        constant_list(
            dim=(cfg.model.dim, "features per row"),
            lanes=(cfg.hardware.layernorm_lanes, "features per stream beat (hardware.layernorm.lanes)"),
            eps_v=(eps_v(cfg), f"round(eps * D^2 * 2^(2F)), eps = {cfg.model.layernorm_eps!r}"),
            v_bits=(V_BITS, "normalised v_n in [2^58, 2^60)"),
            sigma_bits=(SIGMA_BITS, "isqrt(v_n) in [2^29, 2^30)"),
            recip_frac=(RECIP_FRAC, "r = round(2^59 / sigma)"),
            recip_width=(RECIP_WIDTH, "bits of r"),
            recip_k=(RECIP_FRAC + 1, "the reciprocal unit's K (divides 2^60)"),
            a_extra=(A_EXTRA, "log2 sqrt(max dim): a = c / 2^(k + 4)"),
            z_frac=(Z_FRAC, "fraction bits of z = (x - mean) / sigma"),
            max_dim=(MAX_DIM, "largest dim"),
        ),
        types=(("data_t", cfg.fmt("act"), "x and y"), ("param_t", cfg.fmt("norm_param"), "gamma and beta")),
    )
