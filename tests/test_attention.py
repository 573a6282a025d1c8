"""Attention on the unified MAC array (python_ref/kernels/attention.py): the spec against an
independent pure-integer reference, order freedom, the hardware split and its register bounds,
adversarial cases, every error message, the exact-matmul and exact-product helpers, and the
accuracy target on the published weights."""
import dataclasses
import math

import numpy as np
import pytest

from cosim.attention_vectors import (adversarial_sets, operand_form, random_sets, real_missing_reason, real_sets,
                                     vector_sets)
from python_ref.config import ConfigError, load_config, parse_config
from python_ref.fixed import FixedFormat, FixedPointError, OVERFLOW_MODES, QUANT_MODES
from python_ref.kernels import attention as attn_mod
from python_ref.exact import ExactArithmeticError, assign_exact_product, exact_matmul, split_plan
from python_ref.kernels.attention import MAX_TOKENS, SPLIT_LO_BITS, AttentionError, attention, attention_raw, head_shift
from python_ref.kernels.exp import exp_neg_raw
from python_ref.kernels.softmax import (EXP_FORMAT, RECIP_FORMAT, SUM_FORMAT, softmax_two_pass_raw,
                                        softmax_two_pass_stats_raw)

CFGS = {name: load_config(name) for name in ("tiny", "edge_moe")}
EDGE = CFGS["edge_moe"]
TARGET_OUT = 2.0 ** -12  # attn_out max abs error vs float64 on the same act-quantized qkv


# ---- independent reference: Python integers, explicit loops ------------------------------------

def _assign(v: int, frac_in: int, fmt: FixedFormat) -> int:
    """Assignment of the exact value v * 2^-frac_in, written out for the modes the configs use."""
    s = frac_in - fmt.frac
    if s > 0:
        if fmt.quant == "TRN":
            v = v >> s
        elif fmt.quant == "RND":
            v = (v + (1 << (s - 1))) >> s
        else:  # pragma: no cover
            raise NotImplementedError(fmt.quant)
    else:
        v = v << -s
    hi = (1 << (fmt.width - 1)) - 1
    lo = -hi - 1
    if fmt.overflow == "SAT":
        return min(max(v, lo), hi)
    if fmt.overflow == "SAT_SYM":
        return min(max(v, -hi), hi)
    if fmt.overflow == "WRAP":
        v &= (1 << fmt.width) - 1
        return v - (1 << fmt.width) if v > hi else v
    raise NotImplementedError(fmt.overflow)  # pragma: no cover


def reference_attention(qkv, cfg):
    """attn_out (T, D) raw act from Python ints and loops; the exp and reciprocal units are used
    (they have their own tests), everything else is written out here."""
    act, op, sc = cfg.fmt("act"), cfg.fmt("operand"), cfg.fmt("score")
    qf = cfg.numerics.attention_q or op      # the config's fields, read here directly
    kvf = cfg.numerics.attention_kv or op
    T = len(qkv)
    D, H, d = cfg.model.dim, cfg.model.heads, cfg.model.head_dim
    g = int(round(math.log(d, 4)))
    assert 4 ** g == d
    rows = [[int(x) for x in row] for row in qkv]
    out = [[0] * D for _ in range(T)]
    for h in range(H):
        q = [[_assign(rows[i][h * d + c], act.frac, qf) for c in range(d)] for i in range(T)]
        k = [[_assign(rows[i][D + h * d + c], act.frac, kvf) for c in range(d)] for i in range(T)]
        v = [[_assign(rows[i][2 * D + h * d + c], act.frac, kvf) for c in range(d)] for i in range(T)]
        for i in range(T):
            s = [_assign(sum(q[i][c] * k[j][c] for c in range(d)), qf.frac + kvf.frac + g, sc) for j in range(T)]
            m = max(s)
            e = [int(x) for x in exp_neg_raw(np.array([x - m for x in s], dtype=np.int64), sc.frac)]
            sigma = sum(e)
            assert sigma < 1 << SUM_FORMAT.width
            r = (((1 << (SUM_FORMAT.frac + RECIP_FORMAT.frac + 1)) // sigma) + 1) >> 1  # round(2^55 / sigma)
            for c in range(d):
                U = sum(e[j] * v[j][c] for j in range(T))
                out[i][h * d + c] = _assign(r * U, RECIP_FORMAT.frac + EXP_FORMAT.frac + kvf.frac, act)
    return np.array(out, dtype=np.int64)


def _float_attention(qkv_raw, cfg):
    """float64 attention of the act-quantized qkv: (scores, probs, out)."""
    act = cfg.fmt("act")
    x = act.to_float(qkv_raw)
    T = len(x)
    D, H, d = cfg.model.dim, cfg.model.heads, cfg.model.head_dim
    q, k, v = (x[:, i * D:(i + 1) * D].reshape(T, H, d).transpose(1, 0, 2) for i in range(3))
    s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return s, p, (p @ v).transpose(1, 0, 2).reshape(T, D)


# ---- spec == reference --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CFGS))
def test_spec_equals_integer_reference_random(name):
    cfg = CFGS[name]
    for T in (1, 2, 5, 9):
        for set_name, qkv in random_sets(cfg, T, count=2, seed=100 + T).items():
            assert np.array_equal(attention_raw(qkv, cfg), reference_attention(qkv, cfg)), (name, T, set_name)


@pytest.mark.parametrize("name", list(CFGS))
def test_spec_equals_integer_reference_adversarial(name):
    cfg = CFGS[name]
    for set_name, qkv in adversarial_sets(cfg, T=7).items():
        assert np.array_equal(attention_raw(qkv, cfg), reference_attention(qkv, cfg)), (name, set_name)


def test_spec_equals_integer_reference_tiny_full_size():
    cfg = CFGS["tiny"]  # T = 17 tokens, the configuration's real size
    for set_name, qkv in list(random_sets(cfg, count=1, seed=3).items()) + [
            ("scores across saturation", adversarial_sets(cfg)["scores across saturation"])]:
        assert np.array_equal(attention_raw(qkv, cfg), reference_attention(qkv, cfg)), set_name


def test_intermediates_are_consistent():
    """The result object's fields satisfy the definition step by step (edge_moe, full T)."""
    cfg = EDGE
    qf, kvf, sc = attn_mod.q_format(cfg), attn_mod.kv_format(cfg), cfg.fmt("score")
    qkv = random_sets(cfg, count=1, seed=4)["realistic 0"]
    res = attention(qkv, cfg)
    H, T, d = res.q.shape
    assert (H, T, d) == (cfg.model.heads, cfg.model.tokens, cfg.model.head_dim)
    S = np.einsum("htc,hjc->htj", res.q.astype(object), res.k.astype(object))
    assert np.array_equal(res.S.astype(object), S)
    assert np.array_equal(res.s, sc.quantize(res.S, qf.frac + kvf.frac + 3))
    assert np.array_equal(res.m, res.s.max(axis=-1))
    assert np.all(res.e.max(axis=-1) == 1 << EXP_FORMAT.frac)
    assert np.array_equal(res.sigma, res.e.sum(axis=-1))
    assert np.all((res.sigma >= 1 << SUM_FORMAT.frac) & (res.sigma <= T << SUM_FORMAT.frac))
    U = np.einsum("htj,hjc->htc", res.e.astype(object), res.v.astype(object))
    assert np.array_equal(res.U.astype(object), U)
    p = res.p
    assert p.shape == (H, T, T) and np.abs(p.sum(-1) - 1).max() < 2.0 ** -20


# ---- order freedom -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CFGS))
def test_permuting_keys_and_values_gives_identical_bits(name):
    cfg = CFGS[name]
    D = cfg.model.dim
    rng = np.random.default_rng(21)
    sets = random_sets(cfg, count=1, seed=22)
    sets.update({k: v for k, v in adversarial_sets(cfg).items() if k in (
        "all scores equal (identical keys)", "two tied dominant keys", "scores across saturation", "full range")})
    for set_name, qkv in sets.items():
        T = len(qkv)
        base = attention(qkv, cfg)
        for _ in range(3):
            perm = rng.permutation(T)
            moved = qkv.copy()
            moved[:, D:] = qkv[perm, D:]  # keys and their value rows move together; queries stay
            res = attention(moved, cfg)
            assert np.array_equal(res.out, base.out), set_name
            assert np.array_equal(res.sigma, base.sigma) and np.array_equal(res.r, base.r)
            assert np.array_equal(res.s, base.s[:, :, perm])
        # permuting the tokens (queries too) permutes the output rows
        perm = rng.permutation(T)
        assert np.array_equal(attention_raw(qkv[perm], cfg), base.out[perm]), set_name


def _array_schedule(a, b_stationary, li, lo_bits=SPLIT_LO_BITS):
    """The MAC array's arithmetic: the stationary operand split into hi (signed) and lo (unsigned),
    LI-long cascades (one DSP P register each, checked against the signed 48-bit range), then the
    in-block accumulation and hi * 2^10 + lo in wide fabric adders. Python ints throughout."""
    a = a.astype(object)
    hi = (b_stationary >> lo_bits).astype(object)
    lo = (b_stationary & ((1 << lo_bits) - 1)).astype(object)
    assert hi.min() >= -(1 << 17) and hi.max() < 1 << 17 and lo.min() >= 0 and lo.max() < 1 << 17  # 18-bit B port
    n = a.shape[-1]
    acc_hi = acc_lo = 0
    worst = 0
    for start in range(0, n, li):
        sl = slice(start, start + li)
        p_hi = np.matmul(a[..., sl], hi[..., sl, :])
        p_lo = np.matmul(a[..., sl], lo[..., sl, :])
        worst = max(worst, max(abs(int(x)) for x in p_hi.flat), max(abs(int(x)) for x in p_lo.flat))
        acc_hi = acc_hi + p_hi
        acc_lo = acc_lo + p_lo
    return acc_hi * (1 << lo_bits) + acc_lo, worst


@pytest.mark.parametrize("li", [4, 16, 32])
def test_array_schedule_gives_the_same_bits_and_fits_the_p_register(li):
    """S and U formed like the hardware (any LI, hi/lo split, cascade partial sums, fabric
    combination) equal the spec's exact values; with full-range operands every cascade partial sum
    stays strictly inside the signed 48-bit P register."""
    cfg = EDGE
    for set_name in ("full range", "operands at saturation points", "v at extremes"):
        qkv = adversarial_sets(cfg, T=40)[set_name]
        res = attention(qkv, cfg)
        S, worst_s = _array_schedule(res.q, res.k.transpose(0, 2, 1), li)
        U, worst_u = _array_schedule(res.e, res.v, li)
        assert np.array_equal(S, res.S.astype(object)) and np.array_equal(U, res.U.astype(object)), set_name
        assert worst_s < 1 << 47 and worst_u < 1 << 47, (set_name, worst_s, worst_u)


def test_p_register_bound_worst_case():
    """The documented bounds at their extremes: 32 products of the largest magnitudes."""
    qmax = (1 << 26) - 1
    assert 32 * qmax * (1 << 16) == (1 << 47) - (1 << 21)  # QK^T hi: strictly below 2^47
    assert 32 * qmax * 1023 < 1 << 41
    assert 32 * (1 << 24) * (1 << 16) == 1 << 45  # AV hi
    assert 64 * qmax * (1 << 16) > (1 << 47) - 1  # a whole d = 64 hi-sum does NOT fit P: fabric adders
    q = np.full((1, 32), -qmax, dtype=np.int64)
    k = np.full((32, 1), -qmax, dtype=np.int64)
    s, worst = _array_schedule(q, k, 32)
    assert int(s[0, 0]) == 32 * qmax * qmax and worst < 1 << 47


# ---- single pass: K and V whole on the 18-bit B port (numerics.attention_kv / attention_q) -------

KV18 = {"width": 18, "int": 7, "quant": "RND", "overflow": "SAT_SYM"}   # format study (3), docs/accuracy.md
Q26 = {"width": 26, "int": 8, "quant": "RND", "overflow": "SAT_SYM"}    # what L = 32 leaves q of the P register


SINGLE = {name: operand_form(CFGS[name], KV18, Q26) for name in CFGS}   # = the shipped configs
SPLIT = {name: operand_form(CFGS[name]) for name in CFGS}               # K / V in formats.operand: hi / lo


@pytest.mark.parametrize("name", list(SINGLE))
def test_single_pass_spec_equals_integer_reference(name):
    """The spec with 18-bit K / V and a 26-bit q equals the independent reference (which reads the two
    fields itself) on random and adversarial sets, and differs from the split form where the formats
    round or saturate differently (full-range operands)."""
    cfg, split = SINGLE[name], SPLIT[name]
    assert cfg.numerics == CFGS[name].numerics      # the shipped form
    assert attn_mod.single_pass(cfg) and not attn_mod.single_pass(split)
    for T in (1, 5, 9):
        sets = dict(random_sets(cfg, T, count=1, seed=300 + T))
        if T == 5:
            sets.update(adversarial_sets(cfg, T))
        for set_name, qkv in sets.items():
            assert np.array_equal(attention_raw(qkv, cfg), reference_attention(qkv, cfg)), (name, T, set_name)
    full = adversarial_sets(cfg, 5)["full range"]
    assert not np.array_equal(attention_raw(full, cfg), attention_raw(full, split))


def _single_pass_array(a, b_stationary, li):
    """The single-pass array's arithmetic: the whole stationary operand on the B port, LI-long
    cascades (one signed 48-bit P register each), the in-block accumulation in fabric. Python ints."""
    assert b_stationary.min() >= -(1 << 17) and b_stationary.max() < 1 << 17  # 18-bit B port
    a, b = a.astype(object), b_stationary.astype(object)
    acc, worst = 0, 0
    for start in range(0, a.shape[-1], li):
        p = np.matmul(a[..., start:start + li], b[..., start:start + li, :])
        worst = max(worst, max(abs(int(x)) for x in p.flat))
        acc = acc + p
    return acc, worst


def test_single_pass_array_gives_the_same_bits_and_fits_the_p_register():
    """S and U formed by the single-pass array (L = 32 cascades) equal the spec's exact values, and
    with full-range and saturated operands every cascade stays inside the P register; the worst case
    the formats admit (cascade_bounds) is strictly inside it."""
    cfg = SINGLE["edge_moe"]
    L = cfg.hardware.linear_in
    for set_name in ("full range", "operands at saturation points", "v at extremes"):
        res = attention(adversarial_sets(cfg, T=40)[set_name], cfg)
        S, worst_s = _single_pass_array(res.q, res.k.transpose(0, 2, 1), L)
        U, worst_u = _single_pass_array(res.e, res.v, L)
        assert np.array_equal(S.astype(np.int64), res.S) and np.array_equal(U.astype(np.int64), res.U), set_name
        assert max(worst_s, worst_u) < 1 << 47, set_name
    b = attn_mod.cascade_bounds(cfg)
    assert b["QK^T"] == 32 * ((1 << 25) - 1) * ((1 << 17) - 1) < 1 << 47
    assert b["AV"] == 32 * (1 << 24) * ((1 << 17) - 1) < 1 << 47
    # q at the extreme against K at the extreme, one whole cascade: the bound is reached
    q = np.full((1, L), -((1 << 25) - 1), dtype=np.int64)
    k = np.full((L, 1), -((1 << 17) - 1), dtype=np.int64)
    assert _single_pass_array(q, k, L)[1] == b["QK^T"]
    # the split form's bound is the documented hi bound
    assert attn_mod.cascade_bounds(SPLIT["edge_moe"])["QK^T"] == (1 << 47) - (1 << 21)


def test_single_pass_config_errors_name_the_fields():
    """An 18-bit K / V with the 27-bit q overflows an L = 32 cascade: the error names both fields and
    the tile; tiny's L = 4 leaves room (no q field needed). The generated constants say which form."""
    raw = EDGE.as_dict()
    raw["numerics"]["attention_kv"] = KV18
    del raw["numerics"]["attention_q"]
    with pytest.raises(ConfigError, match=r"numerics.attention_q = ap_fixed<27,9,AP_RND,AP_SAT_SYM>, "
                                          r"numerics.attention_kv = ap_fixed<18,7,AP_RND,AP_SAT_SYM> .*"
                                          r"hardware.linear_tile.in = 32: one DSP cascade of QK\^T products can reach "
                                          r"\d+ >= 2\^47"):
        parse_config(raw)
    assert parse_config(raw, buildable=False).numerics.attention_q is None   # python_ref alone computes it
    tiny = operand_form(CFGS["tiny"], KV18)
    assert attn_mod.single_pass(tiny) and tiny.numerics.attention_q is None
    consts = {c.member: c.value for c in attn_mod.hw_config(tiny).constants}
    assert (consts["kv_split"], consts["kv_w"], consts["kv_i"], consts["q_w"], consts["q_i"]) == (0, 18, 7, 27, 9)
    assert (consts["kv_quant"], consts["kv_overflow"]) == (QUANT_MODES.index("RND"), OVERFLOW_MODES.index("SAT_SYM"))
    consts = {c.member: c.value for c in attn_mod.hw_config(SPLIT["edge_moe"]).constants}
    assert (consts["kv_split"], consts["kv_w"], consts["q_w"]) == (1, 27, 27)
    consts = {c.member: c.value for c in attn_mod.hw_config(EDGE).constants}
    assert (consts["kv_split"], consts["kv_w"], consts["q_w"]) == (0, 18, 26)
    for field, fmt, msg in (("attention_q", {"width": 28, "int": 9}, r"numerics.attention_q: q is a signed MAC operand "
                                                                      r"no wider than formats.operand \(27 bits\)"),
                            ("attention_kv", {"width": 18, "int": 7, "signed": False},
                             r"numerics.attention_kv: K and V are a signed MAC operand"),
                            ("attention_kv", {"width": 18, "int": 7, "quant": "TRN", "overflow": "SAT_SYM"},
                             r"numerics.attention_kv = ap_fixed<18,7,AP_TRN,AP_SAT_SYM>: the RTL converts to it with "
                             r"AP_RND and AP_SAT_SYM only")):
        bad = CFGS["tiny"].as_dict()
        bad["numerics"][field] = fmt
        with pytest.raises(ConfigError, match=msg):
            parse_config(bad)


# ---- adversarial properties ----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CFGS))
def test_adversarial_properties(name):
    cfg = CFGS[name]
    act, sc = cfg.fmt("act"), cfg.fmt("score")
    qf, kvf = attn_mod.q_format(cfg), attn_mod.kv_format(cfg)
    sets = adversarial_sets(cfg)
    T, D, d = cfg.model.tokens, cfg.model.dim, cfg.model.head_dim
    shift = act.frac - kvf.frac      # a v raw to act
    qshift = act.frac - qf.frac      # a qkv raw to q
    one_e = 1 << EXP_FORMAT.frac

    # all zero: everything is exactly zero, sigma = T, out = 0
    res = attention(sets["all zero"], cfg)
    assert np.all(res.out == 0) and np.all(res.sigma == T * one_e)

    # all scores equal: every e is exactly 1, sigma = T exactly, r = round(2^55 / (T 2^24))
    for key in ("all scores equal (q = 0)", "all scores equal (identical keys)"):
        res = attention(sets[key], cfg)
        assert np.all(res.e == one_e) and np.all(res.sigma == T * one_e), key
        assert np.all(res.r == ((((1 << 56) // (T * one_e)) + 1) >> 1)), key

    # one dominant key: sigma = 1 exactly, r = 2^31, out = that key's v exactly (the operand value)
    for key in ("one dominant key", "v at extremes, one dominant key"):
        res = attention(sets[key], cfg)
        assert np.all(res.sigma == one_e) and np.all(res.r == 1 << RECIP_FORMAT.frac), key
        vdom = res.v[:, T // 3, :]  # (H, d) K / V raws
        want = np.broadcast_to((vdom << shift).reshape(1, D), (T, D))
        assert np.array_equal(res.out, want), key

    # two tied keys: sigma = 2 exactly, out = the exact mean (floored) of the two value rows
    res = attention(sets["two tied dominant keys"], cfg)
    assert np.all(res.sigma == 2 * one_e) and np.all(res.r == 1 << (RECIP_FORMAT.frac - 1))
    pair = (res.v[:, 0, :] + res.v[:, T - 1, :]).reshape(1, D)
    assert np.array_equal(res.out, np.broadcast_to((pair << shift) >> 1, (T, D)))

    # saturated scores: every score at the score format's extremes
    res = attention(sets["scores saturated (+-)"], cfg)
    assert set(np.unique(res.s)) == {sc.raw_min, sc.raw_max}
    res = attention(sets["scores saturated (all +max)"], cfg)
    assert np.all(res.s == sc.raw_max) and np.all(res.sigma == T * one_e)

    # across the saturation boundary: saturated exactly where the rounded score leaves the range
    res = attention(sets["scores across saturation"], cfg)
    g = head_shift(cfg)
    sh = qf.frac + kvf.frac + g - sc.frac
    rounded = (res.S + (1 << (sh - 1))) >> sh  # RND without saturation (fits int64)
    over, under = rounded > sc.raw_max, rounded < sc.raw_min
    inside = ~over & ~under
    assert over.any() and under.any() and inside.any()
    assert np.all(res.s[over] == sc.raw_max) and np.all(res.s[under] == sc.raw_min)
    assert np.array_equal(res.s[inside], rounded[inside])
    assert np.any(rounded[inside] == sc.raw_max) and np.any(rounded[inside] == sc.raw_min)  # the extremes themselves

    # operand saturation points: operands are exactly the symmetric extremes or rounded values
    res = attention(sets["operands at saturation points"], cfg)
    for t, f in ((res.q, qf), (res.k, kvf), (res.v, kvf)):
        assert t.max() == f.raw_max and t.min() == -f.raw_max
    # rounding ties round half up (toward +inf)
    res = attention(sets["operand rounding ties"], cfg)
    raw = sets["operand rounding ties"][:, :D].reshape(T, cfg.model.heads, d).transpose(1, 0, 2)
    assert np.array_equal(res.q, (raw + (1 << (qshift - 1))) >> qshift)

    # a query equal to its key: the diagonal score is the rounded (or saturated) exact self-dot
    res = attention(sets["query equals key"], cfg)
    self_dot = np.einsum("htc,htc->ht", res.q, res.k)
    assert np.array_equal(np.einsum("htt->ht", res.s), sc.quantize(self_dot, qf.frac + kvf.frac + g))

    # T = 1: p = 1 exactly, out = v exactly
    res = attention(sets["T = 1"], cfg)
    assert res.out.shape == (1, D) and np.all(res.r == 1 << RECIP_FORMAT.frac)
    assert np.array_equal(res.out, (res.v.transpose(1, 0, 2).reshape(1, D)) << shift)

    # every output lies between floor(r sigma min v) and floor(r sigma max v) (a convex combination)
    fr = RECIP_FORMAT.frac + EXP_FORMAT.frac + kvf.frac - act.frac
    for key, qkv in sets.items():
        res = attention(qkv, cfg)
        rs = (res.r * res.sigma).astype(object)[:, :, None]  # (H, T, 1)
        lo = (rs * res.v.min(axis=1).astype(object)[:, None, :]) >> fr
        hi = (rs * res.v.max(axis=1).astype(object)[:, None, :]) >> fr
        o = res.out.reshape(len(res.out), cfg.model.heads, d).transpose(1, 0, 2).astype(object)
        assert np.all((o >= lo) & (o <= hi)), key


def test_output_never_overflows_act():
    """|o| < 257: the act format's overflow mode never acts (checked with WRAP replaced by SAT)."""
    raw = dict(EDGE.raw)
    raw["formats"] = dict(raw["formats"], act={"width": 32, "int": 10, "overflow": "SAT"})
    cfg_sat = parse_config(raw)
    for qkv in adversarial_sets(EDGE, T=33).values():
        a = attention_raw(qkv, EDGE)
        assert np.array_equal(a, attention_raw(qkv, cfg_sat))
        assert np.abs(a).max() < 257 << EDGE.fmt("act").frac


# ---- errors --------------------------------------------------------------------------------------

def test_error_messages():
    cfg = CFGS["tiny"]
    D = cfg.model.dim
    good = random_sets(cfg, T=3, count=1)["realistic 0"]
    with pytest.raises(AttentionError, match=r"2-D array \(tokens, 3 \* model.dim = 96\)"):
        attention(good[0], cfg)
    with pytest.raises(AttentionError, match=r"has 95 columns, expected 3 \* model.dim = 96"):
        attention(good[:, :-1], cfg)
    with pytest.raises(AttentionError, match=r"T = 0 tokens"):
        attention(np.zeros((0, 3 * D), dtype=np.int64), cfg)
    with pytest.raises(AttentionError, match=r"T = 256 tokens; a softmax row holds 1 \.\. 255"):
        attention(np.zeros((256, 3 * D), dtype=np.int64), cfg)
    with pytest.raises(AttentionError, match=r"raw integers of ap_fixed<32,10,AP_TRN,AP_WRAP>, got dtype float64"):
        attention(good.astype(np.float64), cfg)
    bad = good.copy()
    bad[1, 2] = 1 << 31
    with pytest.raises(AttentionError, match=r"outside ap_fixed<32,10,AP_TRN,AP_WRAP> range"):
        attention(bad, cfg)
    bad[1, 2] = -(1 << 31) - 1
    with pytest.raises(AttentionError, match=r"outside"):
        attention(bad, cfg)
    # configurations the attention unit cannot be built for are rejected by parse_config (its check_config)
    raw = EDGE.as_dict()
    raw["model"] = dict(raw["model"], heads=4)  # 192 / 4 = 48
    with pytest.raises(ConfigError, match=r"model.dim / model.heads = 192 / 4 = 48 is not a power of 4"):
        parse_config(raw)
    raw["model"] = dict(raw["model"], heads=6)  # 32: power of 2, not of 4
    with pytest.raises(ConfigError, match=r"= 32 is not a power of 4"):
        parse_config(raw)
    raw = EDGE.as_dict()
    raw["formats"] = dict(raw["formats"], score={"width": 40, "int": 10, "quant": "RND", "overflow": "SAT"})
    with pytest.raises(ConfigError, match=r"formats.score: the exp unit reads s - m with at most 25"):
        parse_config(raw)
    assert issubclass(AttentionError, ValueError)
    with pytest.raises(ExactArithmeticError, match="inner dimensions differ"):
        exact_matmul(np.zeros((2, 3), dtype=np.int64), np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ExactArithmeticError, match="must hold integers"):
        exact_matmul(np.zeros((2, 3)), np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ExactArithmeticError, match="at least 2-D"):
        exact_matmul(np.zeros(3, dtype=np.int64), np.zeros((3, 2), dtype=np.int64))


def test_supported_token_counts():
    cfg = CFGS["tiny"]
    for T in (1, MAX_TOKENS):
        qkv = random_sets(cfg, T=T, count=1, seed=T)["realistic 0"]
        res = attention(qkv, cfg)
        assert res.out.shape == (T, cfg.model.dim)
        assert np.all(res.sigma <= T << SUM_FORMAT.frac)
    assert head_shift(CFGS["tiny"]) == 2 and head_shift(EDGE) == 3


# ---- helpers -------------------------------------------------------------------------------------

def _obj_matmul(a, b):
    return np.matmul(np.asarray(a).astype(object), np.asarray(b).astype(object))


def test_exact_matmul_random_and_worst_case():
    rng = np.random.default_rng(31)
    cases = []
    for ka, kb, n in ((27, 27, 64), (27, 27, 16), (25, 27, 255), (27, 27, 1), (10, 50, 7), (40, 20, 100), (31, 31, 3),
                      (1, 1, 1000), (53, 5, 30), (27, 27, 1024),
                      (31, 31, 1), (30, 30, 4), (29, 29, 16)):  # Ka + Kb + ceil(log2 n) = 62: the int64 limit
        a = rng.integers(-(1 << (ka - 1)), 1 << (ka - 1), (3, 5, n))
        b = rng.integers(-(1 << (kb - 1)), 1 << (kb - 1), (3, n, 4))
        cases.append((a, b))
        # worst case: every magnitude at the extreme, all of one sign (every partial sum grows)
        for sa, sb in ((-1, -1), (1, 1), (-1, 1)):
            cases.append((np.full((2, 3, n), sa * ((1 << (ka - 1)) - 1) if sa > 0 else -(1 << (ka - 1)), dtype=np.int64),
                          np.full((2, n, 3), sb * ((1 << (kb - 1)) - 1) if sb > 0 else -(1 << (kb - 1)), dtype=np.int64)))
    # the attention's own worst cases: q, k at -+(2^26 - 1) over d = 64; e = 2^24 against v extremes over 255 keys
    qmax = (1 << 26) - 1
    cases.append((np.full((1, 4, 64), -qmax), np.full((1, 64, 4), -qmax)))
    cases.append((np.full((1, 4, 255), 1 << 24), np.full((1, 255, 4), -qmax)))
    cases.append((np.full((4, 255), 1 << 24), np.where(rng.random((255, 64)) < 0.5, qmax, -qmax)))
    # many rows: the product is formed in row blocks (BLAS_SINGLE_THREAD_MNK)
    cases.append((rng.integers(-qmax, qmax, (3, 300, 64)), rng.integers(-qmax, qmax, (3, 64, 129))))
    cases.append((rng.integers(0, 1 << 24, (2, 255, 255), endpoint=True), rng.integers(-qmax, qmax, (2, 255, 64))))
    for a, b in cases:
        got = exact_matmul(a, b)
        want = _obj_matmul(a, b)
        assert got.shape == want.shape and np.array_equal(got.astype(object), want), (a.shape, b.shape, a.flat[0], b.flat[0])
        if _bits_needed(a, b) <= 62:
            assert got.dtype == np.int64
    # results beyond int64 come back as exact Python integers
    big = exact_matmul(np.full((2, 8), -(1 << 40)), np.full((8, 2), -(1 << 40)))
    assert big.dtype == object and int(big[0, 0]) == 8 << 80
    # zeros and empty inner dimension
    assert np.array_equal(exact_matmul(np.zeros((2, 3), dtype=np.int64), np.ones((3, 4), dtype=np.int64)), np.zeros((2, 4)))
    assert np.array_equal(exact_matmul(np.zeros((2, 0), dtype=np.int64), np.zeros((0, 4), dtype=np.int64)), np.zeros((2, 4)))


def _bits_needed(a, b):
    ka = max(abs(int(a.min())), abs(int(a.max()))).bit_length()
    kb = max(abs(int(b.min())), abs(int(b.max()))).bit_length()
    return ka + kb + max(a.shape[-1] - 1, 0).bit_length()


def test_split_plan_respects_the_float64_bound():
    for ka in range(1, 63):
        for kb in range(1, 63):
            for n in (1, 2, 64, 129, 255, 4096):
                pa, pb = split_plan(ka, kb, n)
                assert pa + pb + max(n - 1, 0).bit_length() <= 53 and 1 <= pa <= ka and 1 <= pb <= kb


@pytest.mark.parametrize("quant", QUANT_MODES)
def test_assign_exact_product_matches_python_integers(quant):
    rng = np.random.default_rng(41)
    for overflow in OVERFLOW_MODES:
        fmt = FixedFormat(32, 10, True, quant, overflow)
        # the attention's operands: r up to 2^31, U up to ~2^58 (and the sticky boundaries)
        r = np.concatenate([rng.integers(1, 1 << 31, 3000), [1 << 31, 1, (1 << 31) - 1]])
        u = np.concatenate([rng.integers(-(1 << 58), 1 << 58, 3000), [-(1 << 58), (1 << 58) - 1, 0]])
        u[:500] >>= rng.integers(0, 40, 500)  # a spread of magnitudes
        u[500:600] = (u[500:600] >> 51) << 51  # exact multiples of the output LSB (zero remainder)
        u[600:700] = ((u[600:700] >> 51) << 51) + (1 << 50)  # ties exactly (when r is odd... and even)
        for a, b in ((r, u), (r[:, None], u[None, :50])):
            got = assign_exact_product(a, b, 73, fmt)
            want = fmt.quantize(np.asarray(a, dtype=object) * np.asarray(b, dtype=object), 73)
            assert np.array_equal(np.asarray(got).astype(object), np.asarray(want)), (quant, overflow)


def test_assign_exact_product_ties_and_signs():
    fmt_rnd = FixedFormat(32, 10, True, "RND", "WRAP")
    fmt_conv = FixedFormat(32, 10, True, "RND_CONV", "SAT")
    rng = np.random.default_rng(43)
    a = np.array([1 << 31] * 8 + [3] * 4, dtype=np.int64)
    # a * b = X 2^c + B with B at 0, 1 and 2^c - 1 around a tie at the output LSB
    base = rng.integers(-(1 << 26), 1 << 26, 12).astype(np.int64) << 25
    b = base + np.array([0, 1 << 19, 1, -1, (1 << 20), -(1 << 20), 5, -5, 0, 1, -1, 7], dtype=np.int64)
    b = np.clip(b * (1 << 5), -(1 << 58), 1 << 58)
    for fmt in (fmt_rnd, fmt_conv):
        got = assign_exact_product(a, b, 73, fmt)
        want = fmt.quantize(a.astype(object) * b.astype(object), 73)
        assert np.array_equal(got.astype(object), want)


def test_fast_path_equals_slow_path(monkeypatch):
    """The BLAS and split-product paths against Python-integer matmul and products, full edge_moe size."""
    cfg = EDGE
    sets = {k: v for k, v in list(random_sets(cfg, count=1, seed=5).items())}
    sets["operands at saturation points"] = adversarial_sets(cfg, T=40)["operands at saturation points"]
    fast = {k: attention(v, cfg) for k, v in sets.items()}
    monkeypatch.setattr(attn_mod, "exact_matmul", _obj_matmul)
    monkeypatch.setattr(attn_mod, "assign_exact_product",
                        lambda a, b, f, fmt: fmt.quantize(np.asarray(a, dtype=object) * np.asarray(b, dtype=object), f))
    for k, qkv in sets.items():
        slow = attention(qkv, cfg)
        for field in dataclasses.fields(slow):
            x, y = getattr(fast[k], field.name), getattr(slow, field.name)
            assert np.array_equal(np.asarray(x).astype(object), np.asarray(y).astype(object)), (k, field.name)


# ---- softmax extension ---------------------------------------------------------------------------

def test_two_pass_stats_take_the_input_format():
    cfg = EDGE
    act, sc = cfg.fmt("act"), cfg.fmt("score")
    x = np.random.default_rng(51).integers(-(1 << 26), 1 << 26, (20, 129))
    a = softmax_two_pass_stats_raw(x, cfg)
    b = softmax_two_pass_stats_raw(x, cfg, act)
    c = softmax_two_pass_stats_raw(x, cfg, sc)  # same frac: the same bits
    for u, v, w in zip(a, b, c):
        assert np.array_equal(u, v) and np.array_equal(u, w)
    # a format with other fraction bits reads the same raws as other values
    d = softmax_two_pass_stats_raw(x, cfg, FixedFormat(32, 12))
    assert np.array_equal(d[3], exp_neg_raw(x - x.max(axis=1)[:, None], 20))
    with pytest.raises(FixedPointError, match="outside ap_fixed<27,9"):
        softmax_two_pass_stats_raw(np.array([[1 << 30]]), cfg, cfg.fmt("operand"))
    assert np.array_equal(softmax_two_pass_raw(x, cfg).r, a[2])


# ---- vector sets and real data -------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CFGS))
def test_vector_sets_are_valid_inputs(name):
    cfg = CFGS[name]
    sets = {**adversarial_sets(cfg), **random_sets(cfg)}
    assert len(sets) >= 20
    for k, qkv in sets.items():
        assert qkv.dtype == np.int64 and qkv.ndim == 2 and qkv.shape[1] == 3 * cfg.model.dim, k
        attention(qkv, cfg)  # a valid input
    reason = real_missing_reason(cfg)
    if reason is not None:  # real sets are never dropped silently
        with pytest.raises(FileNotFoundError, match="weights"):
            vector_sets(cfg)
        got, skipped = vector_sets(cfg, skip_missing_real=True)
        assert list(skipped.values()) == [reason] and set(got) == set(sets)


REAL_REASON = real_missing_reason(EDGE)


@pytest.mark.skipif(REAL_REASON is not None, reason=str(REAL_REASON))
def test_real_rows_meet_the_target():
    """The published weights' layer-0 and layer-1 qkv: in the vector sets, and attn_out within the
    target of float64 attention on the same act-quantized qkv."""
    sets, skipped = vector_sets(EDGE)
    assert not skipped and {"real layer 0", "real layer 1"} <= set(sets)
    for name, qkv in real_sets(EDGE).items():
        assert np.array_equal(sets[name], qkv)
        assert qkv.shape == (EDGE.model.tokens, 3 * EDGE.model.dim)
        res = attention(qkv, EDGE)
        s, p, o = _float_attention(qkv, EDGE)
        err = np.abs(EDGE.fmt("act").to_float(res.out) - o).max()
        assert err <= TARGET_OUT, (name, err)
        # measured 2^-13.8 / 2^-14.0 with 18-bit K (2^-16.4 with K in the 27-bit operand; docs/attention.md)
        assert np.abs(res.p - p).max() <= 2.0 ** -13.5, name
