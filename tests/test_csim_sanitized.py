"""The C simulation of every registered kernel, built with AddressSanitizer, UBSan (fatal) and
libstdc++ assertions (cosim.toolchain.SANITIZE_FLAGS), on the shipped tiny config and on a config
that is neither shipped nor like them (other GELU table size and lanes, other tile, token and expert
counts), so that table and buffer bounds are exercised where the shipped sizes would hide them.
An out-of-bounds read that happens to return the right value must fail: a mutated copy of the GELU
kernel that reads one table entry past the end at |x| = range proves the builds catch it."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from cosim.csim import CSIM_OPT, build_tb, generated_headers, run_tb
from cosim.registry import KERNELS, resolve
from cosim.toolchain import HLS_DIR, compile_cpp, hls_includes
from python_ref.config import load_config, parse_config

pytestmark = pytest.mark.csim


def unusual_config():
    """A configuration the project does not ship: activations in ap_fixed<32,7> (25 fraction bits,
    the most exp takes: u < 2^30 fills its range limit's type; the shipped configs have 22) and the
    score in the same geometry; GELU step 1/16 over [0, 6) (97 entries) in 3 lanes, its table in
    ap_ufixed<20, -2> (entries up to 0.17 set its top bit, worth 0.125; the shipped tables, int 0,
    never set theirs); an 8 x 4 tile (tiny: 4 x 4); 16 tokens (a 12 x 20 image of 4 x 4 patches);
    5 experts with top-3; hidden sizes that are not multiples of the tile."""
    raw = load_config("tiny").as_dict()
    raw["name"] = "unusual"
    raw["model"]["image"] = {"channels": 3, "height": 12, "width": 20}
    raw["formats"]["act"] = {"width": 32, "int": 7}  # 25 fraction bits: the most the exp unit takes
    raw["formats"]["score"] = dict(raw["formats"]["score"], int=7)  # s - m in exp's input format
    raw["model"]["mlp_hidden"] = 72
    raw["model"]["moe"] = {"experts": 5, "top_k": 3, "expert_hidden": 40, "tasks": 3}
    raw["hardware"]["linear_tile"] = {"in": 8, "out": 4}
    raw["hardware"]["weight_word"] = {"bits": 256, "rows": 2}   # two 8-weight row segments (tiny's sized 4 wide)
    raw["hardware"]["gelu"] = dict(raw["hardware"]["gelu"], method="edge_moe", table_step_log2=4, table_range=6.0,
                                   table_format={"width": 20, "int": -2, "signed": False}, lanes=3)
    return parse_config(raw, "unusual.yaml")


def run_sanitized(kernel: str, cfg, tmp_path, generated=None):
    vectors = resolve(KERNELS[kernel].vectors)(cfg)
    exe = build_tb(kernel, cfg.name, generated, sanitize=True)
    return vectors, run_tb(exe, vectors, tmp_path)


# make test runs the sanitized builds on the unusual config (other table sizes, lanes, tile and
# counts than both shipped configs: the bounds that the shipped sizes could hide); the shipped tiny
# config under the sanitizers is a make test-full sweep (its plain C-sim is in make test).
@pytest.mark.slow
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_sanitized_csim_tiny(kernel, tmp_path):
    vectors, res = run_sanitized(kernel, load_config("tiny"), tmp_path)
    assert res.exact, f"{kernel}: {res.mismatches} mismatches\n{res.stderr[-2000:]}"


# the whole-frame backbone under the sanitizers (its kernels' sources each run above) is the
# slowest build of make test (about 2 minutes alone): make test-full
@pytest.mark.parametrize("kernel", [pytest.param(k, marks=[pytest.mark.slow] if k == "backbone" else [])
                                    for k in KERNELS])
def test_sanitized_csim_unusual_config(kernel, tmp_path):
    cfg = unusual_config()
    vectors, res = run_sanitized(kernel, cfg, tmp_path, generated_headers(cfg))
    assert res.exact, f"{kernel}: {res.mismatches} mismatches\n{res.stderr[-2000:]}"
    assert vectors.expected.size > 0


def test_an_out_of_bounds_read_that_returns_the_right_value_fails(tmp_path):
    """GELU with the range test off by one (`>` for `>=`) reads GELU_DELTA_TABLE[entries] at
    |x| = range: with t = 0 there the garbage is multiplied by zero and the result is right, so the
    plain C-sim passes; the sanitized build stops (UBSan: index out of bounds, or ASan: global-buffer-overflow)."""
    src = (HLS_DIR / "src" / "gelu.h").read_text()
    needle = "if (a_bits >= (ap_uint<W + 1>(Config::range_steps) << T_BITS)) return relu;"
    assert needle in src, "the GELU range test moved: update this mutation"
    mutant = tmp_path / "mutant"
    mutant.mkdir()
    (mutant / "gelu.h").write_text(src.replace(needle, needle.replace(">=", ">")))
    # gelu.cpp includes "gelu.h" from its own folder first: the copy must sit beside the mutant
    shutil.copy(HLS_DIR / "src" / "gelu.cpp", mutant / "gelu.cpp")
    cfg = load_config("tiny")
    vectors = resolve(KERNELS["gelu"].vectors)(cfg)
    includes = [mutant] + hls_includes("tiny") + [HLS_DIR / "tb"]
    srcs = [HLS_DIR / "tb" / "gelu_tb.cpp", mutant / "gelu.cpp"]
    plain = compile_cpp(srcs, tmp_path / "plain", includes, opt=CSIM_OPT)
    assert run_tb(plain, vectors, tmp_path / "p").exact, "the mutant must pass the plain C-sim (right by luck)"
    sanitized = compile_cpp(srcs, tmp_path / "sanitized", includes, opt=CSIM_OPT, sanitize=True)
    folder = vectors.write(tmp_path / "s" / "vectors")
    res = subprocess.run([str(sanitized), str(folder), str(tmp_path / "s" / "out.txt")], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode != 0 and ("global-buffer-overflow" in res.stderr or "out of bounds" in res.stderr), \
        res.stderr[-2000:]
