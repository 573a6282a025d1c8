"""The complete RTL linear engine (rtl/src/linear.sv) against python_ref under cocotb + Verilator,
through cosim.runner: every layer shape of the config (fc1 + GELU, the expert pair gathered + GELU
then scaled scatter-accumulate, the patch embedding accumulated onto pos), full-range odd shapes
with every output mode under stalls and backpressure, back-to-back calls with different weights,
other tile sizes (LI / LO parameters), the weight stream throttled like DDR (the load-bound regime),
and exact cycle counts (cosim.linear_schedule.predicted_cycles = the measurement on every unstalled
call).

tiny.yaml and a reduced edge_moe engine (8 x 4 tile, few tokens) in `make test`; the edge_moe.yaml
shapes (32 x 32 tile, 129 tokens) behind @pytest.mark.slow (`make linear-full`, `make test-full`)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from cosim.linear_jobs import model_sequence, rtl_calls, run_csim
from cosim.runner import CosimError, broken_copy, run_unit
from python_ref.config import load_config

MODEL_LAYERS = ["qkv", "proj", "fc1", "fc2", "expert_fc1", "expert_fc2", "patch"]

pytestmark = pytest.mark.cosim


def run_linear(config: str, run_name: str, testcase=None, parameters=None, stall: str = "both", **extra) -> dict:
    return run_unit("linear", config, stall=stall, run_name=run_name, testcase=testcase, parameters=parameters,
                    **extra)


def check_model_runs(cfg, r, rows):
    """Every model shape bit-exact, the cycles equal to the model; where no block waited for its
    weights the call takes block 0's load + one cycle per step + the output pipeline."""
    runs = [x for x in r["runs"] if x["layer"] in MODEL_LAYERS]
    assert [x["layer"] for x in runs] == MODEL_LAYERS
    for run in runs:
        assert run["mismatches"] == 0
        if run["layer"] not in ("expert_fc1", "expert_fc2", "patch"):
            assert run["rows"] == rows
        assert run["cycles"] == run["predicted"], run
        if not run["load_bound"]:
            assert run["cycles"] == run["block0_load"] + run["ideal"] - 1 + run["pipeline"], run
    return runs


def check_sequences(r, n_calls=11):
    """The overlapped-call tests: every call bit-exact, ap_ready / ap_done in call order, and on the
    unstalled back-to-back sequence every call's ap_ready and ap_done cycle equal to
    cosim.linear_schedule.Sequence; the sequence ends earlier than the same calls one at a time."""
    seq = [x for x in r["runs"] if x.get("sequence") == "seq"]
    gaps = [x for x in r["runs"] if str(x.get("sequence", "")).startswith("gaps_")]
    assert len(seq) == len(gaps) == n_calls
    assert all(x["mismatches"] == 0 for x in seq + gaps)
    for x in seq:
        assert (x["ready"], x["done"]) == (x["predicted_ready"], x["predicted_done"]), x
    assert all(a["done"] < b["done"] for a, b in zip(seq, seq[1:]))
    assert seq[-1]["done"] + 1 < sum(x["isolated"] for x in seq)
    assert gaps[4]["ready"] > gaps[3]["done"]     # the 300-cycle gap: the engine went idle in between
    if gaps[0]["sequence"] == "gaps_none":
        assert all((x["ready"], x["done"]) == (x["predicted_ready"], x["predicted_done"]) for x in gaps)
    return seq, gaps


def test_linear_cosim_tiny():
    """The cocotb tests on tiny.yaml (odd shapes under random gaps and backpressure on every
    stream, back to back, reset in the middle of a call and of an overlapped sequence, overlapped
    calls): bit-exact, exact cycle counts for the model shapes and the overlapped sequence.
    (test_vectors_file and test_frame_sequence are skipped without their run parameters but listed.)"""
    cfg = load_config("tiny")
    # 20k random values here; the >= 10^5 value run is test_linear_cosim_edge_moe_reduced
    r = run_linear("tiny", "default", stall="both", n_random=20000)
    assert r["tests_run"] == 11 and r["mismatches"] == 0 and r["stall"] == "both"
    assert r["random_values"] >= 20000 and r["out_values"] >= 25000
    check_model_runs(cfg, r, cfg.model.tokens)
    odd = [x for x in r["runs"] if x["layer"].startswith("odd")]
    assert len(odd) == 9 and {x["mode"] for x in odd} == {"store", "accumulate", "scaled"}
    b2b = [x for x in r["runs"] if x["layer"].startswith("b2b")]
    assert len(b2b) == 3 and all(x["cycles"] == x["predicted"] for x in b2b)
    ddr = [x for x in r["runs"] if x["layer"].startswith("expert_fc") and "_t" in x["layer"]]
    assert len(ddr) == 6 and all(x["cycles"] == x["predicted"] for x in ddr)
    assert r["layers"] == 7 + 9 + 3 + 1 + 6 + 2 * 11 + 4 + r["random_calls"]
    assert "after_reset" in [x["layer"] for x in r["runs"]]
    check_sequences(r)
    assert len([x for x in r["runs"] if x.get("sequence") == "after_reset_seq"]) == 4  # reset mid-sequence


def test_linear_stalls_change_timing_not_results():
    """The odd-shape test without stalls, under backpressure only and under input gaps only: exact
    results every time, and the injected pauses really acted (the sink refused beats the engine
    offered; input gaps made the calls longer)."""
    runs = {s: run_linear("tiny", f"odd_{s}", testcase="test_odd_shapes_modes_stalls", stall=s)
            for s in ("none", "backpressure", "gaps")}
    for s, r in runs.items():
        assert r["mismatches"] == 0 and r["stall"] == s and len(r["runs"]) == 9
    assert sum(x["y_held_cycles"] for x in runs["none"]["runs"]) == 0
    # without stalls even the load-bound odd shapes take exactly the modelled schedule
    assert all(x["cycles"] == x["predicted"] for x in runs["none"]["runs"])
    assert all(x["cycles"] >= x["predicted"] for r in runs.values() for x in r["runs"])
    assert sum(x["y_held_cycles"] for x in runs["backpressure"]["runs"]) > 20
    assert sum(x["cycles"] for x in runs["gaps"]["runs"]) > sum(x["cycles"] for x in runs["none"]["runs"]) + 50


@pytest.mark.parametrize("li,lo,w_bits", [(16, 3, 128), (4, 4, 512), pytest.param(8, 2, 128, marks=pytest.mark.slow)])
def test_linear_other_tiles(li, lo, w_bits):
    """LI / LO as parameters on row-major words (W_ROWS = 1, pack_matrix_axi): on tiny.yaml's 128-bit
    words a tile row spanning two words (LI 16 > 8 weights per word, the loader's multi-segment path),
    a non-power-of-two LO, and a tile row of exactly one word; on 512-bit words at tiny's 4 x 4 tile,
    eight steps per word (a row's last word reaching past in_dim: the steps the loader must not
    write); odd shapes under stalls, back to back."""
    r = run_linear("tiny", f"tile{li}x{lo}_w{w_bits}", testcase=["test_odd_shapes_modes_stalls",
                                                               "test_back_to_back_same_shape", "test_random_calls"],
                   parameters={"LI": li, "LO": lo, "W_BITS": w_bits, "W_ROWS": 1}, stall="both", n_random=3000)
    assert (r["li"], r["lo"]) == (li, lo) and r["mismatches"] == 0 and r["layers"] == 9 + 3 + r["random_calls"]
    assert all(x["cycles"] == x["predicted"] for x in r["runs"] if x["layer"].startswith("b2b"))
    assert all(x["cycles"] >= x["predicted"] for x in r["runs"])


def test_linear_scoreboard_can_fail():
    """Flipping one expected LSB makes the run fail with exactly one reported mismatch."""
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_linear("tiny", "corrupt", testcase="test_back_to_back_same_shape", corrupt=True)
    assert "test_back_to_back_same_shape" in str(exc.value)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


# Broken copies of the flags registered ahead of time (each checked against its definition by a
# simulation assertion): in linear_out.sv a GELU pipeline one stage shorter than gelu.sv's in the ready
# prediction, the side FIFO's head flag not loaded on a push into an empty FIFO, its empty flag not set
# by the last pop (the z_go cofactor), acc_ok missing the acc_ slice's handshake (in its z_go
# cofactor); in linear_issue.sv full[cbank] missing the loader's handover; in linear_loader.sv lr_one
# one row late, the next (last) block's rows one too many (rem - LO instead of rem - LO - 1), and the
# block setup's lr_one from d == 0 (setup_of, both writes); in linear_core.sv the first block's last row
# registered as out_dim instead of out_dim - 1; on tiny's two-row words (W_ROWS = 2) the two rows' lanes
# swapped, and the column advancing by one row instead of two. Each must fail the odd-shapes run (GELU on
# every other call, every output mode, stalls on every stream).
LINEAR_BROKEN = {
    "gelu_stages": ("linear_out.sv", [("localparam int GST = gelu_pkg::GELU_STAGES;", "localparam int GST = gelu_pkg::GELU_STAGES - 1;")]),
    "side_last_push": ("linear_out.sv", [("if (s_push && (s_pop ? side_e1 : side_e0)) side_last <= f_user[0];",
                                          "if (s_push && s_pop && side_e1) side_last <= f_user[0];")]),
    "acc_ok_handshake": ("linear_out.sv", [("wire pv = rst_n && ((prev_valid && !(tk && need_acc)) ||",
                                            "wire pv = rst_n && ((prev_valid) ||")]),
    "side_e0_pop": ("linear_out.sv", [("? side_e0 : !g_push && side_e1;", "? side_e0 : 1'b0;")]),
    "cfull_handover": ("linear_issue.sv", [("full[!cbank] || handover[!cbank] : full[cbank] || handover[cbank];",
                                            "full[!cbank] : full[cbank];")]),
    "lr_one_late": ("linear_loader.sv", [("lr_one   <= 32'(lr_left) == 2;", "lr_one   <= 32'(lr_left) == 1;")]),
    "next_rows_off_by_one": ("linear_loader.sv", [("a_d   <= DW'(rem - RW'(LO + 1));", "a_d   <= DW'(rem - RW'(LO));")]),
    "setup_lr_one": ("linear_loader.sv", [("s.lr_one  = gt ? LO == 2 * W_ROWS : 32'(d >> RB) == 1;", "s.lr_one  = gt ? LO == 2 * W_ROWS : (d >> RB) == '0;")]),
    "pair_lane_swap": ("linear_loader.sv", [("seg_w[((o % W_ROWS) * SEG + i % SEG)*WW +: WW]",
                                             "seg_w[(((o + 1) % W_ROWS) * SEG + i % SEG)*WW +: WW]")]),
    "pair_col_step": ("linear_loader.sv", [("col_oh   <= col_oh << W_ROWS;", "col_oh   <= col_oh << 1;")]),
    "first_block_d": ("linear_core.sv", [("o_d       <= DW'(out_dim - 1'b1);", "o_d       <= DW'(out_dim);")]),
}


@pytest.mark.parametrize("bug", sorted(LINEAR_BROKEN))
def test_linear_broken_copies_fail(bug, tmp_path):
    name, edits = LINEAR_BROKEN[bug]
    replace = broken_copy(tmp_path, name, edits)
    with pytest.raises(CosimError, match="differs|mismatch|failed"):
        run_linear("tiny", f"broken_{bug}", testcase="test_odd_shapes_modes_stalls", stall="both",
                   variant=f"broken_{bug}", replace=replace)


def test_linear_throttled_weights_tiny():
    """The weight stream throttled like DDR (6 weights per cycle on 8-weight words, bursts of 4
    words): the model shapes and the expert pair at 1 .. 17 tokens, bit-exact, and the load-bound
    cycle counts equal the model's."""
    cfg = load_config("tiny")
    r = run_linear("tiny", "throttled", testcase=["test_model_shapes", "test_expert_tokens_ddr"], stall="none",
                   w_rate=6, w_burst=4, tokens=[1, 2, 5, 17])
    assert r["mismatches"] == 0 and r["tests_run"] == 2
    check_model_runs(cfg, r, cfg.model.tokens)
    assert all(x["cycles"] == x["predicted"] and x["w_rate"] == 6 for x in r["runs"])
    assert any(x["load_bound"] for x in r["runs"]) and not all(x["load_bound"] for x in r["runs"])


@pytest.mark.parametrize("stall,w_rate", [("none", 3), ("backpressure", None)])
def test_linear_overlapped_calls(stall, w_rate):
    """Calls back to back through the two-entry call queue (the next call's block 0 loads while the
    current call computes) on tiny.yaml: with the weight stream throttled below the loader's rate
    (3 weights per cycle on 8-weight words: every block load-bound), and with sink backpressure
    under idle gaps between the calls. Bit-exact; unstalled: every ap_ready / ap_done = the model."""
    extra = {"w_rate": w_rate, "w_burst": 4} if w_rate else {}
    r = run_linear("tiny", f"overlap_{stall}_{w_rate}", testcase=["test_overlapped_calls",
                                                                 "test_overlapped_calls_gaps_stalls"],
                   stall=stall, **extra)
    assert r["tests_run"] == 2 and r["mismatches"] == 0
    seq, gaps = check_sequences(r)
    if stall == "backpressure":
        assert gaps[0]["seq_y_held_cycles"] > 20   # the sink's pauses acted


def test_linear_frame_sequence_tiny():
    """The frame model's rule for the linear calls against Verilator: the tiny frame's linear calls
    (uniform routing, weights at 14.4 GB/s on the config's w_ word, 128 bits of two 4-weight row segments, as
    cosim.frame_schedule streams them)
    through the engine as the frame model presents them, with the other units' cycles as gaps:
    bit-exact, every ap_ready / ap_done and every call's counted cycles = the model, and the frame's
    linear calls take fewer cycles than on their own."""
    r = run_linear("tiny", "frame", testcase="test_frame_sequence", stall="none",
                   w_rate=24, w_burst=8, frame="uniform")
    assert r["tests_run"] == 1 and r["mismatches"] == 0
    runs = r["runs"]
    assert len(runs) == 16 and all((x["ready"], x["done"]) == (x["predicted_ready"], x["predicted_done"]) for x in runs)
    assert all(x["frame_cycles"] == x["frame_model_cycles"] for x in runs)
    assert r["frame_linear_cycles"] < r["frame_linear_isolated"]


@pytest.mark.parametrize("routing,w_rate,depth", [("last_k", 4, 8), ("uniform", 24, 512)])
def test_linear_frame_sequence_fifo_tiny(routing, w_rate, depth):
    """The same frame with the weights coming through the prefetch FIFO (cosim.weight_fifo_schedule:
    DDR at w_rate fills a FIFO of ``depth`` words across the whole frame, the experts fetched
    speculatively and the inactive ones dropped at its head; the w_ slice takes the next call's words
    before that call starts): bit-exact, every ap_ready / ap_done and every call's counted cycles equal
    the frame model with the FIFO. last_k: every token to the last k experts at 4 weights/cycle into 8
    words, so the FIFO runs full, experts are dropped and skipped; uniform: the config's depth."""
    r = run_linear("tiny", f"frame_fifo_{routing}", testcase="test_frame_sequence",
                   stall="none", w_rate=w_rate, w_burst=8, frame=routing, w_fifo=depth)
    assert r["tests_run"] == 1 and r["mismatches"] == 0
    runs = r["runs"]
    assert all(x["w_fifo"] == depth for x in runs)
    assert all((x["ready"], x["done"]) == (x["predicted_ready"], x["predicted_done"]) for x in runs), \
        [x for x in runs if (x["ready"], x["done"]) != (x["predicted_ready"], x["predicted_done"])]
    assert all(x["frame_cycles"] == x["frame_model_cycles"] for x in runs)
    stats = r["fifo_stats"]
    assert stats["engine_words"] + stats["dropped_words"] == stats["fetched_words"]
    if routing == "last_k":
        assert stats["dropped_words"] > 0 and stats["skipped_segments"] > 0


@pytest.mark.parametrize("routing,w_rate,depth", [("last_k", 4, 8), ("uniform", 6, 512)])
def test_linear_prefetch_frame_sequence_tiny(routing, w_rate, depth):
    """The engine behind the RTL weight FIFO (rtl/src/linear_prefetch.sv: weight_fifo.sv in front of
    linear.sv's w_), the DMA side driven by the testbench's own token bucket and skip rule
    (cosim/test_linear.py DdrWords), route_we pulsed before each MoE layer's routing is visible: the
    tiny frame's linear calls bit-exact, every ap_ready / ap_done and counted cycles equal to
    cosim.linear_schedule.Sequence with cosim.weight_fifo_schedule.WeightFifo (both models composed)."""
    r = run_unit("linear_prefetch", "tiny", stall="none", run_name=f"frame_{routing}_{w_rate}",
                 testcase="test_frame_sequence", parameters={"WF_DEPTH": depth},
                 w_rate=w_rate, w_burst=8, frame=routing)
    assert r["tests_run"] == 1 and r["mismatches"] == 0
    runs = r["runs"]
    assert len(runs) > 10 and all(x["w_fifo"] == depth for x in runs)
    assert all((x["ready"], x["done"]) == (x["predicted_ready"], x["predicted_done"]) for x in runs), \
        [x for x in runs if (x["ready"], x["done"]) != (x["predicted_ready"], x["predicted_done"])]
    assert all(x["frame_cycles"] == x["frame_model_cycles"] for x in runs)
    if routing == "last_k":
        assert r["fifo_stats"]["dropped_words"] > 0 and r["fifo_stats"]["skipped_segments"] > 0


def test_linear_cosim_edge_moe_reduced():
    """edge_moe.yaml's formats, AXI width and buffer sizes with an 8 x 4 tile and 5 tokens (3 routed
    to the expert), on two-row w_ words as edge_moe's (W_ROWS = 2: 256 bits = two 8-weight row segments):
    every model shape, odd shapes under stalls, back to back, reset, the expert pair at 1 and 3 tokens;
    bit-exact, cycles = model on every unstalled call."""
    cfg = load_config("edge_moe")
    r = run_linear("edge_moe", "reduced", parameters={"LI": 8, "LO": 4, "W_BITS": 256, "W_ROWS": 2}, stall="both",
                   rows=5, expert_rows=3,
                   tokens=[1, 3], n_random=40000)
    assert r["tests_run"] == 11 and r["mismatches"] == 0 and (r["li"], r["lo"]) == (8, 4)
    assert r["out_values"] >= 100000
    check_model_runs(cfg, r, 5)
    check_sequences(r)
    assert all(x["cycles"] == x["predicted"] for x in r["runs"] if x["layer"].startswith(("b2b", "expert_fc")))


def test_linear_cosim_edge_moe_buffer_tail():
    """edge_moe's input buffer at its real shape (LI = 32: 129 rows x 24 beats, 3,096 entries, the
    last 24 in distributed RAM past 6 x 512 in block RAM; rtl/src/linear_act.sv) at LO = 8 (the
    32 x 32 build takes > 30 minutes): fc2 (768 inputs, every entry written and read, the tail
    included) and fc1 (192 inputs + GELU) with 129 tokens, bit-exact and cycle-exact."""
    cfg = load_config("edge_moe")
    r = run_linear("edge_moe", "li32_lo8", testcase="test_model_shapes", parameters={"LI": 32, "LO": 8},
                   stall="none", rows=cfg.model.tokens, layers=["fc2", "fc1"])
    assert (r["li"], r["lo"]) == (32, 8) and r["mismatches"] == 0 and r["layers"] == 2
    fc2 = next(x for x in r["runs"] if x["layer"] == "fc2")
    assert fc2["rows"] * -(-fc2["in"] // 32) == 3096 and r["out_values"] >= 100_000
    assert all(x["cycles"] == x["predicted"] for x in r["runs"])


@pytest.mark.slow
def test_linear_cosim_edge_moe_full_shapes():
    """Every edge_moe.yaml shape (192->576, 192->192, 192->768 + GELU, 768->192, 192->384 gathered
    + GELU, 384->192 scaled scatter-accumulate, patch embedding 768->192 onto pos) with 129 tokens
    (128 patches), 32 x 32 tile: bit-exact, exact cycle counts, and on the full-token shapes no
    block after the first waits for its weights (the call is block 0's load + one cycle per step +
    the output pipeline; on its own a call cannot hide block 0, e.g. 192->192 at 91 % of its steps);
    then odd shapes under stalls, back-to-back calls, reset, the expert pair."""
    cfg = load_config("edge_moe")
    r = run_linear("edge_moe", "full", stall="both", rows=cfg.model.tokens, n_random=20000)
    assert r["tests_run"] == 11 and r["mismatches"] == 0
    assert r["layers"] == 7 + 9 + 3 + 1 + 6 + 2 * 11 + 4 + r["random_calls"]
    check_sequences(r)
    full = [x for x in check_model_runs(cfg, r, cfg.model.tokens) if x["rows"] >= cfg.model.tokens - 1]
    assert len(full) >= 4 and not any(x["load_bound"] for x in full), full


def test_activation_buffer_is_one_wide_block_ram():
    """linear_act keeps a beat's LI operands side by side in one memory (rtl/src/linear_act.sv), so that
    Yosys can use the 512 x 72 aspect, and the entries past the last whole 512 in distributed RAM: on
    edge_moe (129 rows x 24 beats of 32 x 27 bits) 72 BRAM36 (6 x 512 entries) and 62 RAM32M16 (the
    last 24), the count of the frame's layout model (cosim.frame_schedule.bram36_of, bram_tail,
    lutram_cells), where one block RAM took 84 and a memory per lane 96 (4K x 9). Simulation cannot see
    the layout, so this is the test of it."""
    from cosim.frame_schedule import bram36_of, bram_tail, lutram_cells
    from scripts.synth import synth_unit
    cfg = load_config("edge_moe")
    li = cfg.hardware.linear_in
    depth = cfg.model.tokens * -(-cfg.model.mlp_hidden // li)   # linear_core's ADEPTH: MAX_ROWS x MAX_IB (fc2's input)
    counts = synth_unit("linear_act", "edge_moe", params={"ADEPTH": depth, "AAW": (depth - 1).bit_length()},
                        tag="linear_act_wide")
    width = li * cfg.fmt("operand").width
    assert (width, depth, bram_tail(depth)) == (864, 3096, 24)
    assert counts["BRAM36"] + counts["BRAM18"] / 2 == bram36_of(width, depth - 24) == 72, counts
    assert counts["LUTRAM"] == lutram_cells(width, 24) == 62, counts


@pytest.mark.csim
@pytest.mark.parametrize("full_range", [False, True], ids=["realistic", "full_range"])
def test_linear_three_way_tiny(full_range, tmp_path):
    """The C-sim job sequence of cosim/linear_jobs.py (every tiny.yaml shape, chained fc1 -> fc2,
    gathered expert fc1 + GELU -> scaled scatter expert fc2, patch embedding onto pos) through the
    RTL on the same vectors: python_ref == C-sim == RTL, bit for bit."""
    cfg = load_config("tiny")
    jobs, names = model_sequence(cfg, np.random.default_rng(70 + full_range), full_range)
    expected, csim = run_csim(jobs, cfg, tmp_path)
    vin, vout = tmp_path / "calls.pkl", tmp_path / "rtl.pkl"
    vin.write_bytes(pickle.dumps(rtl_calls(jobs, expected, cfg)))
    r = run_linear("tiny", f"three_way_{int(full_range)}", testcase="test_vectors_file", vectors=str(vin),
                   vectors_out=str(vout))
    assert r["mismatches"] == 0 and r["layers"] == len(jobs)
    rtl = pickle.loads(vout.read_bytes())
    for name, e, c, g, j in zip(names, expected, csim, rtl, jobs):
        if j.patch is not None:  # the engine produces the patch rows; row 0 (CLS) is pos[0]
            g = np.vstack([j.patch[1][:1], g])
        assert np.array_equal(e, c), f"{name}: C-sim differs from python_ref"
        assert np.array_equal(e, g), f"{name}: RTL differs from python_ref"
