"""Test vectors of the nonlinear units (exp, reciprocal, softmax, LayerNorm), shared by the python_ref
tests, the C-sim tests, scripts/nonlinear_errors.py and the cocotb testbenches.

Realistic vectors come from the published Edge-MoE / M3ViT-Tiny weights (../shared/edge_moe_weights
or $EDGE_MOE_WEIGHTS): a float64 numpy forward pass of layers 0 and 1 on the published frame gives
the real attention score rows (3 heads x 129 rows x 129 scores per layer), the real LayerNorm inputs
with their gamma/beta, and the real MoE gate logits of layer 1 (both tasks).
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from python_ref.config import REPO_ROOT, Config


# ---- exp / reciprocal --------------------------------------------------------------------------

def exp_directed(frac: int) -> np.ndarray:
    """x <= 0 corners (raw, ``frac`` fraction bits): 0, -1 LSB, every integer and half-integer
    down to -40 +- 1 LSB, the underflow region, the 2^-n table/shift boundaries."""
    one = 1 << frac
    k = np.arange(0, 41, dtype=np.int64)
    base = np.concatenate([k * one, k * one + one // 2, (k * one * 1) + 1, k * one - 1])
    ln2 = np.floor(np.arange(0, 30) * math.log(2) * one).astype(np.int64)  # x = -n ln2: t near n
    base = np.concatenate([base, ln2, ln2 + 1, ln2 - 1, [17 * one + one // 3, (32 << frac) - 1, 32 << frac]])
    base = np.concatenate([base, np.arange(0, 4096)])
    return -np.unique(base[base >= 0])


def exp_random(frac: int, n: int, seed: int, limit: float = 40.0) -> np.ndarray:
    """Uniform raw x in (-limit, 0]."""
    return -np.random.default_rng(seed).integers(0, int(limit * (1 << frac)), n, dtype=np.int64)


def recip_directed(frac_in: int, width_in: int) -> np.ndarray:
    """Unsigned raw corners: 0, 1, below/at/above 0.5 and 1, every integer and +-1 LSB, the maximum."""
    one = 1 << frac_in
    ints = np.arange(1, 1 << (width_in - frac_in), dtype=np.int64) * one
    x = np.concatenate([[0, 1, 2, 3, one // 2 - 1, one // 2, one // 2 + 1, (1 << width_in) - 1], ints - 1, ints, ints + 1,
                        ints + one // 2])
    return np.unique(x[(x >= 0) & (x < (1 << width_in))])


# ---- softmax -----------------------------------------------------------------------------------

def softmax_adversarial(cfg: Config, n: int) -> dict[str, np.ndarray]:
    """Named rows (raw act integers, shape (rows, n)) probing the online recurrence."""
    act = cfg.fmt("act")
    rng = np.random.default_rng(5)
    q = act.from_float
    spread = rng.uniform(-12, 12, n)
    ramp = np.linspace(-12, 12, n)
    rows = {
        "all equal (0)": q(np.zeros(n)),
        "all equal (5.25)": q(np.full(n, 5.25)),
        "all equal (min)": np.full(n, act.raw_min, dtype=np.int64),
        "all equal (max)": np.full(n, act.raw_max, dtype=np.int64),
        "one dominant": q(np.where(np.arange(n) == n // 3, 12.0, -12.0)),
        "one dominant +1e-6 ties": q(np.where(np.arange(n) == n // 2, 1e-6, 0.0)),
        "max first": q(np.concatenate([[12.0], rng.uniform(-12, 11, n - 1)])),
        "max last": q(np.concatenate([rng.uniform(-12, 11, n - 1), [12.0]])),
        "increasing (new max every score)": q(ramp),
        "decreasing": q(ramp[::-1]),
        "very negative": q(rng.uniform(-500, -480, n)),
        "full range": np.concatenate([[act.raw_min, act.raw_max], rng.integers(act.raw_min, act.raw_max, n - 2)]),
        "two-level (+-12)": q(np.where(rng.random(n) < 0.5, 12.0, -12.0)),
        "underflow except max": q(np.concatenate([[0.0], np.full(n - 1, -20.0)])),
        "spread +-12": q(spread),
    }
    return {k: v.reshape(1, n).astype(np.int64) for k, v in rows.items()}


def softmax_attention_like(cfg: Config, rows: int, n: int, seed: int) -> np.ndarray:
    """Rows like attention's: n scores, spread up to +-12 (per-row centre and width vary)."""
    rng = np.random.default_rng(seed)
    width = rng.uniform(0.5, 12.0, (rows, 1))
    centre = rng.uniform(-4.0, 4.0, (rows, 1))
    x = np.clip(centre + rng.uniform(-1, 1, (rows, n)) * width, -12, 12)
    return cfg.fmt("act").from_float(x).astype(np.int64)


def random_orders(rows: int, n: int, seed: int) -> np.ndarray:
    """Half rotated (how the reordered attention feeds rows), half uniformly shuffled."""
    rng = np.random.default_rng(seed)
    rot = (np.arange(n)[None, :] + rng.integers(0, n, (rows, 1))) % n
    shuf = np.argsort(rng.random((rows, n)), axis=1)
    return np.where((np.arange(rows) % 2 == 0)[:, None], rot, shuf).astype(np.int64)


# ---- LayerNorm ---------------------------------------------------------------------------------

def layernorm_adversarial(cfg: Config) -> dict[str, np.ndarray]:
    """Named rows (raw act integers, shape (1, dim)): zero/tiny variance, identical values, extremes."""
    act = cfg.fmt("act")
    d = cfg.model.dim
    rng = np.random.default_rng(6)
    lsb = 1
    base = act.from_float(rng.normal(0, 1, d))
    rows = {
        "all zero": np.zeros(d, dtype=np.int64),
        "identical (3.5)": np.full(d, int(act.from_float(3.5)), dtype=np.int64),
        "identical (min)": np.full(d, act.raw_min, dtype=np.int64),
        "identical (max)": np.full(d, act.raw_max, dtype=np.int64),
        "one LSB off (var ~ 2^-44)": np.where(np.arange(d) == 0, lsb, 0).astype(np.int64),
        "offset 100 + 1 LSB noise": int(act.from_float(100.0)) + rng.integers(-1, 2, d),
        "var 1e-8 (< eps)": act.from_float(rng.normal(0, 1e-4, d)),
        "var 2^-20 (Edge-MoE wraps)": act.from_float(rng.normal(7, 2 ** -10, d)),
        "var 1e-6 (= eps)": act.from_float(rng.normal(-2, 1e-3, d)),
        "min/max alternating": np.where(np.arange(d) % 2 == 0, act.raw_min, act.raw_max).astype(np.int64),
        "one outlier (max)": np.where(np.arange(d) == d // 2, act.raw_max, 0).astype(np.int64),
        "large (+-300)": act.from_float(rng.uniform(-300, 300, d)),
        "normal": base,
    }
    return {k: v.reshape(1, d).astype(np.int64) for k, v in rows.items()}


def layernorm_random(cfg: Config, rows: int, seed: int) -> np.ndarray:
    """Rows with log-uniform scale (2^-16 .. 2^7) and offset, clipped to the activation range."""
    act = cfg.fmt("act")
    rng = np.random.default_rng(seed)
    d = cfg.model.dim
    scale = np.exp2(rng.uniform(-16, 7, (rows, 1)))
    offset = rng.normal(0, 1, (rows, 1)) * np.exp2(rng.uniform(-4, 8, (rows, 1)))
    x = np.clip(offset + rng.normal(0, 1, (rows, d)) * scale, act.min, act.max)
    return act.from_float(x).astype(np.int64)


def layernorm_params(cfg: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """gamma ~ N(1, 0.5), beta ~ N(0, 0.5) in the norm_param format, with its extremes at two features."""
    pf = cfg.fmt("norm_param")
    rng = np.random.default_rng(seed)
    d = cfg.model.dim
    g = pf.from_float(np.clip(rng.normal(1, 0.5, d), pf.min, pf.max))
    b = pf.from_float(np.clip(rng.normal(0, 0.5, d), pf.min, pf.max))
    g[0], g[1], b[2], b[3] = pf.raw_min, pf.raw_max, pf.raw_min, pf.raw_max
    return g.astype(np.int64), b.astype(np.int64)


# ---- real data (published weights) ---------------------------------------------------------------

def weights_dir() -> Path:
    env = os.environ.get("EDGE_MOE_WEIGHTS")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "edge_moe_weights"


def weights_available() -> bool:
    return (weights_dir() / "l0_qkv_weight.float32.bin").is_file()


def _load(name: str, shape) -> np.ndarray:
    p = weights_dir() / f"{name}.float32.bin"
    a = np.fromfile(p, dtype="<f4").astype(np.float64)
    if a.size != int(np.prod(shape)):
        raise ValueError(f"{p}: expected {int(np.prod(shape))} float32 values for shape {shape}, got {a.size}")
    return a.reshape(shape)


def _layernorm64(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _softmax64(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@lru_cache(maxsize=1)
def real_layer_data() -> dict:
    """Float64 forward of M3ViT-Tiny layers 0 and 1 on the published frame (edge_moe shape only).

    Returns {"ln": [(name, x (129,192), gamma, beta)], "scores": {name: (rows,129)},
    "gate": {name: (129,16)}}. Raises FileNotFoundError when the weights are missing.
    """
    if not weights_available():
        raise FileNotFoundError(f"published weights not found in {weights_dir()} (set EDGE_MOE_WEIGHTS)")
    dim, heads, hd, eps = 192, 3, 64, 1e-6
    img = _load("image", (3, 128, 256))
    pw, pb = _load("patch_embed_weight", (192, 3, 16, 16)), _load("patch_embed_bias", (192,))
    patches = img.reshape(3, 8, 16, 16, 16).transpose(1, 3, 0, 2, 4).reshape(128, 3 * 16 * 16)
    x = patches @ pw.reshape(192, -1).T + pb
    pos = _load("pos_embed", (129, 192))
    x = np.concatenate([pos[:1], x + pos[1:]], axis=0)
    out = {"ln": [], "scores": {}, "gate": {}}
    erf = np.vectorize(math.erf, otypes=[np.float64])
    for layer in (0, 1):
        p = f"l{layer}_"
        g1, b1 = _load(p + "norm1_weight", (dim,)), _load(p + "norm1_bias", (dim,))
        out["ln"].append((f"layer {layer} norm1", x.copy(), g1, b1))
        h = _layernorm64(x, g1, b1, eps)
        qkv = h @ _load(p + "qkv_weight", (3 * dim, dim)).T + _load(p + "qkv_bias", (3 * dim,))
        q, k, v = (qkv[:, i * dim:(i + 1) * dim].reshape(129, heads, hd).transpose(1, 0, 2) for i in range(3))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        out["scores"][f"layer {layer} attention"] = s.reshape(-1, 129)
        o = (_softmax64(s) @ v).transpose(1, 0, 2).reshape(129, dim)
        x = x + o @ _load(p + "attn_proj_weight", (dim, dim)).T + _load(p + "attn_proj_bias", (dim,))
        g2, b2 = _load(p + "norm2_weight", (dim,)), _load(p + "norm2_bias", (dim,))
        out["ln"].append((f"layer {layer} norm2", x.copy(), g2, b2))
        h = _layernorm64(x, g2, b2, eps)
        if layer == 0:
            f1 = h @ _load(p + "fc1_weight", (768, dim)).T + _load(p + "fc1_bias", (768,))
            f1 = 0.5 * f1 * (1 + erf(f1 / math.sqrt(2)))
            x = x + f1 @ _load(p + "fc2_weight", (dim, 768)).T + _load(p + "fc2_bias", (dim,))
        else:
            for task in (0, 1):
                out["gate"][f"layer 1 gate task {task}"] = h @ _load(p + f"w_gate_T_task{task}", (16, dim)).T
    return out
