"""Every registered RTL unit (cosim.registry) under other random initial values: Verilator starts every
flip-flop without a reset, and every input, at a value drawn from its seed (cosim.runner:
+verilator+rand+reset+2, +verilator+seed), so a unit that depends on a value its reset does not set
passes under one seed and fails under another. The default seed (cosim.runner.DEFAULT_SEED) is the one
`make test` runs; these seeds each stopped a run once: 3 (tiny softmax and layernorm, 6, 8, 9 edge_moe
reciprocal: the benches started the clock before they drove the reset, cosim.tb.start_clock_in_reset)
and 9 (tiny backbone: attn_exp's walk was not reset until attention's first start). 17 is one more.
`make test-full` (909 s on one core beside a native Yosys run, 2026-12-08: each unit's tiny build and five
short runs; the backbone, moe_experts and linear_attention the longest)."""
from __future__ import annotations

import pytest

from cosim.registry import rtl_units
from cosim.runner import CosimError, run_unit
from tests.test_cosim_mac_array import array_params
from tests.test_cosim_moe_layer import DROP_CASES
from tests.test_cosim_weight_fifo import RUNS

pytestmark = [pytest.mark.cosim, pytest.mark.slow]

SEEDS = (3, 6, 8, 9, 17)

# units whose bench needs its own parameters for a short run (their make-test runs' settings)
RUN_ARGS = {
    "mac_array": lambda: {"parameters": array_params("tiny"), "rows": 2},
    "linear_prefetch": lambda: {"stall": "none", "testcase": "test_frame_sequence", "parameters": {"WF_DEPTH": 8},
                                "w_rate": 4, "w_burst": 8, "frame": "last_k"},
    "weight_fifo": lambda: {"parameters": RUNS[5]},    # a banked FIFO; the scenarios use experts up to 15
    # the tiny runs only (test_real is Edge-MoE's published layer, edge_moe's)
    "moe_layer": lambda: {"stall": "both", "n_random": 1, "testcase": ["test_routings", "test_random"],
                          "tasks": 1, "cases": list(DROP_CASES)},
    "moe_layer_gate": lambda: {"stall": "both", "n_random": 1, "testcase": ["test_routings", "test_random"],
                               "tasks": 1, "cases": list(DROP_CASES)},
}


@pytest.mark.parametrize("unit", sorted(rtl_units()))
def test_unit_under_other_initial_values(unit):
    """The unit's short run (its bench's own checks: the scoreboard, the RTL's simulation checks, the
    bench's model of its cycles where it has one) passes under every seed; the failures of all seeds are
    reported together."""
    kw = RUN_ARGS[unit]() if unit in RUN_ARGS else {"stall": "both", "n_random": 20}
    failed = []
    for seed in SEEDS:
        try:
            r = run_unit(unit, "tiny", run_name=f"seed{seed}", seed=seed, **kw)
        except CosimError as exc:
            failed.append(f"seed {seed}: {str(exc)[-600:]}")
            continue
        if r.get("mismatches", 0):
            failed.append(f"seed {seed}: {r['mismatches']} mismatches")
    assert not failed, f"{unit}:\n" + "\n".join(failed)
