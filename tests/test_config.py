"""One configuration source: the YAML validates, and python_ref, the generated C++ header and the
generated SystemVerilog package agree on every constant, format and table."""
import copy
import re
import subprocess
import sys

import pytest
import yaml

from cosim.toolchain import BUILD_DIR, REPO_ROOT, compile_cpp, hls_includes
from python_ref.codegen import kernel_configs, constants, outputs
from python_ref.config import ConfigError, all_configs, load_config, parse_config

CONFIGS = [p.stem for p in all_configs()]


def test_shipped_configs_exist():
    assert {"edge_moe", "tiny"} <= set(CONFIGS)


def test_edge_moe_design_point():
    c = load_config("edge_moe")
    m = c.model
    assert (m.channels, m.height, m.width, m.patch_size) == (3, 128, 256, 16)
    assert (m.num_patches, m.tokens, m.dim, m.heads, m.head_dim, m.layers) == (128, 129, 192, 3, 64, 12)
    assert (m.mlp_hidden, m.experts, m.top_k, m.expert_hidden, m.tasks) == (768, 16, 2, 384, 2)
    assert m.layernorm_eps == 1e-6
    assert [m.is_moe_layer(i) for i in range(4)] == [False, True, False, True]
    f = {k: v.c_type for k, v in c.formats.items()}
    assert f == {
        "act": "ap_fixed<32,10,AP_TRN,AP_WRAP>", "weight": "ap_fixed<16,2,AP_RND,AP_WRAP>",
        "gate_weight": "ap_fixed<16,2,AP_RND,AP_WRAP>", "attn_bias": "ap_fixed<16,7,AP_RND,AP_WRAP>",
        "bias": "ap_fixed<16,5,AP_RND,AP_WRAP>", "norm_param": "ap_fixed<16,5,AP_RND,AP_WRAP>",
        "patch_weight": "ap_fixed<16,0,AP_RND,AP_WRAP>", "pixel": "ap_ufixed<8,0,AP_TRN,AP_WRAP>",
        "operand": "ap_fixed<27,9,AP_RND,AP_SAT_SYM>", "score": "ap_fixed<32,10,AP_RND,AP_SAT>"}
    hw = c.hardware
    assert (hw.part, hw.clock_mhz, hw.axi_width, hw.linear_in, hw.linear_out, hw.attention_parallel) == \
        ("xczu9eg-ffvb1156-2-e", 300, 256, 32, 32, 4)
    assert c.numerics.linear_sum == "exact"
    assert hw.gelu.table_entries == 177 and hw.gelu.table_format.c_type == "ap_ufixed<22,0,AP_TRN,AP_WRAP>"


def test_layernorm_lanes_default_to_one():
    assert load_config("edge_moe").hardware.layernorm_lanes == 32 and load_config("tiny").hardware.layernorm_lanes == 2
    assert parse_config(_mutated(_delete("hardware.layernorm")), "tiny.yaml").hardware.layernorm_lanes == 1


def test_weight_fifo_depth_in_whole_block_ram_rows():
    # edge_moe's FIFO is 15 rows of 1K words (not a power of two: rtl/src/axis_fifo.sv wraps at DEPTH - 1)
    assert load_config("edge_moe").hardware.weight_fifo_depth == 15 * 1024
    assert parse_config(_mutated(_set("hardware.weight_fifo.depth", 3)), "tiny.yaml").hardware.weight_fifo_depth == 3


def test_tiny_is_small():
    m = load_config("tiny").model
    assert (m.tokens, m.dim, m.heads, m.layers, m.experts) == (17, 32, 2, 2, 4)


# ---- bad configurations: every error names the field, the value and what is allowed -------------

def _mutated(mutate):
    data = yaml.safe_load((REPO_ROOT / "configs" / "tiny.yaml").read_text())
    data = copy.deepcopy(data)
    mutate(data)
    return data


def _set(path, value):
    def mutate(d):
        *parents, last = path.split(".")
        for p in parents:
            d = d[p]
        d[last] = value
    return mutate


def _delete(path):
    def mutate(d):
        *parents, last = path.split(".")
        for p in parents:
            d = d[p]
        del d[last]
    return mutate


BAD = [
    (_delete("model.dim"), r"model: missing field\(s\) dim"),
    (_delete("formats.act"), r"formats: missing field\(s\) act"),
    (_set("model.colour", 3), r"model: unknown field\(s\) colour; allowed: image, patch_size"),
    (_set("hardware.gelu.speed", 1), r"hardware.gelu: unknown field\(s\) speed"),
    (_set("model.heads", 3), r"model.dim = 32 is not divisible by model.heads = 3"),
    (_set("model.patch_size", 5), r"model.image.height = 16 is not divisible by model.patch_size = 5"),
    (_set("formats.act.width", 0), r"formats.act.width: must be >= 1, got 0"),
    (_set("formats.weight.quant", "ROUND"), r"formats.weight.quant: 'ROUND' is not a quantization mode; allowed: TRN,"),
    (_set("formats.bias.overflow", "CLAMP"), r"formats.bias.overflow: 'CLAMP' is not an overflow mode; allowed: WRAP,"),
    (_set("formats.bias.signed", "yes"), r"formats.bias.signed: expected true or false, got 'yes'"),
    (_set("model.dim", "32"), r"model.dim: expected an integer, got '32'"),
    (_set("model.dim", 32.5), r"model.dim: expected an integer, got 32.5"),
    (_set("model.layernorm_eps", -1), r"model.layernorm_eps: must be > 0, got -1"),
    (_set("model.moe.top_k", 5), r"model.moe.top_k = 5 exceeds model.moe.experts = 4"),
    (_set("hardware.gelu.method", "tanh"), r"hardware.gelu.method: 'tanh' is not allowed; allowed: edge_moe, minimax"),
    (_set("hardware.gelu.table_range", 5.51), r"hardware.gelu.table_range = 5.51 is not a multiple of the table step"),
    (_set("hardware.gelu.lanes", 0), r"hardware.gelu.lanes: must be >= 1, got 0"),
    (_set("hardware.layernorm.lanes", 0), r"hardware.layernorm.lanes: must be >= 1, got 0"),
    (_set("hardware.layernorm.lanes", 3), r"hardware.layernorm.lanes = 3: must be a power of two dividing model.dim "
                                          r"= 32 into at least 2 beats"),
    (_set("hardware.layernorm.lanes", 64), r"hardware.layernorm.lanes = 64: must be a power of two dividing"),
    (_set("hardware.layernorm.lanes", 32), r"hardware.layernorm.lanes = 32: .* into at least 2 beats"),
    (_set("hardware.layernorm.speed", 1), r"hardware.layernorm: unknown field\(s\) speed; allowed: lanes"),
    (_set("hardware.layernorm", 4), r"hardware.layernorm: expected a mapping of fields, got int"),
    (_set("hardware.weight_fifo.depth", 1), r"hardware.weight_fifo.depth = 1: must be >= 2 \(words of the w_ stream\)"),
    (_set("hardware.axi_width", 100), r"hardware.axi_width: must be a power of two, got 100"),
    (_set("formats.pixel.signed", True), r"formats.pixel.signed: pixels are unsigned"),
    (_set("formats.act.width", 80), r"formats.act.width: at most 64 bits"),
    (_set("model", [1, 2]), r"model: expected a mapping of fields, got list"),
    (_set("hardware.gelu.table_format", {"width": 22, "int": 0, "signed": True}),
     r"hardware.gelu.table_format: the delta table holds values in \[0, 0.17\]"),
    # what the C++ and the RTL cannot build (python_ref/kernels/buildable.py)
    (_set("formats.operand", {"width": 32, "int": 10}), r"formats.operand: the MAC array's activation operand is "
                                                          r"the signed 27-bit A port"),
    (_set("formats.act", {"width": 32, "int": 4}), r"formats.act: the exp unit takes differences of activations "
                                                     r"with at most 25 fraction bits"),
    (_set("formats.act", {"width": 40, "int": 18}), r"formats.act: the LayerNorm RTL datapath is sized for signed "
                                                     r"32-bit activations"),
    (_set("formats.norm_param", {"width": 18, "int": 5}), r"formats.norm_param: the LayerNorm RTL packs gamma and beta"),
    (_set("model.image", {"channels": 3, "height": 64, "width": 64}), r"model.image / model.patch_size: 257 tokens "
                                                                        r"exceed the softmax's 255-score rows"),
    (_set("hardware.gelu.table_format", {"width": 22, "int": 0, "signed": False, "quant": "RND"}),
     r"hardware.gelu.table_format.quant: the GELU datapath truncates"),
    (_set("hardware.gelu.table_step_log2", 22), r"hardware.gelu.table_step_log2 = 22: the C\+\+ and RTL interpolate "
                                                r"with the bits of \|x\| below the table step"),
    (_set("formats.score", {"width": 32, "int": 11, "quant": "RND", "overflow": "SAT"}),
     r"formats.score: s - m must be exact in the exp unit's input format"),
    (_set("model.layernorm_eps", 2.0 ** 10), r"model.layernorm_eps = 1024.0: eps \* dim\^2 \* 2\^\(2 F\) = 2\^64.. "
                                               r"exceeds the LayerNorm units' 64-bit EPS_V"),
    (_set("formats.weight", {"width": 12, "int": 2}), r"formats.weight / formats.patch_weight: both must be equally "
                                                        r"wide and pack evenly"),
    (_set("formats.gate_weight", {"width": 16, "int": 3}), r"formats.gate_weight = ap_fixed<16,3,AP_TRN,AP_WRAP> must "
                                                             r"equal formats.weight = ap_fixed<16,2,AP_RND,AP_WRAP>"),
    (_set("formats.attn_bias", {"width": 16, "int": 12}), r"formats.attn_bias: ap_fixed<16,12,AP_TRN,AP_WRAP> must "
                                                            r"convert to formats.act"),
    (_set("numerics.linear_sum", "fast"), r"numerics.linear_sum: 'fast' is not allowed; allowed: exact, per_product"),
    (_delete("numerics"), r"missing field\(s\) numerics"),
    (_set("model.heads", 4), r"head_dim = model.dim / model.heads = 32 / 4 = 8 is not a power of 4"),
    (_set("hardware.linear_tile.in", 12), r"hardware.linear_tile.in = 12: a tile row must be a whole number of AXI "
                                          r"words or a word \(8 weights\)"),
    (_set("hardware.weight_word.rows", 3), r"hardware.weight_word.rows = 3: must be 1 \(row-major words\) or 2"),
    (_set("hardware.weight_word.bits", 256), r"hardware.weight_word: rows = 2 needs bits = 2 x linear_tile.in \(4\) x "
                                             r"16 = 128 and an even linear_tile.out, got 256 bits"),
    (_set("hardware.weight_word", {"bits": 120, "rows": 1}), r"hardware.weight_word.bits = 120: must be a multiple of "
                                                             r"formats.weight's 16 bits"),
    (_set("hardware.weight_word", {"bits": 96, "rows": 1}), r"hardware.weight_word.bits = 96: a tile row must be a "
                                                            r"whole number of w_ words or a word \(6 weights\)"),
    (_set("hardware.weight_word.width", 1), r"hardware.weight_word: unknown field\(s\) width"),
]


@pytest.mark.parametrize("mutate,message", BAD, ids=[m for _, m in BAD])
def test_bad_config_is_rejected_with_a_message_naming_the_field(mutate, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(_mutated(mutate), "tiny.yaml")


def test_missing_file_lists_the_available_configs(tmp_path):
    with pytest.raises(ConfigError, match=r"config file 'nonexistent' not found \(configs available: .*tiny.yaml"):
        load_config("nonexistent")


def test_invalid_yaml_names_the_file(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: not valid YAML"):
        load_config(p)


def test_generate_script_reports_bad_config_without_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(_mutated(_set("model.heads", 3))))
    res = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "generate.py"), "--check", str(p)],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert res.returncode == 2
    assert "error: model.dim = 32 is not divisible by model.heads = 3" in res.stderr
    assert "Traceback" not in res.stderr


# ---- generated headers: committed, up to date, and in agreement with python_ref -----------------

@pytest.mark.parametrize("name", CONFIGS)
def test_generated_files_are_up_to_date(name):
    for path, text in outputs(load_config(name)).items():
        assert path.exists(), f"{path} missing: run `make generate`"
        assert path.read_text() == text, f"{path} is stale: run `make generate`"


def _dump_source(cfg) -> str:
    """The config_dump harness with every constant, struct member, typedef and table of cfg."""
    kernels = kernel_configs(cfg)
    src = (REPO_ROOT / "tests" / "harness" / "config_dump.cpp").read_text()
    src = src.replace("TABLE_INCLUDES", "\n".join(f'#include "{k.kernel}_tables.h"' for k in kernels if k.tables))
    src = src.replace("CONSTANTS_LIST", " ".join(f"DUMP({k})" for k in constants(cfg)))
    src = src.replace("MEMBERS_LIST", " ".join(f"DUMP_MEMBER({k.kernel}_config, {c.member})"
                                                 for k in kernels for c in k.constants))
    types = [f'type_line<{r}_t>("{r}");' for r in cfg.formats]
    types += [f'type_line<{k.kernel}_config::{name}>("{k.kernel}_config::{name}");' for k in kernels for name, _, _ in k.types]
    src = src.replace("FORMATS_LIST", " ".join(types))
    return src.replace("TABLES_LIST", " ".join(f'table_lines("{t.name}", {t.name});' for k in kernels for t in k.tables))


def _cpp_dump(cfg) -> list[str]:
    gen = BUILD_DIR / "config_dump" / cfg.name
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "config_dump.cpp").write_text(_dump_source(cfg))
    exe = compile_cpp([gen / "config_dump.cpp"], gen / "config_dump", hls_includes(cfg.name), opt="-O0")
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()


def _expected_dump(cfg) -> dict:
    kernels = kernel_configs(cfg)
    fmts = {role: f for role, f in cfg.formats.items()}
    fmts.update({f"{k.kernel}_config::{name}": f for k in kernels for name, f, _ in k.types})
    return {
        "const": constants(cfg),
        "member": {f"{k.kernel}_config::{c.member}": c.value for k in kernels for c in k.constants},
        "type": {n: (str(f.width), str(f.int_bits), str(int(f.signed)), f.quant, f.overflow) for n, f in fmts.items()},
        "table": {t.name: list(t.values) for k in kernels for t in k.tables},
    }


def _parse_dump(lines) -> dict:
    got = {"const": {}, "member": {}, "type": {}, "table": {}}
    for line in lines:
        kind, name, *rest = line.split()
        if kind in ("const", "member"):
            got[kind][name] = int(rest[0])
        elif kind == "type":
            got[kind][name] = tuple(rest)
        elif kind == "table":
            got[kind].setdefault(name, []).append(int(rest[1]))
    return got


@pytest.mark.parametrize("name", CONFIGS)
def test_cpp_header_agrees_with_python_ref(name):
    """Every constant, every kernel config struct member and typedef, every table, read back from the
    compiled C++ headers, equals python_ref's."""
    cfg = load_config(name)
    got, want = _parse_dump(_cpp_dump(cfg)), _expected_dump(cfg)
    for kind in want:
        assert got[kind] == want[kind], kind
    assert len(want["member"]) >= 40 and {"EXP_TABLE", "GELU_DELTA_TABLE"} <= set(want["table"])


def _sv_parameters(name):
    from pyslang import ast, syntax
    tree = syntax.SyntaxTree.fromFile(str(REPO_ROOT / "rtl" / "generated" / name / "model_pkg.sv"))
    comp = ast.Compilation()
    comp.addSyntaxTree(tree)
    diags = [d for d in comp.getAllDiagnostics() if d.isError()]
    assert not diags, diags
    pkg = comp.getPackage("model_pkg")
    return {m.name: str(m.value) for m in pkg if m.kind == ast.SymbolKind.Parameter}


def _sv_int(text: str) -> int:
    """A slang constant as text: plain decimal, or sized like 64'sd123."""
    m = re.fullmatch(r"(?:\d+'s?d)?(-?\d+)", text)
    assert m, f"unexpected constant {text!r}"
    return int(m.group(1))


@pytest.mark.parametrize("name", CONFIGS)
def test_sv_package_agrees_with_python_ref(name):
    cfg = load_config(name)
    params = _sv_parameters(name)
    want = _expected_dump(cfg)
    for table, values in want["table"].items():
        assert [int(v) for v in re.findall(r"'d(\d+)", params.pop(table))] == values, table
    assert {k: _sv_int(v) for k, v in params.items()} == want["const"]


def test_agreement_check_can_fail(tmp_path):
    """The C++ agreement check compares real values: a header whose table entry, struct member or
    constant is off by one fails it (the dump parsed from a corrupted header differs)."""
    cfg = load_config("tiny")
    want = _expected_dump(cfg)
    lines = _cpp_dump(cfg)
    assert _parse_dump(lines) == want
    for needle in ("table EXP_TABLE 5 ", "member exp_config::c1_raw ", "const LAYERNORM_EPS_V "):
        bad = [l if not l.startswith(needle) else l[:l.rindex(" ") + 1] + str(int(l.split()[-1]) + 1) for l in lines]
        got = _parse_dump(bad)
        assert any(got[k] != want[k] for k in want), needle
    # and the compiled header itself: perturb one generated table entry and rebuild
    gen = tmp_path / "generated"
    gen.mkdir()
    for f in (REPO_ROOT / "hls" / "generated" / cfg.name).iterdir():
        (gen / f.name).write_text(f.read_text())
    text = (gen / "exp_tables.h").read_text()
    (gen / "exp_tables.h").write_text(text.replace("268435456", "268435457", 1))
    (tmp_path / "config_dump.cpp").write_text(_dump_source(cfg))
    exe = compile_cpp([tmp_path / "config_dump.cpp"], tmp_path / "config_dump",
                      [p for p in hls_includes(cfg.name) if p.name != cfg.name] + [gen], opt="-O0")
    got = _parse_dump(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines())
    assert got["table"]["EXP_TABLE"][0] == (1 << 28) + 1 != want["table"]["EXP_TABLE"][0]


def test_python_ref_only_variants_load_without_the_hardware_checks():
    """The format study evaluates configurations the hardware is not built for: parse_config with
    buildable=False skips the kernels' check_config (and only those)."""
    data = _mutated(_set("model.heads", 4))  # head dim 8: no exact shift for d^-1/2
    with pytest.raises(ConfigError, match="not a power of 4"):
        parse_config(data, "tiny.yaml")
    assert parse_config(data, "tiny.yaml", buildable=False).model.head_dim == 8
    with pytest.raises(ConfigError, match="model.dim = 32 is not divisible by model.heads = 3"):
        parse_config(_mutated(_set("model.heads", 3)), "tiny.yaml", buildable=False)
