"""RTL attention unit (rtl/src/attention.sv) against python_ref.kernels.attention.attention_raw under
cocotb + Verilator: the adversarial and random vector sets of cosim/attention_vectors.py, other token
counts, reset mid-layer, every stall pattern; on every unstalled run each layer's cycles equal the
cycle model (cosim/attention_schedule.py); a corrupted expectation must fail.

tiny in `make test` (unstalled with the exact-cycle check, and random source gaps + sink
backpressure); the other stall patterns, >= 10^5 output values of tiny, and the whole edge_moe
layer (32 x 32 array) behind @pytest.mark.slow."""
from __future__ import annotations

import pytest
import yaml

from cosim.attention_schedule import Geometry, predict
from cosim.attention_vectors import operand_form
from cosim.runner import CosimError, broken_copy, run_unit
from cosim.toolchain import REPO_ROOT
from python_ref.config import load_config

pytestmark = pytest.mark.cosim

NOT_REAL = ["test_adversarial", "test_random", "test_tokens", "test_reset_mid_layer"]

# (config, stall, random layers, slow)
RUNS = [("tiny", "none", 2, False), ("tiny", "both", 2, False),
        ("tiny", "gaps", 2, True), ("tiny", "backpressure", 2, True),
        ("tiny", "none", 200, True),                       # >= 10^5 output values (544 per layer)
        ("edge_moe", "none", 2, True), ("edge_moe", "both", 2, True)]


def run(config, stall, n, run_name, testcase=NOT_REAL, **kw):
    return run_unit("attention", config, stall=stall, n_random=n, run_name=run_name, testcase=testcase, **kw)


@pytest.mark.parametrize("config,stall,n", [
    pytest.param(c, s, n, marks=[pytest.mark.slow] if slow else [], id=f"{c}-{s}-{n}") for c, s, n, slow in RUNS])
def test_attention_cosim(config, stall, n):
    cfg = load_config(config)
    r = run(config, stall, n, f"{stall}_{n}", testcase=NOT_REAL if n < 100 else "test_random")
    assert r["mismatches"] == 0 and r["tests_run"] == (4 if n < 100 else 1)
    layers = r["layers"]
    assert r["out_values"] == sum(x["T"] for x in layers) * cfg.model.dim
    if n < 100:
        ts = {x["T"] for x in layers}
        assert {1, cfg.model.tokens} <= ts and len(ts) >= 4, ts
    if stall == "none":
        # the cycle model equals the measurement on every unstalled layer (every T run)
        geom = Geometry.from_config(cfg)
        assert [(x["T"], x["cycles"]) for x in layers] == [(x["T"], predict(geom, x["T"]).cycles) for x in layers]
    else:
        stalls = r.get("input_stall_cycles", 0) + r.get("output_stall_cycles", 0)
        assert stalls > 0
    if n >= 100:
        assert r["out_values"] >= 100_000


OPERAND = {"width": 27, "int": 9, "quant": "RND", "overflow": "SAT_SYM"}  # formats.operand: K / V split hi / lo


def config_yaml(cfg) -> str:
    """A derived config written as YAML under build/configs/ (the runner builds from a file)."""
    path = REPO_ROOT / "build" / "configs" / f"{cfg.name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(cfg.as_dict(), sort_keys=False)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return str(path)


def test_attention_cosim_split_form():
    """tiny with K / V in formats.operand (27 bits: split hi / lo, two array passes per product, the
    form before the shipped configs moved to 18-bit K / V): bit-exact on the adversarial, random and
    token-count sets, and cycle-exact against the model, which counts the form's steps and its units'
    widths (the shipped single-pass form runs in test_attention_cosim)."""
    path = config_yaml(operand_form("tiny", OPERAND, OPERAND, "tiny_kv27"))
    cfg = load_config(path)
    r = run(path, "none", 2, "split")
    assert r["mismatches"] == 0 and r["tests_run"] == 4
    geom = Geometry.from_config(cfg)
    assert (geom.NP, geom.RU) == (2, 2) and Geometry.from_config(load_config("tiny")).NP == 1
    layers = r["layers"]
    assert [(x["T"], x["cycles"]) for x in layers] == [(x["T"], predict(geom, x["T"]).cycles) for x in layers]


def test_attention_scoreboard_can_fail():
    with pytest.raises(CosimError, match="mismatch") as exc:
        run("tiny", "none", 1, "corrupt", testcase="test_random", corrupt=True)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


@pytest.mark.slow
@pytest.mark.published
def test_attention_real_layers():
    """The published layer-0 and layer-1 qkv (129 tokens): bit-exact, cycle-exact."""
    r = run("edge_moe", "none", 1, "real", testcase="test_real")
    assert r["mismatches"] == 0 and r["real_rows"] == 2 * 129
    g = Geometry.from_config(load_config("edge_moe"))
    assert all(x["cycles"] == predict(g, x["T"]).cycles for x in r["layers"])


# Broken copies of the flags registered ahead of time for timing (issue #14): each edit is a plausible
# one-line slip in a next-value formula, and the bench must fail on it (a simulation assertion against
# the flag's definition, a wrong value or a wrong cycle count). test_tokens covers T = 1, L - 1, L, L + 1
# and TMAX (one key block, partial blocks, the last-row and last-block flags), and T = 7 (a partial last
# block of two key blocks with two lane groups: attn_exp's block-end flags).
ATTN_BROKEN = {
    "loader_issue": ("attn_loader.sv", [("else issue <= can_start || (run && !issue);",
                                         "else issue <= can_start || run;")]),
    "loader_last_word": ("attn_loader.sv", [("last_word <= t == t_end && t_adv;", "last_word <= t == t_end;")]),
    "loader_t_adv": ("attn_loader.sv", [("t_adv <= w == 4'(DB - 2);", "t_adv <= w == 4'(DB - 1);")]),
    "core_free_busy": ("attention_core.sv", [("free  <= ~held_n & ~bbusy_n;", "free  <= ~held_n;")]),
    "exp_row_ok_credit": ("attn_exp.sv", [("(active ? cr_th[0] : (row_ok ? cr_not1 : cr_th[0]));",
                                           "(active ? cr_th[0] : cr_th[0]);")]),
    "exp_c_last": ("attn_exp.sv", [("c_last <= oc_r;", "c_last <= kz_r;")]),
    # a row started one row early: before its maximum is final, and past the layer's last (there is no
    # separate "every row issued" flag behind this compare)
    "exp_mr_ok": ("attn_exp.sv", [("wire           mr_gt0 = max_rows_n > g;", "wire           mr_gt0 = max_rows_n >= g;")]),
    "exp_r_last_wrap": ("attn_exp.sv", [("r_last ? tz_r : r == t_m2;", "r_last ? 1'b0 : r == t_m2;")]),
    "out_avail": ("attn_out.sv", [("(out_inc ? ge0 : gt0);", "gt0;")]),
    "out_q_pre": ("attn_out.sv", [("q_pre  <= q == t_m3;", "q_pre  <= q == t_m2;")]),
    "store_seg_end": ("attn_qkv_store.sv", [("seg_end <= j == ($bits(j))'(DB - 2) && t_last;",
                                             "seg_end <= j == ($bits(j))'(DB - 2);")]),
    # the loader starting a phase before its input is in the store (the phase-order stream)
    "loader_ph_ok": ("attn_loader.sv", [("ph_ok    <= ph_adv ? ok_out : ok_in;", "ph_ok    <= 1'b1;")]),
}
# one in `make test` (each a Verilator build of its own, about two minutes), the others in `make test-full`
ATTN_BROKEN_FAST = {"loader_issue"}


@pytest.mark.parametrize("bug", [pytest.param(b, marks=[] if b in ATTN_BROKEN_FAST else [pytest.mark.slow])
                                 for b in sorted(ATTN_BROKEN)])
def test_attention_broken_copies_fail(bug, tmp_path):
    name, edits = ATTN_BROKEN[bug]
    replace = broken_copy(tmp_path, name, edits)
    with pytest.raises(CosimError, match="mismatch|failed"):
        run("tiny", "none", 0, f"broken_{bug}", testcase="test_tokens", variant=f"broken_{bug}",
            replace=replace, tokens=[1, 3, 4, 5, 7, 17])
