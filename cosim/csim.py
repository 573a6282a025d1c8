"""Open C simulation of hls/: build a kernel's C++ testbench (hls/tb/<kernel>_tb.cpp) with g++
against the generated config of one YAML, feed it text vector files, read its outputs."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from .toolchain import BUILD_DIR, HLS_DIR, ToolchainError, compile_cpp, hls_includes


def build_tb(kernel: str, config_name: str, extra_sources: tuple[str, ...] = ()) -> Path:
    """Compile hls/tb/<kernel>_tb.cpp + hls/src/<kernel>.cpp (+ extra hls/src files) for a config."""
    srcs = [HLS_DIR / "tb" / f"{kernel}_tb.cpp", HLS_DIR / "src" / f"{kernel}.cpp"]
    srcs += [HLS_DIR / "src" / s for s in extra_sources]
    for s in srcs:
        if not s.is_file():
            raise ToolchainError(f"C-sim source {s} does not exist")
    return compile_cpp(srcs, BUILD_DIR / "csim" / config_name / f"{kernel}_tb", hls_includes(config_name))


def write_ints(path: Path, values) -> None:
    np.savetxt(path, np.asarray(values, dtype=np.int64).reshape(-1), fmt="%d")


def read_ints(path: Path) -> np.ndarray:
    text = Path(path).read_text().split()
    return np.array([int(t) for t in text], dtype=np.int64)


def run_tb(exe: Path, workdir: Path, inputs: dict[str, np.ndarray], args: list[str],
           output: str = "out.txt", timeout: float = 600) -> np.ndarray:
    """Write each input array to workdir/<name>, run ``exe *args`` there, return workdir/<output>."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for name, arr in inputs.items():
        write_ints(workdir / name, arr)
    res = subprocess.run([str(exe), *args], cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"C-sim {exe.name} failed (exit {res.returncode}) in {workdir}:\n"
                           f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return read_ints(workdir / output)


def run_gelu(x_raw: np.ndarray, config_name: str, workdir: Path) -> np.ndarray:
    """GELU of activation raw integers through the C-simulated gelu_top."""
    exe = build_tb("gelu", config_name)
    return run_tb(exe, workdir, {"in.txt": x_raw}, ["in.txt", "out.txt"])
