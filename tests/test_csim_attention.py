"""C simulation of attention_top (hls/src/attention.cpp) against python_ref/kernels/attention.py, bit
for bit: the registered vector set (every named set of cosim/attention_vectors.py, >= 10^5 outputs per
config) runs in tests/test_csim.py; here the token counts that leave partial key blocks in QK^T (LO
keys per block) and AV (LI keys per block), the real layers of the published weights (skipped with the
reason when absent) and the per-set accounting of the vector set."""
from __future__ import annotations

import numpy as np
import pytest

from cosim.attention_vectors import (MIN_CSIM_VALUES, adversarial_sets, attention_csim, random_sets, real_missing_reason,
                                     real_sets)
from cosim.csim import VectorSet, build_tb, generated_headers, run_tb
from python_ref.config import load_config, parse_config
from python_ref.kernels.attention import attention_raw, single_pass

pytestmark = pytest.mark.csim


KV18 = {"width": 18, "int": 7, "quant": "RND", "overflow": "SAT_SYM"}   # format study (3), docs/accuracy.md
Q26 = {"width": 26, "int": 8, "quant": "RND", "overflow": "SAT_SYM"}


def single_pass_config(name):
    """The shipped config with 18-bit K / V and a 26-bit q (numerics.attention_kv / attention_q): the
    array's single-pass form, which python_ref and the C++ implement (the RTL not yet)."""
    raw = load_config(name).as_dict()
    raw["name"] = f"{name}_kv18"
    raw["numerics"].update(attention_kv=KV18, attention_q=Q26)
    cfg = parse_config(raw, f"{name}_kv18.yaml")
    assert single_pass(cfg)
    return cfg


def run_sets(cfg, sets: dict, tmp_path):
    qkv = list(sets.values())
    expected = [attention_raw(x, cfg) for x in qkv]
    vec = VectorSet("attention", {"sets": len(qkv)},
                    {"tokens.txt": np.array([x.shape[0] for x in qkv]),
                     "qkv.txt": np.concatenate([x.reshape(-1) for x in qkv])},
                    np.concatenate([e.reshape(-1) for e in expected]))
    generated = None if cfg.name in ("tiny", "edge_moe") else generated_headers(cfg)
    res = run_tb(build_tb("attention", cfg.name, generated), vec, tmp_path)
    return vec, res


def test_token_counts_with_partial_blocks(tmp_path):
    """tiny (LI = LO = 4): T = 1 .. 17 covers every remainder of the key blocks, on full-range and
    realistic qkv and the adversarial corners at T = 5."""
    cfg = load_config("tiny")
    sets = {}
    for T in range(1, cfg.model.tokens + 1):
        sets.update({f"T={T} {k}": v for k, v in random_sets(cfg, T, count=1, seed=100 + T).items()})
    sets.update({f"T=5 {k}": v for k, v in adversarial_sets(cfg, 5).items()})
    vec, res = run_sets(cfg, sets, tmp_path)
    assert res.exact, res.stderr[-2000:]


@pytest.mark.slow
def test_edge_moe_partial_key_blocks(tmp_path):
    """edge_moe (LI = LO = 32, d = 64): T = 31, 33 and 64 (one key short of a block, one key into the
    next, exactly two blocks), full range and realistic."""
    cfg = load_config("edge_moe")
    sets = {}
    for T in (31, 33, 64):
        sets.update({f"T={T} {k}": v for k, v in random_sets(cfg, T, count=1, seed=200 + T).items()})
    vec, res = run_sets(cfg, sets, tmp_path)
    assert res.exact, res.stderr[-2000:]


def test_real_layers(tmp_path):
    """Layers 0 and 1 of the published weights on the published frame (edge_moe)."""
    cfg = load_config("edge_moe")
    reason = real_missing_reason(cfg)
    if reason:
        pytest.skip(reason)
    vec, res = run_sets(cfg, real_sets(cfg), tmp_path)
    assert res.exact and vec.expected.size == 2 * cfg.model.tokens * cfg.model.dim, res.stderr[-2000:]


def test_single_pass_tiny(tmp_path):
    """tiny with 18-bit K / V and a 26-bit q: the registered vector set (every named set, >= 10^5
    outputs, where full-range operands saturate the narrower formats) and every T = 1 .. 17, bit for
    bit; python_ref's expectation differs from the split form's on them, so the formats are in use."""
    cfg = single_pass_config("tiny")
    v = attention_csim(cfg)
    tokens = v.inputs["tokens.txt"]
    qkv = v.inputs["qkv.txt"]
    sets, off = {}, 0
    for n, T in enumerate(tokens):
        size = int(T) * 3 * cfg.model.dim
        sets[f"set {n}"] = qkv[off:off + size].reshape(int(T), 3 * cfg.model.dim)
        off += size
    for T in range(1, cfg.model.tokens + 1):
        sets.update({f"T={T} {k}": x for k, x in random_sets(cfg, T, count=1, seed=400 + T).items()})
    vec, res = run_sets(cfg, sets, tmp_path)
    assert res.exact and vec.expected.size >= MIN_CSIM_VALUES, res.stderr[-2000:]
    split = np.concatenate([attention_raw(x, load_config("tiny")).reshape(-1) for x in sets.values()])
    assert np.count_nonzero(split != vec.expected) > 0


@pytest.mark.slow
def test_single_pass_edge_moe(tmp_path):
    """edge_moe with 18-bit K / V and a 26-bit q: T = 31, 33, 129 (random, full range) and the real
    layers when present."""
    cfg = single_pass_config("edge_moe")
    sets = {}
    for T in (31, 33, cfg.model.tokens):
        sets.update({f"T={T} {k}": v for k, v in random_sets(cfg, T, count=1, seed=500 + T).items()})
    if real_missing_reason(cfg) is None:
        sets.update(real_sets(cfg))
    vec, res = run_sets(cfg, sets, tmp_path)
    assert res.exact, res.stderr[-2000:]


@pytest.mark.parametrize("name", ["tiny", "edge_moe"])
def test_registered_set_size(name):
    """The registered set holds every named set and at least MIN_CSIM_VALUES outputs; a missing real
    group is reported with its reason, never dropped silently."""
    cfg = load_config(name)
    v = attention_csim(cfg)
    assert v.expected.size >= MIN_CSIM_VALUES
    names = v.notes["names"]
    assert set(adversarial_sets(cfg)) <= set(names) and set(random_sets(cfg)) <= set(names)
    reason = real_missing_reason(cfg)
    assert ("real layer 0" in names) == (reason is None)
    assert (reason is None) == (not v.notes["skipped"])
