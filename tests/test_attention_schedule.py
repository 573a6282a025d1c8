"""The attention unit's cycle model (cosim/attention_schedule.py): the phase order of
rtl/src/attn_phase.sv, the array work per head of performance.md section 4.3, the target of issue 9
(one edge_moe layer <= 20,000 cycles, >= 10x Edge-MoE's 204,336), and the cycle counts measured
under Verilator (tests/test_cosim_attention.py checks model = measurement live on every unstalled
run; the numbers pinned here are those measurements, so a change to the model or the RTL schedule
shows up without a simulation)."""
from __future__ import annotations

import pytest

import numpy as np

from cosim.attention_schedule import Geometry, input_segments, phase_order, predict, stream_qkv
from python_ref.config import load_config

EDGE_MOE_CYCLES = 204_336  # Edge-MoE's attention of one layer, by its loop trip counts (performance.md)

# (config, T) -> cycles from the ap_start edge to the ap_done edge, measured unstalled (Verilator):
# the shipped configs (K / V whole on the B port, one array pass) and, at NP = 2 with the split's unit
# widths, K / V split hi / lo (the derived config of tests/test_cosim_attention.py::test_attention_cosim_split_form)
MEASURED = {("tiny", 1): 209, ("tiny", 3): 320, ("tiny", 4): 356, ("tiny", 5): 471, ("tiny", 17): 1619}
MEASURED_SPLIT = {("tiny", 1): 217, ("tiny", 3): 410, ("tiny", 4): 518, ("tiny", 5): 677, ("tiny", 17): 2932}
SPLIT_UNITS = {"tiny": dict(NP=2, EL=2, RU=2, NL=2), "edge_moe": dict(NP=2, EL=8, RU=4, NL=4)}


def test_phase_order():
    assert phase_order(1) == [("QK", 0), ("AV", 0)]
    assert phase_order(2) == [("QK", 0), ("QK", 1), ("AV", 0), ("AV", 1)]
    assert phase_order(3) == [("QK", 0), ("QK", 1), ("AV", 0), ("QK", 2), ("AV", 1), ("AV", 2)]
    for h in range(1, 6):
        order = phase_order(h)
        assert sorted(order) == sorted([("QK", i) for i in range(h)] + [("AV", i) for i in range(h)])
        for i in range(h):  # QK(h) comes before AV(h), with another array phase between them when H > 1
            assert order.index(("AV", i)) - order.index(("QK", i)) >= (2 if h > 1 else 1)


@pytest.mark.parametrize("config,T", sorted(MEASURED))
def test_model_equals_measurement(config, T):
    cfg = load_config(config)
    assert predict(Geometry.from_config(cfg), T).cycles == MEASURED[(config, T)]
    assert predict(Geometry.from_config(cfg, **SPLIT_UNITS[config]), T).cycles == MEASURED_SPLIT[(config, T)]


def test_input_segments():
    """The x_ stream's segments follow the phase order: a QK phase's Q then K, an AV phase's V."""
    assert input_segments(1) == [("Q", 0), ("K", 0), ("V", 0)]
    assert input_segments(3) == [("Q", 0), ("K", 0), ("Q", 1), ("K", 1), ("V", 0), ("Q", 2), ("K", 2),
                                 ("V", 1), ("V", 2)]
    for h in range(1, 6):
        segs = input_segments(h)
        assert sorted(segs) == sorted((m, i) for m in "QKV" for i in range(h))


def test_stream_qkv_is_the_segments_in_order():
    T, heads, d = 5, 3, 4
    qkv = np.arange(T * 3 * heads * d).reshape(T, 3 * heads * d)
    s = stream_qkv(qkv, heads)
    assert sorted(s) == sorted(qkv.reshape(-1))            # a permutation of the layer's values
    seg = T * d
    for i, (m, h) in enumerate(input_segments(heads)):
        col = "QKV".index(m) * heads * d + h * d
        assert (s[i * seg:(i + 1) * seg] == qkv[:, col:col + d].reshape(-1)).all(), (m, h)
    with pytest.raises(ValueError, match="heads"):
        stream_qkv(qkv[:, :-1], heads)


@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
def test_array_starts_under_the_input(config):
    """The first array step needs only Q0 and K0 (2 T DB beats in): at T = TMAX the array starts
    before the last input beat and the loader waits for no phase after the first."""
    g = Geometry.from_config(load_config(config))
    T = g.tmax
    p = predict(g, T)
    assert p.phases[0]["first"] < p.input_done
    assert p.phases[0]["first"] - 2 * T * g.DB < 2 * g.issue_to_result + 2 * g.L * g.DB + 16


@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
@pytest.mark.parametrize("form", ["single", "split"])
def test_array_work_per_head(config, form):
    """QK^T: KB key blocks x T rows x NP DB steps; AV: DB output blocks x T rows x NP KB steps (NP = 1:
    K / V whole, the shipped form; 2: split hi / lo); at the configured T the array runs without a
    bubble inside a phase, and between phases only while an AV phase waits for its first row's exp."""
    cfg = load_config(config)
    g = Geometry.from_config(cfg, **(SPLIT_UNITS[config] if form == "split" else {}))
    T = cfg.model.tokens
    p = predict(g, T)
    per_head = g.kb(T) * T * g.NP * g.DB
    assert [ph["steps"] for ph in p.phases] == [per_head] * (2 * cfg.model.heads)
    assert [ph["phase"] for ph in p.phases] == [f"{a}{h}" for a, h in phase_order(cfg.model.heads)]
    assert all(ph["last"] - ph["first"] + 1 == per_head for ph in p.phases)
    assert p.steps == 2 * cfg.model.heads * per_head
    assert p.array_cycles - p.steps <= (0 if form == "split" else 40 * cfg.model.heads)
    if config == "edge_moe":
        assert per_head == {"split": 2580, "single": 1290}[form]  # performance.md 4.3: 5 key blocks x 129 rows x 4


def test_edge_moe_target():
    g = Geometry.from_config(load_config("edge_moe"))
    p = predict(g, 129)
    assert p.cycles <= 20_000 and EDGE_MOE_CYCLES / p.cycles >= 10
    assert p.steps == 7_740 and p.array_cycles == 7_818     # 15,480 steps with K / V split hi / lo


@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
def test_every_token_count(config):
    """The model is defined for every T of the unit; more tokens never take fewer cycles."""
    g = Geometry.from_config(load_config(config))
    cycles = [predict(g, T).cycles for T in range(1, g.tmax + 1)]
    assert all(b >= a for a, b in zip(cycles, cycles[1:]))
    with pytest.raises(ValueError):
        predict(g, g.tmax + 1)
