"""scripts/lint.py: the RTL is Verilator -Wall clean and elaborates under pyslang for every config,
and the lint really fails on a width warning and on a failing elaboration-time $error check."""
from __future__ import annotations

import subprocess
import sys

import pytest

from cosim.toolchain import REPO_ROOT, RTL_DIR
from scripts.lint import main as lint_main, modules_in

LINT = REPO_ROOT / "scripts" / "lint.py"


def lint(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LINT), *map(str, args)], capture_output=True, text=True,
                          cwd=REPO_ROOT)


MODULES = sorted(set(modules_in(sorted((RTL_DIR / "src").glob("*.sv")))))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("config", ["tiny", "edge_moe"])
def test_rtl_lint_clean(config, module, capfd):
    # in this process (the CLI itself runs in the tests below): 90 interpreter starts saved
    rc = lint_main(["--config", config, "--top", module])
    out, err = capfd.readouterr()
    assert rc == 0, out + err
    assert "lint: 0 failure(s)" in out
    assert f"[PASS] {config:10s} {module:16s} verilator -Wall" in out
    assert f"[PASS] {config:10s} {module:16s} pyslang" in out


def test_rtl_lint_covers_gelu():
    assert {"gelu", "axis_skid"} <= set(MODULES)


def test_rtl_lint_fails_on_width_warning(tmp_path):
    bad = tmp_path / "trunc.sv"
    bad.write_text("module trunc (input logic [3:0] a, output logic [1:0] y);\n  assign y = a;\nendmodule\n")
    res = lint("--config", "tiny", "--sources", bad)
    assert res.returncode == 1
    assert "[FAIL] tiny       trunc            verilator -Wall" in res.stdout and "WIDTHTRUNC" in res.stdout


def test_rtl_lint_fails_on_elaboration_check(tmp_path):
    bad = tmp_path / "chk.sv"
    bad.write_text("module chk import model_pkg::*; (output logic [GELU_LANES-1:0] y);\n"
                   "  if (GELU_LANES != 3) begin : g_chk\n    $error(\"lanes %0d\", GELU_LANES);\n  end\n"
                   "  assign y = '0;\nendmodule\n")
    res = lint("--config", "edge_moe", "--sources", bad)
    assert res.returncode == 1
    assert "[FAIL] edge_moe   chk              verilator -Wall" in res.stdout
    assert "[FAIL] edge_moe   chk              pyslang" in res.stdout


@pytest.mark.parametrize("keep,data,why", [(3, 32, "x_TKEEP is 3 bits for a 32-bit x_TDATA"),
                                           (2, 12, "x_TDATA is 12 bits, not a whole number of bytes")])
def test_rtl_lint_fails_on_axis_port_widths(keep, data, why, tmp_path):
    """A TKEEP that is not one bit per TDATA byte (the unit ignores it, so no simulation would see it)."""
    bad = tmp_path / "keep.sv"
    bad.write_text(f"module keep (input logic [{data - 1}:0] x_TDATA, input logic [{keep - 1}:0] x_TKEEP,\n"
                   f"             output logic [{data - 1}:0] y);\n"
                   "  assign y = x_TDATA;\n  wire unused_ok = &{1'b0, x_TKEEP};\nendmodule\n")
    res = lint("--config", "tiny", "--sources", bad)
    assert res.returncode == 1, res.stdout
    assert "[PASS] tiny       keep             verilator -Wall" in res.stdout
    assert "[FAIL] tiny       keep             pyslang" in res.stdout and why in res.stdout


def test_rtl_lint_unknown_config_or_module():
    res = lint("--config", "no_such_config")
    assert res.returncode == 2 and "not found" in res.stderr
    res = lint("--config", "tiny", "--top", "no_such_module")
    assert res.returncode == 2 and "no_such_module" in res.stderr


def test_rtl_attention_elaborates_both_operand_forms(tmp_path):
    """The attention RTL elaborates with K / V split hi / lo (the shipped formats) and whole
    (numerics.attention_kv = 18 bits, numerics.attention_q = 26 bits: one array pass), alone and in the
    shared top, on both configs' shapes."""
    from python_ref.codegen import sv_package
    from python_ref.config import load_config, parse_config
    from scripts.lint import verilator_lint

    files = sorted((RTL_DIR / "src").glob("*.sv"))
    for name in ("tiny", "edge_moe"):
        raw = load_config(name).as_dict()
        raw["numerics"]["attention_kv"] = {"width": 18, "int": 7, "quant": "RND", "overflow": "SAT_SYM"}
        raw["numerics"]["attention_q"] = {"width": 26, "int": 8, "quant": "RND", "overflow": "SAT_SYM"}
        pkg = tmp_path / name / "model_pkg.sv"
        pkg.parent.mkdir()
        pkg.write_text(sv_package(parse_config(raw, f"{name}.yaml (single pass)")))
        for top in ("attention", "linear_attention"):
            passed, out = verilator_lint(pkg, files, top)
            # an elaboration $error is Verilator's USERERROR; the waivers name the committed packages'
            # paths, so this package's unused constants warn
            errors = [ln for ln in out.splitlines() if ln.startswith(("%Error", "%Warning-USERERROR", "%Warning-WIDTH"))
                      and "Exiting due to" not in ln]
            assert not errors, (name, top, out[-3000:])
