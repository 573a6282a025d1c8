"""Delay model of the static timing analysis (cosim/sta.py): Zynq UltraScale+ -2 (0.85 V), the
speed grade of the configured part xczu9eg-ffvb1156-2-e.

Everything the analysis charges is in ``MODEL_ROWS`` below, one row per quantity with its value in
the two corners and where the value comes from; docs/timing.md prints this table. The hard blocks
(DSP48E2, block RAM) use data-sheet figures and are the same in both corners, because Vivado times
them at their data-sheet (slow-corner) values whatever the placement; the fabric quantities (LUT
pin, routed nets, carry chain, flip-flop, clock uncertainty) are assumptions that depend on
placement and routing, so they get a nominal value (a typical routed design) and an optimistic one
(short nets, fast LUT pins), and the verdict uses both.

DSP48E2 calibration, AMD DS925 v1.30 "DSP48 Slice Switching Characteristics", -2 at 0.85 V:
FMAX_MULT_NOMREG (A/B register -> multiplier -> ALU -> P register) 544 MHz = 1.838 ns;
FMAX_PREADD_NOADREG (A/D register -> pre-adder -> multiplier -> M register) 565 MHz = 1.770 ns;
FMAX_NOPIPELINEREG (A/D register -> pre-adder -> multiplier -> ALU -> P register) 410 MHz = 2.439 ns;
FMAX (every register) 775 MHz = 1.290 ns (the bound on any single internal stage). The differences
of these figures give the pre-adder (2.439 - 1.838) and the ALU stage (2.439 - 1.770); the
multiplier is what remains of the NOMREG stage after the ALU, the register clock-to-out and the
setup. Structure (A/B/C/D -> pre-adder -> 27x18 multiplier -> X/Y/Z/W multiplexers -> ALU -> P,
PCIN from the previous slice's PCOUT, A/B cascades) after AMD UG579 (UltraScale DSP slice).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

# DS925 v1.30, DSP48 Slice Switching Characteristics, -2 speed grade at VCCINT 0.85 V (MHz).
DS925_DSP_FMAX_MHZ = {
    "FMAX": 775.0,
    "FMAX_MULT_NOMREG": 544.0,
    "FMAX_PREADD_NOADREG": 565.0,
    "FMAX_NOPIPELINEREG": 410.0,
}
DS925_URL = "https://docs.amd.com/r/en-US/ds925-zynq-ultrascale-plus/DSP48-Slice-Switching-Characteristics"

# Assumed split of a DSP internal register stage into clock-to-out and setup (the data sheet only
# gives stage totals); the multiplier absorbs whatever this split gets wrong.
_DSP_REG_CLK_Q = 0.25
_DSP_REG_SETUP = 0.12


def _period(symbol: str) -> float:
    return 1000.0 / DS925_DSP_FMAX_MHZ[symbol]


_DSP_PREADD = _period("FMAX_NOPIPELINEREG") - _period("FMAX_MULT_NOMREG")
_DSP_ALU = _period("FMAX_NOPIPELINEREG") - _period("FMAX_PREADD_NOADREG")
_DSP_MULT = _period("FMAX_MULT_NOMREG") - _DSP_ALU - _DSP_REG_CLK_Q - _DSP_REG_SETUP


@dataclass(frozen=True)
class DelayModel:
    """Delays in ns of one corner; field names are the ``name`` column of MODEL_ROWS."""
    corner: str
    ff_clk_q: float
    ff_setup_d: float
    ff_setup_ctrl: float
    clock_uncertainty: float
    lut: float
    muxf: float
    net_base: float
    net_per_fanout_doubling: float
    net_local: float
    carry_entry: float
    carry_stage: float
    srl_clk_q: float
    srl_addr_q: float
    srl_setup: float
    lutram_clk_q: float
    lutram_read: float
    lutram_setup: float
    bram_clk_q: float
    bram_clk_q_reg: float
    bram_setup: float
    dsp_port_in: float
    dsp_reg_clk_q: float
    dsp_reg_setup: float
    dsp_preadd: float
    dsp_mult: float
    dsp_alu: float
    dsp_p_clk_q: float
    dsp_p_out: float
    dsp_cascade_out: float
    dsp_ctrl_setup: float


@dataclass(frozen=True)
class ModelRow:
    name: str
    nominal: float
    optimistic: float
    what: str
    source: str


MODEL_ROWS: tuple[ModelRow, ...] = (
    ModelRow("ff_clk_q", 0.09, 0.08, "FDRE/FDSE/FDCE/FDPE clock -> Q",
             "assumption: typical US+ -2 slice flip-flop clock-to-out in Vivado reports"),
    ModelRow("ff_setup_d", 0.05, 0.03, "flip-flop D setup", "assumption"),
    ModelRow("ff_setup_ctrl", 0.15, 0.10, "flip-flop CE / R / S (CLR/PRE recovery) setup",
             "assumption: control pins are slower than D"),
    ModelRow("clock_uncertainty", 0.10, 0.05, "clock uncertainty + skew, charged once per path",
             "assumption: MMCM jitter and skew of an on-chip 300 MHz clock"),
    ModelRow("lut", 0.12, 0.07, "LUT1..LUT6, any input pin -> O",
             "assumption: US+ LUT pin delays span ~0.04 (I5) to ~0.15 ns (I0)"),
    ModelRow("muxf", 0.10, 0.07, "MUXF7/8/9 any input -> O (LUT -> MUXF inside the slice: no net)", "assumption"),
    ModelRow("net_base", 0.30, 0.18, "routed net, fanout 1", "assumption: post-route US+ nets are 0.1-0.6 ns"),
    ModelRow("net_per_fanout_doubling", 0.05, 0.03, "added per doubling of the fanout (log2 term)",
             "assumption: high-fanout nets spread over more slices"),
    ModelRow("net_local", 0.03, 0.02, "LUT -> CARRY S/DI; LUT/CARRY/MUXF -> FF D when the driver has fanout 1",
             "assumption: same-slice connection"),
    ModelRow("carry_entry", 0.22, 0.15, "CARRY4/CARRY8 S, DI, CYINIT (or a routed CI) -> CO/O of the same 4-bit stage",
             "assumption: includes the XOR to O"),
    ModelRow("carry_stage", 0.04, 0.025, "per further 4-bit carry stage (CI -> CO/O; a CARRY8 is two stages); CO -> CI has no net",
             "assumption: Vivado retargets CARRY4 pairs to CARRY8; ~0.08 ns per 8 bits"),
    ModelRow("srl_clk_q", 1.00, 0.80, "SRL16E/SRLC32E clock -> Q", "assumption: SRL outputs are slow, like LUTRAM"),
    ModelRow("srl_addr_q", 0.12, 0.07, "SRL address -> Q (a LUT read)", "assumption: as a LUT"),
    ModelRow("srl_setup", 0.10, 0.07, "SRL D / CE setup", "assumption"),
    ModelRow("lutram_clk_q", 0.95, 0.80, "LUTRAM write clock -> O", "assumption: as the SRL"),
    ModelRow("lutram_read", 0.12, 0.07, "LUTRAM read address -> O (+ muxf for 128/256 deep)", "assumption: as a LUT"),
    ModelRow("lutram_setup", 0.25, 0.18, "LUTRAM D / WE / write address setup", "assumption"),
    ModelRow("bram_clk_q", 1.00, 0.90, "RAMB18E2/36E2 clock -> DOUT without output register (DOA_REG/DOB_REG = 0)",
             "assumption near AMD DS958 (Versal) TRCKO_DO 0.80-0.97 ns at -2/-1; the DS925 block RAM table "
             "was not retrievable here"),
    ModelRow("bram_clk_q_reg", 0.30, 0.26, "RAMB18E2/36E2 clock -> DOUT with output register",
             "assumption near AMD DS958 TRCKO_DO_REG 0.23-0.28 ns"),
    ModelRow("bram_setup", 0.40, 0.30, "block RAM address / data / write enable / enable setup",
             "assumption: block RAM input setups are several times a flip-flop's"),
    ModelRow("dsp_port_in", 0.20, 0.20, "DSP48E2 A/B/C/D pin -> internal node when the input register is off",
             "assumption (input multiplexers)"),
    ModelRow("dsp_reg_clk_q", _DSP_REG_CLK_Q, _DSP_REG_CLK_Q, "DSP48E2 internal register clock -> out (A/B/C/D/AD/M)",
             "assumed split of the DS925 stage totals"),
    ModelRow("dsp_reg_setup", _DSP_REG_SETUP, _DSP_REG_SETUP, "setup into a DSP48E2 internal register (A/B/C/D/AD/M/P)",
             "assumed split of the DS925 stage totals"),
    ModelRow("dsp_preadd", round(_DSP_PREADD, 3), round(_DSP_PREADD, 3), "DSP48E2 pre-adder (A/D -> AD)",
             "DS925: 1000/410 - 1000/544 (NOPIPELINEREG - MULT_NOMREG)"),
    ModelRow("dsp_mult", round(_DSP_MULT, 3), round(_DSP_MULT, 3), "DSP48E2 27x18 multiplier (A/AD, B -> M)",
             "DS925: 1000/544 - ALU - clock-to-out - setup"),
    ModelRow("dsp_alu", round(_DSP_ALU, 3), round(_DSP_ALU, 3), "DSP48E2 X/Y/Z/W mux + ALU (M, C, PCIN, P, A:B -> ALU out)",
             "DS925: 1000/410 - 1000/565 (NOPIPELINEREG - PREADD_NOADREG)"),
    ModelRow("dsp_p_clk_q", 0.30, 0.30, "DSP48E2 P register clock -> P / PCOUT", "assumption"),
    ModelRow("dsp_p_out", 0.15, 0.15, "DSP48E2 ALU -> P pin when PREG = 0", "assumption (output multiplexer)"),
    ModelRow("dsp_cascade_out", 0.10, 0.10, "DSP48E2 ALU -> PCOUT (PREG = 0), A/B -> ACOUT/BCOUT; cascade nets are free",
             "assumption"),
    ModelRow("dsp_ctrl_setup", 0.25, 0.25, "setup of DSP48E2 clock enables, resets and registered OPMODE/ALUMODE/INMODE",
             "assumption"),
)

CORNERS = ("nominal", "optimistic")


def delay_model(corner: str) -> DelayModel:
    """The DelayModel of ``corner`` ("nominal" or "optimistic") built from MODEL_ROWS."""
    if corner not in CORNERS:
        raise ValueError(f"unknown timing corner {corner!r}; corners: {', '.join(CORNERS)}")
    values = {row.name: getattr(row, corner) for row in MODEL_ROWS}
    names = {f.name for f in fields(DelayModel)} - {"corner"}
    missing, extra = names - values.keys(), values.keys() - names
    if missing or extra:  # a programming error: the table and the dataclass must agree
        raise AssertionError(f"MODEL_ROWS and DelayModel disagree: missing {sorted(missing)}, extra {sorted(extra)}")
    return DelayModel(corner=corner, **values)


def markdown_table() -> str:
    """MODEL_ROWS as a Markdown table (for docs/timing.md)."""
    lines = ["| quantity | what | nominal (ns) | optimistic (ns) | source |", "|---|---|---|---|---|"]
    for r in MODEL_ROWS:
        lines.append(f"| `{r.name}` | {r.what} | {r.nominal:g} | {r.optimistic:g} | {r.source} |")
    return "\n".join(lines)
