"""cosim.linear_schedule's model of overlapped calls (Sequence) against its model of one call
(predicted_cycles): an isolated call is the same schedule, and a sequence never takes longer than
the same calls one after the other. The Verilator comparison is tests/test_cosim_linear.py
(test_overlapped_calls: every call's ap_ready / ap_done cycle = Sequence). Pure Python, seconds."""
from __future__ import annotations

import random

import pytest

from cosim.linear_schedule import SeqCall, Sequence, Throttle, predicted_cycles, predicted_sequence
from python_ref.config import load_config


@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
def test_an_isolated_call_is_predicted_cycles(config):
    cfg = load_config(config)
    rng = random.Random(3)
    e = cfg.hardware.axi_width // 16
    for _ in range(150):
        o, i, r, g = rng.randint(1, 120), rng.randint(1, 120), rng.randint(1, 30), rng.random() < 0.5
        lo, li = rng.choice([None, 1, 3, 4]), rng.choice([None, e, 2 * e])
        th = rng.choice([None, Throttle(rng.randint(1, e), e, rng.randint(1, 8))])
        p = predicted_cycles(cfg, o, i, r, g, lo, li, throttle=th)
        s = predicted_sequence(cfg, [SeqCall(o, i, r, g)], lo, li, throttle=th)[0]
        assert (s.cycles, s.block0_full, s.ready, s.launch) == (p.cycles, p.block0_load, 0, 0), (o, i, r, g, lo, li, th)


@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
def test_a_sequence_hides_block_0_loads(config):
    """Back to back, every call after the first starts its compute when the previous one is done
    (its block 0 was loaded meanwhile): the sequence is shorter than the isolated calls summed, each
    call is at least its steps plus the output pipeline, and an idle gap longer than a call makes the
    next call isolated again."""
    cfg = load_config(config)
    rng = random.Random(4)
    for th in (None, Throttle(3, cfg.hardware.axi_width // 16, 4)):
        calls = [SeqCall(rng.randint(1, 100), rng.randint(1, 100), rng.randint(1, 20), rng.random() < 0.5)
                 for _ in range(12)]
        res = predicted_sequence(cfg, calls, throttle=th)
        iso = [predicted_cycles(cfg, c.n_out, c.n_in, c.rows, c.gelu, throttle=th) for c in calls]
        assert res[-1].done + 1 < sum(p.cycles for p in iso)
        li, lo = cfg.hardware.linear_in, cfg.hardware.linear_out
        for a, b, c, p in zip(res, res[1:], calls[1:], iso[1:]):
            assert b.launch == max(b.ready, a.done) and b.ready > a.loader_fin
            steps = c.rows * -(-c.n_in // li) * -(-c.n_out // lo)
            assert b.done - b.launch >= steps + p.pipeline - 1
            assert b.done - a.done <= p.cycles
        gap = [SeqCall(c.n_out, c.n_in, c.rows, c.gelu, delay=10 ** 5 if k == 5 else 0) for k, c in enumerate(calls)]
        r5 = predicted_sequence(cfg, gap, throttle=th)[5]
        assert r5.cycles == iso[5].cycles


def test_bad_sequence_call():
    with pytest.raises(ValueError, match="rows 0"):
        Sequence(load_config("tiny")).add(SeqCall(3, 3, 0))
