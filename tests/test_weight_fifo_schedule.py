"""cosim/weight_fifo_schedule.py (the DDR -> weight FIFO -> w_ cycle model) on small cases computed by
hand: the token bucket's first push cycles, the room rule F_k >= P_{k-DEPTH} + 1, a dropped word
leaving at max(head, routing visible), the DMA's skip at fetch time, the routing-order error, and
bad arguments. The RTL against the model is tests/test_cosim_weight_fifo.py. Pure Python."""
from __future__ import annotations

import random

import pytest

from cosim.weight_fifo_schedule import PUSH_TO_HEAD, Segment, WeightFifo, WeightFifoError


def drain(m: WeightFifo, words: int, ready=lambda c: True, start: int = 0) -> list[int]:
    """The engine takes ``words`` words, each in the first cycle it is offered and ``ready`` allows."""
    taken, c = [], start
    while len(taken) < words:
        if m.valid(c) and ready(c):
            m.pop(c)
            taken.append(c)
        c += 1
    return taken


# ---- the token bucket
def test_bucket_one_word_per_word_cycles():
    m = WeightFifo([Segment(5)], depth=16, rate=1, word=4, burst=2)
    assert [m.push_time(k) for k in range(5)] == [3, 7, 11, 15, 19]    # 4 refills of 1 per word
    assert m.push_time(5) is None                                         # the stream has 5 words


def test_bucket_fractional_rate():
    # rate 3, word 4: credit 3, 6 -> push in cycle 1 (2 left), 5 -> cycle 2 (1), 4 -> cycle 3 (0), 3, 6 -> cycle 5
    m = WeightFifo([Segment(7)], depth=16, rate=3, word=4, burst=2)
    assert [m.push_time(k) for k in range(7)] == [1, 2, 3, 5, 6, 7, 9]


def test_bucket_fast_ddr_one_word_per_cycle_from_start():
    m = WeightFifo([Segment(4)], depth=16, rate=4, word=1, burst=3, start=10)
    assert [m.push_time(k) for k in range(4)] == [10, 11, 12, 13]


def test_bucket_burst_after_waiting_for_room():
    # depth 4, rate 1, word 2, cap 4: pushes at 1, 3, 5, 7; the engine takes words 0..3 in 20..23. The bucket
    # is full (4) by then: word 4 goes at P_0 + 1 = 21 (2 left), word 5 at 22 (3 - 2 = 1), word 6 at 23 (2 - 2),
    # and word 7 waits for the bucket (P_3 + 1 = 24 has only 1): 25.
    m = WeightFifo([Segment(8)], depth=4, rate=1, word=2, burst=2)
    assert [m.push_time(k) for k in range(4)] == [1, 3, 5, 7]
    assert m.push_time(4) is None          # needs the pop of word 0, not given yet
    assert drain(m, 4, ready=lambda c: c >= 20) == [20, 21, 22, 23]
    assert [m.push_time(k) for k in range(8)] == [1, 3, 5, 7, 21, 22, 23, 25]


# ---- the room rule and the head
def test_room_rule_and_head_times():
    m = WeightFifo([Segment(4)], depth=2, rate=1, word=1)
    assert [m.push_time(k) for k in range(2)] == [0, 1]
    assert PUSH_TO_HEAD == 3 and m.head_time() == 3   # memory read register, output slice, head register
    assert not m.valid(2) and m.valid(3)
    m.pop(5)                                   # word 0 taken late: word 2 may be pushed from 6
    assert m.push_time(2) == 6
    assert m.head_time() == 6                  # word 1 at the head from P_0 + 1 (it was pushed long before)
    m.pop(6)
    assert m.push_time(3) == 7
    assert m.head_time() == 9                  # word 2: F + 3 = 9 > P_1 + 1 = 7
    with pytest.raises(WeightFifoError, match="taken in cycle 8, offered only from 9"):
        m.pop(8)
    m.pop(9)
    for k in range(2, 4):
        assert m.F[k] >= m.P[k - 2] + 1


def test_random_streams_keep_the_invariants():
    rng = random.Random(5)
    for _ in range(60):
        depth = rng.choice([2, 4, 8, 16])
        segs = [Segment(rng.randint(1, 6))]
        for e in range(4):
            segs.append(Segment(rng.randint(1, 6), (0, e)))
        segs.append(Segment(rng.randint(1, 6)))
        active = {e for e in range(4) if rng.random() < 0.5}
        vis = rng.randint(0, 40)
        m = WeightFifo(segs, depth, rate=rng.randint(1, 4), word=rng.randint(1, 4), burst=rng.randint(1, 4))
        m.route(0, active, visible_from=vis)
        kept = sum(s.words for s in segs if s.expert is None or s.expert[1] in active)
        drain(m, kept, ready=lambda c: rng.random() < 0.6)
        n = len(m.P)
        assert m.F == sorted(set(m.F)) and m.P == sorted(set(m.P))
        for k in range(n):
            h = m.F[k] + PUSH_TO_HEAD if k == 0 else max(m.F[k] + PUSH_TO_HEAD, m.P[k - 1] + 1)
            s = segs[m.seg_of[k]]
            assert m.P[k] >= h
            if k >= depth:
                assert m.F[k] >= m.P[k - depth] + 1
            if s.expert is not None and s.expert[1] not in active:
                assert m.P[k] == max(h, vis)                    # dropped as soon as head and routing allow
        for i in m.skipped_segments():
            assert segs[i].expert[1] not in active
        assert m.dropped + kept == n == m.fetched_words()
        assert sum(segs[i].words for i in m.skipped_segments()) + n == sum(s.words for s in segs)


# ---- drops and skips
SEGS = [Segment(2, name="a"), Segment(2, (0, 1), "e1"), Segment(2, (0, 2), "e2"), Segment(1, name="b")]


def test_drop_when_the_word_reaches_the_head():
    # F = 0..6 (nothing skipped: e2's first word is pushed in 4, the routing is visible from 4: active).
    # The engine takes a's words in 3 and 4; e1's words are dropped in 5 (= its head time, the routing is
    # visible) and 6; e2's first word is at the head from max(F + 3, 6 + 1) = 7.
    m = WeightFifo(SEGS, depth=8, rate=1, word=1)
    m.route(0, {2}, visible_from=4)
    assert drain(m, 2) == [3, 4]
    assert not m.valid(6) and m.valid(7)
    assert m.P == [3, 4, 5, 6] and m.dropped == 2
    assert drain(m, 3, start=7) == [7, 8, 9]
    assert m.F == list(range(7)) and m.skipped_segments() == []


def test_drop_when_the_routing_becomes_visible():
    # the same stream with the routing visible only from 10: e1's first word waits at the head from 5,
    # is dropped in 10, its second in 11; e2's first word is offered from 12.
    m = WeightFifo(SEGS, depth=8, rate=1, word=1)
    m.route(0, {2}, visible_from=10)
    assert drain(m, 2) == [3, 4]
    assert not m.valid(11) and m.valid(12)
    assert m.P == [3, 4, 10, 11]


def test_skip_at_fetch_time():
    segs = [Segment(3, name="a"), Segment(2, (0, 0), "e0"), Segment(2, (0, 1), "e1"), Segment(1, name="b")]
    # visible from 3: e0's first word would be pushed in 3 -> skipped; e1 follows in the same cycle
    m = WeightFifo(segs, depth=8, rate=1, word=1)
    m.route(0, {1}, visible_from=3)
    assert drain(m, 6) == [3, 4, 5, 6, 7, 8]
    assert m.F == [0, 1, 2, 3, 4, 5] and m.skipped_segments() == [1] and m.dropped == 0
    assert [m.seg_of[k] for k in range(6)] == [0, 0, 0, 2, 2, 3]
    # visible from 4: e0's first word went in 3 (speculatively), so e0 is fetched and dropped at the head
    m = WeightFifo(segs, depth=8, rate=1, word=1)
    m.route(0, {1}, visible_from=4)
    assert drain(m, 3) == [3, 4, 5]
    assert m.head_time() == 8                     # e1's first word: F = 5, + 3; e0's words dropped in 6, 7
    assert m.P[3:] == [6, 7] and m.skipped_segments() == [] and m.dropped == 2


def test_inactive_first_word_of_the_stream_waits_and_is_dropped():
    m = WeightFifo([Segment(2, (3, 0)), Segment(1)], depth=4, rate=1, word=1)
    m.route(3, set(), visible_from=9)
    assert m.head_time() == 11 and m.P == [9, 10]


# ---- errors
def test_routing_after_the_model_fetched_speculatively():
    m = WeightFifo([Segment(1), Segment(2, (0, 0)), Segment(1, (0, 1)), Segment(1)], depth=8, rate=1, word=1)
    assert m.push_time(2) == 2                   # e0's words pushed in 1 and 2 without the routing
    with pytest.raises(WeightFifoError, match="layer 0's routing given for cycle 1, after the model had already "
                                              "fetched its experts speculatively up to cycle 1"):
        m.route(0, {1}, visible_from=1)
    # e0's first word (cycle 1) decided the segment; its second word (cycle 2) follows whatever the
    # routing, so a routing visible from 2 is consistent with the fetches made (e0 dropped at the head)
    m.route(0, {1}, visible_from=2)
    assert m.push_time(3) == 3 and m.push_time(4) == 4 and m.skipped_segments() == []
    with pytest.raises(WeightFifoError, match="routing of layer 0 was given twice"):
        m.route(0, {0}, visible_from=5)


def test_routing_skips_after_a_speculative_segment():
    """A routing given after a speculative first word but before the next expert's first word: the
    next inactive expert is skipped, the fetched one dropped."""
    m = WeightFifo([Segment(1), Segment(2, (0, 0)), Segment(2, (0, 1)), Segment(1)], depth=8, rate=1, word=1)
    assert m.push_time(2) == 2
    m.route(0, {1}, visible_from=2)
    assert m.push_time(3) == 3 and m.push_time(4) == 4 and m.push_time(5) == 5
    assert [m.seg_of[k] for k in range(6)] == [0, 1, 1, 2, 2, 3]
    m = WeightFifo([Segment(1), Segment(2, (0, 0)), Segment(2, (0, 1)), Segment(1)], depth=8, rate=1, word=1)
    assert m.push_time(2) == 2
    m.route(0, {0}, visible_from=3)              # e1's first word would be pushed in 3: skipped
    assert m.push_time(3) == 3 and m.seg_of[3] == 3 and m.skipped_segments() == [2]
    with pytest.raises(WeightFifoError, match="routing of layer 0 was given twice"):
        m.route(0, {0}, visible_from=5)


def test_expert_word_at_the_head_without_routing():
    """valid(): not offered while the routing is unknown, and the routing must then come later than
    that cycle; head_time() / pop() cannot answer without it."""
    m = WeightFifo([Segment(1, (2, 5))], depth=4, rate=1, word=1)
    assert not m.valid(10)
    with pytest.raises(WeightFifoError, match="an expert word of layer 2 reached the head before the layer's routing"):
        m.head_time()
    with pytest.raises(WeightFifoError, match="layer 2's routing given for cycle 10, but the model had already kept"):
        m.route(2, {5}, 10)
    m.route(2, {5}, 11)
    assert m.head_time() == 11 and m.valid(11) and not m.valid(10)


def test_engine_asks_beyond_the_stream():
    m = WeightFifo([Segment(1)], depth=4, rate=1, word=1)
    drain(m, 1)
    assert not m.valid(100)          # nothing more to offer
    with pytest.raises(WeightFifoError, match="asked for word 1 beyond the stream"):
        m.head_time()
    with pytest.raises(WeightFifoError, match="asked for word 1 beyond the stream"):
        m.pop(100)


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=1), "depth 1: must be an integer >= 2"),
    (dict(depth=2.5), "depth 2.5: must be an integer >= 2"),
    (dict(rate=0), "rate 0, word 1, burst 8 must be >= 1"),
    (dict(word=0), "rate 1, word 0, burst 8 must be >= 1"),
    (dict(burst=0), "burst 0 must be >= 1"),
])
def test_bad_arguments(kwargs, match):
    args = dict(depth=4, rate=1, word=1) | kwargs
    with pytest.raises(WeightFifoError, match=match):
        WeightFifo([Segment(1)], **args)


def test_empty_segment():
    with pytest.raises(WeightFifoError, match=r"segment 1 \(e3\): 0 words, must be >= 1"):
        WeightFifo([Segment(1), Segment(0, (0, 3), "e3")], depth=4, rate=1, word=1)
