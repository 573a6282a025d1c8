"""The command-line surface: make targets are listed, vendor targets fail clearly without the
vendor tool, and the scripts turn bad input into one-line errors instead of tracebacks."""
import os
import re
import subprocess
import sys

import pytest

from cosim.toolchain import REPO_ROOT


def _run(cmd, **kw):
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, **kw)


def test_make_help_lists_every_target():
    targets = re.findall(r"^([a-zA-Z_-]+):.*## ", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert {"sim", "test", "errors", "synth", "lint", "golden", "generate", "vitis-csim"} <= set(targets)
    res = _run(["make", "--no-print-directory", "help"])
    assert res.returncode == 0
    listed = [line.split()[0] for line in res.stdout.splitlines() if line.startswith("  ") and not line.startswith("  Variables")]
    assert listed == targets


def test_readme_documents_every_target():
    targets = re.findall(r"^([a-zA-Z_-]+):.*## ", (REPO_ROOT / "Makefile").read_text(), re.M)
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [t for t in targets if f"`make {t}`" not in readme]
    assert not missing, f"README.md does not describe: {missing}"


def test_no_sys_path_edits():
    """The packages are installed (pip install -e ., pyproject's packages.find) and pytest has
    pythonpath = ., so no module edits sys.path: an edit would hide an import that works only from
    one directory."""
    edit = re.compile(r"\bsys\.path\.(insert|append|extend)\(")
    hits = [f"{p.relative_to(REPO_ROOT)}:{n}" for d in ("python_ref", "cosim", "scripts", "tests")
            for p in sorted((REPO_ROOT / d).rglob("*.py"))
            for n, line in enumerate(p.read_text().splitlines(), 1) if edit.search(line)]
    assert not hits, f"sys.path edited in {hits}"


@pytest.mark.parametrize("target", ["vitis-csim", "vitis-synth", "vitis-cosim"])
def test_vendor_targets_fail_clearly_without_vitis(target):
    env = dict(os.environ, PATH=os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep)
        if not any(os.path.exists(os.path.join(p, tool)) for tool in ("vitis_hls", "vitis-run"))))
    res = _run(["make", "--no-print-directory", target], env=env)
    assert res.returncode != 0
    assert "error: neither vitis-run nor vitis_hls is on PATH" in res.stdout + res.stderr


def test_vivado_target_fails_clearly_without_vivado():
    env = dict(os.environ, PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                                  if not os.path.exists(os.path.join(p, "vivado"))))
    res = _run(["make", "--no-print-directory", "vivado-zcu102"], env=env)
    assert res.returncode != 0 and "error: vivado not found on PATH" in res.stdout + res.stderr


@pytest.mark.parametrize("script", ["sim.py", "synth.py", "error_tables.py", "export_vectors.py"])
def test_scripts_reject_a_missing_config_in_one_line(script, tmp_path):
    args = [sys.executable, f"scripts/{script}", "--config", "configs/nope.yaml"]
    if script == "export_vectors.py":
        args += ["--out", str(tmp_path)]
    res = _run(args)
    assert res.returncode == 2, res.stderr
    assert "config file 'configs/nope.yaml' not found" in res.stderr
    assert "Traceback" not in res.stderr


def test_sim_rejects_an_unknown_kernel():
    res = _run([sys.executable, "scripts/sim.py", "--config", "tiny", "--kernels", "softmaxx"])
    assert res.returncode == 2 and "unknown kernel(s) softmaxx; kernels: gelu, exp" in res.stderr


def test_synth_rejects_an_unknown_unit():
    res = _run([sys.executable, "scripts/synth.py", "--config", "tiny", "--units", "nothing"])
    assert res.returncode == 2 and "no RTL unit named nothing" in res.stderr


def test_export_vectors_for_vendor_csim(tmp_path):
    res = _run([sys.executable, "scripts/export_vectors.py", "--config", "tiny", "--out", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    n_in = len((tmp_path / "gelu" / "in.txt").read_text().split())
    n_exp = len((tmp_path / "gelu" / "expected.txt").read_text().split())
    assert n_in == n_exp > 200_000


def test_sim_summary_marks_a_kernel_without_rtl_and_fails_on_csim():
    """The backbone row has no RTL columns ("-", and None does not count as a mismatch); a C-sim
    mismatch still fails the run."""
    from cosim.sim_rows import KernelResult
    from python_ref.config import load_config
    from scripts.sim import all_exact, summary_table

    unit = KernelResult("gelu", 10, True, 10, True, 1e-5, "note", 8, 1.0)
    frame = KernelResult("backbone", 20, True, None, None, 4e-3, "frames", None, None)
    text = summary_table(load_config("tiny"), [unit, frame])
    assert "| backbone | yes (20 vectors) | - | - | 4.000e-03 (frames) | - | - |" in text
    assert all_exact([unit, frame])
    assert not all_exact([unit, KernelResult("backbone", 20, False, None, None, 4e-3, "frames", None, None)])
    assert not all_exact([KernelResult("gelu", 10, True, 10, False, 1e-5, "note", 8, 1.0), frame])


def test_sim_summary_marks_an_rtl_only_row():
    """The MoE layer row has no C-sim or error column ("-", the note instead); its RTL mismatch fails
    the run, and a row with neither a C-sim nor an RTL result is not exact."""
    from cosim.sim_rows import KernelResult
    from python_ref.config import load_config
    from scripts.sim import all_exact, summary_table

    layer = KernelResult("moe layer", None, None, 30, True, None, "bit-exact only", 120, None, 0, "no weights")
    text = summary_table(load_config("tiny"), [layer])
    assert "| moe layer | - | yes (30 vectors) | skipped | bit-exact only | 120 | - |" in text
    assert all_exact([layer])
    assert not all_exact([KernelResult("moe layer", None, None, 30, False, None, "x", 120, None)])
    assert not all_exact([KernelResult("nothing", None, None, None, None, None, "x", None, None)])


def test_sim_kernels_run_replaces_only_its_rows():
    """`scripts/sim.py --kernels K --update DOC` merges (merge_rows): K's row and its notes replace
    the table's, the other kernels' rows and notes stay in place, a new kernel is appended, and the
    document's own table merged into itself is unchanged."""
    from cosim.sim_rows import KernelResult
    from python_ref.config import load_config
    from scripts.sim import merge_rows, summary_table

    cfg = load_config("tiny")
    a = KernelResult("gelu", 10, True, 10, True, 1e-5, "g", 8, 1.0)
    b = KernelResult("moe (router: a, b)", 20, True, 20, True, 1e-7, "m", 9, 1.0, 0, "no weights")
    c = KernelResult("layernorm", 30, True, 30, True, 1e-7, "l", 160, 1.0, 0, "no weights")
    old = summary_table(cfg, [a, b, c])
    assert merge_rows(old, old) == old and merge_rows(None, old) == old
    c2 = KernelResult("layernorm", 31, True, 31, True, 2e-7, "l", 164, 1.0, 0, "other reason")
    merged = merge_rows(old, summary_table(cfg, [c2]))
    assert merged == summary_table(cfg, [a, b, c2])
    d = KernelResult("exp", 5, True, 5, True, 1e-8, "e", 13, 1.0)
    assert merge_rows(old, summary_table(cfg, [d])) == summary_table(cfg, [a, b, c, d])
