"""Open C simulation of hls/: build a kernel's C++ testbench (hls/tb/<kernel>_tb.cpp with the kernel's
hls/src sources from the registry) against the generated config of one YAML, write a vector folder
from python_ref, run the testbench on it, read its outputs.

Every testbench follows one calling convention (hls/tb/tb_io.h): ``<kernel>_tb <vector_dir>
[<output_file>]``, the folder holding meta.txt, the input files and expected.txt. The same folders,
written by scripts/export_vectors.py, drive vendor csim (`make vitis-csim`).
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .registry import kernel as registry_kernel
from .toolchain import BUILD_DIR, HLS_DIR, ToolchainError, compile_cpp, hls_includes, write_generated


class CsimError(RuntimeError):
    """The testbench rejected its input or crashed (not a mismatch: see CsimResult.mismatches)."""


@dataclass
class VectorSet:
    """A C testbench's vector folder: shapes, input files and python_ref's expected outputs."""

    kernel: str
    meta: dict[str, int]
    inputs: dict[str, np.ndarray | str]  # file name -> raw integers (flattened) or text
    expected: np.ndarray  # the testbench's outputs according to python_ref, flattened
    notes: dict = field(default_factory=dict)  # host-side facts for reports (e.g. real rows included)

    def __post_init__(self):
        self.expected = np.asarray(self.expected, dtype=np.int64).reshape(-1)

    def write(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.txt").write_text("".join(f"{k} {int(v)}\n" for k, v in self.meta.items()))
        for name, data in self.inputs.items():
            if isinstance(data, str):
                (folder / name).write_text(data)
            else:
                write_ints(folder / name, data)
        write_ints(folder / "expected.txt", self.expected)
        return folder


@dataclass
class CsimResult:
    out: np.ndarray  # the testbench's outputs
    mismatches: int  # against expected.txt (the testbench's own comparison)
    stdout: str
    stderr: str

    @property
    def exact(self) -> bool:
        return self.mismatches == 0


def write_ints(path: Path, values) -> None:
    np.savetxt(path, np.asarray(values, dtype=np.int64).reshape(-1), fmt="%d")


def read_ints(path: Path) -> np.ndarray:
    text = Path(path).read_text().split()
    return np.array([int(t) for t in text], dtype=np.int64)


def generated_headers(cfg) -> Path:
    """The generated C++ headers of a config that is not in configs/ (a test's derived config)."""
    return write_generated(cfg, ".h")


# The C-sim's vectors run in seconds; its builds are what make test waits for. -Og builds the
# testbenches 20-30 % faster than -O2 (plain) and -O1 (sanitized) and stays within seconds at run
# time (CPU, one sitting: backbone 53.7 -> 38.9 s build, 0.1 s run; moe on edge_moe 31.5 + 4.0 ->
# 23.9 + 5.5 s; moe sanitized on the unusual config 62.1 + 1.1 -> 42.2 + 2.0 s; -O0 builds no
# faster than -Og and runs the sanitized moe 10x slower). The results are the same bits: the builds
# are checked free of undefined behaviour (tests/test_csim_sanitized.py).
CSIM_OPT = "-Og"


def build_tb(kernel: str, config_name: str, generated: Path | None = None, sanitize: bool = False) -> Path:
    """Compile hls/tb/<kernel>_tb.cpp with the kernel's hls/src sources for a config (``generated``:
    another folder of generated headers, for configs that are not in configs/; ``sanitize``: with
    AddressSanitizer, UBSan and libstdc++ assertions, cosim.toolchain.SANITIZE_FLAGS)."""
    k = registry_kernel(kernel)
    srcs = [k.hls_tb] + k.hls_source_paths()
    for s in srcs:
        if not s.is_file():
            raise ToolchainError(f"C-sim source {s} does not exist")
    if generated is None:
        includes = hls_includes(config_name)
    else:
        includes = [HLS_DIR / "include" / "shim", HLS_DIR / "src", Path(generated)]
    includes.append(HLS_DIR / "tb")
    name = f"{kernel}_tb_sanitized" if sanitize else f"{kernel}_tb"
    return compile_cpp(srcs, BUILD_DIR / "csim" / config_name / name, includes, opt=CSIM_OPT, sanitize=sanitize)


def run_tb(exe: Path, vectors: VectorSet, workdir: Path, timeout: float = 1200) -> CsimResult:
    """Write ``vectors`` to workdir/vectors, run the testbench there; a mismatch is reported in the
    result, unusable input or a crash raises CsimError."""
    workdir = Path(workdir)
    folder = vectors.write(workdir / "vectors")
    out = workdir / "out.txt"
    out.unlink(missing_ok=True)
    res = subprocess.run([str(exe), str(folder), str(out)], cwd=workdir, capture_output=True, text=True,
                         timeout=timeout)
    if res.returncode not in (0, 1) or not out.is_file():
        raise CsimError(f"C-sim {exe.name} failed (exit {res.returncode}) in {workdir}:\n"
                        f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    # The ap_types headers report misuse only on stderr and carry on (an out-of-range bit or range
    # select, a reversed range: "WARNING: ..." from _AP_WARNING); Vitis rejects or flags these, so a
    # run that prints one fails here instead of passing on the bits that happen to come out.
    ap_diag = [line for line in res.stderr.splitlines() if line.startswith(("WARNING: ", "ERROR: "))]
    if ap_diag:
        raise CsimError(f"C-sim {exe.name}: the ap_types library reported {len(ap_diag)} misuse(s) in {workdir}, "
                        f"first: {ap_diag[0]}")
    got = read_ints(out)
    mismatches = int(np.count_nonzero(got != vectors.expected)) if got.size == vectors.expected.size else got.size
    if (res.returncode == 0) != (mismatches == 0):
        raise CsimError(f"C-sim {exe.name}: exit status {res.returncode} disagrees with {mismatches} mismatches "
                        f"found by the host in {workdir}")
    return CsimResult(got, mismatches, res.stdout, res.stderr)


def run_kernel(kernel: str, cfg, workdir: Path | None = None) -> tuple[VectorSet, CsimResult]:
    """The kernel's registered vector set through its C testbench (the C-sim column of `make sim`);
    a derived config (not in configs/) builds with its generated headers."""
    from .registry import resolve
    from .runner import is_shipped
    vectors = resolve(registry_kernel(kernel).vectors)(cfg)
    workdir = workdir or BUILD_DIR / "csim_runs" / cfg.name / kernel
    exe = build_tb(kernel, cfg.name, None if is_shipped(cfg) else generated_headers(cfg))
    return vectors, run_tb(exe, vectors, workdir)
