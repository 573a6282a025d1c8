"""The static HLS-rule check (scripts/hls_rules.py) passes on hls/src for every top of the kernel
registry, and fails, naming the rule, on deliberately broken copies of the sources: an unsized
array argument, a missing interface pragma, an m_axi port without depth, s_axilite arguments
without ``s_axilite port=return``, a ``dependence ... false`` the specification does not justify,
a global buffer, static state outside a top, a second call site of the MAC array, and an allocation
pragma in a function whose body does not hold the calls it limits (written in backbone_top again,
or reaching the calls through a function no longer inlined)."""
from __future__ import annotations

import shutil

import pytest

from cosim.registry import KERNELS
from cosim.toolchain import HLS_DIR
from scripts.hls_rules import check


def test_sources_keep_the_rules():
    findings = check(HLS_DIR / "src")
    assert not findings, "\n".join(map(str, findings))


def test_every_registered_kernel_has_a_top_checked():
    assert all(k.hls_tops for k in KERNELS.values()), [k.name for k in KERNELS.values() if not k.hls_tops]


MUTATIONS = {
    # (file, old text, new text): the rule the broken copy must violate
    "sized": ("linear.cpp", "void linear_top(const axi_word_t w[LINEAR_W_WORDS],", "void linear_top(const axi_word_t* w,"),
    "interface": ("attention.cpp", "#pragma HLS interface mode=s_axilite port=tokens bundle=control\n", ""),
    "m_axi": ("attention.cpp", "bundle=gmem_out offset=slave depth=ATTENTION_OUT_WORDS", "bundle=gmem_out offset=slave"),
    "depth-name": ("backbone.cpp", "offset=slave depth=BACKBONE_OUT_DEPTH",
                   "offset=slave depth=BACKBONE_MAX_IMAGES*BACKBONE_OUT_WORDS"),
    "s_axilite": ("linear.cpp", "#pragma HLS interface mode=s_axilite port=return bundle=control\n", ""),
    "dependence": ("attention.cpp", "#pragma HLS pipeline II=1\n#pragma HLS loop_tripcount max=AT_T * (AT_JPAD / AT_LI)",
                   "#pragma HLS pipeline II=1\n#pragma HLS dependence variable=e_buf inter false\n"
                   "#pragma HLS loop_tripcount max=AT_T * (AT_JPAD / AT_LI)"),
    "global": ("linear.cpp", "// Process 1 of linear_top", "act_t linear_scratch[LINEAR_OUT];\n// Process 1 of linear_top"),
    "static": ("patch_embed.cpp", "    linear_in_block_t blk;", "    static act_t rows[16];\n    linear_in_block_t blk;"),
    "one-array": ("linear.cpp", "        const linear_tile_sum_t t = linear_mac_tile(xv, wbuf[tile]);",
                  "        const linear_tile_sum_t t = linear_mac_tile(xv, wbuf[tile]);\n"
                  "        const linear_tile_sum_t t2 = linear_mac_tile(xv, wbuf[0]);"),
    # the first version's mistake: the pragma in backbone_top, whose one call (bb_frame) is not inlined
    "allocation": ("backbone.cpp", "bb_frames:\n", "#pragma HLS allocation function instances=linear_top limit=1\nbb_frames:\n"),
    # moe_layer's engine calls count for its callers' pragmas only while it is inlined
    "allocation-inline-off": ("moe_layer.cpp", "#pragma HLS inline\n    constexpr", "#pragma HLS inline off\n    constexpr"),
}
EXPECTED_RULE = {"static": "global", "allocation-inline-off": "allocation"}


def broken_copy(what, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(HLS_DIR / "src", src)
    file, old, new = MUTATIONS[what]
    text = (src / file).read_text()
    assert text.count(old) == 1, f"mutation anchor for {what!r} not found once in {file}"
    (src / file).write_text(text.replace(old, new))
    return src


@pytest.mark.parametrize("what", list(MUTATIONS))
def test_check_fails_on_a_broken_copy(what, tmp_path):
    findings = check(broken_copy(what, tmp_path))
    file = MUTATIONS[what][0]
    rule = EXPECTED_RULE.get(what, what)
    assert [f for f in findings if f.rule == rule and f.file in (file, "hls/src")], \
        f"{what}: no [{rule}] finding; got {list(map(str, findings))}"
    assert all(f.rule == rule for f in findings), list(map(str, findings))


def test_a_misplaced_allocation_pragma_is_named(tmp_path):
    """The finding names the file, the function holding the pragma and the function it limits."""
    findings = [str(f) for f in check(broken_copy("allocation", tmp_path))]
    assert findings == ["backbone.cpp: [allocation] backbone_top: 'allocation function instances=linear_top' but "
                        "backbone_top does not call linear_top in its body (nor through an inlined function): the "
                        "pragma limits only the instances in the body it is written in (UG1399)"]
    findings = [str(f) for f in check(broken_copy("allocation-inline-off", tmp_path / "b"))]
    assert any(f.startswith("backbone.cpp: [allocation] bb_frame: 'allocation function instances=moe_top'")
               for f in findings), findings
