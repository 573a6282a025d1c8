"""scripts/synth.py's resource rows counted from a netlist already written (`--netlist UNIT=PATH`),
the path for the units the WebAssembly Yosys cannot hold, and the merge with the document's table."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.synth import COLUMNS, document_rows, netlist_counts, table

ROOT = Path(__file__).resolve().parent.parent


def _netlist(tmp_path: Path) -> Path:
    cells = {f"c{i}": {"type": t} for i, t in enumerate(["LUT6", "LUT2", "FDRE", "FDSE", "DSP48E2", "RAMB36E2",
                                                         "RAMB18E2", "CARRY8", "SRL16E", "RAM64M", "INV"])}
    design = {"modules": {"top": {"cells": cells},
                          "DSP48E2": {"attributes": {"blackbox": "1"}, "cells": {"x": {"type": "LUT6"}}}}}
    path = tmp_path / "top.json"
    path.write_text(json.dumps(design))
    return path


def test_netlist_counts_by_category(tmp_path):
    c = netlist_counts(_netlist(tmp_path))
    assert {k: c[k] for k in COLUMNS} == {"LUT": 2, "LUTRAM": 1, "SRL": 1, "FF": 2, "CARRY": 1, "DSP": 1,
                                         "BRAM18": 1, "BRAM36": 1}   # the blackbox module's cell not counted
    assert c["other"] == {"INV": 1}


def test_table_keeps_other_rows_and_marks_netlist_rows(tmp_path):
    doc = tmp_path / "R.md"
    doc.write_text("x\n<!-- BEGIN synth-cfg -->\nConfiguration.\n\n| unit | LUT |\n|---|---|\n"
                   "| b_unit | 5 |\n| a_unit | 7 |\n<!-- END synth-cfg -->\n")
    kept = document_rows(doc, "cfg")
    assert sorted(kept) == ["a_unit", "b_unit"]
    text = table("cfg", {"c_unit": netlist_counts(_netlist(tmp_path))}, kept)
    units = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")][1:]
    assert units == ["a_unit", "b_unit", "c_unit"]
    assert "netlist `" in text.splitlines()[-1]
    assert document_rows(tmp_path / "none.md", "cfg") == {}


@pytest.mark.parametrize("args,message", [
    (["--netlist", "linear"], "--netlist takes UNIT=PATH"),
    (["--netlist", "linear=/no/such/file.json"], "no file /no/such/file.json"),
    (["--netlist", "no_unit=tests/test_synth_netlist.py"], "no RTL unit named no_unit"),
])
def test_bad_netlist_arguments_fail_clearly(args, message):
    res = subprocess.run([sys.executable, "scripts/synth.py", "--config", "configs/tiny.yaml", *args], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 2 and message in res.stderr, res.stderr


def test_unreadable_netlist_fails_clearly(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read the netlist"):
        netlist_counts(bad)
