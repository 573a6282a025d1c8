"""Static timing analysis of a flattened Yosys ``synth_xilinx`` JSON netlist (UltraScale+).

A block-based longest-path analysis over netlist bits. Start points are flip-flop Q pins, SRL and
LUTRAM outputs (clock -> out), block RAM outputs (with or without the output register), the
internal registers of DSP48E2 slices that their AREG/BREG/CREG/DREG/ADREG/MREG/PREG parameters
enable, and top-level inputs (assumed to come from a register: clock -> Q plus a net). End points
are flip-flop D/CE/R/S pins, SRL D/CE, LUTRAM write pins, block RAM inputs, DSP register inputs
(pins or internal nodes) and top-level outputs (assumed to go to a register: net plus setup).

DSP48E2 slices are modelled with internal nodes after UG579: A/B/C/D (or ACIN/BCIN) -> pre-adder
(AD) -> multiplier (M) -> X/Y/Z/W multiplexers and ALU -> P, with PCIN -> ALU and ALU -> PCOUT for
cascades; each internal node is a register (a start and an end point) or a combinational stage
according to the cell's parameters, and a constant OPMODE selects which ALU inputs exist.
CARRY4/CARRY8 cells are modelled per 4-bit stage: entering a chain costs ``carry_entry``, each
further stage ``carry_stage``, and CO -> CI has no routed net.

Delays come from cosim/sta_model.py; every path total includes the clock uncertainty once.
Errors (missing file, unknown cell type, combinational loop) raise StaError naming the file and
the cell.
"""
from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from cosim.sta_model import CORNERS, DelayModel, delay_model


class StaError(Exception):
    """The netlist cannot be analysed; the message names the file, cell and field."""


FF_TYPES = {"FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1"}
LUT_TYPES = {f"LUT{i}" for i in range(1, 7)}
MUXF_TYPES = {"MUXF7", "MUXF8", "MUXF9"}
CARRY_TYPES = {"CARRY4", "CARRY8"}
SRL_TYPES = {"SRL16E", "SRLC16E", "SRLC32E"}
BRAM_TYPES = {"RAMB18E2", "RAMB36E2"}
CONST_TYPES = {"GND", "VCC"}
# LUTRAM primitives: read outputs -> the address pins they read through, write pins
LUTRAM_TYPES = {"RAM32M", "RAM64M", "RAM32M16", "RAM64M8",
                "RAM16X1S", "RAM32X1S", "RAM64X1S", "RAM128X1S", "RAM256X1S", "RAM512X1S",
                "RAM16X1D", "RAM32X1D", "RAM64X1D", "RAM128X1D", "RAM256X1D"}
DSP_TYPE = "DSP48E2"

# Net kinds: how a bit reaches a sink pin.
NET_NONE, NET_LOCAL, NET_ROUTED = 0, 1, 2

DSP_DEFAULTS = {"AREG": 1, "BREG": 1, "CREG": 1, "DREG": 1, "ADREG": 1, "MREG": 1, "PREG": 1,
                "OPMODEREG": 1, "ALUMODEREG": 1, "INMODEREG": 1, "CARRYINREG": 1, "CARRYINSELREG": 1,
                "A_INPUT": "DIRECT", "B_INPUT": "DIRECT", "AMULTSEL": "A", "BMULTSEL": "B",
                "PREADDINSEL": "A", "USE_MULT": "MULTIPLY", "IS_OPMODE_INVERTED": 0}
# DSP48E2 clock-enable / reset pins and the registers they serve (UG579 port table).
DSP_CTRL_PINS = {"CEA1": ("AREG",), "CEA2": ("AREG",), "CEB1": ("BREG",), "CEB2": ("BREG",),
                 "CEC": ("CREG",), "CED": ("DREG",), "CEAD": ("ADREG",), "CEM": ("MREG",), "CEP": ("PREG",),
                 "CECTRL": ("OPMODEREG", "CARRYINSELREG"), "CEALUMODE": ("ALUMODEREG",),
                 "CEINMODE": ("INMODEREG",), "CECARRYIN": ("CARRYINREG",),
                 "RSTA": ("AREG",), "RSTB": ("BREG",), "RSTC": ("CREG",), "RSTD": ("DREG", "ADREG"),
                 "RSTM": ("MREG",), "RSTP": ("PREG",), "RSTCTRL": ("OPMODEREG", "CARRYINSELREG"),
                 "RSTALUMODE": ("ALUMODEREG",), "RSTINMODE": ("INMODEREG",), "RSTALLCARRYIN": ("CARRYINREG",)}
DSP_DATA_INPUTS = {"A", "B", "C", "D", "ACIN", "BCIN", "PCIN", "CARRYCASCIN", "MULTSIGNIN", "CARRYIN",
                   "CARRYINSEL", "OPMODE", "ALUMODE", "INMODE", "CLK"}
DSP_P_OUTPUTS = {"P", "CARRYOUT", "PATTERNDETECT", "PATTERNBDETECT", "OVERFLOW", "UNDERFLOW", "XOROUT"}
DSP_CASCADE_INPUTS = {"ACIN", "BCIN", "PCIN", "CARRYCASCIN", "MULTSIGNIN"}
DSP_REG_PARAMS = ("AREG", "BREG", "CREG", "DREG", "ADREG", "MREG", "PREG")


# ---------------------------------------------------------------------------------------------
# Netlist
# ---------------------------------------------------------------------------------------------

@dataclass
class Cell:
    name: str
    type: str
    params: dict[str, object]       # raw Yosys JSON values; read them through param()
    conns: dict[str, list]          # port -> bits (int net ids, or "0"/"1"/"x"/"z" constants)
    dirs: dict[str, str]            # port -> "input" / "output"
    src: str

    def bits(self, port: str) -> list[int]:
        return [b for b in self.conns.get(port, ()) if isinstance(b, int)]

    def param(self, key: str, default: int | str = 0) -> int | str:
        # parsed on use: most parameters (LUT INIT strings) are never needed
        return _param_value(self.params[key]) if key in self.params else default

    def label(self) -> str:
        """A readable cell name: its own when Yosys kept one, else type@first source line."""
        if not self.name.startswith("$"):
            return self.name
        where = first_src(self.src)
        if where:
            return f"{self.type}@{where}"
        # no name, no source line: a cell Yosys made (a moved memory read register, ...)
        return f"{self.type} (Yosys-made #{self.name.rsplit('$', 1)[-1]})"


def _param_value(value) -> int | str:
    """Yosys JSON parameters: integers as binary strings, strings as text (a trailing space marks
    a string that would otherwise read as bits)."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text and set(text) <= set("01xz"):
        return int(text.replace("x", "0").replace("z", "0"), 2)
    return text[:-1] if text.endswith(" ") else text


_SRC_RE = re.compile(r"([^|:\s]+\.s?v):(\d+)(?:\.\d+)?(?:-(\d+)(?:\.\d+)?)?")


def is_yosys_library(path: str) -> bool:
    """A src path inside Yosys' own techmap library (not the design): /share/... in the WebAssembly
    build, .../pyosys/share/... in the native one (cosim/yosys_native.py)."""
    return path.startswith("/share/") or "/pyosys/share/" in path


def src_lines(src: str) -> dict[str, set[int]]:
    """'rtl/src/x.sv:12.3-14.9|...' -> {'x.sv': {12, 13, 14}} (a fresh dict the caller may change)."""
    return {f: set(ls) for f, ls in _src_lines(src or "").items()}


@lru_cache(maxsize=None)
def _src_lines(src: str) -> dict[str, frozenset[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for m in _SRC_RE.finditer(src):
        if is_yosys_library(m.group(1)):
            continue
        first = int(m.group(2))
        last = int(m.group(3)) if m.group(3) else first
        out[m.group(1).rsplit("/", 1)[-1]].update(range(first, max(first, last) + 1))
    return {f: frozenset(ls) for f, ls in out.items()}


def first_src(src: str) -> str:
    for m in _SRC_RE.finditer(src or ""):
        if not is_yosys_library(m.group(1)):
            return f"{Path(m.group(1)).name}:{m.group(2)}"
    return ""


def format_lines(lines: dict[str, set[int]]) -> str:
    """{'x.sv': {12,13,14,20}} -> 'x.sv:12-14,20'."""
    parts = []
    for fname in sorted(lines):
        nums = sorted(lines[fname])
        if not nums:
            continue
        ranges, start, prev = [], nums[0], nums[0]
        for n in nums[1:] + [None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            ranges.append(f"{start}" if start == prev else f"{start}-{prev}")
            if n is not None:
                start = prev = n
        parts.append(f"{fname}:{','.join(ranges)}")
    return " ".join(parts)


@dataclass
class Design:
    """The top module of a JSON netlist."""
    path: Path
    top: str
    cells: list[Cell]
    ports: dict[str, tuple[str, list]]        # port -> (direction, bits)
    bit_name: dict[int, tuple[tuple, str]]    # bit -> (preference key, "name[i]")
    bit_src: dict[int, str]


def load_design(path: Path | str, top: str | None = None) -> Design:
    """Read a Yosys JSON netlist and pick its top module (attribute ``top``, or the only module)."""
    path = Path(path)
    if not path.is_file():
        raise StaError(f"netlist {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StaError(f"netlist {path} is not readable JSON: {exc}") from None
    modules = data.get("modules") if isinstance(data, dict) else None
    if not isinstance(modules, dict) or not modules:
        raise StaError(f"netlist {path} has no 'modules' (not a Yosys write_json file)")
    if top is None:
        tops = [n for n, m in modules.items() if _param_value(m.get("attributes", {}).get("top", 0)) == 1]
        if len(tops) == 1:
            top = tops[0]
        elif len(modules) == 1:
            top = next(iter(modules))
        else:
            raise StaError(f"netlist {path}: cannot tell the top module among {', '.join(sorted(modules))}")
    if top not in modules:
        raise StaError(f"netlist {path} has no module {top!r}")
    mod = modules[top]
    cells = []
    for name, c in mod.get("cells", {}).items():
        ctype = c.get("type")
        conns = c.get("connections", {})
        dirs = c.get("port_directions", {})
        missing = [p for p in conns if p not in dirs]
        if missing:
            raise StaError(f"netlist {path}: cell {name} ({ctype}) has no port_directions for {', '.join(missing)}")
        cells.append(Cell(name, ctype, c.get("parameters", {}), conns, dirs, str(c.get("attributes", {}).get("src", ""))))
    ports = {n: (p["direction"], p["bits"]) for n, p in mod.get("ports", {}).items()}
    bit_name: dict[int, tuple[tuple, str]] = {}
    bit_src: dict[int, str] = {}
    for name, n in mod.get("netnames", {}).items():
        hidden = bool(n.get("hide_name", 0)) or name.startswith("$")
        bits = n.get("bits", [])
        offset = int(n.get("offset", 0))
        upto = bool(n.get("upto", 0))
        src = str(n.get("attributes", {}).get("src", ""))
        key = (hidden, name.count("."), len(name))
        for i, b in enumerate(bits):
            if not isinstance(b, int):
                continue
            old = bit_name.get(b)
            if old is None or key < old[0]:
                idx = (offset + len(bits) - 1 - i) if upto else offset + i
                bit_name[b] = (key, name if len(bits) == 1 else f"{name}[{idx}]")
                if not hidden:
                    bit_src[b] = src
    return Design(path, top, cells, ports, bit_name, bit_src)


# ---------------------------------------------------------------------------------------------
# Timing graph
# ---------------------------------------------------------------------------------------------

@dataclass
class Endpoint:
    node: int
    net_kind: int
    fanout: int
    setup: str          # setup kind: ff_d, ff_ctrl, output, srl, lutram, bram, dsp_reg, dsp_ctrl
    cell: int           # cell index, -1 for a top-level output
    pin: str            # "D", "CE", "<DSP internal register>", output port name, ...


class TimingGraph:
    """Nodes are netlist bits and DSP internal nodes; edges are cell arcs (input pin -> output)
    including the net that reaches the input pin."""

    def __init__(self, design: Design):
        self.design = design
        self.node_ids: dict[object, int] = {}
        self.node_keys: list[object] = []
        # edges, structure of arrays
        self.e_src: list[int] = []
        self.e_dst: list[int] = []
        self.e_net: list[int] = []
        self.e_fanout: list[int] = []
        self.e_arc: list[str] = []
        self.e_cell: list[int] = []
        self.e_pin: list[str] = []
        self.starts: dict[int, tuple[str, int]] = {}   # node -> (start kind, cell index or -1)
        self.endpoints: list[Endpoint] = []
        self.dsp_info: dict[int, dict] = {}           # cell index -> register settings and cascades
        self.driver: dict[int, tuple[str, str]] = {}  # bit -> (cell type, output port)
        self.fanout: Counter = Counter()
        self._build()

    # -- node and edge helpers -----------------------------------------------------------------
    def node(self, key) -> int:
        nid = self.node_ids.get(key)
        if nid is None:
            nid = len(self.node_keys)
            self.node_ids[key] = nid
            self.node_keys.append(key)
        return nid

    def _net_kind(self, bit: int, sink_type: str, sink_pin: str) -> int:
        drv = self.driver.get(bit)
        if sink_type == "INV":
            return NET_NONE  # an inverter is absorbed into the pin it drives
        if drv is None:
            return NET_ROUTED  # top-level input
        dtype, dport = drv
        if dtype in CARRY_TYPES and dport == "CO" and sink_type in CARRY_TYPES and sink_pin == "CI":
            return NET_NONE
        if dtype == DSP_TYPE and sink_type == DSP_TYPE and sink_pin in DSP_CASCADE_INPUTS:
            return NET_NONE
        if dtype in BRAM_TYPES and sink_type in BRAM_TYPES and sink_pin.startswith("CAS"):
            return NET_NONE
        if (dtype in LUT_TYPES or dtype in MUXF_TYPES) and sink_type in MUXF_TYPES and sink_pin in ("I0", "I1"):
            return NET_NONE
        if dtype in LUT_TYPES and sink_type in CARRY_TYPES and sink_pin in ("S", "DI"):
            return NET_LOCAL
        if (dtype in LUT_TYPES or dtype in CARRY_TYPES or dtype in MUXF_TYPES) and sink_type in FF_TYPES \
                and sink_pin == "D" and self.fanout[bit] == 1:
            return NET_LOCAL
        return NET_ROUTED

    def _arc(self, bit: int, dst: int, arc: str, cell: int, pin: str) -> None:
        c = self.design.cells[cell]
        self.e_src.append(self.node(bit))
        self.e_dst.append(dst)
        self.e_net.append(self._net_kind(bit, c.type, pin.split("[")[0]))
        self.e_fanout.append(self.fanout[bit])
        self.e_arc.append(arc)
        self.e_cell.append(cell)
        self.e_pin.append(pin)

    def _internal_arc(self, src: int, dst: int, arc: str, cell: int, pin: str) -> None:
        self.e_src.append(src)
        self.e_dst.append(dst)
        self.e_net.append(NET_NONE)
        self.e_fanout.append(1)
        self.e_arc.append(arc)
        self.e_cell.append(cell)
        self.e_pin.append(pin)

    def _arcs(self, cell: int, ports: Iterable[str], dst: int, arc: str) -> None:
        c = self.design.cells[cell]
        for p in ports:
            for i, b in enumerate(c.conns.get(p, ())):
                if isinstance(b, int):
                    self._arc(b, dst, arc, cell, p if len(c.conns[p]) == 1 else f"{p}[{i}]")

    def _start(self, bit_or_node: int, kind: str, cell: int, is_node: bool = False) -> None:
        nid = bit_or_node if is_node else self.node(bit_or_node)
        self.starts[nid] = (kind, cell)

    def _end(self, cell: int, ports: Iterable[str], setup: str) -> None:
        c = self.design.cells[cell]
        for p in ports:
            for i, b in enumerate(c.conns.get(p, ())):
                if isinstance(b, int):
                    self.endpoints.append(Endpoint(self.node(b), self._net_kind(b, c.type, p), self.fanout[b],
                                                   setup, cell, p if len(c.conns[p]) == 1 else f"{p}[{i}]"))

    def _outputs(self, cell: int) -> list[str]:
        c = self.design.cells[cell]
        return [p for p, d in c.dirs.items() if d == "output" and p in c.conns]

    # -- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        d = self.design
        for pname, (direction, bits) in d.ports.items():
            if direction != "input":
                for b in bits:
                    if isinstance(b, int):
                        self.fanout[b] += 1
        for c in d.cells:
            for p, bits in c.conns.items():
                out = c.dirs.get(p) == "output"
                for b in bits:
                    if isinstance(b, int):
                        if out:
                            self.driver[b] = (c.type, p)
                        else:
                            self.fanout[b] += 1
        for pname, (direction, bits) in d.ports.items():
            for i, b in enumerate(bits):
                if not isinstance(b, int):
                    continue
                if direction == "input":
                    self._start(b, "input", -1)
                else:
                    self.endpoints.append(Endpoint(self.node(b), NET_ROUTED, self.fanout[b], "output", -1,
                                                   pname if len(bits) == 1 else f"{pname}[{i}]"))
        for idx, c in enumerate(d.cells):
            t = c.type
            if t in LUT_TYPES:
                for b in c.bits("O"):
                    self._arcs(idx, [p for p in ("I0", "I1", "I2", "I3", "I4", "I5") if p in c.conns], self.node(b), "lut")
            elif t in FF_TYPES:
                for b in c.bits("Q"):
                    self._start(b, "ff", idx)
                self._end(idx, ["D"], "ff_d")
                self._end(idx, [p for p in ("CE", "R", "S", "CLR", "PRE") if p in c.conns], "ff_ctrl")
            elif t in CARRY_TYPES:
                self._carry(idx, c)
            elif t in MUXF_TYPES:
                for b in c.bits("O"):
                    self._arcs(idx, ["I0", "I1", "S"], self.node(b), "muxf")
            elif t == "INV":
                for b in c.bits("O"):
                    self._arcs(idx, ["I"], self.node(b), "zero")
            elif t in CONST_TYPES or t == "$scopeinfo":
                continue  # constants; hierarchy bookkeeping of a flattened netlist
            elif t in SRL_TYPES:
                self._srl(idx, c)
            elif t in LUTRAM_TYPES:
                self._lutram(idx, c)
            elif t in BRAM_TYPES:
                self._bram(idx, c)
            elif t == DSP_TYPE:
                self._dsp(idx, c)
            else:
                hint = ("; the analysis needs a flattened netlist of primitives (synth_xilinx -flatten)"
                        if not t.startswith("$") and t[:1].islower() else "")
                raise StaError(f"netlist {d.path}: cell {c.name} has unknown cell type {t!r}{hint}")

    def _carry(self, idx: int, c: Cell) -> None:
        width = 8 if c.type == "CARRY8" else 4
        s, di, co, o = (c.conns.get(p, []) for p in ("S", "DI", "CO", "O"))
        dual = c.type == "CARRY8" and str(c.param("CARRY_TYPE", "SINGLE_CY8")) == "DUAL_CY4"
        # Where the chain of each 4-bit half comes from: CI (and CYINIT for CARRY4); CI_TOP feeds
        # the upper half of a DUAL_CY4 CARRY8.
        chain_in = {0: ["CI"] + (["CYINIT"] if c.type == "CARRY4" else [])}
        if dual:
            chain_in[1] = ["CI_TOP"]
        for j in range(width):
            stage_j = j // 4
            first_stage = stage_j if dual else 0
            for outs, oname in ((co, "CO"), (o, "O")):
                if j >= len(outs) or not isinstance(outs[j], int):
                    continue
                dst = self.node(outs[j])
                for i in range(first_stage * 4, j + 1):
                    for vec, pname in ((s, "S"), (di, "DI")):
                        if pname == "DI" and oname == "O" and i == j:
                            continue  # O[j] = S[j] xor carry(j-1): DI[j] only reaches CO[j]
                        if i < len(vec) and isinstance(vec[i], int):
                            self._arc(vec[i], dst, f"carry:{stage_j - i // 4}", idx, f"{pname}[{i}]")
                for pname in chain_in.get(first_stage, []):
                    for b in c.bits(pname):
                        drv = self.driver.get(b)
                        routed = not (drv and drv[0] in CARRY_TYPES and drv[1] == "CO" and pname != "CYINIT")
                        stages = stage_j - first_stage
                        # a CI from another chain propagates; a routed CI/CYINIT enters like S
                        self._arc(b, dst, f"carry:{stages}" if routed else f"ci:{stages + 1}", idx, pname)

    def _srl(self, idx: int, c: Cell) -> None:
        addr = [p for p in c.conns if p == "A" or re.fullmatch(r"A\d", p)]
        for out in ("Q", "Q15", "Q31"):
            for b in c.bits(out):
                self._start(b, "srl", idx)
                if out == "Q":
                    self._arcs(idx, addr, self.node(b), "srl_addr")
        self._end(idx, [p for p in ("D", "CE") if p in c.conns], "srl")

    def _lutram(self, idx: int, c: Cell) -> None:
        t = c.type
        wide = any(n in t for n in ("128", "256", "512"))
        arc = "lutram_read_wide" if wide else "lutram_read"
        apins = [p for p in c.conns if p == "A" or re.fullmatch(r"A\d", p)]
        dpins = [p for p in c.conns if p == "DPRA" or re.fullmatch(r"DPRA\d", p)]
        if "M" in t[5:]:  # RAM32M, RAM64M, RAM32M16, RAM64M8: DOx reads through ADDRx
            letters = sorted(p[2:] for p in c.conns if p.startswith("DO") and c.dirs.get(p) == "output")
            # the last port (D of the 4-port, H of the 8-port primitives) also holds the write address
            write_addr = "ADDRH" if t in ("RAM32M16", "RAM64M8") else "ADDRD"
            for letter in letters:
                for b in c.bits(f"DO{letter}"):
                    self._start(b, "lutram", idx)
                    self._arcs(idx, [f"ADDR{letter}"], self.node(b), arc)
            wr = [p for p in c.conns if c.dirs.get(p) == "input" and (p.startswith("DI") or p == "WE")]
            wr.append(write_addr)
        else:  # RAMnX1S: O reads through A; RAMnX1D: SPO through A, DPO through DPRA
            for out, pins in (("O", apins), ("SPO", apins), ("DPO", dpins)):
                for b in c.bits(out):
                    self._start(b, "lutram", idx)
                    self._arcs(idx, pins, self.node(b), arc)
            wr = [p for p in c.conns if c.dirs.get(p) == "input" and p in ("D", "WE")] + apins
        unknown_out = [p for p in self._outputs(idx) if not (p.startswith("DO") or p in ("O", "SPO", "DPO"))]
        if unknown_out:
            raise StaError(f"netlist {self.design.path}: LUTRAM cell {c.name} ({t}) has unmodelled outputs {unknown_out}")
        self._end(idx, wr, "lutram")

    def _bram(self, idx: int, c: Cell) -> None:
        doa = int(c.param("DOA_REG", 1))
        dob = int(c.param("DOB_REG", 1))
        for p in self._outputs(idx):
            if p.startswith("DOUTA") or p.startswith("DOUTPA"):
                kind = "bram_reg" if doa else "bram"
            elif p.startswith("DOUTB") or p.startswith("DOUTPB"):
                kind = "bram_reg" if dob else "bram"
            else:
                kind = "bram"
            for b in c.bits(p):
                self._start(b, kind, idx)
        ins = [p for p, dd in c.dirs.items() if dd == "input" and not p.startswith("CLK") and p in c.conns]
        self._end(idx, ins, "bram")

    def _dsp(self, idx: int, c: Cell) -> None:
        def par(key: str):
            return c.param(key, DSP_DEFAULTS.get(key, 0))

        def used(port: str) -> bool:
            return any(isinstance(b, int) for b in c.conns.get(port, ()))

        def const_value(port: str) -> int | None:
            bits = c.conns.get(port, [])
            if any(isinstance(b, int) for b in bits):
                return None
            return sum(1 << i for i, b in enumerate(bits) if b == "1")

        unknown = [p for p in c.conns if p not in DSP_DATA_INPUTS and p not in DSP_CTRL_PINS
                   and p not in DSP_P_OUTPUTS and p not in ("PCOUT", "ACOUT", "BCOUT", "CARRYCASCOUT", "MULTSIGNOUT")]
        if unknown:
            raise StaError(f"netlist {self.design.path}: DSP48E2 cell {c.name} has unmodelled ports {unknown}")
        regs = {k: int(par(k)) for k in DSP_REG_PARAMS}
        node = {tag: self.node((idx, tag)) for tag in ("A", "B", "C", "D", "AD", "ADpre", "M", "Mpre", "ALU", "P")}
        a_pins = ["ACIN"] if str(par("A_INPUT")) == "CASCADE" else ["A"]
        b_pins = ["BCIN"] if str(par("B_INPUT")) == "CASCADE" else ["B"]
        # A, B, C, D: a register (start + end point) or the pin through the input multiplexers
        for tag, pins, reg in (("A", a_pins, "AREG"), ("B", b_pins, "BREG"), ("C", ["C"], "CREG"), ("D", ["D"], "DREG")):
            if not any(used(p) for p in pins):
                continue
            if regs[reg]:
                self._start(node[tag], "dsp_reg", idx, is_node=True)
                self._end(idx, pins, "dsp_reg")
            else:
                self._arcs(idx, pins, node[tag], "dsp_port_in")
        use_mult = str(par("USE_MULT")) != "NONE"
        amult, bmult = str(par("AMULTSEL")), str(par("BMULTSEL"))
        preadd = use_mult and "AD" in (amult, bmult)
        mult_a = node["A"]
        mult_b = node["B"]
        if preadd:
            other = node["B"] if str(par("PREADDINSEL")) == "B" else node["A"]
            for src_tag, src in (("D", node["D"]), ("A/B", other)):
                self._internal_arc(src, node["ADpre"], "dsp_preadd", idx, f"{src_tag}->AD")
            if regs["ADREG"]:
                self.endpoints.append(Endpoint(node["ADpre"], NET_NONE, 1, "dsp_reg", idx, "ADREG"))
                self._start(node["AD"], "dsp_reg", idx, is_node=True)
            else:
                self._internal_arc(node["ADpre"], node["AD"], "zero", idx, "AD")
            if amult == "AD":
                mult_a = node["AD"]
            if bmult == "AD":
                mult_b = node["AD"]
        inmode_dynamic = used("INMODE")
        if use_mult:
            self._internal_arc(mult_a, node["Mpre"], "dsp_mult", idx, "A*B")
            self._internal_arc(mult_b, node["Mpre"], "dsp_mult", idx, "A*B")
            if inmode_dynamic and not int(par("INMODEREG")):
                self._arcs(idx, ["INMODE"], node["Mpre"], "dsp_mult")
            if regs["MREG"]:
                self.endpoints.append(Endpoint(node["Mpre"], NET_NONE, 1, "dsp_reg", idx, "MREG"))
                self._start(node["M"], "dsp_reg", idx, is_node=True)
            else:
                self._internal_arc(node["Mpre"], node["M"], "zero", idx, "M")
        # ALU inputs from the OPMODE multiplexers (UG579): X = OPMODE[1:0], Y = [3:2], Z = [6:4], W = [8:7]
        opmode = const_value("OPMODE")
        if opmode is not None:
            opmode ^= int(par("IS_OPMODE_INVERTED")) & 0x1FF
            x, y, z, w = opmode & 3, (opmode >> 2) & 3, (opmode >> 4) & 7, (opmode >> 7) & 3
            sel_m = use_mult and (x == 1 or y == 1)
            sel_ab = x == 3
            sel_c = y == 3 or z == 3 or w == 3
            sel_pcin = z in (1, 5)
            sel_p = x == 2 or z in (2, 4, 6) or w == 1
        else:  # dynamic OPMODE: every source can reach the ALU
            sel_m, sel_ab, sel_c, sel_pcin, sel_p = use_mult, True, True, True, True
        alu = node["ALU"]
        if sel_m:
            self._internal_arc(node["M"], alu, "dsp_alu", idx, "M->ALU")
        if sel_ab:
            self._internal_arc(node["A"], alu, "dsp_alu", idx, "A:B->ALU")
            self._internal_arc(node["B"], alu, "dsp_alu", idx, "A:B->ALU")
        if sel_c and used("C"):
            self._internal_arc(node["C"], alu, "dsp_alu", idx, "C->ALU")
        if sel_pcin:
            self._arcs(idx, ["PCIN"], alu, "dsp_alu")
        if sel_p:
            self._internal_arc(node["P"], alu, "dsp_alu", idx, "P->ALU")
        for pin in ("CARRYCASCIN", "MULTSIGNIN"):
            self._arcs(idx, [pin], alu, "dsp_alu")
        for pin, reg in (("CARRYIN", "CARRYINREG"), ("OPMODE", "OPMODEREG"), ("ALUMODE", "ALUMODEREG"),
                         ("CARRYINSEL", "CARRYINSELREG"), ("INMODE", "INMODEREG")):
            if not used(pin):
                continue
            if int(par(reg)):
                self._end(idx, [pin], "dsp_ctrl")
            elif pin != "INMODE":
                self._arcs(idx, [pin], alu, "dsp_alu")
        if regs["PREG"]:
            self.endpoints.append(Endpoint(alu, NET_NONE, 1, "dsp_reg", idx, "PREG"))
            self._start(node["P"], "dsp_p", idx, is_node=True)
            p_arc, cascade_arc = "zero", "zero"
        else:
            self._internal_arc(alu, node["P"], "zero", idx, "P")
            p_arc, cascade_arc = "dsp_p_out", "dsp_cascade_out"
        for pin in DSP_P_OUTPUTS:
            for b in c.bits(pin):
                self._internal_arc(node["P"], self.node(b), p_arc, idx, f"ALU->{pin}")
        for pin in ("PCOUT", "CARRYCASCOUT"):
            for b in c.bits(pin):
                self._internal_arc(node["P"], self.node(b), cascade_arc, idx, f"ALU->{pin}")
        for pin, tag in (("ACOUT", "A"), ("BCOUT", "B"), ("MULTSIGNOUT", "M")):
            for b in c.bits(pin):
                self._internal_arc(node[tag], self.node(b), "dsp_cascade_out", idx, f"{tag}->{pin}")
        ctrl = [p for p, served in DSP_CTRL_PINS.items() if used(p) and any(int(par(r)) for r in served)]
        self._end(idx, ctrl, "dsp_ctrl")
        pcin_from_dsp = any(self.driver.get(b, ("", ""))[0] == DSP_TYPE for b in c.bits("PCIN"))
        self.dsp_info[idx] = dict(regs, OPMODE=opmode, A_INPUT=str(par("A_INPUT")), B_INPUT=str(par("B_INPUT")),
                                  PCIN=pcin_from_dsp, PCOUT=used("PCOUT"), C_used=used("C") and sel_c,
                                  preadd=preadd)


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------

def _arc_delay(model: DelayModel, arc: str) -> float:
    if arc == "zero":
        return 0.0
    if arc.startswith("carry:"):  # entering at a stage, then k further stages
        return model.carry_entry + int(arc[6:]) * model.carry_stage
    if arc.startswith("ci:"):     # propagating through k stages from CI
        return int(arc[3:]) * model.carry_stage
    if arc == "lutram_read_wide":
        return model.lutram_read + model.muxf
    return getattr(model, arc)


def _start_delay(model: DelayModel, kind: str) -> float:
    return {"ff": model.ff_clk_q, "input": model.ff_clk_q, "srl": model.srl_clk_q, "lutram": model.lutram_clk_q,
            "bram": model.bram_clk_q, "bram_reg": model.bram_clk_q_reg, "dsp_reg": model.dsp_reg_clk_q,
            "dsp_p": model.dsp_p_clk_q}[kind]


def _setup_delay(model: DelayModel, kind: str) -> float:
    return {"ff_d": model.ff_setup_d, "ff_ctrl": model.ff_setup_ctrl, "output": model.ff_setup_d,
            "srl": model.srl_setup, "lutram": model.lutram_setup, "bram": model.bram_setup,
            "dsp_reg": model.dsp_reg_setup, "dsp_ctrl": model.dsp_ctrl_setup}[kind]


def net_delay(model: DelayModel, kind: int, fanout: int) -> float:
    if kind == NET_NONE:
        return 0.0
    if kind == NET_LOCAL:
        return model.net_local
    return model.net_base + model.net_per_fanout_doubling * math.log2(max(1, fanout))


def topological_order(graph: TimingGraph) -> tuple[list[int], list[list[int]]]:
    """Nodes in dependency order and each node's incoming edges; StaError on a combinational loop."""
    n = len(graph.node_keys)
    in_edges: list[list[int]] = [[] for _ in range(n)]
    out_nodes: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for e, (s, t) in enumerate(zip(graph.e_src, graph.e_dst)):
        in_edges[t].append(e)
        out_nodes[s].append(t)
        indeg[t] += 1
    order = [v for v in range(n) if indeg[v] == 0]
    head = 0
    while head < len(order):
        v = order[head]
        head += 1
        for t in out_nodes[v]:
            indeg[t] -= 1
            if indeg[t] == 0:
                order.append(t)
    if len(order) < n:
        raise StaError(_describe_loop(graph, in_edges, indeg))
    return order, in_edges


def _describe_loop(graph: TimingGraph, in_edges: list[list[int]], indeg: list[int]) -> str:
    """Walk back from a node left with unresolved inputs until a node repeats: that is a loop."""
    left = {v for v, k in enumerate(indeg) if k > 0}
    v = next(iter(left))
    seen: dict[int, int] = {}
    trail: list[int] = []
    while v not in seen:
        seen[v] = len(trail)
        e = next(e for e in in_edges[v] if graph.e_src[e] in left)
        trail.append(e)
        v = graph.e_src[e]
    loop = trail[seen[v]:][::-1]
    cells = []
    for e in loop:
        c = graph.design.cells[graph.e_cell[e]]
        item = f"{c.name} ({c.type})"
        if not cells or cells[-1] != item:
            cells.append(item)
    return (f"netlist {graph.design.path}: combinational loop through {len(cells)} cell(s): "
            + " -> ".join(cells[:12]) + (" ..." if len(cells) > 12 else ""))


@dataclass
class CornerResult:
    model: DelayModel
    arrival: list[float]
    best_edge: list[int]
    edge_delay: list[float]
    endpoint_delay: list[float]     # total per endpoint (arrival + net + setup + uncertainty); -inf if unreachable


def propagate(graph: TimingGraph, order: list[int], in_edges: list[list[int]], model: DelayModel) -> CornerResult:
    arc_cache: dict[str, float] = {}
    net_cache: dict[tuple[int, int], float] = {}
    edge_delay = []
    for net, fo, arc in zip(graph.e_net, graph.e_fanout, graph.e_arc):
        a = arc_cache.get(arc)
        if a is None:
            a = arc_cache[arc] = _arc_delay(model, arc)
        n = net_cache.get((net, fo))
        if n is None:
            n = net_cache[(net, fo)] = net_delay(model, net, fo)
        edge_delay.append(n + a)
    n = len(graph.node_keys)
    neg = -math.inf
    arrival = [neg] * n
    best = [-1] * n
    start_arrival = {v: _start_delay(model, kind) for v, (kind, _) in graph.starts.items()}
    e_src = graph.e_src
    for v in order:
        a = start_arrival.get(v, neg)
        b = -1
        for e in in_edges[v]:
            cand = arrival[e_src[e]] + edge_delay[e]
            if cand > a:
                a, b = cand, e
        arrival[v] = a
        best[v] = b
    totals = []
    for ep in graph.endpoints:
        a = arrival[ep.node]
        totals.append(a + net_delay(model, ep.net_kind, ep.fanout) + _setup_delay(model, ep.setup)
                      + model.clock_uncertainty if a > neg else neg)
    return CornerResult(model, arrival, best, edge_delay, totals)


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

@dataclass
class PathStep:
    arrival: float
    what: str            # "LUT4 I2->O", "CARRY4 x3", "DSP48E2 A*B", "start FDRE Q", ...
    cell: str
    node: str            # name of the node reached
    rtl: str


@dataclass
class TimingPath:
    corner: str
    delay: float
    start: str               # start register / port name
    start_kind: str
    end: str                 # end register (group) name
    end_pin: str
    end_kind: str
    steps: list[PathStep]
    luts: int
    muxf: int
    carry_cells: int
    longest_carry_chain: int
    dsps: list[str]          # "label (AREG=0 BREG=0 ...)"
    brams: list[str]
    srl: int
    lutram: int
    rtl: str                 # file:line ranges of every cell and named wire on the path

    def composition(self, short: bool = False) -> str:
        """'3 LUT, 14 CARRY (longest chain 7), 1 DSP48E2 [...]'; ``short`` summarizes the DSP
        settings and leaves out the block RAM names."""
        parts = []
        if self.luts:
            parts.append(f"{self.luts} LUT")
        if self.muxf:
            parts.append(f"{self.muxf} MUXF")
        if self.carry_cells:
            parts.append(f"{self.carry_cells} CARRY (longest chain {self.longest_carry_chain})")
        if self.dsps and short:
            bare = all("AREG=0 BREG=0 CREG=0 MREG=0 PREG=0" in d for d in self.dsps)
            parts.append(f"{len(self.dsps)} DSP48E2" + (" (no internal registers)" if bare else " (registered)"))
        elif self.dsps:
            parts.append(f"{len(self.dsps)} DSP48E2 [" + "; ".join(self.dsps) + "]")
        if self.brams and short:
            parts.append("BRAM" + (" (no output register)" if any("no output register" in b for b in self.brams) else ""))
        elif self.brams:
            parts.append("BRAM " + ", ".join(self.brams))
        if self.srl:
            parts.append(f"{self.srl} SRL")
        if self.lutram:
            parts.append(f"{self.lutram} LUTRAM")
        return ", ".join(parts) or "direct connection"


@dataclass
class EndpointGroup:
    """The endpoints of one register; ``path`` (nominal corner) is filled for the worst groups only."""
    name: str
    nominal: float
    optimistic: float
    endpoint: int
    path: TimingPath | None = None


@dataclass
class UnitTiming:
    unit: str
    netlist: Path
    period: float
    cells: int
    cell_counts: dict[str, int]
    endpoints: int
    failing_endpoints: int        # endpoint bits over the period, nominal corner
    groups: list[EndpointGroup]   # worst first (nominal)
    dsp_summary: list[tuple[int, str]]
    seconds: float

    @property
    def worst_nominal(self) -> float:
        return self.groups[0].nominal if self.groups else 0.0

    @property
    def worst_optimistic(self) -> float:
        return max((g.optimistic for g in self.groups), default=0.0)

    @property
    def verdict(self) -> str:
        return verdict(self.worst_nominal, self.worst_optimistic, self.period)

    @property
    def failing_groups(self) -> int:
        """Endpoint groups (registers) whose nominal worst path exceeds the period."""
        return sum(1 for g in self.groups if g.nominal > self.period)


def verdict(nominal: float, optimistic: float, period: float) -> str:
    """meets: nominal within the period; at risk: only the optimistic corner is; fails: neither."""
    if nominal <= period:
        return "meets"
    return "at risk" if optimistic <= period else "fails"


_INDEX_RE = re.compile(r"\[\d+\]")
_MEMORY_PART_RE = re.compile(r"(\.\d+)+$")


class Analysis:
    """The graph of one netlist and its propagation in both corners."""

    def __init__(self, design: Design, src_root: Path | None = None):
        self.design = design
        self.src_root = src_root        # where the src attributes' relative paths start (the Yosys folder)
        self._source_text: dict[str, list[str]] | None = None
        self.graph = TimingGraph(design)
        self.order, self.in_edges = topological_order(self.graph)
        self.corners = {c: propagate(self.graph, self.order, self.in_edges, delay_model(c)) for c in CORNERS}

    # -- names -----------------------------------------------------------------------------------
    def node_name(self, node: int) -> str:
        key = self.graph.node_keys[node]
        if isinstance(key, tuple):
            cell_idx, tag = key
            return f"{self.design.cells[cell_idx].label()}.{tag}"
        entry = self.design.bit_name.get(key)
        return entry[1] if entry else f"${key}"

    def _bit_rtl(self, node: int) -> dict[str, set[int]]:
        key = self.graph.node_keys[node]
        return src_lines(self.design.bit_src.get(key, "")) if isinstance(key, int) else {}

    def group_name(self, ep: Endpoint) -> str:
        """Endpoint register without bit index: the register a path ends in."""
        if ep.cell < 0:
            return "output " + _INDEX_RE.sub("", ep.pin)
        c = self.design.cells[ep.cell]
        if c.type in FF_TYPES:
            q = c.bits("Q")
            entry = self.design.bit_name.get(q[0]) if q else None
            name = entry[1] if entry else c.label()
            if name.startswith("$"):
                name = c.label()
            return _INDEX_RE.sub("", name)
        if c.type == DSP_TYPE:
            pin = ep.pin if ep.pin in ("ADREG", "MREG", "PREG") else _INDEX_RE.sub("", ep.pin)
            return f"{c.label()} {pin}"
        if c.type in SRL_TYPES:
            # an SRL replaces a chain of registers: name it after the register its output is
            q = c.bits("Q")
            entry = self.design.bit_name.get(q[0]) if q else None
            if entry and not entry[1].startswith("$"):
                return f"{_INDEX_RE.sub('', entry[1])} (SRL)"
        if c.type in BRAM_TYPES or c.type in LUTRAM_TYPES:
            # the primitives of one memory ("mem.0.0", "mem.0.1", ...) and of every generate copy
            # of it are one group
            return f"{_MEMORY_PART_RE.sub('', _INDEX_RE.sub('', c.label()))} {_INDEX_RE.sub('', ep.pin)}"
        return f"{c.label()} {_INDEX_RE.sub('', ep.pin)}"

    def start_name(self, node: int) -> tuple[str, str]:
        kind, cell = self.graph.starts.get(node, ("?", -1))
        if kind == "input":
            return "input " + self.node_name(node), kind
        if cell >= 0:
            c = self.design.cells[cell]
            if c.type in FF_TYPES:
                name = self.node_name(node)
                return (c.label() if name.startswith("$") else name), kind
            if c.type == DSP_TYPE:
                return self.node_name(node), kind
            name = self.node_name(node)
            if name.startswith("$"):
                return f"{self._cell_display(c) or c.type} ({c.type} output)", kind
            return f"{name} ({c.type})", kind
        return self.node_name(node), kind

    def dsp_settings(self, cell: int) -> str:
        info = self.graph.dsp_info[cell]
        regs = " ".join(f"{k}={info[k]}" for k in ("AREG", "BREG", "CREG", "MREG", "PREG"))
        extra = []
        if info["PCIN"]:
            extra.append("PCIN cascade")
        if info["A_INPUT"] == "CASCADE" or info["B_INPUT"] == "CASCADE":
            extra.append("A/B cascade")
        if info["preadd"]:
            extra.append(f"pre-adder ADREG={info['ADREG']}")
        return regs + (", " + ", ".join(extra) if extra else "")

    # -- paths -----------------------------------------------------------------------------------
    def _shown(self, node: int) -> str:
        """Node name for a path listing; Yosys-internal ($abc$...) names carry no information."""
        if isinstance(self.graph.node_keys[node], tuple):
            return ""  # a DSP48E2 internal node: the step already says which
        name = self.node_name(node)
        return "" if name.startswith("$") else name

    def _start_what(self, kind: str, cell: int, node: int) -> str:
        if kind == "input":
            return "input port (launched by a register outside)"
        c = self.design.cells[cell]
        if kind == "dsp_reg":
            return f"DSP48E2 {self.graph.node_keys[node][1]}REG clock->out"
        return {"ff": f"{c.type} clock->Q", "srl": f"{c.type} clock->Q", "lutram": f"{c.type} write clock->O",
                "bram": f"{c.type} clock->DOUT (no output register)",
                "bram_reg": f"{c.type} clock->DOUT (output register)",
                "dsp_p": "DSP48E2 PREG clock->P"}[kind]

    def path(self, corner: str, ep_index: int) -> TimingPath:
        """The worst path into one endpoint, cell by cell, with its composition and RTL lines."""
        res = self.corners[corner]
        g, d = self.graph, self.design
        ep = g.endpoints[ep_index]
        edges = []
        v = ep.node
        while res.best_edge[v] >= 0:
            e = res.best_edge[v]
            edges.append(e)
            v = g.e_src[e]
        edges.reverse()
        start_node = v
        start, start_kind = self.start_name(start_node)
        start_cell = g.starts.get(start_node, ("", -1))[1]
        rtl: dict[str, set[int]] = defaultdict(set)
        steps: list[PathStep] = []
        step_rtl: list[dict[str, set[int]]] = []

        def add_step(arrival: float, what: str, cell: str, node: str, lines: dict[str, set[int]]) -> None:
            steps.append(PathStep(arrival, what, cell, node, ""))
            step_rtl.append(defaultdict(set, {f: set(ls) for f, ls in lines.items()}))
            for f, ls in lines.items():
                rtl[f] |= ls

        luts = muxf = carry = srl = lutram = 0
        chain = longest = 0
        dsps: list[str] = []
        brams: list[str] = []

        def note_dsp(cell: int) -> None:
            text = f"{d.cells[cell].label()}: {self.dsp_settings(cell)}"
            if text not in dsps:
                dsps.append(text)

        if start_cell >= 0:
            sc = d.cells[start_cell]
            add_step(res.arrival[start_node], self._start_what(start_kind, start_cell, start_node),
                     self._cell_display(sc), self._shown(start_node), self._cell_rtl(start_cell))
            if sc.type in BRAM_TYPES:
                brams.append(f"{sc.label()} (DOUT, {'output register' if start_kind == 'bram_reg' else 'no output register'})")
            srl += sc.type in SRL_TYPES
            lutram += sc.type in LUTRAM_TYPES
            if sc.type == DSP_TYPE:
                note_dsp(start_cell)
        else:
            add_step(res.arrival[start_node], self._start_what(start_kind, -1, start_node), "",
                     self._shown(start_node), self._bit_rtl(start_node))
        prev_cell = start_cell
        for e in edges:
            ci = g.e_cell[e]
            c = d.cells[ci]
            lines = self._cell_rtl(ci)
            for f, ls in self._bit_rtl(g.e_dst[e]).items():
                lines.setdefault(f, set()).update(ls)
            new_cell = ci != prev_cell
            prev_cell = ci
            pin = g.e_pin[e]
            if c.type in CARRY_TYPES:
                through = pin == "CI" and steps[-1].what.startswith("CARRY")
                if new_cell:
                    carry += 1
                    chain = chain + 1 if through else 1
                    longest = max(longest, chain)
                if through:  # one line per chain: "CARRY4 x5"
                    last = steps[-1]
                    n = int(last.what.split(" x")[1].split()[0]) + 1 if " x" in last.what else 2
                    steps[-1] = PathStep(res.arrival[g.e_dst[e]], f"{c.type} x{n} (carry chain)", last.cell,
                                         self._shown(g.e_dst[e]), "")
                    for f, ls in lines.items():
                        step_rtl[-1][f] |= ls
                        rtl[f] |= ls
                    continue
            else:
                chain = 0
            if new_cell:
                luts += c.type in LUT_TYPES
                muxf += c.type in MUXF_TYPES
                lutram += c.type in LUTRAM_TYPES
                srl += c.type in SRL_TYPES
                if c.type == DSP_TYPE:
                    note_dsp(ci)
            if c.type == "INV" or (c.type == DSP_TYPE and g.e_arc[e] == "zero"):
                for f, ls in lines.items():
                    rtl[f] |= ls
                continue  # no delay of its own: not worth a line
            if c.type == DSP_TYPE:
                what = f"DSP48E2 {pin} in" if g.e_arc[e] == "dsp_port_in" else f"DSP48E2 {pin}"
            elif c.type in CARRY_TYPES:
                what = f"{c.type} {pin.split('[')[0]}->CO/O"
            else:
                what = f"{c.type} {pin.split('[')[0]}->{'Q' if c.type in SRL_TYPES else 'O'}"
            add_step(res.arrival[g.e_dst[e]], what, self._cell_display(c), self._shown(g.e_dst[e]), lines)
        total = res.endpoint_delay[ep_index]
        if ep.cell >= 0:
            ec = d.cells[ep.cell]
            if ec.type in BRAM_TYPES:
                brams.append(f"{ec.label()} ({ep.pin})")
            if ec.type == DSP_TYPE:
                note_dsp(ep.cell)
            add_step(total, f"end {ec.type} {ep.pin} (setup)", self._cell_display(ec), self.group_name(ep),
                     self._cell_rtl(ep.cell))
        else:
            add_step(total, f"end output {ep.pin} (register outside)", "", "", {})
        by_name = False  # a register had no src at all: its lines come from its name alone
        for i, (register, cell) in ((0, (start, start_cell)), (-1, (self.group_name(ep), ep.cell))):
            if cell >= 0 and d.cells[cell].type in FF_TYPES:
                # a flip-flop's src is its always block; the assignment is the informative line
                found = self.assignment_lines(register)
                by_name |= bool(found) and not self._cell_rtl(cell)
                for f, ls in found.items():
                    step_rtl[i][f] |= ls
                    rtl[f] |= ls
        steps = [PathStep(s.arrival, s.what, s.cell, s.node, format_lines(r)) for s, r in zip(steps, step_rtl)]
        return TimingPath(corner, total, start, start_kind, self.group_name(ep), ep.pin, ep.setup, steps,
                          luts, muxf, carry, longest, dsps, brams, srl, lutram,
                          format_lines(rtl) + (" (register lines by name)" if by_name else ""))

    def assignment_lines(self, register: str) -> dict[str, set[int]]:
        """Lines ``NAME <= ...`` / ``NAME[..] <= ...`` of a register in the design's source files.

        Yosys drops every src attribute of logic it rebuilds (a $macc adder tree and its output
        register, for one), so such a path would have no RTL reference at all; the register's name
        still identifies where it is assigned.
        """
        leaf = _INDEX_RE.sub("", register).split(" ")[0].split(".")[-1]
        if self.src_root is None or not re.fullmatch(r"[A-Za-z_]\w*", leaf):
            return {}
        if self._source_text is None:
            self._source_text = {}
            for src in {c.src for c in self.design.cells}:
                for m in _SRC_RE.finditer(src):
                    rel = m.group(1)
                    path = self.src_root / rel
                    if rel not in self._source_text and not is_yosys_library(rel) and path.is_file():
                        self._source_text[rel] = path.read_text(errors="replace").splitlines()
        # a statement start before the name, so that `if (name <= 3)` is not taken for an assignment
        pattern = re.compile(rf"(?:^|[;)]|\bbegin|\belse|:)\s*{leaf}(\s*\[[^\]]*\])*\s*<=")
        out: dict[str, set[int]] = {}
        for rel, lines in self._source_text.items():
            for number, line in enumerate(lines, 1):
                if pattern.search(line.split("//")[0]):
                    out.setdefault(rel.rsplit("/", 1)[-1], set()).add(number)
        return out

    def _cell_display(self, c: Cell) -> str:
        label = c.label()
        return "" if label.startswith(f"{c.type} (Yosys-made") and c.type not in FF_TYPES else label

    def _cell_rtl(self, cell: int) -> dict[str, set[int]]:
        c = self.design.cells[cell]
        lines = src_lines(c.src)
        if c.type not in FF_TYPES:
            return lines
        if c.type in FF_TYPES:
            # A flip-flop's src can be a whole always block; the wire it drives names the register.
            for b in c.bits("Q"):
                wire = src_lines(self.design.bit_src.get(b, ""))
                if wire:
                    for f, ls in wire.items():
                        lines.setdefault(f, set()).update(ls)
                    break
        return lines

    def groups(self, detailed: int) -> list[EndpointGroup]:
        """Endpoint groups, worst nominal first; the worst ``detailed`` ones get their path."""
        nominal = self.corners["nominal"].endpoint_delay
        optimistic = self.corners["optimistic"].endpoint_delay
        worst_nom: dict[str, int] = {}
        worst_opt: dict[str, float] = {}
        for i, ep in enumerate(self.graph.endpoints):
            if nominal[i] == -math.inf:
                continue
            name = self.group_name(ep)
            j = worst_nom.get(name)
            if j is None or nominal[i] > nominal[j]:
                worst_nom[name] = i
            worst_opt[name] = max(worst_opt.get(name, -math.inf), optimistic[i])
        ordered = sorted(worst_nom.items(), key=lambda kv: (-nominal[kv[1]], kv[0]))
        groups = [EndpointGroup(name, nominal[i], worst_opt[name], i) for name, i in ordered]
        for g in groups[:detailed]:
            g.path = self.path("nominal", g.endpoint)
        return groups

    def dsp_summary(self) -> list[tuple[int, str]]:
        counts: Counter = Counter()
        for cell in self.graph.dsp_info:
            counts[self.dsp_settings(cell)] += 1
        return sorted(((n, s) for s, n in counts.items()), key=lambda x: (-x[0], x[1]))


def analyze(netlist: Path | str | Design, period: float, unit: str | None = None, top: str | None = None,
            detailed: int = 10, src_root: Path | None = None) -> UnitTiming:
    """Worst path per endpoint group of a netlist against a clock period (ns), both corners; the
    worst ``detailed`` groups come with their cell-by-cell path. ``src_root``: the folder Yosys
    ran in, to look up registers whose src attributes Yosys dropped."""
    t0 = time.time()
    design = netlist if isinstance(netlist, Design) else load_design(netlist, top)
    ana = Analysis(design, src_root)
    groups = ana.groups(detailed)
    nominal = ana.corners["nominal"].endpoint_delay
    reachable = [x for x in nominal if x > -math.inf]
    return UnitTiming(unit=unit or design.top, netlist=design.path, period=period, cells=len(design.cells),
                      cell_counts=dict(Counter(c.type for c in design.cells)), endpoints=len(reachable),
                      failing_endpoints=sum(1 for x in reachable if x > period), groups=groups,
                      dsp_summary=ana.dsp_summary(), seconds=round(time.time() - t0, 2))
