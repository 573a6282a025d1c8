"""The kernel registry (cosim/registry.py) is complete and true: every named file exists, the names
follow the one-name-per-kernel rule, every HLS top is defined in its sources and every RTL top in
its file, every RTL source belongs to a unit, and the vendor Tcl built from the registry runs under
tclsh with the Vitis commands stubbed: it opens one project per top with that top, the kernel's
sources and its testbench, and hands csim the vector folder the testbench reads."""
from __future__ import annotations

import importlib
import re
import shutil
import subprocess

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


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_hls_tops_are_defined_in_the_sources(name):
    k = KERNELS[name]
    text = "".join(p.read_text() for p in k.hls_source_paths())
    for top in k.hls_tops:
        assert re.search(rf"^\w[\w:<>, ]*\b{top}\s*\(", text, re.M), f"{top} is not defined in {k.hls_sources}"


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


@pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed (apt-get install tcl)")
@pytest.mark.parametrize("mode", ["csim", "synth", "cosim"])
def test_vendor_tcl_runs_every_registered_top(mode, tmp_path):
    vectors = tmp_path / "vectors"
    (tmp_path / "kernels.tcl").write_text(tcl_kernel_list(KERNEL_NAMES, vectors))
    (tmp_path / "run.tcl").write_text(STUBS + f"source {REPO_ROOT / 'hls' / 'scripts' / 'vitis_hls.tcl'}\n")
    env = {"MODE": mode, "CONFIG_NAME": "tiny", "KERNEL_LIST": str(tmp_path / "kernels.tcl"),
           "STUB_LOG": str(tmp_path / "log.txt"), "PATH": "/usr/bin:/bin"}
    res = subprocess.run(["tclsh", str(tmp_path / "run.tcl")], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    calls = [c.strip() for c in (tmp_path / "log.txt").read_text().splitlines()]
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
