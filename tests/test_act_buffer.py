"""python_ref.kernels.act_buffer, the activation buffers' specification: the command words, the
access orders, the narrow storage's exactness claim, and the errors."""
from __future__ import annotations

import random

import numpy as np
import pytest

from python_ref.config import load_config
from python_ref.kernels.act_buffer import (Access, ActBuffer, ActBufferError, BufferShape, command_words,
                                           decode_words, store)


@pytest.fixture(scope="module")
def edge():
    return load_config("edge_moe")


def test_orders_by_hand():
    sh = BufferShape(lanes=2, values=6, rows=4)                 # 3 beats a row
    assert Access(True, (2, 0)).order(sh) == [(2, 0), (2, 1), (2, 2), (0, 0), (0, 1), (0, 2)]
    assert Access(True, (2, 0), block_major=True, listed=True, n_beats=2, first=1).order(sh) == \
        [(2, 1), (0, 1), (2, 2), (0, 2)]


def test_words_round_trip():
    rng = random.Random(3)
    sh = BufferShape(lanes=4, values=30, rows=11, narrow=True)
    for _ in range(500):
        first = rng.randrange(sh.nb)
        n = rng.randint(1, sh.rows)
        listed = rng.random() < 0.5
        rows = tuple(rng.choice(range(sh.rows)) for _ in range(n)) if listed else tuple(range(sh.rows - n, sh.rows))
        acc = Access(rng.random() < 0.5, rows, rng.random() < 0.5, listed, rng.randint(1, sh.nb - first), first)
        words = command_words(acc, sh)
        assert all(0 <= w < 1 << 64 for w in words)
        assert decode_words(words, sh) == [acc]


@pytest.mark.parametrize("words,msg", [
    ([1 << 63], "n = 0 rows"),
    ([1 << 63 | 12], "n = 12 rows"),
    ([1 << 63 | 7 << 48 | 1 << 40 | 1], "beats 7..8, the buffer has 8 a row"),
    ([1 << 63 | 10 << 16 | 2], "rows 10..11 past the buffer's 11"),
    ([1 << 63 | 1 << 30 | 1], "bits outside the command's fields"),
    ([1 << 63 | 1 << 61 | 1 << 16 | 1], "a listed access with base 1"),
    ([1 << 63 | 1 << 61 | 2, 3], "2 list words announced, 1 follow"),
    ([1 << 63 | 1 << 61 | 1, 11], "list word 0xb is not a row below 11"),
    ([1 << 63 | 1 << 61 | 1, 1 << 16], "list word 0x10000"),
])
def test_malformed_words_are_named(words, msg):
    with pytest.raises(ActBufferError, match=msg.replace("(", r"\(").replace(".", r"\.")):
        decode_words(words, BufferShape(lanes=4, values=30, rows=11, narrow=True))


def test_bad_accesses_and_shapes():
    sh = BufferShape(lanes=4, values=30, rows=11)
    with pytest.raises(ActBufferError, match="need listed=True"):
        command_words(Access(True, (3, 1)), sh)
    with pytest.raises(ActBufferError, match="must lie in 0..7"):
        command_words(Access(True, (0,), first=5, n_beats=4), sh)
    with pytest.raises(ActBufferError, match="row 11 outside"):
        command_words(Access(True, (11,), listed=True), sh)
    with pytest.raises(ActBufferError, match="rows \\(2048\\) must be in 1..2047"):
        BufferShape(4, 30, 2048)
    with pytest.raises(ActBufferError, match="65 beats a row"):
        BufferShape(1, 65, 3)


def test_narrow_store_is_the_operand_exactly(edge):
    """What a narrow buffer returns is operand(x) as an act value: the engine's own conversion of it
    changes nothing, so a narrow buffer in front of x_ loses nothing (the claim of docs/performance.md)."""
    act, op = edge.fmt("act"), edge.fmt("operand")
    g = np.random.default_rng(5)
    x = np.concatenate([g.integers(-(1 << 31), 1 << 31, 20000), np.array([8, -8, 7, 9, (1 << 31) - 1, -(1 << 31)])])
    y = store(x, BufferShape(32, 192, 129, narrow=True), edge)
    assert np.array_equal(op.quantize(y, act.frac), op.quantize(x, act.frac))
    assert y.min() >= act.raw_min and y.max() <= act.raw_max
    assert np.array_equal(y >> (act.frac - op.frac), op.quantize(x, act.frac))
    assert store(np.array([8]), BufferShape(1, 1, 1, narrow=True), edge)[0] == 16      # half up at the operand LSB
    assert np.array_equal(store(x, BufferShape(32, 192, 129), edge), x)


def _odd_cases(act) -> np.ndarray:
    """Random act values, the act extremes, and values on and beside every kind of boundary: the
    operand's grid, K / V's rounding halves (2^-12 odd multiples) and their ends of range."""
    g = np.random.default_rng(11)
    sh = 1 << (act.frac - 11)              # K / V's LSB in act raw units (11 fraction bits)
    k = g.integers(-(1 << 19), 1 << 19, 4000)
    near = np.concatenate([k * sh + sh // 2 + d for d in (-2, -1, 0, 1, 2)] + [k * sh + d for d in (-1, 0, 1)])
    ends = np.array([act.raw_max, act.raw_min, act.raw_max - 1, act.raw_min + 1, 0, 1, -1])
    return np.concatenate([g.integers(act.raw_min, act.raw_max + 1, 40000), near, ends])


@pytest.mark.parametrize("cfg_name", ["tiny", "edge_moe"])
def test_odd_store_then_kv_is_kv(cfg_name):
    """A value stored rounded to odd, then converted to attention's K / V format, is K / V's
    conversion of the value itself (the claim of the module docstring, on both shipped configs), while
    the RND store would differ (double rounding) on values just below a half; Q's format has the
    operand's fraction bits, so Q's RND store is exact and its odd store is not."""
    from python_ref.config import load_config
    from python_ref.kernels.act_buffer import odd_store_is_exact
    from python_ref.kernels.attention import kv_format, q_format
    cfg = load_config(cfg_name)
    act, op, kv, q = cfg.fmt("act"), cfg.fmt("operand"), kv_format(cfg), q_format(cfg)
    x = _odd_cases(act)
    sh = BufferShape(4, 8, 2, narrow=True)
    assert odd_store_is_exact(op, kv) is None
    assert np.array_equal(kv.quantize(store(x, sh, cfg, odd=True), act.frac), kv.quantize(x, act.frac))
    assert not np.array_equal(kv.quantize(store(x, sh, cfg), act.frac), kv.quantize(x, act.frac))
    assert q.frac == op.frac and np.array_equal(q.quantize(store(x, sh, cfg), act.frac), q.quantize(x, act.frac))
    assert "two fewer needed" in odd_store_is_exact(op, q)
    # round to odd by hand: floor at the operand's LSB, the LSB or-ed with the dropped bits
    u = 1 << (act.frac - op.frac)
    assert store(np.array([3 * u, 3 * u + 1, 4 * u + 1, -4 * u - 1]), sh, cfg, odd=True).tolist() == [3 * u, 3 * u, 5 * u, -5 * u]


def test_odd_store_words(edge):
    nsh, wsh = BufferShape(2, 4, 3, narrow=True), BufferShape(2, 4, 3)
    acc = Access(False, (0, 2), listed=True, n_beats=2, odd=True)
    words = command_words(acc, nsh)
    assert words[0] >> 60 & 1 and decode_words(words, nsh) == [acc]
    with pytest.raises(ActBufferError, match="narrow buffer only"):
        command_words(Access(False, (0,), odd=True), wsh)
    with pytest.raises(ActBufferError, match="narrow buffer only"):
        command_words(Access(True, (0,), odd=True), nsh)
    with pytest.raises(ActBufferError, match="round to odd on a read"):
        decode_words([1 << 63 | 1 << 60 | 1], nsh)
    with pytest.raises(ActBufferError, match="round to odd on a write of a wide buffer"):
        decode_words([1 << 60 | 1], wsh)
    buf = ActBuffer(nsh, edge)
    buf.write(acc, np.array([[9, 7], [1, 0], [-9, 17], [0, 0]]))
    assert buf.read(Access(True, (0,), n_beats=1)).tolist() == [[16, 16]]


def test_model_applies_accesses_in_order(edge):
    sh = BufferShape(2, 4, 3)
    buf = ActBuffer(sh, edge)
    buf.write(Access(False, (0, 1, 2), block_major=True), np.arange(12).reshape(6, 2))
    assert buf.read(Access(True, (1,))).tolist() == [[2, 3], [8, 9]]
    buf.write(Access(False, (1,), listed=True, first=1, n_beats=1), np.array([[70, 71]]))
    assert buf.read(Access(True, (2, 1), listed=True)).tolist() == [[4, 5], [10, 11], [2, 3], [70, 71]]


def test_frame_shapes(edge):
    f = BufferShape.frame(edge)
    assert (f["x_"].lanes, f["x_"].nb, f["h_"].nb, f["h_"].narrow, f["g_"].lanes) == (32, 6, 24, True, 16)
