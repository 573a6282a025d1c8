"""Exhaustive RTL sweeps of the small-domain units against python_ref, without cocotb.

cocotb drives a unit a few hundred thousand values per second, enough for protocol, stalls and
backpressure (cosim/test_*.py) but not for finding an input in a million that rounds the wrong way.
Here a Verilated model of a thin wrapper (cosim/harness/sweep_<unit>.sv) runs under a C++ driver
(cosim/harness/sweep_main.cpp) at the unit's full rate (TVALID high whenever data remains, TREADY
always high): the driver counts through a range of raw inputs itself (or reads them from a pipe)
and streams the raw outputs back as little-endian uint64. This module computes python_ref's
expected values for the same chunk of inputs with numpy while the model runs on the other core,
and compares chunk by chunk: memory stays bounded whatever the sweep length.

``run_sweep(unit, config, segments)`` returns a :class:`SweepResult`: values compared, the number of
mismatches and the first few (input, expected, got). Protocol failures of the harness (a hang, a
lost or extra beat, wrong TLAST, copies out of lockstep) raise :class:`ExhaustiveError` naming the
unit. Segments are :class:`Range` (start, count, step: the driver's own counter, no input data) or
:class:`Values` (explicit chunks piped in). Domains per unit: ``exp_domain``, ``gelu_domain``,
``reciprocal_families`` ...

Models are built once per (config, unit, sources) into ``build/exhaustive/<config>/<unit>`` under a
file lock and a content hash, like cosim/runner.py, so pytest-xdist workers share one build. The
Verilator runtime objects (verilated.o, 13 s of compiling) are shared by every model built with the
same Verilator and flags. A mutation test passes ``replace={"exp_core.sv": mutated_copy}`` and
gets its own build folder.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from python_ref.config import Config, load_config
from python_ref.fixed import raw_bounds
from python_ref.kernels import layernorm as _layernorm
from python_ref.kernels.exp import OUT_FORMAT as EXP_OUT_FORMAT
from python_ref.kernels.exp import exp_neg_raw
from python_ref.kernels.gelu import gelu_raw, gelu_table
from python_ref.kernels.reciprocal import (SOFTMAX_RECIP_FORMAT, SOFTMAX_SUM_FORMAT, reciprocal_raw,
                                           softmax_reciprocal_raw)

from .runner import VERILATOR_MAKEFLAGS, rtl_package, rtl_package_of, verilator_make_env
from .toolchain import BUILD_DIR, REPO_ROOT, RTL_DIR, ToolchainError, file_lock, verilator_bin_dir, verilator_env

EXHAUSTIVE_DIR = BUILD_DIR / "exhaustive"
HARNESS_DIR = REPO_ROOT / "cosim" / "harness"
HARNESS_MAIN = HARNESS_DIR / "sweep_main.cpp"
RTL_SRC = RTL_DIR / "src"

# Verilator: -O3 for its own optimizations; X assignments and uninitialized registers random
# (--x-assign/--x-initial unique, seeded by the driver) as in cosim/runner.py, so a design that
# depends on an unreset register fails here too. The C++ of the model (OPT_FAST) is the hot loop:
# -O3; the rest (OPT_SLOW: constructors, OPT_GLOBAL: the runtime library) only costs build time.
VERILATOR_ARGS = ["-O3", "--x-assign", "unique", "--x-initial", "unique", "--no-timing", "--threads", "1"]
MAKE_VARS = ["OPT_FAST=-O3", "OPT_SLOW=-O1", "OPT_GLOBAL=-O1"]
BUILD_TIMEOUT_S = 1200
RUNTIME_OBJS = ("verilated", "verilated_threads")  # the runtime library objects shared across models
# Values per comparison chunk: numpy is several times faster on arrays that stay in the L2 cache
# (16K int64 = 128 KB) than on megabyte arrays, and python_ref is the slower side of the sweep.
DEFAULT_CHUNK = 1 << 14
READER_DEPTH_BYTES = 64 << 20  # outputs buffered ahead of the comparison, at most
DEFAULT_SEED = 20231029
MAX_REPORT = 10


class ExhaustiveError(RuntimeError):
    """A sweep could not run or the harness saw a protocol failure; the message names the unit."""


# ---------------------------------------------------------------------------------------------
# Units


@dataclass(frozen=True)
class Unit:
    """One sweepable RTL unit: the wrapper, its sources, the input domain and the reference.

    ``in_bits``/``in_signed`` give the raw input range a harness lane carries to the unit (inputs
    outside it are rejected, they would be truncated); outputs are ``out_bits`` wide, sign-extended
    when ``out_signed``. ``reference`` is python_ref's function of int64 raw inputs.
    ``cycles_per_beat`` (the unit's rate at full speed) and ``latency`` (input handshake to output
    handshake, in cycles: the headers of the RTL files) are checked against the driver's counts.
    """

    name: str
    config: Config
    wrapper: Path
    top: str
    sources: tuple[Path, ...]
    parameters: tuple[tuple[str, int], ...]
    in_bits: int
    in_signed: bool
    out_bits: int
    out_signed: bool
    reference: Callable[[np.ndarray], np.ndarray] = field(compare=False, repr=False)
    cycles_per_beat: int = 1
    latency: int = 0

    @property
    def in_bounds(self) -> tuple[int, int]:
        """The smallest and largest raw input a harness lane can carry to the unit."""
        return raw_bounds(self.in_bits, self.in_signed)

    @property
    def lanes(self) -> int:
        return dict(self.parameters)["COPIES"] * self.lanes_per_copy

    @property
    def lanes_per_copy(self) -> int:
        return self.config.hardware.gelu.lanes if self.name == "gelu" else 1

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """Output lanes (uint64) as int64 raw values. Unsigned outputs are compared whole, so bits
        a unit sets above its result width show up as mismatches."""
        v = raw.view(np.int64)
        if not self.out_signed:
            return v
        sign = np.int64(1) << (self.out_bits - 1)
        low = v & ((np.int64(1) << self.out_bits) - 1)
        return (low ^ sign) - sign


UNITS = ("exp", "gelu", "reciprocal", "reciprocal_ln")
# Copies per model, measured (docs/exhaustive.md): per-cycle overhead of the model is shared by
# more copies, until the generated code outgrows the instruction cache (64 reciprocals are slower
# per value than 16).
DEFAULT_COPIES = {"exp": 8, "gelu": 2, "reciprocal": 16, "reciprocal_ln": 16}


def unit(name: str, config: str | Config, copies: int | None = None) -> Unit:
    """The sweep description of unit ``name`` (one of UNITS) for ``config`` (name, path or Config).

    * ``exp``: rtl/src/exp.sv, x = the exact difference of two activations (ACT_W + 1 bits, F
      fraction bits), reference ``exp_neg_raw(x, F)``;
    * ``gelu``: rtl/src/gelu.sv, GELU_LANES activations per beat, reference ``gelu_raw``;
    * ``reciprocal``: rtl/src/reciprocal.sv as the softmax instantiates it (s: ap_ufixed<32,8> ->
      1/s: ap_ufixed<32,1>, K = 56), reference ``softmax_reciprocal_raw``;
    * ``reciprocal_ln``: the LayerNorm instance (30-bit sigma -> round(2^59 / sigma), 31 bits,
      K = 60), reference ``reciprocal_raw(sigma, 0, 31, 59)``.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    copies = DEFAULT_COPIES.get(name, 1) if copies is None else int(copies)
    if copies < 1:
        raise ExhaustiveError(f"{name}: copies must be >= 1, got {copies}")
    act = cfg.fmt("act")
    harness = HARNESS_DIR
    # latencies as documented in the headers of rtl/src/exp.sv, gelu.sv and reciprocal.sv
    if name == "exp":
        frac = act.frac
        lane_w = -(-(act.width + 1) // 8) * 8  # a whole number of bytes holding ACT_W + 1 bits
        return Unit(name, cfg, harness / "sweep_exp.sv", "sweep_exp",
                    tuple(RTL_SRC / n for n in ("axis_skid.sv", "axis_pipe_ctrl.sv", "exp_core.sv", "exp.sv")),
                    (("COPIES", copies), ("LANE_W", lane_w)), act.width + 1, True, EXP_OUT_FORMAT.width, False,
                    functools.partial(exp_neg_raw, frac_in=frac), latency=13)
    if name == "gelu":
        return Unit(name, cfg, harness / "sweep_gelu.sv", "sweep_gelu",
                    tuple(RTL_SRC / n for n in ("axis_skid.sv", "axis_pipe_ctrl.sv", "gelu.sv")),
                    (("COPIES", copies),), act.width, True, act.width, True,
                    functools.partial(gelu_raw, cfg=cfg), latency=8)
    if name == "reciprocal":
        return reciprocal_unit(name, cfg, SOFTMAX_SUM_FORMAT.width,
                               SOFTMAX_SUM_FORMAT.frac + SOFTMAX_RECIP_FORMAT.frac + 1, SOFTMAX_RECIP_FORMAT.width,
                               copies, reference=softmax_reciprocal_raw)
    if name == "reciprocal_ln":
        return reciprocal_unit(name, cfg, _layernorm.SIGMA_BITS, _layernorm.RECIP_FRAC + 1, _layernorm.RECIP_WIDTH,
                               copies)
    raise ExhaustiveError(f"no sweepable unit named {name!r}; units: {', '.join(UNITS)}")


def reciprocal_unit(name: str, cfg: Config, wi: int, k: int, wo: int, copies: int,
                    reference: Callable[[np.ndarray], np.ndarray] | None = None) -> Unit:
    """rtl/src/reciprocal.sv at any geometry (WI-bit x -> round(2^(K-1) / x) in WO bits, saturated) in
    the sweep harness, ``copies`` units per model edge; the reference is python_ref's reciprocal_raw
    of that geometry unless given (only K = frac_in + frac_out + 1 and the width matter to it)."""
    ref = reference or functools.partial(reciprocal_raw, frac_in=0, width_out=wo, frac_out=k - 1)
    return Unit(name, cfg, HARNESS_DIR / "sweep_reciprocal.sv", "sweep_reciprocal", (RTL_SRC / "reciprocal.sv",),
                (("COPIES", copies), ("WI", wi), ("K", k), ("WO", wo), ("LANE_W", 32)), wi, False, wo, False,
                ref, cycles_per_beat=k + 3, latency=k + 2)


# ---------------------------------------------------------------------------------------------
# Sweep segments


@dataclass(frozen=True)
class Range:
    """Inputs start + k * step, k = 0 .. count-1, counted by the driver itself (no input data)."""

    start: int
    count: int
    step: int = 1
    label: str = ""

    @property
    def stop(self) -> int:
        """The last input."""
        return self.start + (self.count - 1) * self.step

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        for lo in range(0, self.count, size):
            n = min(size, self.count - lo)
            first = self.start + lo * self.step
            yield np.arange(first, first + n * self.step, self.step, dtype=np.int64)[:n]

    def split(self, parts: int) -> list["Range"]:
        """``parts`` consecutive sub-ranges covering the same inputs in the same order."""
        parts = max(1, min(parts, self.count))
        bounds = [self.count * i // parts for i in range(parts + 1)]
        return [Range(self.start + lo * self.step, hi - lo, self.step, f"{self.label}[{i}/{parts}]")
                for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])) if hi > lo]

    def describe(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"{self.label or 'range'}: {self.count} values {self.start} .. {self.stop}{step}"


@dataclass(frozen=True)
class Values:
    """Explicit inputs piped to the driver: an array, or a function returning an iterator of
    arrays (so a long family is generated chunk by chunk and never held whole)."""

    label: str
    source: np.ndarray | Callable[[], Iterable[np.ndarray]] = field(repr=False)
    count: int | None = None  # known size of a generated family (reporting only)

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        if isinstance(self.source, np.ndarray):
            arr = np.asarray(self.source, dtype=np.int64).ravel()
            for lo in range(0, arr.size, size):
                yield arr[lo:lo + size]
        else:
            for arr in self.source():
                arr = np.asarray(arr, dtype=np.int64).ravel()
                for lo in range(0, arr.size, size):
                    yield arr[lo:lo + size]

    def describe(self) -> str:
        n = self.source.size if isinstance(self.source, np.ndarray) else self.count
        return f"{self.label}: {n if n is not None else '?'} values"


Segment = Range | Values


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Mismatch:
    x: int
    expected: int
    got: int

    def __str__(self) -> str:
        return f"x={self.x} (0x{self.x & 0xFFFFFFFFFFFFFFFF:x}): expected {self.expected}, got {self.got}"


@dataclass
class SweepResult:
    unit: str
    config: str
    segments: list[str] = field(default_factory=list)
    values: int = 0
    mismatches: int = 0
    first: list[Mismatch] = field(default_factory=list)
    wall_seconds: float = 0.0  # whole sweep, build excluded
    harness_cpu_seconds: float = 0.0  # CPU time of the driver processes (the model)
    python_cpu_seconds: float = 0.0  # CPU time of this process: python_ref, comparison, pipe I/O
    cycles: int = 0
    beats: int = 0
    build_seconds: float = 0.0  # 0 when the cached model was reused

    @property
    def values_per_second(self) -> float:
        return self.values / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def model_values_per_cpu_second(self) -> float:
        return self.values / self.harness_cpu_seconds if self.harness_cpu_seconds else 0.0

    def merge(self, other: "SweepResult", max_report: int) -> None:
        self.segments += other.segments
        self.values += other.values
        self.mismatches += other.mismatches
        self.first = (self.first + other.first)[:max_report]
        self.harness_cpu_seconds += other.harness_cpu_seconds
        self.cycles += other.cycles
        self.beats += other.beats

    def summary(self) -> str:
        lines = [f"{self.unit} ({self.config}): {self.values} values, {self.mismatches} mismatches, "
                 f"{self.wall_seconds:.1f} s wall ({self.values_per_second / 1e6:.2f} M values/s), model "
                 f"{self.harness_cpu_seconds:.1f} s CPU ({self.model_values_per_cpu_second / 1e6:.2f} M values/CPU-s), "
                 f"python_ref + compare {self.python_cpu_seconds:.1f} s CPU"
                 + (f", build {self.build_seconds:.1f} s" if self.build_seconds else "")]
        lines += [f"  {m}" for m in self.first]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Build


def _run(cmd: list[str], what: str, timeout: float, **kw) -> subprocess.CompletedProcess:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise ExhaustiveError(f"{what}: timed out after {timeout:.0f} s: {' '.join(cmd[:6])} ...") from None
    if res.returncode != 0:
        raise ExhaustiveError(f"{what} failed (exit {res.returncode}): {' '.join(cmd)}\n"
                              f"{(res.stdout + res.stderr)[-6000:]}")
    return res


@functools.lru_cache(maxsize=None)
def _verilator_version() -> str:
    exe = str(verilator_bin_dir() / "verilator")
    return _run([exe, "--version"], "verilator --version", 60, env=verilator_env()).stdout.strip()


def _build_env() -> dict:
    env = verilator_env()
    # cosim/runner.py's precompiled-header fix for the PyPI wheel, plus our optimization levels;
    # replacing MAKEFLAGS also keeps an outer make's jobserver out of the model build.
    env.update(verilator_make_env(MAKE_VARS))
    return env


def sweep_sources(u: Unit, replace: Mapping[str, Path] | None = None) -> list[Path]:
    """Build sources of ``u``: the config's model_pkg.sv (generated for a derived config), the
    unit's RTL, the wrappers' shared handshake (sweep_lockstep.sv) and the wrapper. ``replace``
    maps a file name (``"exp_core.sv"``, ``"model_pkg.sv"``) to a file used instead (mutants)."""
    files = [rtl_package_of(u.config), *u.sources, HARNESS_DIR / "sweep_lockstep.sv", u.wrapper]
    replace = dict(replace or {})
    unknown = set(replace) - {f.name for f in files}
    if unknown:
        raise ExhaustiveError(f"{u.name}: cannot replace {sorted(unknown)}: not among {[f.name for f in files]}")
    files = [Path(replace.get(f.name, f)).resolve() for f in files]
    for f in files:
        if not f.is_file():
            raise ToolchainError(f"{u.name}: source {f} does not exist")
    return files


def build_dir_for(u: Unit, tag: str | None = None) -> Path:
    return EXHAUSTIVE_DIR / u.config.name / (u.name + (f"-{tag}" if tag else ""))


def build_harness(u: Unit, replace: Mapping[str, Path] | None = None, tag: str | None = None,
                  timeout: float = BUILD_TIMEOUT_S) -> tuple[Path, float]:
    """Build (or reuse) the sweep driver of ``u``; returns (executable, seconds spent building, 0
    when cached). ``tag`` names a separate build folder (e.g. for a mutant)."""
    files = sweep_sources(u, replace)
    bdir = build_dir_for(u, tag)
    exe = bdir / "obj" / "sweep_harness"
    params = [f"-G{k}={v}" for k, v in u.parameters]
    vargs = ["--cc", "--exe", *VERILATOR_ARGS, "--prefix", "Vsweep_top", "--top-module", u.top, *params,
             "-CFLAGS", "-std=c++17", "-o", "sweep_harness"]
    h = hashlib.sha256(json.dumps([_verilator_version(), vargs, MAKE_VARS, VERILATOR_MAKEFLAGS,
                                   os.environ.get("CXX", "")]).encode())
    for f in files + [HARNESS_MAIN]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    digest = h.hexdigest()
    with file_lock(bdir.with_name(bdir.name + ".lock")):
        stamp = bdir / "build.hash"
        if exe.is_file() and stamp.is_file() and stamp.read_text() == digest:
            return exe, 0.0
        t0 = time.perf_counter()
        stamp.unlink(missing_ok=True)
        obj = bdir / "obj"
        shutil.rmtree(obj, ignore_errors=True)
        obj.mkdir(parents=True)
        env = _build_env()
        verilator = str(verilator_bin_dir() / "verilator")
        what = f"Verilator model of {u.name} ({u.config.name}, {bdir})"
        _run([verilator, *vargs, "-Mdir", str(obj), *map(str, files), str(HARNESS_MAIN)], what, timeout, env=env)
        runtime = _runtime_cache(obj)
        _seed_runtime(runtime, obj)
        jobs = str(max(1, min(2, os.cpu_count() or 1)))
        _run(["make", "-C", str(obj), "-f", "Vsweep_top.mk", "-j", jobs], what, timeout, env=env)
        _store_runtime(runtime, obj)
        if not exe.is_file():
            raise ExhaustiveError(f"{what}: the build wrote no {exe}")
        stamp.write_text(digest)
        return exe, time.perf_counter() - t0


def _runtime_cache(obj: Path) -> Path:
    """Folder of verilated.o & co. for this Verilator, compiler and model-wide settings (the VM_*
    switches of the generated makefile, e.g. tracing, select #ifdefs inside the runtime)."""
    classes = (obj / "Vsweep_top_classes.mk").read_text()
    switches = sorted(re.findall(r"^(VM_[A-Z_]+ = .*)$", classes, re.M))
    key = json.dumps([_verilator_version(), MAKE_VARS, VERILATOR_MAKEFLAGS, os.environ.get("CXX", ""),
                      switches, str(verilator_bin_dir())])
    return EXHAUSTIVE_DIR / "_runtime" / hashlib.sha256(key.encode()).hexdigest()[:16]


def _seed_runtime(runtime: Path, obj: Path) -> None:
    """Copy cached runtime objects into a fresh model folder. make rebuilds them anyway if any
    dependency listed in their .d file is newer, so a stale cache costs time, never correctness."""
    if not all((runtime / f"{n}{ext}").is_file() for n in RUNTIME_OBJS for ext in (".o", ".d")):
        return
    now = time.time()
    for n in RUNTIME_OBJS:
        for ext in (".d", ".o"):  # the object last: newer than its dependency file
            dst = obj / f"{n}{ext}"
            shutil.copyfile(runtime / f"{n}{ext}", dst)
            os.utime(dst, (now, now))


def _store_runtime(runtime: Path, obj: Path) -> None:
    if (runtime / "complete").is_file():
        return
    with file_lock(runtime.with_name(runtime.name + ".lock")):
        if (runtime / "complete").is_file():
            return
        runtime.mkdir(parents=True, exist_ok=True)
        for n in RUNTIME_OBJS:
            for ext in (".o", ".d"):
                src = obj / f"{n}{ext}"
                if not src.is_file():
                    return
                tmp = runtime / f"{n}{ext}.tmp{os.getpid()}"
                shutil.copyfile(src, tmp)
                os.replace(tmp, runtime / f"{n}{ext}")
        (runtime / "complete").write_text("")


# ---------------------------------------------------------------------------------------------
# Running one driver process


class _OutputReader(threading.Thread):
    """Drains the driver's stdout into a bounded queue of byte blocks so the driver never waits
    for the comparison (the queue bound keeps memory bounded when the comparison is slower)."""

    BLOCK = 1 << 20

    def __init__(self, fd: int, depth_bytes: int):
        super().__init__(daemon=True)
        self.fd = fd
        self.q: queue.Queue = queue.Queue(maxsize=max(2, depth_bytes // self.BLOCK))
        self._left = b""
        self._pos = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while True:
                b = os.read(self.fd, self.BLOCK)
                self.q.put(b)
                if not b:
                    return
        except BaseException as exc:  # handed to the consumer
            self.error = exc
            self.q.put(b"")

    def take(self, n: int, deadline: float, alive: Callable[[], bool]) -> memoryview | bytes | None:
        """Exactly ``n`` bytes (a zero-copy view when they lie in one block), or None at the end of
        the stream."""
        if len(self._left) - self._pos >= n:
            view = memoryview(self._left)[self._pos:self._pos + n]
            self._pos += n
            return view
        parts = [self._left[self._pos:]]
        have = len(parts[0])
        while have < n:
            try:
                b = self.q.get(timeout=max(0.05, min(1.0, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline or not alive():
                    raise TimeoutError
                continue
            if not b:
                self.q.put(b"")  # stay at the end of the stream for later calls
                self._left, self._pos = b"".join(parts), 0
                return None
            parts.append(b)
            have += len(b)
        # keep the last block whole (later takes slice it without copying); join only the head
        last = parts.pop()
        need = n - (have - len(last))
        self._left, self._pos = last, need
        return b"".join(parts) + last[:need]


class _InputWriter(threading.Thread):
    """Feeds a Values segment to the driver's stdin and hands each chunk to the comparison.
    ``stop`` ends it early (the comparison failed): it never blocks forever on a full queue."""

    def __init__(self, chunks: Iterator[np.ndarray], stdin, check: Callable[[np.ndarray], None]):
        super().__init__(daemon=True)
        self.chunks, self.stdin, self.check = chunks, stdin, check
        self.q: queue.Queue = queue.Queue(maxsize=4)
        self.stop = threading.Event()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            for c in self.chunks:
                self.check(c)
                if not self._put(c):
                    return
                self.stdin.write(c.astype("<i8").tobytes())
            self._put(None)
        except BrokenPipeError:
            self._put(None)  # the driver died; the comparison reports it with the driver's stderr
        except BaseException as exc:
            self._put(exc)
        finally:
            with contextlib.suppress(OSError):
                self.stdin.close()


def _set_pipe_size(fd: int, size: int = 1 << 20) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)


def _check_domain(u: Unit, arr: np.ndarray, label: str) -> None:
    lo, hi = u.in_bounds
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        raise ExhaustiveError(f"{u.name}: segment {label!r} has inputs outside the unit's raw input range "
                              f"[{lo}, {hi}] (min {int(arr.min())}, max {int(arr.max())})")


def _sweep_segment(u: Unit, exe: Path, seg: Segment, run_dir: Path, chunk: int, deadline: float,
                   max_report: int, seed: int) -> SweepResult:
    res = SweepResult(u.name, u.config.name, [seg.describe()])
    if isinstance(seg, Range):
        if seg.count <= 0:
            return res
        _check_domain(u, np.array([seg.start, seg.stop], dtype=np.int64), seg.describe())
        args = ["--range", str(seg.start), str(seg.count), str(seg.step)]
    else:
        args = ["--stdin"]
    run_dir.mkdir(parents=True, exist_ok=True)
    err_path = run_dir / f"stderr.{os.getpid()}.{threading.get_ident()}.txt"
    cmd = [str(exe), *args, "--seed", str(seed)]
    writer: _InputWriter | None = None
    with open(err_path, "w+") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if isinstance(seg, Values) else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err)
        try:
            _set_pipe_size(proc.stdout.fileno())
            reader = _OutputReader(proc.stdout.fileno(), depth_bytes=READER_DEPTH_BYTES)
            reader.start()
            if isinstance(seg, Range):
                inputs: Iterator[np.ndarray] = seg.chunks(chunk)
            else:
                _set_pipe_size(proc.stdin.fileno())
                writer = _InputWriter(seg.chunks(chunk), proc.stdin,
                                      lambda c: _check_domain(u, c, seg.label))
                writer.start()
                inputs = _drain_queue(writer.q, deadline, u.name)
            for x in inputs:
                expected = u.reference(x)
                try:
                    data = reader.take(x.size * 8, deadline, lambda: reader.is_alive())
                except TimeoutError:
                    raise ExhaustiveError(f"{u.name} ({u.config.name}): sweep timed out ({seg.describe()}); "
                                          f"driver stderr: {_tail(err_path)}") from None
                if data is None:
                    proc.wait(timeout=30)
                    why = f"reading its output failed ({reader.error!r})" if reader.error else _tail(err_path)
                    raise ExhaustiveError(f"{u.name} ({u.config.name}): the driver stopped after {res.values} of "
                                          f"the values of {seg.describe()} (exit {proc.returncode}): {why}")
                got = u.decode(np.frombuffer(data, dtype="<u8"))
                bad = np.flatnonzero(got != expected)
                if bad.size:
                    res.mismatches += int(bad.size)
                    for i in bad[:max(0, max_report - len(res.first))]:
                        res.first.append(Mismatch(int(x[i]), int(expected[i]), int(got[i])))
                res.values += x.size
            if reader.take(1, deadline, lambda: reader.is_alive()) is not None:
                raise ExhaustiveError(f"{u.name} ({u.config.name}): the driver wrote more outputs than the "
                                      f"{res.values} inputs of {seg.describe()}")
            try:
                proc.wait(timeout=max(5.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise ExhaustiveError(f"{u.name} ({u.config.name}): the driver did not exit after its last "
                                      f"output ({seg.describe()})") from None
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            raise
        finally:
            if writer is not None:
                writer.stop.set()
    if proc.returncode != 0:
        raise ExhaustiveError(f"{u.name} ({u.config.name}): driver exit {proc.returncode} on {seg.describe()}: "
                              f"{_tail(err_path)}")
    stats = _stats(err_path, u, seg)
    err_path.unlink(missing_ok=True)
    _check_stats(u, seg, stats, res.values)
    res.harness_cpu_seconds = stats["cpu_seconds"]
    res.cycles, res.beats = stats["cycles"], stats["in_beats"]
    return res


def _drain_queue(q: queue.Queue, deadline: float, name: str) -> Iterator[np.ndarray]:
    while True:
        try:
            item = q.get(timeout=max(0.05, min(1.0, deadline - time.monotonic())))
        except queue.Empty:
            if time.monotonic() > deadline:
                raise ExhaustiveError(f"{name}: timed out waiting for input chunks") from None
            continue
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:].strip() or "(no stderr)"
    except OSError:
        return "(no stderr)"


def _stats(err_path: Path, u: Unit, seg: Segment) -> dict:
    text = err_path.read_text(errors="replace")
    m = re.search(r"^SWEEP_STATS (\{.*\})$", text, re.M)
    if not m:
        raise ExhaustiveError(f"{u.name} ({u.config.name}): the driver printed no statistics for "
                              f"{seg.describe()}: {text[-2000:]}")
    return json.loads(m.group(1))


def _check_stats(u: Unit, seg: Segment, st: dict, values: int) -> None:
    """Protocol checks on the driver's counts: every value in came out once, TLAST followed its
    beat, the copies stayed in lockstep, and the unit kept its rate (no stall at full rate)."""
    where = f"{u.name} ({u.config.name}), {seg.describe()}"
    problems = []
    if st["values"] != values or st["out_values"] != values:
        problems.append(f"{st['values']} values in, {st['out_values']} out, {values} compared")
    if st["in_beats"] != st["out_beats"]:
        problems.append(f"{st['in_beats']} beats in, {st['out_beats']} out")
    if st["tlast_errors"]:
        problems.append(f"{st['tlast_errors']} output beats with the wrong TLAST")
    if st["desync_cycles"]:
        problems.append(f"the unit copies left lockstep in {st['desync_cycles']} cycles")
    if st["lanes"] != u.lanes:
        problems.append(f"driver has {st['lanes']} lanes, expected {u.lanes}")
    if st["in_beats"] and st["first_out_cycle"] - st["first_in_cycle"] != u.latency:
        problems.append(f"latency {st['first_out_cycle'] - st['first_in_cycle']} cycles, expected {u.latency}")
    # full rate: one beat per cycles_per_beat cycles (+1: the cycle after reset in which the
    # pipelines keep x_TREADY low). Piped inputs are exempt: the driver drains before each read.
    if isinstance(seg, Range) and st["in_beats"] and \
            st["last_in_cycle"] > (st["in_beats"] - 1) * u.cycles_per_beat + 1:
        problems.append(f"{st['in_beats']} beats took until cycle {st['last_in_cycle']} to enter "
                        f"(expected one per {u.cycles_per_beat} cycles)")
    if problems:
        raise ExhaustiveError(f"{where}: " + "; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Public entry point


def run_sweep(u: Unit | str, config: str | Config | None = None, segments: Sequence[Segment] = (), *,
              replace: Mapping[str, Path] | None = None, tag: str | None = None, jobs: int = 1,
              chunk: int = DEFAULT_CHUNK, timeout: float = 3600.0, max_report: int = MAX_REPORT,
              seed: int = DEFAULT_SEED) -> SweepResult:
    """Sweep ``segments`` through unit ``u`` (a Unit, or a name with ``config``) and compare with
    python_ref. ``jobs`` driver processes run concurrently (Range segments are split evenly);
    ``timeout`` bounds the whole sweep, build excluded. See the module docstring."""
    if isinstance(u, str):
        if config is None:
            raise ExhaustiveError(f"{u}: a config is needed")
        u = unit(u, config)
    exe, build_s = build_harness(u, replace, tag)
    run_dir = build_dir_for(u, tag) / "runs"
    work: list[Segment] = []
    for seg in segments:
        work += seg.split(jobs) if isinstance(seg, Range) and jobs > 1 else [seg]
    t0, cpu0 = time.monotonic(), time.process_time()
    deadline = t0 + timeout
    one = functools.partial(_sweep_segment, u, exe, run_dir=run_dir, chunk=chunk, deadline=deadline,
                            max_report=max_report, seed=seed)
    if jobs <= 1 or len(work) <= 1:
        parts = [one(seg) for seg in work]
    else:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(lambda s: one(s), work))
    total = SweepResult(u.name, u.config.name, build_seconds=build_s)
    for p in parts:
        total.merge(p, max_report)
    total.wall_seconds = time.monotonic() - t0
    total.python_cpu_seconds = time.process_time() - cpu0
    return total


def mutated_copy(src: Path, old: str, new: str, out: Path) -> Path:
    """Write ``src`` with the single occurrence of ``old`` replaced by ``new`` to ``out`` (a mutant
    for the tests that prove a sweep catches a one-constant change)."""
    text = Path(src).read_text()
    n = text.count(old)
    if n != 1:
        raise ExhaustiveError(f"mutant of {src}: {old!r} occurs {n} times, need exactly one")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.replace(old, new))
    return out


# ---------------------------------------------------------------------------------------------
# Domains: what each sweep covers (the docstrings are the coverage statement of docs/exhaustive.md)

EXP_MARGIN_LOG2 = 2  # the exp range sweep goes 2^-2 beyond x = -32, into the saturation region


def _sorted_unique(arr: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2's hash-based np.unique takes seconds on these int64 sets)."""
    a = np.sort(np.asarray(arr, dtype=np.int64).ravel())
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if a.size else a


def corner_values(u: Unit, bits_lo: int, radius: int, rng_count: int, seed: int, label: str,
                  skip: tuple[int, int]) -> Values:
    """Values outside the range sweep ``skip`` = (first, last): 0 +- radius, +-2^k +- radius for
    every k >= bits_lo, the extremes of the unit's input + radius inwards, and ``rng_count``
    uniform random values over the unit's whole input range."""
    lo, hi = u.in_bounds
    d = np.arange(-radius, radius + 1, dtype=np.int64)
    pts = [d, lo + d, hi + d]
    for k in range(bits_lo, u.in_bits):
        pts += [(1 << k) + d, -(1 << k) + d]
    rng = np.random.default_rng(seed)
    pts.append(rng.integers(lo, hi, size=rng_count, endpoint=True, dtype=np.int64))
    arr = _sorted_unique(np.concatenate(pts))
    arr = arr[(arr >= lo) & (arr <= hi) & ((arr < skip[0]) | (arr > skip[1]))]
    return Values(label, arr)


def exp_domain(u: Unit, corners: bool = True, seed: int = DEFAULT_SEED) -> list[Segment]:
    """exp: every raw x from -(32 + 1/4) to 0 (2^(F+5) + 2^(F-2) + 1 values: the unit's whole
    x <= 0 domain, the x <= -32 cut-off and a quarter beyond it, where the output is 0), then
    corners outside it: 1 .. 64 and 2^k +- 64 for every k (x > 0 saturates to 1.0), -2^k +- 64
    below -32.25, the extremes of the ACT_W+1-bit input, and 2^20 random inputs over the whole
    input range."""
    f = u.config.fmt("act").frac
    start = -((32 << f) + (1 << (f - EXP_MARGIN_LOG2)))
    segs: list[Segment] = [Range(start, -start + 1, 1, "exp: every x in [-32.25, 0]")]
    if corners:
        segs.append(corner_values(u, 0, 64, 1 << 20, seed, "exp: corners and random x outside [-32.25, 0]",
                                  (start, 0)))
    return segs


def gelu_domain(u: Unit, full: bool = False, corners: bool = True, seed: int = DEFAULT_SEED,
                span_log2: int = 3) -> list[Segment]:
    """GELU: every raw x in [-8, 8) (2^(F+4) values: the table region |x| < table_range and the
    ReLU region beyond it), then corners outside it: +-2^k +- 64 for |x| >= 8, the extremes of the
    activation format, and 2^20 random activations. ``full``: all 2^ACT_W activations instead.
    ``span_log2``: every x in [-2^span_log2, 2^span_log2) instead of [-8, 8) (a format with many
    fraction bits, or a table far smaller than 8)."""
    f = u.config.fmt("act").frac
    if full:
        return [Range(u.in_bounds[0], 1 << u.in_bits, 1, "gelu: every activation")]
    if f + span_log2 < 0:
        raise ExhaustiveError(f"gelu: span 2^{span_log2} is below one LSB of the {f}-fraction-bit activation")
    half = 1 << (f + span_log2)
    span = f"[-2^{span_log2}, 2^{span_log2})" if span_log2 != 3 else "[-8, 8)"
    segs: list[Segment] = [Range(-half, 2 * half, 1, f"gelu: every x in {span}")]
    if corners:
        segs.append(corner_values(u, f + span_log2, 64, 1 << 20, seed,
                                  f"gelu: corners and random x outside {span}", (-half, half - 1)))
    return segs


def reciprocal_families(u: Unit, radius: int = 1 << 10, n_random: int = 1 << 19, n_ties: int = 1 << 16,
                        seed: int = DEFAULT_SEED) -> list[Segment]:
    """Reciprocal (bit-serial: the whole 2^WI domain is out of reach, see docs/exhaustive.md).

    Domain in use: the softmax sum s in [1, 256) (raw [2^24, 2^32)), the LayerNorm sigma in
    [2^29, 2^30). Families, every value of each (duplicates removed):

    * ``small``: every raw x in [0, 2^16) (x = 0, and the saturated region below the domain);
    * ``saturation``: the radius around the largest input whose reciprocal saturates;
    * ``powers``: 2^k + d for every k < WI and |d| <= radius (exact and near-exact quotients);
    * ``integers`` (softmax only): n * 2^24 + d for every integer n in [1, 255] and |d| <= radius;
    * ``few bits``: every x with at most 3 bits set, and every m * 2^k with m odd < 2^8;
    * ``ties``: for ``n_ties`` random odd o, the four x around 2^K / o, where the rounded quotient
      steps from one value to the next (the only place a rounding bug can show);
    * ``random``: ``n_random`` uniform random x over the domain in use.
    """
    p = dict(u.parameters)
    wi, k, wo = p["WI"], p["K"], p["WO"]
    lo_dom, hi_dom = (1 << 24, (1 << 32) - 1) if u.name == "reciprocal" else (1 << (wi - 1), (1 << wi) - 1)
    top = (1 << wi) - 1
    rng = np.random.default_rng(seed)
    d = np.arange(-radius, radius + 1, dtype=np.int64)
    fams: dict[str, np.ndarray] = {}
    fams["small"] = np.arange(0, min(1 << 16, top + 1), dtype=np.int64)
    # largest x with round(2^(K-1) / x) > 2^WO - 1: x_sat ~ 2^(K-1-WO)
    fams["saturation"] = (1 << max(0, k - 1 - wo)) + d
    fams["powers"] = np.concatenate([(1 << e) + d for e in range(wi)])
    if u.name == "reciprocal":
        fams["integers"] = np.concatenate([(n << 24) + d for n in range(1, 256)])
    bits = [1 << b for b in range(wi)]
    few = {0, *bits}
    few.update(a | b for a in bits for b in bits)
    few.update(a | b | c for i, a in enumerate(bits) for j, b in enumerate(bits[:i]) for c in bits[:j])
    few.update(m << e for m in range(1, 256, 2) for e in range(wi))
    fams["few bits"] = np.array(sorted(few), dtype=np.int64)
    # the quotient 2^K / x crosses the odd integer o (a rounding step) between x = 2^K // o and +1
    q_lo, q_hi = (1 << k) // hi_dom, (1 << k) // lo_dom
    o = rng.integers(q_lo // 2, q_hi // 2, size=n_ties, endpoint=True, dtype=np.int64) * 2 + 1
    x0 = (np.int64(1) << k) // o
    fams["ties"] = np.concatenate([x0 - 1, x0, x0 + 1, x0 + 2])
    fams["random"] = rng.integers(lo_dom, hi_dom, size=n_random, endpoint=True, dtype=np.int64)
    segs: list[Segment] = []
    seen = np.empty(0, dtype=np.int64)  # sorted
    for name, arr in fams.items():
        arr = _sorted_unique(arr[(arr >= 0) & (arr <= top)])
        if seen.size:  # drop what an earlier family already sweeps
            pos = np.minimum(np.searchsorted(seen, arr), seen.size - 1)
            arr = arr[seen[pos] != arr]
        seen = np.sort(np.concatenate([seen, arr]))
        segs.append(Values(f"{u.name}: {name}", arr))
    return segs


def reciprocal_domain_range(u: Unit) -> Range:
    """Every input of the domain in use (softmax: 2^32 - 2^24 values, LayerNorm: 2^29)."""
    if u.name == "reciprocal":
        return Range(1 << 24, (1 << 32) - (1 << 24), 1, "reciprocal: every s in [1, 256)")
    wi = dict(u.parameters)["WI"]
    return Range(1 << (wi - 1), 1 << (wi - 1), 1, "reciprocal_ln: every sigma in [2^29, 2^30)")


# ---------------------------------------------------------------------------------------------
# Mutants: one-constant changes the sweeps must catch (tests/test_exhaustive.py, docs/exhaustive.md)

# exp_core.sv, stage 6: the rounding constant of q1 = round(C2 * r / 2^24) loses one bit position
# (2^23 -> 2^22). It alters 267 of the 2^27 + 1 outputs for x in [-32, 0] (the count in the issue;
# an independent numpy model of the mutant gives the same 267), none of them in cosim/test_exp.py.
EXP_Q1_ROUNDING_MUTANT = ("exp_core.sv", "assign q1_sum = {1'b0, p1_5} + (44'd1 << 23);",
                          "assign q1_sum = {1'b0, p1_5} + (44'd1 << 22);")


def exp_mutant(out_dir: Path, mutant: tuple[str, str, str] = EXP_Q1_ROUNDING_MUTANT) -> dict[str, Path]:
    """A mutated copy of an exp source in ``out_dir``, as ``replace=`` for run_sweep."""
    name, old, new = mutant
    return {name: mutated_copy(RTL_SRC / name, old, new, Path(out_dir) / name)}


def gelu_flat_node(cfg: Config) -> int:
    """The first table index k with T[k-1] = T[k] = T[k+1]. Raising T[k] by one LSB changes GELU
    only at |x| = k * 2^-S exactly (2 of the 2^ACT_W inputs): in segment k-1 the interpolation
    T[k-1] + t (t < 1) still truncates to T[k-1]; in segment k, T[k] + 1 - t truncates to T[k]
    for every t > 0. The rarest table bug there is."""
    t = gelu_table(cfg.hardware.gelu)
    for k in range(1, len(t) - 1):
        if t[k - 1] == t[k] == t[k + 1]:
            return k
    raise ExhaustiveError(f"gelu ({cfg.name}): the delta table has no three equal consecutive entries")


def gelu_table_mutant(cfg: Config, index: int, delta: int, out_dir: Path) -> dict[str, Path]:
    """A copy of the config's model_pkg.sv with GELU_DELTA_TABLE[index] changed by ``delta``."""
    src = rtl_package(cfg.name)
    text = src.read_text()
    m = re.search(r"GELU_DELTA_TABLE\s*\[\d+\]\s*=\s*'\{(.*?)\};", text, re.S)
    if not m:
        raise ExhaustiveError(f"{src}: no GELU_DELTA_TABLE initializer found")
    entries = list(re.finditer(r"(\d+)'d(\d+)", m.group(1)))
    if not 0 <= index < len(entries):
        raise ExhaustiveError(f"{src}: GELU_DELTA_TABLE has {len(entries)} entries, no index {index}")
    e = entries[index]
    width, value = int(e.group(1)), int(e.group(2)) + delta
    if not 0 <= value < (1 << width):
        raise ExhaustiveError(f"{src}: GELU_DELTA_TABLE[{index}] + {delta} leaves the {width}-bit range")
    lo, hi = m.start(1) + e.start(), m.start(1) + e.end()
    out = Path(out_dir) / "model_pkg.sv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text[:lo] + f"{width}'d{value}" + text[hi:])
    return {"model_pkg.sv": out}
