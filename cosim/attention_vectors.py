"""Named test-vector sets of the attention kernel (python_ref/kernels/attention.py) for the python_ref
tests, scripts/attention_errors.py and the later C-sim and RTL testbenches.

Every set is one layer's qkv input: raw activation-format integers of shape (T, 3 * dim) (Q | K | V,
head i in columns i*d .. (i+1)*d - 1 of each block). The expected output of a set is
``python_ref.kernels.attention.attention(qkv, cfg)``; nothing here holds expected values.

* :func:`adversarial_sets`: corner cases (all scores equal, one dominant key, scores at and across
  the score format's saturation, a query equal to a key, T = 1, q/k/v at the operand format's
  saturation points and rounding ties, v at its extremes, all zero);
* :func:`random_sets`: realistic rows (per-head scales like the real qkv) and full-range rows;
* :func:`operand_form`: a config with the attention operand formats replaced (the other operand form
  than the shipped one, for the python_ref, C-sim and RTL benches);
* :func:`real_sets`: the layer-0 and layer-1 qkv of the published weights on the published frame
  (``python_ref.model.real_data``, float64, quantized to act), when the weights are present.
  :func:`real_missing_reason` says why not otherwise; :func:`vector_sets` never drops real sets
  silently (it raises unless asked to skip them, and then the reason is returned with the sets).
"""
from __future__ import annotations

import numpy as np

from python_ref.config import Config, load_config, parse_config

REAL_LAYERS = (0, 1)


def operand_form(base: str | Config, kv: dict | None = None, q: dict | None = None,
                 name: str | None = None) -> Config:
    """``base`` (a config or its name) with the attention operands replaced: numerics.attention_kv /
    attention_q set to ``kv`` / ``q`` (YAML format dicts), or left out when None (formats.operand: K and
    V split hi / lo). ``name`` renames the derived config (a build of its own); default the base's."""
    cfg = load_config(base) if isinstance(base, str) else base
    raw = cfg.as_dict()
    if name is not None:
        raw["name"] = name
    for key, fmt in (("attention_kv", kv), ("attention_q", q)):
        raw["numerics"].pop(key, None)
        if fmt is not None:
            raw["numerics"][key] = fmt
    return parse_config(raw, f"{raw['name']}.yaml (attention operands)")


def _shape(cfg: Config, T: int | None):
    m = cfg.model
    return (m.tokens if T is None else T), m.dim, m.heads, m.head_dim


def _assemble(cfg: Config, q, k, v) -> np.ndarray:
    """float or raw blocks (T, D) each -> raw act (T, 3D); floats are quantized with ap_fixed(double)."""
    act = cfg.fmt("act")
    blocks = []
    for b in (q, k, v):
        b = np.asarray(b)
        blocks.append(b.astype(np.int64) if b.dtype.kind in "iu" else act.from_float(np.clip(b, act.min, act.max)))
    return np.concatenate(blocks, axis=1).astype(np.int64)


def _realistic_blocks(cfg: Config, T: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Q, K, V like a real layer's: per-head scales (std 0.5 .. 4 for Q and K, 0.3 .. 2 for V), a few
    outlier dims (x4), a shared per-head offset direction (keys and queries are correlated, as in
    trained models, so softmax rows range from flat to peaked)."""
    _, D, H, d = _shape(cfg, T)
    out = []
    for lo, hi in ((0.5, 4.0), (0.5, 4.0), (0.3, 2.0)):
        scale = np.repeat(rng.uniform(lo, hi, H), d)
        dims = np.where(rng.random(D) < 0.05, 4.0, 1.0)
        x = rng.normal(0, 1, (T, D)) * scale * dims
        out.append(x)
    shared = rng.normal(0, 1.5, (1, D))
    out[0] += shared
    out[1] += shared
    return out[0], out[1], out[2]


def adversarial_sets(cfg: Config, T: int | None = None, seed: int = 7) -> dict[str, np.ndarray]:
    """Named corner cases, each (T, 3D) raw act (T defaults to the config's token count). The operand
    corners are at q's format for the Q block and at K / V's for the K and V blocks
    (python_ref.kernels.attention.q_format / kv_format)."""
    from python_ref.kernels.attention import kv_format, q_format   # noqa: PLC0415 (kernels import config)

    T, D, H, d = _shape(cfg, T)
    act, score = cfg.fmt("act"), cfg.fmt("score")
    qf, kvf = q_format(cfg), kv_format(cfg)
    rng = np.random.default_rng(seed)
    g = (d.bit_length() - 1) // 2
    q, k, v = _realistic_blocks(cfg, T, rng)
    sets = {}
    sets["all zero"] = _assemble(cfg, np.zeros((T, D)), np.zeros((T, D)), np.zeros((T, D)))
    # all scores equal: q = 0 (every S = 0), and identical keys (every q.k of a row equal)
    sets["all scores equal (q = 0)"] = _assemble(cfg, np.zeros((T, D)), k, v)
    sets["all scores equal (identical keys)"] = _assemble(cfg, q, np.broadcast_to(k[:1], (T, D)), v)
    # one dominant key per row: q = 1, key j0 = +4, others -4: a gap of 8 d / sqrt(d) >= 32 (d >= 16) -> e = 0
    j0 = T // 3
    kd = np.where((np.arange(T) == j0)[:, None], 4.0, -4.0) * np.ones((T, D))
    sets["one dominant key"] = _assemble(cfg, np.ones((T, D)), kd, v)
    # two keys tied for the maximum, the rest far below
    kt = np.where(np.isin(np.arange(T), [0, T - 1])[:, None], 4.0, -4.0) * np.ones((T, D))
    sets["two tied dominant keys"] = _assemble(cfg, np.ones((T, D)), kt, v)
    # scores at the score format's extremes: q, k = +-their formats' max -> |q.k| / sqrt(d) saturates
    sign = np.where(np.arange(T) % 2 == 0, 1.0, -1.0)[:, None]
    sets["scores saturated (+-)"] = _assemble(cfg, np.full((T, D), qf.max), sign * np.full((T, D), kvf.max), v)
    sets["scores saturated (all +max)"] = _assemble(cfg, np.full((T, D), qf.max), np.full((T, D), kvf.max), v)
    # scores at and across the saturation boundaries, exactly: every query is (2^a, 1, 2^a, 2^m, 0, ...)
    # in raw units, so that S = 2^a (k0a + k0b) + k1 + 2^m k3 in raw units with every k digit inside K's
    # format; key j realises S 2^-g = +-(512 - off_j / 4 LSB) for quarter-LSB offsets around the
    # boundary (ties included) and far from it. (With 18-bit K (|k| < 64) and a 26-bit q (|q| < 128)
    # one product cannot reach 512 2^g, nor can one K digit carry the remainder below 2^a.)
    qshift, kshift = act.frac - qf.frac, act.frac - kvf.frac   # raw q / K, V -> raw act
    F = qf.frac + kvf.frac + g  # fraction bits of S 2^-g
    unit4 = 1 << (F - score.frac - 2)  # a quarter of a score LSB in raw S units
    top = (score.raw_max + 1) << (F - score.frac)  # +512: the first positive value that saturates
    offs = np.array([-8, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 8, 12, 1 << 10, 1 << 20, 1 << 30], dtype=np.int64)
    qa = qf.frac + g + 3          # log2 of the large query digit (raw): 64 at g = 3
    qm = qa // 2                  # log2 of the middle one
    assert d >= 4, "the saturation-boundary set needs head_dim >= 4"
    qs = np.zeros((T, D), dtype=np.int64)
    qs[:, 0::d], qs[:, 1::d], qs[:, 2::d], qs[:, 3::d] = 1 << qa, 1, 1 << qa, 1 << qm
    target = np.array([top - int(offs[i % len(offs)]) * unit4 for i in range(T)], dtype=object)
    k0 = np.array([t_ >> qa for t_ in target], dtype=object)
    rest = target - k0 * (1 << qa)
    k0a = k0 // 2
    digits = [k0a, rest % (1 << qm), k0 - k0a, rest >> qm]   # dims 0, 1, 2, 3
    sgn = np.where(np.arange(T) % 2 == 0, 1, -1)  # alternating: every offset on both sides for T >= 34
    ks = np.zeros((T, D), dtype=np.int64)
    for c, kc in enumerate(digits):
        ks[:, c::d] = (sgn * np.array(kc, dtype=object).astype(np.int64))[:, None]
    assert np.abs(ks).max() <= kvf.raw_max and np.abs(qs).max() <= qf.raw_max
    vs = act.from_float(np.clip(v, act.min, act.max)).astype(np.int64)
    sets["scores across saturation"] = np.concatenate([qs << qshift, ks << kshift, vs], axis=1)
    # a query equal to a key (q = k, realistic): the diagonal is the self-dot
    sets["query equals key"] = _assemble(cfg, q, q, v)

    # operand saturation points: act values just inside, at and beyond +-max of each block's format,
    # and the act extremes
    def sat_points(f, shift):
        fmax, half = int(f.raw_max) << shift, 1 << (shift - 1)
        return np.array([act.raw_min, act.raw_max, fmax, -fmax,
                         fmax + half,  # a tie above the largest value: rounds up, then saturates
                         fmax + half - 1,  # rounds down to the largest value
                         -(fmax + (1 << shift)),  # -2^(I-1): SAT_SYM gives -(2^(I-1) - LSB)
                         -fmax - half], dtype=np.int64)  # a tie below -max: rounds up to -max
    blocks = [(qf, qshift), (kvf, kshift), (kvf, kshift)]
    sets["operands at saturation points"] = np.concatenate(
        [rng.choice(sat_points(f, sh), size=(T, D)) for f, sh in blocks], axis=1)
    # rounding ties at the act -> operand conversion: raw act = odd multiples of half an LSB of the
    # block's format
    sets["operand rounding ties"] = np.concatenate(
        [((rng.integers(-(1 << 12), 1 << 12, (T, D)) * 2 + 1) << (sh - 1)).astype(np.int64) for _, sh in blocks],
        axis=1)
    # v at its extremes (realistic q, k)
    vext = np.where(rng.random((T, D)) < 0.5, kvf.max, -kvf.max)
    sets["v at extremes"] = _assemble(cfg, q, k, vext)
    sets["v at extremes, one dominant key"] = _assemble(cfg, np.ones((T, D)), kd, vext)
    # full-range operands (most of the act range saturates at the operand conversion)
    sets["full range"] = rng.integers(act.raw_min, act.raw_max, (T, 3 * D), endpoint=True).astype(np.int64)
    # one token
    sets["T = 1"] = _assemble(cfg, q[:1], k[:1], v[:1])
    # the sets above are built from operand values; where act has fewer integer bits than an operand
    # (a legal config: the act -> operand conversion then never saturates) they are clipped to act
    return {name: np.clip(x, act.raw_min, act.raw_max) for name, x in sets.items()}


def random_sets(cfg: Config, T: int | None = None, count: int = 4, seed: int = 11) -> dict[str, np.ndarray]:
    """``count`` realistic sets (per-head scales like real qkv) and ``count`` full-range sets."""
    T, D, _, _ = _shape(cfg, T)
    act = cfg.fmt("act")
    rng = np.random.default_rng(seed)
    sets = {}
    for i in range(count):
        sets[f"realistic {i}"] = _assemble(cfg, *_realistic_blocks(cfg, T, rng))
    for i in range(count):
        sets[f"full range {i}"] = rng.integers(act.raw_min, act.raw_max, (T, 3 * D), endpoint=True).astype(np.int64)
    return sets


def real_missing_reason(cfg: Config) -> str | None:
    """None when the real qkv of layers 0 and 1 can be computed for ``cfg``, else why not (one line)."""
    from python_ref.model.real_data import missing_reason

    return missing_reason(cfg)


def real_float(cfg: Config) -> dict[int, dict[str, np.ndarray]]:
    """{layer: {"qkv", "attn_scores", "attn_probs", "attn_out"}} float64 captures of the float model
    on the published weights and frame. Raises FileNotFoundError with the reason when unavailable."""
    from python_ref.model.real_data import published_run

    reason = real_missing_reason(cfg)
    if reason:
        raise FileNotFoundError(reason)
    t = published_run().tensors
    return {L: {n: t[f"layer{L}.{n}"] for n in ("qkv", "attn_scores", "attn_probs", "attn_out")} for L in REAL_LAYERS}


def real_sets(cfg: Config) -> dict[str, np.ndarray]:
    """{"real layer 0": qkv raw, "real layer 1": qkv raw}: the float captures quantized to act
    (ap_fixed(double), the activation format's modes). Raises FileNotFoundError when unavailable."""
    act = cfg.fmt("act")
    return {f"real layer {L}": act.from_float(d["qkv"]).astype(np.int64) for L, d in real_float(cfg).items()}


def vector_sets(cfg: Config, T: int | None = None, skip_missing_real: bool = False):
    """Every named set: adversarial, random and real. Returns (sets, skipped) where ``skipped`` maps
    a left-out group to its reason. Without ``skip_missing_real`` a missing real group raises."""
    sets = {}
    sets.update(adversarial_sets(cfg, T))
    sets.update(random_sets(cfg, T))
    skipped = {}
    reason = real_missing_reason(cfg)
    if reason is None:
        sets.update(real_sets(cfg))
    elif skip_missing_real:
        skipped["real layer 0, real layer 1"] = reason
    else:
        raise FileNotFoundError(reason)
    return sets, skipped


# ---- C-sim vector set (the kernel registry's ``vectors`` entry) --------------------------------

MIN_CSIM_VALUES = 100_000  # outputs per config: random realistic / full-range sets are added up to this


def attention_csim(cfg: Config, T: int | None = None):
    """attention_tb's vector folder: every named set (adversarial, random, and the real layers when
    the published weights are present; ``notes["skipped"]`` says why not otherwise), then more
    random sets until at least MIN_CSIM_VALUES outputs; expected = python_ref's attn_out."""
    from python_ref.kernels.attention import attention_raw

    from .csim import VectorSet

    sets, skipped = vector_sets(cfg, T, skip_missing_real=True)
    values = sum(x.shape[0] * cfg.model.dim for x in sets.values())
    per_set = (cfg.model.tokens if T is None else T) * cfg.model.dim
    extra = max(0, -(-(MIN_CSIM_VALUES - values) // per_set))
    if extra:
        more = random_sets(cfg, T, count=-(-extra // 2), seed=12)
        sets.update({f"extra {k}": v for k, v in more.items()})
    names = list(sets)
    qkv = [sets[n] for n in names]
    expected = [attention_raw(x, cfg) for x in qkv]
    return VectorSet("attention", {"sets": len(names)},
                     {"tokens.txt": np.array([x.shape[0] for x in qkv]), "qkv.txt": np.concatenate([x.reshape(-1) for x in qkv])},
                     np.concatenate([e.reshape(-1) for e in expected]),
                     notes={"names": names, "skipped": skipped, "shapes": [e.shape for e in expected]})
