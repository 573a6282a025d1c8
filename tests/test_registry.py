"""The kernel registry (cosim/registry.py) is complete and true: every named file exists, the names
follow the one-name-per-kernel rule, every HLS top is defined in its sources and every RTL top in
its file, every RTL source belongs to a unit, and the vendor Tcl built from the registry runs under
tclsh with the Vitis commands stubbed: it opens one project per top with that top, the kernel's
sources and its testbench, and hands csim the vector folder the testbench reads. Every stubbed run is
checked the same way (vendor_run_problems: each set_top names a function the added sources define,
each added file exists, each -argv is what the testbench's tb_args parses), and runs on broken kernel
lists (an undefined top, a missing source, an argument the testbench misreads) fail by name."""
from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cosim.registry import KERNELS, resolve, rtl_units
from cosim.toolchain import HLS_DIR, REPO_ROOT, RTL_DIR
from scripts.vitis import tcl_kernel_list

KERNEL_NAMES = list(KERNELS)


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_entry_names_files_that_exist(name):
    k = KERNELS[name]
    spec_module, _, spec_fn = k.spec.partition(":")
    assert spec_module == f"python_ref.kernels.{name}", "the spec lives in python_ref/kernels/<name>.py"
    assert callable(getattr(importlib.import_module(spec_module), spec_fn))
    assert (HLS_DIR / "src" / f"{name}.cpp") in k.hls_source_paths(), "hls/src/<name>.cpp is a source"
    assert k.hls_tb.is_file() and k.hls_tb.name == f"{name}_tb.cpp"
    for p in k.hls_source_paths():
        assert p.is_file(), p
    # every kernel has a `make sim` row (a kernel without RTL, the backbone: python_ref vs C-sim only)
    assert k.sim is not None, "every kernel has a make sim row"
    for u in k.rtl:
        assert u.paths()[-1].name == f"{u.top}.sv", "a unit's own file comes last"
        for p in u.paths():
            assert p.is_file(), p
        assert u.testbench == f"cosim.test_{u.top}"
        assert (REPO_ROOT / "cosim" / f"test_{u.top}.py").is_file()
    assert callable(resolve(k.vectors)) and callable(resolve(k.sim))


def defines_function(text: str, name: str) -> bool:
    """A definition or declaration of ``name`` at the start of a line (return type first) in C++ text."""
    return re.search(rf"^\w[\w:<>, ]*\b{name}\s*\(", text, re.M) is not None


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_hls_tops_are_defined_in_the_sources(name):
    k = KERNELS[name]
    text = "".join(p.read_text() for p in k.hls_source_paths())
    for top in k.hls_tops:
        assert defines_function(text, top), f"{top} is not defined in {k.hls_sources}"


def test_rtl_tops_and_orphans():
    declared = {}
    for f in (RTL_DIR / "src").glob("*.sv"):
        for m in re.findall(r"^\s*module\s+(\w+)", f.read_text(), re.M):
            declared[m] = f.name
    used = set()
    for top, (_, u) in rtl_units().items():
        assert declared.get(top) == f"{top}.sv"
        used |= set(u.sources)
    orphans = sorted({f.name for f in (RTL_DIR / "src").glob("*.sv")} - used)
    assert not orphans, f"rtl/src files no registered unit uses: {orphans}"


# A stand-in for the Vitis HLS commands: each logs its call, one line per call.
STUBS = """
set ::log [open $::env(STUB_LOG) w]
foreach cmd {open_project set_top open_solution set_part create_clock set_clock_uncertainty csynth_design export_design
             cosim_design close_project} {
    proc $cmd {args} "puts \\$::log \\"$cmd \\$args\\""
}
proc add_files {args} { puts $::log "add_files $args" }
proc csim_design {args} { puts $::log "csim_design $args" }
rename exit real_exit
proc exit {{code 0}} { close $::log; real_exit $code }
"""


def tb_arity(tb: Path) -> range | None:
    """How many arguments the testbench's main parses: the usage line of tb_args (hls/tb/tb_io.h),
    ``<vector_dir> [<output_file>]``, if main hands its arguments to tb_args; None if it does not."""
    if not re.search(r"\btb_args\s*\(\s*argc\s*,\s*argv\s*\)", tb.read_text()):
        return None
    usage = re.search(r'usage: %s ([^"\\]*)', (HLS_DIR / "tb" / "tb_io.h").read_text()).group(1).split()
    return range(sum(not w.startswith("[") for w in usage), len(usage) + 1)


def _argv(call: str) -> list[str]:
    """The words of a logged ``-argv`` value (a Tcl list element: braced if it holds a space); the tool
    hands the string to the testbench's main, which sees it split at whitespace (UG1399 csim_design)."""
    rest = call.split(" -argv ", 1)[1]
    value = rest[1:rest.index("}")] if rest.startswith("{") else rest.split(" ", 1)[0]
    return value.split()


def vendor_run_problems(calls: list[str]) -> list[str]:
    """What a stubbed run of vitis_hls.tcl got wrong, one line each, per project (open_project ..
    close_project): a set_top that no added source defines, an added file that does not exist, an
    -argv the testbench does not parse as (vector folder with meta.txt[, output file])."""
    out = []
    for i, call in enumerate(calls):
        if not call.startswith("open_project"):
            continue
        block = calls[i:calls.index("close_project", i)]
        sources = [Path(c.split()[1]) for c in block if c.startswith("add_files") and " -tb " not in c]
        tbs = [Path(c.split()[2]) for c in block if c.startswith("add_files -tb ")]
        out += [f"add_files {f}: no such file" for f in sources + tbs if not f.is_file()]
        text = "".join(f.read_text() for f in sources if f.is_file())
        for top in [c.split()[1] for c in block if c.startswith("set_top")]:
            if not defines_function(text, top):
                out.append(f"set_top {top}: no function {top} defined in {' '.join(map(str, sources))}")
        for c in block:
            if not c.startswith(("csim_design", "cosim_design")) or not tbs or not tbs[0].is_file():
                continue
            words, arity = _argv(c), tb_arity(tbs[0])
            if arity is None:
                out.append(f"{c.split()[0]}: {tbs[0].name} does not parse its arguments with tb_args")
            elif len(words) not in arity:
                out.append(f"{c.split()[0]} -argv {' '.join(words)}: {len(words)} arguments, {tbs[0].name} "
                           f"takes {arity.start} to {arity.stop - 1}")
            elif not (Path(words[0]) / "meta.txt").is_file():
                out.append(f"{c.split()[0]} -argv {' '.join(words)}: {tbs[0].name} reads '{words[0]}' as its "
                           "vector folder, which has no meta.txt")
    return out


def run_vendor_tcl(tmp_path, mode: str, kernel_list: str):
    """vitis_hls.tcl under tclsh with the stubs, on ``kernel_list`` (a kernel list file's text, written
    to tmp_path): (the process, the logged calls)."""
    (tmp_path / "kernels.tcl").write_text(kernel_list)
    (tmp_path / "run.tcl").write_text(STUBS + f"source {REPO_ROOT / 'hls' / 'scripts' / 'vitis_hls.tcl'}\n")
    env = {"MODE": mode, "CONFIG_NAME": "tiny", "KERNEL_LIST": str(tmp_path / "kernels.tcl"),
           "STUB_LOG": str(tmp_path / "log.txt"), "PATH": "/usr/bin:/bin"}
    res = subprocess.run(["tclsh", str(tmp_path / "run.tcl")], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    log = tmp_path / "log.txt"
    return res, [c.strip() for c in log.read_text().splitlines()] if log.is_file() else []


def vector_folders(root: Path) -> Path:
    """Stand-in vector folders under ``root``, one per kernel, each with the meta.txt tb_args probes."""
    for name in KERNEL_NAMES:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "meta.txt").write_text("")
    return root


needs_tclsh = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed (apt-get install tcl)")


@needs_tclsh
@pytest.mark.parametrize("mode", ["csim", "synth", "cosim"])
def test_vendor_tcl_runs_every_registered_top(mode, tmp_path):
    vectors = vector_folders(tmp_path / "vectors")
    res, calls = run_vendor_tcl(tmp_path, mode, tcl_kernel_list(KERNEL_NAMES, vectors))
    assert res.returncode == 0, res.stdout + res.stderr
    assert not vendor_run_problems(calls), vendor_run_problems(calls)
    tops = [c.split()[1] for c in calls if c.startswith("set_top")]
    want = [t for k in KERNELS.values() for t in (k.hls_tops[:1] if mode == "csim" else k.hls_tops)]
    assert tops == want
    for name, k in KERNELS.items():
        if not k.hls_tops:
            assert f"note: kernel {name} has no synthesizable top" in res.stdout
            continue
        i = calls.index(f"set_top {k.hls_tops[0]}")
        block = calls[i:calls.index("close_project", i)]
        added = [c.split()[1] for c in block if c.startswith("add_files") and "-tb" not in c]
        assert added == [str(p) for p in k.hls_source_paths()]
        assert any(c.startswith(f"add_files -tb {k.hls_tb}") for c in block)
        assert "set_clock_uncertainty 12.5%" in block, "the clock uncertainty is set for every top"
        if mode == "csim":
            assert f"csim_design -argv {vectors / name}" in block
        elif mode == "synth":
            assert "csynth_design" in block and any(c.startswith("export_design") for c in block)
        else:
            assert block.index("csynth_design") < block.index(f"cosim_design -argv {vectors / name} -trace_level none")


# Broken kernel lists (gelu's record edited; TMP: the test's folder): old, new, where the failure
# shows (the script's stderr, or the problems of the run), the message
BROKEN_LISTS = {
    "undefined top": ("{gelu_top}", "{gelu_tpo}", "problems",
                      f"set_top gelu_tpo: no function gelu_tpo defined in {REPO_ROOT}/hls/src/gelu.cpp"),
    "missing source": ("{hls/src/gelu.cpp}", "{hls/src/gelu.cpp hls/src/gelu_missing.cpp}", "stderr",
                       f"error: {REPO_ROOT}/hls/src/gelu_missing.cpp not found (kernel 'gelu')"),
    # a vector folder whose path holds a space reaches main as two words: the folder is misread
    "argument split": ("TMP/vectors/gelu]", "{TMP/my vectors/gelu}]", "problems",
                       "gelu_tb.cpp reads 'TMP/my' as its vector folder, which has no meta.txt"),
    "extra arguments": ("TMP/vectors/gelu]", "{TMP/vectors/gelu out.txt --seed 3}]", "problems",
                        "4 arguments, gelu_tb.cpp takes 1 to 2"),
}


@needs_tclsh
@pytest.mark.parametrize("case", list(BROKEN_LISTS))
def test_vendor_tcl_run_fails_on_a_broken_kernel_list(case, tmp_path):
    old, new, where, message = (s.replace("TMP", str(tmp_path)) for s in BROKEN_LISTS[case])
    vector_folders(tmp_path / "vectors")
    vector_folders(tmp_path / "my vectors")
    text = tcl_kernel_list(["gelu"], tmp_path / "vectors")
    assert text.count(old) == 1, f"{case}: anchor {old!r} not found once in the kernel list"
    res, calls = run_vendor_tcl(tmp_path, "csim", text.replace(old, new))
    if where == "stderr":
        assert res.returncode == 2 and message in res.stderr, res.stdout + res.stderr
    else:
        assert res.returncode == 0, res.stdout + res.stderr
        problems = vendor_run_problems(calls)
        assert len(problems) == 1 and message in problems[0], problems


def test_kernel_list_refuses_a_vector_folder_with_whitespace(tmp_path):
    """csim_design -argv splits at whitespace: scripts/vitis.py stops with one line instead of writing a
    list the testbenches would misread."""
    out = tmp_path / "kernels.tcl"
    res = subprocess.run([sys.executable, "scripts/vitis.py", "--vectors", str(tmp_path / "my vectors"),
                          "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.count("\n") == 1 and "contains whitespace" in res.stderr, res.stderr
    assert not out.exists()
