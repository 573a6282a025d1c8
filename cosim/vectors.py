"""Test vectors shared by the python_ref tests, the C-sim tests, the cocotb testbenches, `make sim`
and the error scripts, so every layer sees the same sets; and each kernel's C-sim vector set
(:class:`cosim.csim.VectorSet`, the registry's ``vectors`` entry) that `make sim` and
scripts/export_vectors.py use.

Real data comes from python_ref.model.real_data (the float model on the published weights):
:func:`real_layernorm_rows`, :func:`real_score_rows` and :func:`real_gate_rows` raise
FileNotFoundError when the weights are absent; callers skip with ``real_data.missing_reason()``.
"""
from __future__ import annotations

import math

import numpy as np

from python_ref.config import Config
from python_ref.fixed import FixedFormat

from .csim import VectorSet


def rand_raw(fmt: FixedFormat, shape, rng: np.random.Generator, sigma: float | None = None) -> np.ndarray:
    """Full-range raw integers of ``fmt`` (sigma None) or realistic values N(0, sigma) quantized."""
    if sigma is None:
        return rng.integers(fmt.raw_min, fmt.raw_max + 1, shape, dtype=np.int64)
    return fmt.from_float(rng.normal(0.0, sigma, shape)).astype(np.int64)


# ---- GELU ---------------------------------------------------------------------------------------

def gelu_directed(cfg: Config) -> np.ndarray:
    """Corners: 0, +-1 LSB, min, max, every table node and +-1 LSB around it, +-range and around it."""
    act = cfg.fmt("act")
    g = cfg.hardware.gelu
    t_bits = act.frac - g.table_step_log2
    nodes = np.arange(g.table_entries, dtype=np.int64) << t_bits
    around = np.concatenate([nodes - 1, nodes, nodes + 1, nodes + (1 << (t_bits - 1))])
    around = around[(around >= 0) & (around <= act.raw_max)]
    x = np.concatenate([[0, 1, -1, 2, -2, act.raw_min, act.raw_min + 1, act.raw_max, act.raw_max - 1],
                        around, -around])
    return np.unique(x.clip(act.raw_min, act.raw_max)).astype(np.int64)


def random_full(cfg: Config, n: int, seed: int) -> np.ndarray:
    act = cfg.fmt("act")
    return np.random.default_rng(seed).integers(act.raw_min, act.raw_max + 1, n, dtype=np.int64)


def gelu_realistic(cfg: Config, n: int, seed: int) -> np.ndarray:
    """Pre-activation values as a trained MLP produces them: normal, sigma between 0.5 and 3."""
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.5, 3.0, n)
    return cfg.fmt("act").from_float(rng.normal(0.0, 1.0, n) * sigma).astype(np.int64)


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
    # One outlier at the features where layernorm_params puts gamma's extremes (0: min, 1: max) gives
    # |z| = sqrt(d - 1) there, so |y| ~ sqrt(d - 1) * 16: past act's range when act has few integer
    # bits, and the output saturates at both ends (the shipped formats never reach it: |y| < 272)
    pf = cfg.fmt("norm_param")
    if (d - 1) ** 0.5 * pf.max - pf.max > act.max:
        for f, end in ((0, "min"), (1, "max")):
            rows[f"one outlier at gamma's {end} (saturates)"] = np.where(np.arange(d) == f, act.raw_max, 0)
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


def norm_param_lanes(g, b) -> np.ndarray:
    """LayerNorm's {beta, gamma} per feature as rtl/src/layernorm.sv takes them (the high 32 bits of an
    x_ lane, and rtl/src/ln_param_zip.sv's gb_ lane): gamma in the low 16 bits, beta in the high 16."""
    return ((np.asarray(b, dtype=np.int64) & 0xFFFF) << 16) | (np.asarray(g, dtype=np.int64) & 0xFFFF)


def layernorm_params(cfg: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """gamma ~ N(1, 0.5), beta ~ N(0, 0.5) in the norm_param format, with its extremes at two features."""
    pf = cfg.fmt("norm_param")
    rng = np.random.default_rng(seed)
    d = cfg.model.dim
    g = pf.from_float(np.clip(rng.normal(1, 0.5, d), pf.min, pf.max))
    b = pf.from_float(np.clip(rng.normal(0, 0.5, d), pf.min, pf.max))
    g[0], g[1], b[2], b[3] = pf.raw_min, pf.raw_max, pf.raw_min, pf.raw_max
    return g.astype(np.int64), b.astype(np.int64)


# ---- real data (python_ref.model.real_data: the float model on the published weights) ----------

def real_layernorm_rows() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, x (T, D), gamma, beta) float64 of the LayerNorms of layers 0 and 1 on the published
    frame: x is the float model's input of each LayerNorm."""
    from python_ref.model.real_data import published_run, published_weights
    run, w = published_run(), published_weights()
    t = run.tensors
    rows = []
    for layer, (n1_in, n2_in) in enumerate((("embed", "layer0.res1"), ("layer0.out", "layer1.res1"))):
        rows.append((f"layer {layer} norm1", t[n1_in], w[f"l{layer}_norm1_weight"].astype(np.float64),
                     w[f"l{layer}_norm1_bias"].astype(np.float64)))
        rows.append((f"layer {layer} norm2", t[n2_in], w[f"l{layer}_norm2_weight"].astype(np.float64),
                     w[f"l{layer}_norm2_bias"].astype(np.float64)))
    return rows


def real_score_rows() -> dict[str, np.ndarray]:
    """Attention score rows (heads * T, T) float64 of layers 0 and 1 on the published frame."""
    from python_ref.model.real_data import published_run
    t = published_run().tensors
    return {f"layer {L} attention": t[f"layer{L}.attn_scores"].reshape(-1, t[f"layer{L}.attn_scores"].shape[-1])
            for L in (0, 1)}


def real_gate_rows() -> dict[str, np.ndarray]:
    """The first MoE layer's gate logits (T, E) float64 for both tasks on the published frame."""
    from python_ref.model.real_data import published_run
    return {f"layer 1 gate task {task}": published_run(task=task).tensors["layer1.gate_logits"] for task in (0, 1)}


# ---- C-sim vector sets (the registry's ``vectors`` entries) -----------------------------------------

def gelu_csim(cfg: Config) -> VectorSet:
    from python_ref.kernels.gelu import gelu_raw
    x = np.concatenate([gelu_directed(cfg), random_full(cfg, 100_000, 101), gelu_realistic(cfg, 100_000, 102)])
    return VectorSet("gelu", {"values": x.size}, {"in.txt": x}, gelu_raw(x, cfg))


def exp_csim(cfg: Config) -> VectorSet:
    from python_ref.kernels.exp import exp_neg_raw
    f = cfg.fmt("act").frac
    x = np.concatenate([exp_directed(f), exp_random(f, 200_000, 201)])
    return VectorSet("exp", {"values": x.size}, {"in.txt": x}, exp_neg_raw(x, f))


def reciprocal_csim(cfg: Config) -> VectorSet:
    from python_ref.kernels.reciprocal import SOFTMAX_SUM_FORMAT, softmax_reciprocal_raw
    fi = SOFTMAX_SUM_FORMAT.frac
    rng = np.random.default_rng(202)
    x = np.concatenate([recip_directed(fi, SOFTMAX_SUM_FORMAT.width), rng.integers(1 << fi, 1 << 32, 200_000)])
    return VectorSet("reciprocal", {"values": x.size}, {"in.txt": x}, softmax_reciprocal_raw(x))


def softmax_rows(cfg: Config, seed: int = 203, score_budget: int = 100_000) -> list[np.ndarray]:
    """Rows for the two-pass softmax (any lengths 1..255): the adversarial rows at NUM_TOKENS scores
    and cut to 1, 2, 3, NUM_EXPERTS and 255 scores, attention-like rows of NUM_TOKENS scores (about
    ``score_budget`` scores) and gate-like rows of NUM_EXPERTS logits."""
    from python_ref.kernels.softmax import MAX_ROW
    T, E = cfg.model.tokens, cfg.model.experts
    rows = list(softmax_adversarial(cfg, T).values())
    full = softmax_adversarial(cfg, MAX_ROW)
    for n in sorted({1, 2, 3, E, MAX_ROW}):
        rows += [v[:, :n] for v in full.values()]
    rows.append(softmax_attention_like(cfg, score_budget // T + 1, T, seed))
    rows.append(softmax_attention_like(cfg, 2000 // E + 1, E, seed + 1))
    return [r for block in rows for r in np.asarray(block, dtype=np.int64)]


def softmax_csim(cfg: Config) -> VectorSet:
    """softmax_tb's vector folder for ``rows`` (default :func:`softmax_rows`): lengths and scores;
    expected per row m, s, r, then the row's probabilities (python_ref softmax_two_pass_raw)."""
    return softmax_vectors(cfg, softmax_rows(cfg))


def softmax_vectors(cfg: Config, rows: list[np.ndarray]) -> VectorSet:
    from python_ref.kernels.softmax import softmax_two_pass_raw
    expected = []
    for x in rows:
        r = softmax_two_pass_raw(x[None, :], cfg)
        expected.append(np.concatenate([r.m, r.s, r.r, r.p[0]]))
    lengths = np.array([len(x) for x in rows], dtype=np.int64)
    return VectorSet("softmax", {"rows": len(rows), "scores": int(lengths.sum())},
                     {"lengths.txt": lengths, "x.txt": np.concatenate(rows)}, np.concatenate(expected))


def layernorm_csim(cfg: Config) -> VectorSet:
    from python_ref.kernels.layernorm import layernorm_raw
    x = np.concatenate(list(layernorm_adversarial(cfg).values()) + [layernorm_random(cfg, 100_000 // cfg.model.dim + 1, 205)])
    g, b = layernorm_params(cfg, 206)
    return VectorSet("layernorm", {"rows": len(x)}, {"x.txt": x, "gamma.txt": g, "beta.txt": b},
                     layernorm_raw(x, g, b, cfg))
