"""Every broken copy's needle still names one line of the RTL (fast, in `make test`).

Most broken-copy tests build a Verilator model each and run in `make test-full` only, so a needle
that an RTL change moved would surface there, not in the default run (it happened: moe_experts'
`r_src` became two registered cofactors and two broken copies kept a needle that no longer
existed). This test applies `cosim.runner.broken_copy`'s rule, each needle exactly once in its
file, to every table of broken copies without building anything.
"""
from __future__ import annotations

import importlib

import pytest

from cosim.runner import RTL_DIR, broken_copy


def _named(table):
    """Tables of the form {bug: (file, [(needle, replacement), ...])}."""
    return {bug: (name, edits) for bug, (name, edits) in table.items()}


def _fixed(file_name, pick=lambda v: v):
    """Tables whose entries edit one fixed file; pick extracts the edit list from an entry."""
    return lambda table: {bug: (file_name, pick(v)) for bug, v in table.items()}


# (test module, table, how its entries map to (file, edits))
TABLES = [
    ("test_cosim_attention", "ATTN_BROKEN", _named),
    ("test_cosim_layernorm", "LAYERNORM_BROKEN", _named),
    ("test_cosim_linear", "LINEAR_BROKEN", _named),
    ("test_cosim_linear_attention", "BROKEN", _fixed("linear_attention.sv", lambda v: [v])),
    ("test_cosim_moe_experts", "MOE_EXPERTS_BROKEN", _fixed("moe_experts.sv", lambda v: v[0])),
    ("test_cosim_moe_layer", "MOE_LAYER_BROKEN", _fixed("moe_layer.sv", lambda v: v[0])),
    ("test_cosim_moe_layer", "GATE_BROKEN", _fixed("moe_experts.sv", lambda v: v[0])),
    ("test_cosim_moe_router", "ROUTER_BROKEN", _named),
    ("test_cosim_reciprocal", "RECIPROCAL_BROKEN", _fixed("reciprocal.sv")),
    ("test_cosim_softmax", "SOFTMAX_BROKEN", _named),
    ("test_cosim_weight_fifo", "BROKEN", _fixed("weight_fifo.sv")),
    ("test_cosim_axis_fifo", "AXIS_FIFO_BROKEN", _fixed("axis_fifo.sv")),
    ("test_cosim_act_buffer", "ACT_BUFFER_BROKEN", _named),
    ("test_cosim_moe_block", "MOE_BLOCK_BROKEN", _named),
    ("test_cosim_attention_block", "ATTENTION_BLOCK_BROKEN", _named),
    ("test_cosim_backbone", "BACKBONE_BROKEN", _named),
    ("test_cosim_residual_linear", "RESIDUAL_BROKEN", _named),
]


def _cases():
    for module, table, shape in TABLES:
        entries = shape(getattr(importlib.import_module(module), table))
        for bug, (name, edits) in sorted(entries.items()):
            yield pytest.param(name, edits, id=f"{module}.{table}.{bug}")


@pytest.mark.parametrize("name,edits", list(_cases()))
def test_broken_copy_needle_found_once(name, edits, tmp_path):
    assert edits, f"{name}: a broken copy without edits"
    for needle, repl in edits:
        assert needle != repl, f"{name}: an edit that changes nothing: {needle!r}"
    broken_copy(tmp_path, name, edits)   # raises when a needle is not in the file exactly once
    text = (RTL_DIR / "src" / name).read_text()
    assert (tmp_path / name).read_text() != text


def test_the_tables_are_all_listed():
    """A new table of broken copies in a cosim test module is listed above too."""
    import pathlib
    listed = {(m, t) for m, t, _ in TABLES}
    found = set()
    for path in sorted(pathlib.Path(__file__).parent.glob("test_cosim_*.py")):
        module = importlib.import_module(path.stem)
        for attr, value in vars(module).items():
            if attr.isupper() and "BROKEN" in attr and isinstance(value, dict):
                found.add((path.stem, attr))
    assert found == listed, f"tables of broken copies not listed in TABLES: {sorted(found - listed)}"
