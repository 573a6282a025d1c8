"""RTL GELU (rtl/src/gelu.sv) against python_ref under cocotb + Verilator, through cosim.runner.

Each run builds the config's Verilator model once (cached in build/cosim/<config>/gelu) and runs the
four cocotb tests of cosim/test_gelu.py: directed corners and random values (full range, realistic
normal, table range) under one stall pattern, exact latency / throughput without stalls, and a
reset with beats in flight (plus a check that x_TREADY has no combinational path from y_TREADY).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from cosim.runner import CosimError, check_wrapped_lint, fst_supported, run_unit
from python_ref.config import load_config

CONFIGS = ["tiny", "edge_moe"]
STALLS = ["none", "gaps", "backpressure", "both", "reactive"]
LATENCY_CYCLES = 8  # documented in the header of rtl/src/gelu.sv
# Random values per distribution. Value coverage is the exhaustive sweep's job (tests/test_exhaustive.py:
# every input of [-8, 8) through the RTL in make test); these runs check the stream behaviour with
# 10k values per distribution, and test_gelu_cosim_long (make test-full) adds 10^6 through cocotb.
SMALL, SLOW = 10_000, 1_000_000

pytestmark = pytest.mark.cosim


def run_gelu(config: str, stall: str, n_random: int, run_name: str, **kw) -> dict:
    return run_unit("gelu", config, stall=stall, n_random=n_random, run_name=run_name, **kw)


def rom_fields(cfg) -> list[int]:
    """[TN, DN, BR_W] of rtl/src/gelu.sv's ROM word from the table itself: the fewest bits of the largest
    T[k], the fewest signed bits of every T[k+1] - T[k] (k < range steps), and the part of those
    TN + DN bits in block RAM (a RAMB18E2 reads 36)."""
    from python_ref.kernels.gelu import gelu_table
    t = [int(v) for v in gelu_table(cfg.hardware.gelu)]
    g = cfg.hardware.gelu
    d = [t[k + 1] - t[k] for k in range(g.table_entries - 1)]
    tn = max(1, max(t).bit_length())
    dn = max(2, max(max(d).bit_length(), (-min(d) - 1).bit_length()) + 1)
    return [tn, dn, min(tn + dn, 36)]


def check_summary(r: dict, config: str, stall: str, n_random: int, lanes: int | None = None):
    cfg = load_config(config)
    assert r["kernel"] == "gelu" and r["config"] == cfg.name and r["stall"] == stall
    assert r["mismatches"] == 0
    assert r["lanes"] == (lanes or cfg.hardware.gelu.lanes)
    assert r["rom_fields"] == rom_fields(cfg), "gelu.sv stores the table word narrower or wider than it needs"
    assert r["vectors"] >= 2.25 * n_random + 1000  # random sets + directed corners + latency/burst beats
    assert r["beats"] * r["lanes"] == r["vectors"]
    assert r["latency_cycles"] == LATENCY_CYCLES
    assert r["cycles_per_beat"] == 1.0
    if stall in ("backpressure", "both"):  # the sink's pauses really stalled the input
        assert r["input_stall_cycles"] > 100 and r["output_stall_cycles"] > 100
    if stall == "reactive":  # TREADY only after TVALID: the sink made the unit wait
        assert r["output_stall_cycles"] > 0
    if stall == "none":
        assert r["input_stall_cycles"] == 0 and r["output_stall_cycles"] == 0


# every stall pattern on tiny; edge_moe unstalled and fully stalled in make test, the rest in test-full
GELU_RUNS = [pytest.param(c, s, id=f"{c}-{s}", marks=[pytest.mark.slow] if c == "edge_moe" and s not in ("none", "both")
                          else []) for c in CONFIGS for s in STALLS]


@pytest.mark.parametrize("config,stall", GELU_RUNS)
def test_gelu_cosim(config, stall):
    n = SMALL
    r = run_gelu(config, stall, n, run_name=f"{stall}_{n}")
    check_summary(r, config, stall, n)


@pytest.mark.slow
def test_gelu_lanes_parameter():
    """The LANES parameter overrides model_pkg::GELU_LANES (own build: build/cosim/tiny/gelu_LANES3)."""
    r = run_gelu("tiny", "both", 2000, run_name="lanes3", parameters={"LANES": 3})
    assert r["lanes"] == 3 and r["mismatches"] == 0 and r["vectors"] >= 6000
    assert r["latency_cycles"] == LATENCY_CYCLES and r["cycles_per_beat"] == 1.0


def test_gelu_scoreboard_can_fail():
    """Flipping one expected LSB must make the run fail with exactly one reported mismatch."""
    with pytest.raises(CosimError, match="mismatch") as exc:
        run_gelu("tiny", "none", 0, run_name="corrupt", testcase="test_directed", corrupt=True)
    assert "test_directed" in str(exc.value)
    assert exc.value.summary is not None and exc.value.summary["mismatches"] == 1


def test_runner_fails_when_no_test_ran():
    with pytest.raises(CosimError, match="no cocotb test ran"):
        run_gelu("tiny", "none", 0, run_name="zero", testcase="no_such_test")


def test_gelu_waves():
    """waves=True (or WAVES=1) builds with --trace-fst and leaves dump.fst in the run folder."""
    missing = fst_supported()
    if missing:
        pytest.skip(f"Verilator's FST writer cannot be built here, missing {missing}")
    r = run_gelu("tiny", "none", 0, run_name="waves", testcase="test_directed", waves=True)
    fst = Path(r["waves"])
    assert fst.name == "dump.fst" and fst.is_file() and fst.stat().st_size > 1000
    assert r["mismatches"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS)
def test_gelu_cosim_long(config):
    r = run_gelu(config, "both", SLOW, run_name=f"both_{SLOW}")
    check_summary(r, config, "both", SLOW)


# LANES at its edge: 1 lane elaborates and lints clean, 0 hits the guard (the configs use 4 and 8)
_GELU_WRAPPER = """module gelu_edge import model_pkg::*; (
    input  logic ap_clk, input logic ap_rst_n,
    input  logic [{dw1}:0] x_TDATA, input logic x_TVALID, output logic x_TREADY, input logic x_TLAST,
    input  logic [{kw1}:0] x_TKEEP, input logic [{kw1}:0] x_TSTRB,
    output logic [{dw1}:0] y_TDATA, output logic y_TVALID, input logic y_TREADY, output logic y_TLAST,
    output logic [{kw1}:0] y_TKEEP, output logic [{kw1}:0] y_TSTRB);
  gelu #(.LANES({lanes})) u (.*);
endmodule
"""


# ids name the config: the mutation runner selects gelu's tiny cases (cosim.mutate.project_command)
@pytest.mark.parametrize("lanes,ok", [(1, True), (0, False)], ids=["tiny-lanes1", "tiny-lanes0"])
def test_gelu_lanes_edge(lanes, ok, tmp_path):
    dw = max(lanes, 1) * load_config("tiny").fmt("act").width
    check_wrapped_lint(tmp_path, "gelu_edge", _GELU_WRAPPER.format(lanes=lanes, dw1=dw - 1, kw1=dw // 8 - 1),
                       ["axis_skid.sv", "axis_pipe_ctrl.sv", "gelu.sv"], None if ok else "gelu: LANES must be >= 1")


# GELU table geometries neither shipped config has (both: 176 steps, IDX_W = 8, four ROM banks, 17
# bits of t), through the RTL in the exhaustive-sweep harness against python_ref: the ROM's bank
# split at one bank (IDX_W = 6, a LUT6) and at two (IDX_W = 7); t one bit wide (TB = 1, the smallest
# the units build: python_ref.kernels.gelu.check_config); the table index filling |x| (TB + IDX_W =
# ACT_W - 1, the largest g_chk_geometry accepts). Each is tiny with another activation format and
# GELU table; ids name tiny so that the mutation runner's gelu cases include them.
GELU_GEOMETRIES = {  # id: (formats.act.int, table_step_log2, table_range, table_format (width, int), span_log2)
    "tiny-2banks-t1": (21, 10, 0.125, (11, 0), 1),   # F = 11: RANGE 128, IDX_W 7, TB 1
    "tiny-1bank": (21, 9, 0.125, (9, -2), 1),        # RANGE 64, IDX_W 6, TB 2; table top bit weight 2^-3
    "tiny-full-index": (7, 0, 48.0, (22, 0), -5),    # F = 25: RANGE 48, IDX_W 6, TB 25: TB + IDX_W = 31
}


def gelu_geometry_config(gid: str):
    from python_ref.config import parse_config
    act_int, step_log2, table_range, (tw, ti), _ = GELU_GEOMETRIES[gid]
    raw = load_config("tiny").as_dict()
    raw["name"] = "tiny_gelu_" + gid.removeprefix("tiny-").replace("-", "_")
    raw["formats"]["act"] = {"width": 32, "int": act_int}
    raw["formats"]["score"] = dict(raw["formats"]["score"], int=act_int)  # attention: score has act's geometry
    raw["hardware"]["gelu"] = dict(raw["hardware"]["gelu"], table_step_log2=step_log2, table_range=table_range,
                                   table_format={"width": tw, "int": ti, "signed": False})
    return parse_config(raw, f"{raw['name']}.yaml")


@pytest.mark.parametrize("gid", list(GELU_GEOMETRIES))
def test_gelu_table_geometries(gid):
    import numpy as np

    from cosim import exhaustive as ex
    cfg = gelu_geometry_config(gid)
    u = ex.unit("gelu", cfg)
    segs = ex.gelu_domain(u, span_log2=GELU_GEOMETRIES[gid][4])
    # every x within 2^10 LSB of the table's end, both signs (when the span above does not reach it)
    f, g = cfg.fmt("act").frac, cfg.hardware.gelu
    lim = (g.table_entries - 1) << (f - g.table_step_log2)
    d = np.arange(-1024, 1025, dtype=np.int64)
    segs.append(ex.Values("gelu: |x| around the table's end", np.concatenate([lim + d, -lim + d])))
    r = ex.run_sweep(u, segments=segs, timeout=600)
    assert r.mismatches == 0 and r.values > 1 << 20, r.summary()


@pytest.mark.parametrize("config,lanes", [("tiny", 2)])
def test_gelu_table_maps_to_one_ramb18_per_lane(config, lanes):
    """The table word is stored only as wide as the table needs (rtl/src/gelu.sv: 37 bits on the shipped
    tables, the 36 low ones in block RAM, the rest in fabric), so Yosys maps each lane's ROM to one
    RAMB18E2 and no RAMB36E2 (a 45-bit word took a RAMB36E2 per lane): the resource table's GELU figure.
    Simulation cannot see the split (the bits are the same), so this is the test of it."""
    from scripts.synth import synth_unit
    counts = synth_unit("gelu", config, params={"LANES": lanes}, tag=f"gelu_ramb18_l{lanes}")
    assert (counts["BRAM18"], counts["BRAM36"]) == (lanes, 0), counts
    assert counts["DSP"] == lanes, counts     # the t x diff multiply: one DSP48E2 per lane, as before
