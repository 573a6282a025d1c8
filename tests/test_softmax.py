"""Softmax (python_ref/kernels/softmax.py): the two-pass form (the accelerator's: order-free, exact
cases, accuracy against float64, the 255-score limit) and bit-exactness of its C simulation
(hls/src/softmax.h, softmax_top, rows of every length 1..255, n = 0 reads nothing); the online form
(Edge-MoE's, python_ref only): order dependence and accuracy."""
import numpy as np
import pytest
import torch

from cosim.csim import build_tb, run_tb
from cosim.vectors import (random_orders, real_gate_rows, real_score_rows, softmax_adversarial, softmax_attention_like,
                           softmax_rows, softmax_vectors)
from python_ref.config import load_config
from python_ref.fixed import FixedPointError
from python_ref.kernels.softmax import (MAX_ROW, PROB_FORMAT, ROW_BITS, SUM_FORMAT, rotated_order, softmax_raw,
                                        softmax_two_pass_raw)

TARGET = 2.0 ** -14  # issue 3 design target for the probabilities
CFG = load_config("edge_moe")
ACT = CFG.fmt("act")
N = CFG.model.tokens  # 129


def _ref(x_raw):
    return torch.softmax(torch.tensor(ACT.to_float(x_raw), dtype=torch.float64), dim=-1).numpy()


def _max_err(x_raw, order=None):
    res = softmax_raw(x_raw, CFG, order)
    return float(np.abs(PROB_FORMAT.to_float(res.p) - _ref(x_raw)).max())


def test_attention_like_rows_meet_target_in_any_order():
    x = softmax_attention_like(CFG, 400, N, 51)
    for order in (None, rotated_order(400, N, np.arange(400) % N), random_orders(400, N, 52)):
        assert _max_err(x, order) <= TARGET


def test_adversarial_rows_meet_target():
    for name, row in softmax_adversarial(CFG, N).items():
        for order in (None, random_orders(1, N, 53)):
            assert _max_err(row, order) <= TARGET, name


def test_gate_rows_meet_target():
    x = softmax_attention_like(CFG, 500, CFG.model.experts, 54)
    assert _max_err(x, random_orders(500, CFG.model.experts, 55)) <= TARGET


@pytest.mark.published
def test_real_rows_meet_target():
    for name, rows in list(real_score_rows().items()) + list(real_gate_rows().items()):
        x = ACT.from_float(rows)
        assert _max_err(x, random_orders(len(x), x.shape[1], 56)) <= TARGET, name


def test_exact_cases():
    one_p = 1 << PROB_FORMAT.frac
    # a single dominant score: s = 1 exactly, p = 1.0 exactly, every other p = 0
    row = softmax_adversarial(CFG, N)["one dominant"]
    res = softmax_raw(row, CFG, random_orders(1, N, 57))
    assert res.s[0] == 1 << SUM_FORMAT.frac and res.p[0, N // 3] == one_p
    assert np.all(np.delete(res.p[0], N // 3) == 0)
    # n equal scores: s = n exactly (every exp is 1), p = round(round(2^55 / (n 2^24)) / 2^7)
    for n in (1, 2, 3, 16, 17, 129, 255):
        res = softmax_raw(np.full((1, n), 12345, dtype=np.int64), CFG)
        assert res.s[0] == n << SUM_FORMAT.frac
        r = (((1 << 56) // (n << 24)) + 1) >> 1
        assert np.all(res.p == ((r << 24) + (1 << 30)) >> 31)


def test_statistics_invariants():
    x = softmax_attention_like(CFG, 300, N, 58)
    order = random_orders(300, N, 59)
    res = softmax_raw(x, CFG, order)
    assert np.array_equal(res.m, x.max(axis=1))
    one = 1 << SUM_FORMAT.frac
    assert np.all((res.s >= one) & (res.s <= N * one))
    assert np.all(res.p <= 1 << PROB_FORMAT.frac) and np.all(res.p >= 0)
    assert np.abs(PROB_FORMAT.to_float(res.p).sum(axis=1) - 1).max() < N * 2.0 ** -20


def test_arrival_order_is_an_input():
    """Rounding makes the result order dependent: the model must see the order (and rotations differ)."""
    x = softmax_attention_like(CFG, 200, N, 60)
    a = softmax_raw(x, CFG)
    b = softmax_raw(x, CFG, rotated_order(200, N, 37))
    assert np.any(a.s != b.s) and np.any(a.p != b.p)
    assert np.array_equal(a.m, b.m)
    # reversing each row and feeding it reversed gives the original arrival sequence: same stats
    c = softmax_raw(x[:, ::-1], CFG, np.broadcast_to(np.arange(N)[::-1], (200, N)).copy())
    assert np.array_equal(a.s, c.s) and np.array_equal(a.p, c.p[:, ::-1])


def test_rejects_bad_input():
    x = softmax_attention_like(CFG, 2, 8, 61)
    with pytest.raises(FixedPointError, match="not a permutation"):
        softmax_raw(x, CFG, np.array([[0, 1, 2, 3, 4, 5, 6, 6], list(range(8))]))
    with pytest.raises(FixedPointError, match="expected shape"):
        softmax_raw(x, CFG, np.zeros((1, 8), dtype=np.int64))
    with pytest.raises(FixedPointError, match="exceed"):
        softmax_raw(np.zeros((1, 256), dtype=np.int64), CFG)
    with pytest.raises(FixedPointError, match="outside"):
        softmax_raw(np.array([[1 << 40]]), CFG)


# ---- two-pass (the accelerator's softmax) ---------------------------------------------------------

def _two_pass_err(x_raw):
    return float(np.abs(PROB_FORMAT.to_float(softmax_two_pass_raw(x_raw, CFG).p) - _ref(x_raw)).max())


def test_two_pass_meets_target():
    assert _two_pass_err(softmax_attention_like(CFG, 400, N, 51)) <= TARGET
    assert _two_pass_err(softmax_attention_like(CFG, 500, CFG.model.experts, 54)) <= TARGET
    for name, row in softmax_adversarial(CFG, N).items():
        assert _two_pass_err(row) <= TARGET, name


@pytest.mark.published
def test_two_pass_real_rows_meet_target():
    for name, rows in list(real_score_rows().items()) + list(real_gate_rows().items()):
        assert _two_pass_err(ACT.from_float(rows)) <= TARGET, name


def test_two_pass_is_order_free():
    """Permuting a row permutes p exactly; m, s, r do not change (max and an integer sum)."""
    x = softmax_attention_like(CFG, 200, N, 70)
    perm = random_orders(200, N, 71)
    a = softmax_two_pass_raw(x, CFG)
    b = softmax_two_pass_raw(np.take_along_axis(x, perm, axis=1), CFG)
    assert np.array_equal(a.m, b.m) and np.array_equal(a.s, b.s) and np.array_equal(a.r, b.r)
    assert np.array_equal(np.take_along_axis(a.p, perm, axis=1), b.p)


def test_two_pass_exact_cases():
    one_p = 1 << PROB_FORMAT.frac
    row = softmax_adversarial(CFG, N)["one dominant"]
    res = softmax_two_pass_raw(row, CFG)
    assert res.s[0] == 1 << SUM_FORMAT.frac and res.p[0, N // 3] == one_p and np.all(np.delete(res.p[0], N // 3) == 0)
    for n in (1, 2, 3, 16, 17, 129, 255):
        res = softmax_two_pass_raw(np.full((1, n), -12345, dtype=np.int64), CFG)
        assert res.s[0] == n << SUM_FORMAT.frac and res.m[0] == -12345
        r = (((1 << 56) // (n << 24)) + 1) >> 1
        assert np.all(res.p == ((r << 24) + (1 << 30)) >> 31)


def test_two_pass_row_limit():
    """255 scores is the longest row (s <= 255 fits ap_ufixed<32,8>), and the hardware's row-length
    argument has 8 bits: it cannot ask for more."""
    assert MAX_ROW == 255 and (1 << ROW_BITS) - 1 == MAX_ROW
    x = np.full((1, MAX_ROW), ACT.raw_max, dtype=np.int64)
    assert softmax_two_pass_raw(x, CFG).s[0] == MAX_ROW << SUM_FORMAT.frac
    with pytest.raises(FixedPointError, match="exceed"):
        softmax_two_pass_raw(np.zeros((1, MAX_ROW + 1), dtype=np.int64), CFG)
    with pytest.raises(FixedPointError, match="n >= 1"):
        softmax_two_pass_raw(np.zeros((1, 0), dtype=np.int64), CFG)


def _csim(cfg, rows, tmp_path):
    """softmax_tb on the rows (lengths 1..255): per row m, s, r, p against python_ref."""
    vec = softmax_vectors(cfg, rows)
    res = run_tb(build_tb("softmax", cfg.name), vec, tmp_path)
    assert res.exact, f"{res.mismatches} of {vec.expected.size} values differ\n{res.stderr[-2000:]}"
    return int(vec.meta["scores"])


@pytest.mark.csim
@pytest.mark.parametrize("name", ["edge_moe", "tiny"])
def test_csim_bit_exact(name, tmp_path):
    """Adversarial rows at NUM_TOKENS scores and cut to 1, 2, 3, NUM_EXPERTS and 255 scores,
    attention-like rows and gate rows: >= 100k scores; n = 0 before every row reads nothing."""
    cfg = load_config(name)
    assert _csim(cfg, softmax_rows(cfg, seed=62), tmp_path) >= 100_000


@pytest.mark.csim
@pytest.mark.published
def test_csim_real_rows(tmp_path):
    """The published layer-0/1 score rows and the layer-1 gate logits of both tasks: C-sim ==
    python_ref."""
    rows = [r for s in list(real_score_rows().values()) + list(real_gate_rows().values())
            for r in ACT.from_float(s).astype(np.int64)]
    assert _csim(CFG, rows, tmp_path) == (2 * 3 * 129 * 129) + 2 * 129 * 16


def test_probability_stage_rejects_statistics_outside_their_formats():
    """softmax_prob_raw's m and r are the statistics stage's outputs: a reciprocal that does not fit
    RECIP_FORMAT (or an m outside act) is an error, not silently wrapped arithmetic."""
    from python_ref.kernels.softmax import RECIP_FORMAT, softmax_prob_raw
    x = ACT.from_float(np.array([[0.5, -1.0, 2.0]]))
    with pytest.raises(FixedPointError, match="softmax reciprocal r: raw values outside"):
        softmax_prob_raw(x, np.array([x.max()]), np.array([RECIP_FORMAT.raw_max + 1]), CFG)
    with pytest.raises(FixedPointError, match="softmax row maximum m"):
        softmax_prob_raw(x, np.array([ACT.raw_max + 1]), np.array([1 << 30]), CFG)
    with pytest.raises(FixedPointError, match="one m and one r per row"):
        softmax_prob_raw(x, np.array([0, 0]), np.array([1, 1]), CFG)


def test_lanes_is_the_smallest_power_of_two_that_keeps_pace(monkeypatch):
    """rtl/src/softmax.sv's lanes: the smallest power of two n with ceil(E / n) beats <= the gate
    call's cycles per row g, on a grid of (E, g) that includes every tie ceil(E / n) == g (no shipped
    config has one)."""
    from types import SimpleNamespace

    import python_ref.kernels.softmax as sm
    for E in (1, 2, 3, 4, 5, 8, 16, 17, 64):
        for g in range(2, 20):   # (g = 1 would make a `>=` slip loop forever instead of failing)
            monkeypatch.setattr(sm, "gate_row_cycles", lambda cfg, g=g: g)
            n = sm.lanes(SimpleNamespace(model=SimpleNamespace(experts=E)))
            assert n & (n - 1) == 0 and -(-E // n) <= g, (E, g, n)
            assert n == 1 or -(-E // (n // 2)) > g, (E, g, n)


def test_row_limits_and_order_messages():
    """Rows of exactly MAX_ROW scores (tokens or experts) are legal, one more is not; a bad arrival
    order is reported with the index of the first row that is not a permutation."""
    from types import SimpleNamespace

    from python_ref.config import ConfigError
    from python_ref.kernels.softmax import check_config
    for tokens, experts in [(MAX_ROW, 4), (17, MAX_ROW)]:
        check_config(SimpleNamespace(model=SimpleNamespace(tokens=tokens, experts=experts)))
    for tokens, experts, field in [(MAX_ROW + 1, 4, "tokens"), (17, MAX_ROW + 1, "experts")]:
        with pytest.raises(ConfigError, match=field):
            check_config(SimpleNamespace(model=SimpleNamespace(tokens=tokens, experts=experts)))
    cfg = load_config("tiny")
    x = np.zeros((3, 4), dtype=np.int64)
    order = np.array([[0, 1, 2, 3], [3, 2, 1, 0], [0, 0, 2, 3]])
    with pytest.raises(FixedPointError, match="row 2 is not a permutation"):
        softmax_raw(x, cfg, order=order)
