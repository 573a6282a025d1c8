"""The mutation runner (cosim/mutate.py) on a planted project: it must report the survivor a weak
test lets through, kill what the test sees, honour the equivalent list, and never mutate comments,
SystemVerilog non-blocking assignments or C++ template brackets."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cosim import mutate
from cosim.toolchain import REPO_ROOT


@pytest.fixture
def planted(tmp_path):
    """A git project: ge3 is tested only at 2 and 5 (x >= 3 -> x > 3 survives: the planted
    survivor), add is tested exactly (+ -> - is killed)."""
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        def ge3(x):
            return x >= 3  # threshold: >= 3 here is a comment

        def add(a, b):
            return a + b
        """))
    (tmp_path / "test_m.py").write_text(textwrap.dedent("""\
        from m import add, ge3

        def test_m():
            assert ge3(5) and not ge3(2)
            assert add(2, 3) == 5
        """))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    return tmp_path


def command(_rel):
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_m.py"]


def test_planted_survivor_is_reported(planted):
    outcomes = mutate.campaign(planted, ["m.py"], command, timeout=120)
    by_op = {o.mutant.operator: o.status for o in outcomes}
    assert by_op["ge->gt"] == "survived"       # the planted survivor
    assert by_op["plus->minus"] == "killed"
    assert by_op["const+1"] == "survived"      # x >= 4: also not seen by the weak test
    assert all(o.mutant.mutated.split("#", 1)[-1] == o.mutant.original.split("#", 1)[-1]
               for o in outcomes if "#" in o.mutant.original), "comments are never mutated"
    s = mutate.score(outcomes)
    assert s["survived"] == 2 and s["killed"] >= 1 and s["score"] < 1
    text = mutate.report(outcomes)
    assert text.splitlines()[0].startswith(f"{len(outcomes)} mutants:") and "| survived |" in text
    assert (planted / "m.py").read_text().count(">= 3") == 2, "the working tree is never touched"


def test_equivalent_mutants_are_reported_not_run(planted, monkeypatch):
    ms = [m for m in mutate.mutants_of_file(planted, "m.py") if m.operator == "ge->gt"]
    monkeypatch.setitem(mutate.EQUIVALENT, ms[0].key, "planted: declared equivalent")
    o = mutate.run_mutant(planted, ["m.py", "test_m.py"], ms[0], command("m.py"), timeout=60)
    assert o.status == "equivalent" and o.detail == "planted: declared equivalent"
    assert mutate.score([o])["score"] == 1.0


def test_a_hang_is_a_kill(planted):
    (planted / "test_m.py").write_text("import time\nfrom m import add\n\ndef test_m():\n"
                                       "    if add(2, 3) != 5:\n        time.sleep(60)\n")
    ms = [m for m in mutate.mutants_of_file(planted, "m.py") if m.operator == "plus->minus"]
    o = mutate.run_mutant(planted, ["m.py", "test_m.py"], ms[0], command("m.py"), timeout=10)
    assert o.status == "timeout (killed)"
    assert mutate.score([o])["killed"] == 1


def test_a_command_that_sees_nothing_is_an_error_not_a_kill(planted):
    """pytest exits 5 when -k selects no test: that once counted as ten RTL 'kills'. Now the
    baseline run of the unmutated copy catches it, the mutants are errors and the score ignores them."""
    def selects_nothing(_rel):
        return command(_rel) + ["-k", "no_such_test"]
    outcomes = mutate.campaign(planted, ["m.py"], selects_nothing, timeout=120)
    assert outcomes and all(o.status == "error" and "no test collected" in o.detail for o in outcomes)
    s = mutate.score(outcomes)
    assert s["killed"] == 0 and s["errors"] == len(outcomes)
    assert "not run (error" in mutate.report(outcomes).splitlines()[0]
    # without the baseline (run_mutant alone), exit 5 is still not a kill
    m = next(o.mutant for o in outcomes if o.mutant.operator == "plus->minus")
    assert mutate.run_mutant(planted, ["m.py", "test_m.py"], m, selects_nothing("m.py"), timeout=60).status == "error"


def test_a_failing_baseline_is_an_error(planted):
    (planted / "test_m.py").write_text("from m import add\n\ndef test_m():\n    assert add(2, 3) == 6\n")
    outcomes = mutate.campaign(planted, ["m.py"], command, timeout=120)
    assert all(o.status == "error" and "unmutated run fails" in o.detail for o in outcomes)


def test_real_sources_give_well_formed_mutants():
    for rel in ("rtl/src/gelu.sv", "rtl/src/axis_skid.sv", "hls/src/gelu.h", "python_ref/kernels/exp.py"):
        ms = mutate.mutants_of_file(REPO_ROOT, rel)
        assert len(ms) >= 3, rel
        for m in ms:
            assert m.mutated != m.original
            if rel.endswith(".sv"):
                # a non-blocking assignment `x <= y` is never turned into anything else
                assert m.original.count("<=") == m.mutated.count("<=") or m.operator == "lt->le", m
            if rel.endswith(".h"):
                assert m.operator not in ("gt->ge", "lt->le") or "if" in m.original or "?" in m.original, m


def test_docstrings_are_never_mutated_and_the_code_after_them_is(tmp_path):
    """Docstrings over several lines, whatever line their quotes sit on: none of their text is
    mutated, every code line after them is (the line-based guess this replaced skipped the code after
    a docstring that closed at the end of a text line, and mutated the next docstring's text)."""
    (tmp_path / "d.py").write_text(textwrap.dedent('''\
        def f(x):
            """Threshold 3 (x >= 3),
            or 4 when x > 9."""
            return x >= 3

        def g(x):
            """One line: x + 1."""
            y = x + 1
            return y - 2

        def h(x):
            """
            Text 5 < 6.
            """
            return x < 7
        '''))
    ms = mutate.mutants_of_file(tmp_path, "d.py")
    assert {m.line for m in ms} == {4, 8, 9, 15}, sorted((m.line, m.mutated) for m in ms)


@pytest.mark.slow  # every RTL, HLS and spec file mapped to its tests (minutes): make test-full
def test_project_mapping():
    assert "tests/test_cosim_gelu.py" in mutate.project_command("rtl/src/gelu.sv")
    cmd = mutate.project_command("rtl/src/exp_core.sv")
    assert "tests/test_cosim_exp.py" in cmd and "tiny" not in cmd, "exp's cosim cases have no tiny id"
    assert "tests/test_cosim_attn_phase.py" in mutate.project_command("rtl/src/attn_phase.sv"), "the unit's own bench"
    assert "tests/test_cosim_attention.py" in mutate.project_command("rtl/src/attn_issue.sv")
    # every RTL file of the default campaign maps to a command that collects at least one test
    from scripts.mutate import DEFAULT_FILES
    for rel in (f for f in DEFAULT_FILES if f.startswith("rtl/src/")):
        res = subprocess.run(mutate.project_command(rel) + ["--collect-only"], cwd=REPO_ROOT,
                             capture_output=True, text=True)
        assert res.returncode == 0 and " collected" in res.stdout, (rel, res.stdout[-300:])
    assert "tests/test_csim.py" in mutate.project_command("hls/src/exp.h")
    # every HLS file of the default campaign runs its own kernel's C-sim cases and no other kernel's
    # (`-k exp` once also matched every kernel's test_..._wrong_expectation, so a surviving exp.h
    # mutant built all nine testbenches)
    for rel in (f for f in DEFAULT_FILES if f.startswith("hls/src/")):
        res = subprocess.run(mutate.project_command(rel) + ["--collect-only"], cwd=REPO_ROOT,
                             capture_output=True, text=True)
        ids = [line for line in res.stdout.splitlines() if "::" in line]
        assert res.returncode == 0 and ids, (rel, res.stdout[-300:])
        stem = Path(rel).stem
        assert all(stem in line.split("[", 1)[1].rstrip("]").split("-") for line in ids if "[" in line), (rel, ids)
    cmd = mutate.project_command("python_ref/kernels/exp.py")
    assert "tests/test_exp.py" in cmd and "tests/test_csim.py" in cmd
    # every spec file of the default campaign runs its own tests (gelu's are test_gelu_ref.py)
    for rel in (f for f in DEFAULT_FILES if f.startswith("python_ref/kernels/")):
        stem = Path(rel).stem
        assert any(a.startswith(f"tests/test_{stem}") for a in mutate.project_command(rel)), rel
    with pytest.raises(ValueError, match="no test mapping"):
        mutate.project_command("README.md")


def test_equivalent_list_names_existing_mutants():
    """Every EQUIVALENT entry is a mutant of today's sources: an edit of the line it proves equivalent
    changes its key, and the stale proof must then go (or be redone) instead of lingering."""
    by_file: dict[str, set[str]] = {}
    for key in mutate.EQUIVALENT:
        path = key.split(":", 1)[0]
        if path not in by_file:
            by_file[path] = {m.key for m in mutate.mutants_of_file(REPO_ROOT, path)}
        assert key in by_file[path], f"{key}: no such mutant in {path} any more"
