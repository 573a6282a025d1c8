"""Unified compute unit (linear engine): python_ref spec vs independent integer computations (both
rules: ``exact``, what the shipped configs and the hardware use, and ``per_product``, Edge-MoE's rule
that the format study still evaluates in python_ref), the memory layout, and the C simulation of
hls/src/linear.cpp's linear_top (bit-exact to the exact rule, one top call per job as the host
issues them) on the tiny.yaml layer shapes, odd shapes, gather/scatter, the patch embedding; the
full edge_moe.yaml shapes behind @pytest.mark.slow."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from cosim.csim import build_tb
from cosim.linear_jobs import Job, job_vectors, jobs_text, model_sequence, odd_shape_jobs, rand_layer, run_csim
from cosim.vectors import rand_raw
from python_ref.config import load_config
from python_ref.fixed import FixedFormat
from python_ref.kernels.gelu import gelu_raw
from python_ref.kernels.linear import (LinearError, accumulate, compute_linear, im2col, layer_shapes,
                                       pack_matrix_axi, pack_vector_axi, patch_embed, quantized_products,
                                       unpack_words)

# ---------------------------------------------------------------------------------------------
# Independent integer computation (plain numpy / Python ints, TRN + WRAP only)


def wrap(v, width):
    v = np.asarray(v, dtype=object)
    m = 1 << width
    return np.array([((int(a) + m // 2) % m) - m // 2 for a in v.ravel()], dtype=np.int64).reshape(v.shape)


def numpy_linear(x, w, b, x_frac, w_frac, b_frac, act_frac=22, act_width=32):
    """sum_i floor(x*w / 2^(fx+fw-fa)) + b << (fa-fb), wrapped once (order-free under WRAP)."""
    shift = x_frac + w_frac - act_frac
    p = x[:, None, :].astype(np.int64) * w[None, :, :].astype(np.int64)
    q = p >> shift if shift >= 0 else p << (-shift)  # numpy >> on int64 is floor division
    s = q.sum(axis=-1) + (b.astype(np.int64) << (act_frac - b_frac))[None, :]
    return wrap(s, act_width)


def rule_config(name: str, rule: str):
    """A shipped config with ``numerics.linear_sum`` set to ``rule``."""
    from python_ref.config import parse_config
    raw = load_config(name).as_dict()
    raw["numerics"]["linear_sum"] = rule
    return parse_config(raw, f"{name}.yaml ({rule})")


def test_shipped_configs_use_the_exact_rule():
    assert all(load_config(n).numerics.linear_sum == "exact" for n in ("tiny", "edge_moe"))


# ---------------------------------------------------------------------------------------------
# Spec tests (per_product: Edge-MoE's rule, still evaluated by the format study)


@pytest.mark.parametrize("name", ["tiny", "edge_moe"])
def test_spec_equals_integer_model(name):
    cfg = rule_config(name, "per_product")
    act = cfg.fmt("act")
    rng = np.random.default_rng(1)
    for _, n_out, n_in, wr, br in layer_shapes(cfg)[:4 if name == "edge_moe" else 6]:
        for full in (False, True):
            rows = 9 if name == "edge_moe" else cfg.model.tokens
            x, w, b = rand_layer(cfg, n_out, n_in, rows, rng, full, wr, br)
            want = numpy_linear(x, w, b, act.frac, cfg.fmt(wr).frac, cfg.fmt(br).frac)
            got = compute_linear(x, w, b, cfg, w_fmt=cfg.fmt(wr), b_fmt=cfg.fmt(br))
            assert np.array_equal(got, want), (name, n_out, n_in, full)


def test_order_and_grouping_do_not_matter_under_wrap():
    """The one-shot wrapped sum equals the literal sequential loop, and any other order."""
    cfg = load_config("tiny")
    act, wf, bf = cfg.fmt("act"), cfg.fmt("weight"), cfg.fmt("bias")
    rng = np.random.default_rng(2)
    x, w, b = rand_layer(cfg, 13, 37, 5, rng, full_range=True)
    q = quantized_products(x, w, act, wf, act)
    bias_act = bf.fx(b).cast(act).raw
    seq = accumulate(bias_act, q, act, sequential=True)
    assert np.array_equal(accumulate(bias_act, q, act), seq)
    perm = rng.permutation(37)
    assert np.array_equal(accumulate(bias_act, q[:, :, perm], act, sequential=True), seq)
    # Full-range inputs do wrap: the unwrapped sum leaves the act range somewhere.
    assert np.any(np.abs(q.sum(axis=-1) + bias_act) > act.raw_max)


def test_saturating_accumulator_uses_the_sequential_order():
    """With a SAT act format the spec evaluates the literal ascending-i loop (order matters there)."""
    sat = FixedFormat(12, 4, True, "TRN", "SAT")
    q = np.array([[[2000, 2000, -2000]]], dtype=np.int64)  # 2000+2000 saturates at 2047, then -2000
    assert accumulate(np.array([0]), q, sat)[0, 0] == 47
    assert accumulate(np.array([0]), q[:, :, ::-1], sat)[0, 0] == 2000


def test_products_are_quantized_before_the_sum():
    """The spec quantizes every product (Edge-MoE's addend vector), not the running sum; the two
    differ in the low bits, so a test against the wrong choice would fail."""
    cfg = rule_config("tiny", "per_product")
    act, wf, bf = cfg.fmt("act"), cfg.fmt("weight"), cfg.fmt("bias")
    rng = np.random.default_rng(3)
    x, w, b = rand_layer(cfg, 32, 32, 17, rng)
    got = compute_linear(x, w, b, cfg, w_fmt=wf, b_fmt=bf)
    acc = (bf.fx(b).cast(act).raw.astype(object)[None, :] << 14) + x.astype(object) @ w.T.astype(object)
    sum_quantized = act.quantize(acc, act.frac + wf.frac)  # act(b + sum x*w): one rounding
    assert not np.array_equal(got, sum_quantized)
    assert np.all((sum_quantized - got >= 0) & (sum_quantized - got <= 32))  # floors lose < 1 LSB each


def test_running_sum_spelling_is_the_same_under_trn():
    """acc = act(acc + x*w) (rounding the exact running sum) equals acc = act(acc + act(x*w)) when
    acc is on the act grid and the mode is TRN (floor(a + p) = a + floor(p)); under RND_CONV it
    does not, and the spec (and the C++) use the per-product form."""
    cfg = load_config("tiny")
    act, wf = cfg.fmt("act"), cfg.fmt("weight")
    rng = np.random.default_rng(8)
    acc = rand_raw(act, 20000, rng, 4.0)
    x, w = rand_raw(act, 20000, rng, 1.0), rand_raw(wf, 20000, rng, 0.3)
    for quant, same in (("TRN", True), ("RND_CONV", False)):
        a = act.with_modes(quant=quant)
        p = a.fx(x) * wf.fx(w)
        running = (a.fx(acc) + p).cast(a).raw
        per_product = (a.fx(acc) + p.cast(a)).cast(a).raw
        assert np.array_equal(running, per_product) == same, quant


def test_gelu_output_is_the_gelu_unit():
    cfg = load_config("tiny")
    rng = np.random.default_rng(4)
    x, w, b = rand_layer(cfg, 64, 32, 17, rng)
    kw = dict(w_fmt=cfg.fmt("weight"), b_fmt=cfg.fmt("bias"))
    y = compute_linear(x, w, b, cfg, **kw)
    assert np.array_equal(compute_linear(x, w, b, cfg, gelu=True, **kw), gelu_raw(y, cfg))


def test_gather_and_scaled_scatter_accumulate():
    cfg = load_config("tiny")
    act = cfg.fmt("act")
    rng = np.random.default_rng(5)
    x, w, b = rand_layer(cfg, 32, 64, 17, rng)
    kw = dict(w_fmt=cfg.fmt("weight"), b_fmt=cfg.fmt("bias"))
    full = compute_linear(x, w, b, cfg, **kw)
    idx = np.array([9, 2, 16, 5])
    assert np.array_equal(compute_linear(x, w, b, cfg, gather=idx, **kw), full[idx])
    out0 = rand_raw(act, (17, 32), rng, 1.0)
    scores = act.from_float(rng.uniform(0, 1, 4)).astype(np.int64)
    got = compute_linear(x, w, b, cfg, gather=idx, out=out0, scatter=idx, scores=scores, **kw)
    want = out0.copy()
    for k, t in enumerate(idx):
        prod = (scores[k] * full[t].astype(object)) >> act.frac  # floor(score*y) in act
        want[t] = wrap(want[t] + wrap(prod, 32), 32)
    assert np.array_equal(got, want)
    untouched = np.setdiff1d(np.arange(17), idx)
    assert np.array_equal(got[untouched], out0[untouched])
    # The engine's contract: distinct scatter targets within one call.
    with pytest.raises(LinearError, match=r"scatter: targets repeat within one call \(\[0\]\)"):
        compute_linear(x, w, b, cfg, gather=[1, 3], out=out0, scatter=[0, 0], **kw)


def test_bad_arguments_name_the_problem():
    cfg = load_config("tiny")
    kw = dict(w_fmt=cfg.fmt("weight"), b_fmt=cfg.fmt("bias"))
    x, w, b = rand_layer(cfg, 8, 4, 3, np.random.default_rng(6))
    with pytest.raises(LinearError, match="columns"):
        compute_linear(x[:, :3], w, b, cfg, **kw)
    with pytest.raises(LinearError, match="gather: index out of range"):
        compute_linear(x, w, b, cfg, gather=[0, 3], **kw)
    with pytest.raises(LinearError, match="need out"):
        compute_linear(x, w, b, cfg, scatter=[0, 1, 2], **kw)
    with pytest.raises(LinearError, match="outside"):
        compute_linear(x, w * 0 + 40000, b, cfg, **kw)
    with pytest.raises(LinearError, match="give scatter"):
        compute_linear(x, w, b, cfg, out=np.zeros((2, 8), dtype=np.int64), **kw)
    with pytest.raises(LinearError, match="scores: expected shape"):
        compute_linear(x, w, b, cfg, out=np.zeros((3, 8), dtype=np.int64), scores=[1, 2], **kw)


def numpy_conv_patch_embed(img, w4, b, pos, cfg):
    """Direct convolution in integers (product quantization = floor by 2^(8+16-22))."""
    m = cfg.model
    P = m.patch_size
    act, pix, pw, bf = cfg.fmt("act"), cfg.fmt("pixel"), cfg.fmt("patch_weight"), cfg.fmt("bias")
    shift = pix.frac + pw.frac - act.frac
    out = pos.copy()
    for py in range(m.patches_h):
        for px in range(m.patches_w):
            patch = img[:, py * P:(py + 1) * P, px * P:(px + 1) * P].astype(np.int64)
            q = (patch[None] * w4.astype(np.int64)) >> shift
            s = q.reshape(m.dim, -1).sum(axis=1) + (b.astype(np.int64) << (act.frac - bf.frac))
            t = 1 + py * m.patches_w + px
            out[t] = wrap(pos[t] + wrap(s, 32), 32)
    return out


@pytest.mark.parametrize("name", ["tiny", "edge_moe"])
def test_patch_embed_is_a_convolution(name):
    cfg = rule_config(name, "per_product")
    m = cfg.model
    rng = np.random.default_rng(7)
    img = rand_raw(cfg.fmt("pixel"), (m.channels, m.height, m.width), rng)
    w4 = rand_raw(cfg.fmt("patch_weight"), (m.dim, m.channels, m.patch_size, m.patch_size), rng, 0.05)
    b = rand_raw(cfg.fmt("bias"), m.dim, rng, 0.1)
    pos = rand_raw(cfg.fmt("act"), (m.tokens, m.dim), rng, 0.5)
    got = patch_embed(img, w4, b, pos, cfg)
    assert np.array_equal(got, numpy_conv_patch_embed(img, w4, b, pos, cfg))
    assert np.array_equal(got[0], pos[0])
    cols = im2col(img, m.patch_size)
    assert np.array_equal(cols[1], img[:, :m.patch_size, m.patch_size:2 * m.patch_size].reshape(-1))
    # the exact rule (shipped): the same im2col rows through the Python-integer evaluation, onto pos
    ce = load_config(name)
    y = python_int_exact(cols, w4.reshape(m.dim, -1), b, ce.fmt("pixel"), ce.fmt("patch_weight"), ce.fmt("bias"), ce)
    want = pos.copy()
    want[1:] = wrap(pos[1:].astype(object) + y.astype(object), 32)
    assert np.array_equal(patch_embed(img, w4, b, pos, ce), want)


def test_memory_layout():
    fmt = FixedFormat(16, 2)
    w = np.arange(-30, 30, dtype=np.int64).reshape(3, 20)  # 20 = one full word + 4 lanes at 256 bits
    words = pack_matrix_axi(w, fmt, 256)
    assert len(words) == 6  # 3 rows x 2 words (rows padded to whole words)
    assert (words[0] >> 16) & 0xFFFF == (-29) & 0xFFFF  # W[0][1] in lane 1
    assert words[1] >> 64 == 0  # padding lanes of row 0 are zero
    assert (words[2] & 0xFFFF) == (-10) & 0xFFFF  # W[1][0] starts word 2
    assert np.array_equal(unpack_words(words, fmt, 256, 20, 2, 3), w)
    v = np.arange(-5, 12)
    bw = pack_vector_axi(v, fmt, 128)
    assert len(bw) == 3 and np.array_equal(unpack_words(bw, fmt, 128, 17)[0], v)
    with pytest.raises(LinearError, match="does not pack evenly"):
        pack_matrix_axi(w, FixedFormat(12, 2), 256)


def test_error_script_engine_error_is_bounded():
    """scripts/linear_errors.py on tiny (seeded weights, the exact rule): the engine's own error is
    the operand rounding (half an operand LSB per input, times |w|) and one floor per output, so it
    stays below in_dim LSBs (and is not zero: the roundings are visible)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("linear_errors", Path(__file__).parent.parent / "scripts" /
                                                  "linear_errors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cfg = load_config("tiny")
    source, rows = mod.measure(cfg, weights_dir=Path("/nonexistent"))
    assert "seeded" in source and len(rows) == 8
    lsb = cfg.fmt("act").lsb
    for label, shape, n, eng_max, eng_rms, lay_max, lay_rms, ref_rms in rows:
        n_in = int(shape.split("x")[1])
        if "GELU" not in label:
            assert 0 < eng_max <= n_in * lsb, (label, eng_max)
        assert eng_max <= lay_max < 0.01 * max(ref_rms, 1.0), label
    assert "| qkv (layer 0) | 96x32 | 17 |" in mod.table(cfg, source, rows)


# ---------------------------------------------------------------------------------------------
# C simulation


def assert_jobs_equal(expected, got, names):
    for name, e, g in zip(names, expected, got):
        bad = np.argwhere(e != g)
        assert bad.size == 0, f"{name}: {len(bad)} of {e.size} differ, first at {bad[:3].tolist()}: " \
                              f"got {g[tuple(bad[0])]} want {e[tuple(bad[0])]}"


@pytest.mark.csim
@pytest.mark.parametrize("full_range", [False, True], ids=["realistic", "full_range"])
def test_csim_tiny_model_shapes(full_range, tmp_path):
    """Every tiny.yaml layer shape (32->96, 32->32, 32->128, 128->32, 32->64, 64->32) and the 3x4x4
    patch embedding, one ping-pong sequence, bit-exact."""
    cfg = load_config("tiny")
    jobs, names = model_sequence(cfg, np.random.default_rng(10 + full_range), full_range)
    expected, got = run_csim(jobs, cfg, tmp_path)
    assert_jobs_equal(expected, got, names)
    assert len(expected) == 7


@pytest.mark.csim
@pytest.mark.parametrize("name", ["tiny", "edge_moe"])
def test_csim_odd_shapes_and_modes(name, tmp_path):
    """Shapes that are not multiples of the tile or of the words per AXI beat, every output mode,
    repeated scatter targets, both bias kinds, and corner values (most negative / positive)."""
    cfg = load_config(name)
    shapes = [(1, 1, 1), (5, 3, 2), (13, 37, 7), (37, 13, 17), (3, 19, 1)]
    if name == "edge_moe":
        shapes += [(47, 33, 20), (31, 200, 5)]
    jobs, names = odd_shape_jobs(cfg, np.random.default_rng(20), shapes)
    expected, got = run_csim(jobs, cfg, tmp_path)
    assert_jobs_equal(expected, got, names)


@pytest.mark.csim
def test_csim_tile_row_wider_than_a_word(tmp_path):
    """A config whose tile row spans several AXI words (LINEAR_IN = 16 > 128 / 16 = 8 weights per
    word; LINEAR_OUT = 8): the loader's multi-segment path, including partial last tiles."""
    from cosim.csim import generated_headers
    from python_ref.config import parse_config
    raw = load_config("tiny").as_dict()
    raw["name"] = "tiny_wide_tile"
    raw["hardware"]["linear_tile"] = {"in": 16, "out": 8}
    raw["hardware"].pop("weight_word", None)   # tiny's two-row word is sized for its 4-wide tile
    cfg = parse_config(raw, "tiny_wide_tile.yaml")
    exe = build_tb("linear", cfg.name, generated_headers(cfg))
    rng = np.random.default_rng(25)
    jobs, names = odd_shape_jobs(cfg, rng, [(1, 1, 1), (9, 17, 3), (13, 37, 7), (37, 13, 17), (3, 33, 2)])
    seq, seq_names = model_sequence(cfg, rng)
    expected, got = run_csim(jobs + seq, cfg, tmp_path, exe)
    assert_jobs_equal(expected, got, names + seq_names)


@pytest.mark.csim
def test_csim_edge_moe_one_layer(tmp_path):
    """The edge_moe projection shape (192->192, 129 tokens, 16x16 tile, 256-bit words) in CI."""
    cfg = load_config("edge_moe")
    rng = np.random.default_rng(30)
    x, w, b = rand_layer(cfg, 192, 192, 129, rng, b_role="attn_bias")
    jobs = [Job(w=w, b=b, b_role="attn_bias", src=x), Job(w=w[:64], b=b[:64], b_role="attn_bias", src=x, gelu=True)]
    expected, got = run_csim(jobs, cfg, tmp_path)
    assert_jobs_equal(expected, got, ["proj", "proj part + gelu"])


@pytest.mark.csim
def test_csim_pingpong_uses_the_right_buffer(tmp_path):
    """Same shape, different weights in consecutive layers: a step reading the buffer being loaded
    (or the stale one) would give the other layer's result."""
    cfg = load_config("tiny")
    rng = np.random.default_rng(40)
    x, w1, b1 = rand_layer(cfg, 32, 32, 17, rng)
    _, w2, b2 = rand_layer(cfg, 32, 32, 17, rng)
    _, w3, b3 = rand_layer(cfg, 32, 32, 17, rng)
    jobs = [Job(w=w1, b=b1, src=x), Job(w=w2, b=b2, src=x), Job(w=w3, b=b3, src=None), Job(w=w1, b=b1, src=x)]
    expected, got = run_csim(jobs, cfg, tmp_path)
    assert_jobs_equal(expected, got, ["l1", "l2", "l3 chained", "l1 again"])
    assert not np.array_equal(expected[0], expected[1])


@pytest.mark.csim
def test_csim_testbench_self_check(tmp_path):
    """linear_tb's compare mode (for vendor csim): passes on python_ref's outputs, fails on one
    flipped LSB and names it."""
    cfg = load_config("tiny")
    jobs, _ = model_sequence(cfg, np.random.default_rng(45))
    expected, _ = run_csim(jobs, cfg, tmp_path)
    vectors = job_vectors(jobs, cfg)
    exe = build_tb("linear", "tiny")
    good = vectors.write(tmp_path / "good")
    vectors.expected = vectors.expected.copy()
    n_out = expected[3].shape[1]
    offset = sum(e.size for e in expected[:3])
    vectors.expected[offset + 2 * n_out + 5] ^= 1
    bad = vectors.write(tmp_path / "bad")
    ok = subprocess.run([str(exe), str(good), "o.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "0 mismatches" in ok.stdout, ok.stderr
    res = subprocess.run([str(exe), str(bad), "o.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 1 and "1 mismatches" in res.stdout
    assert f"mismatch job 3 value {2 * n_out + 5}" in res.stderr


@pytest.mark.csim
def test_csim_testbench_rejects_bad_input(tmp_path):
    cfg = load_config("tiny")
    exe = build_tb("linear", "tiny")
    rng = np.random.default_rng(50)
    x, w, b = rand_layer(cfg, 8, 8, 3, rng)
    vectors = job_vectors([Job(w=w, b=b, src=x)], cfg)
    text = vectors.inputs["jobs.txt"]
    # a scatter job whose targets repeat (the engine's contract forbids it)
    rep = Job(w=w, b=b, src=x, gather=np.array([0, 1]), scatter=np.array([2, 2]), dst=rand_raw(cfg.fmt("act"), (3, 8), rng))
    rep_text = jobs_text([Job(w=w, b=b, src=x, expected=np.zeros((3, 8))), rep], cfg)
    cases = {"outside the engine": text.replace("job 0 0 0 8 8", "job 0 0 0 8 9999", 1),
             "expected section 'wwords'": text.replace("wwords", "words"),
             "exceed the tile buffer": text.replace("job 0 0 0 8 8", "job 0 0 0 128 128", 1),
             "out of range": text.replace("src 24\n", "src 24\n99999999999 ", 1),
             "scatter target 2 repeats within one call": rep_text}
    for msg, bad in cases.items():
        d = tmp_path / "bad"
        vectors.write(d)
        (d / "jobs.txt").write_text(bad)
        res = subprocess.run([str(exe), str(d), "out.txt"], cwd=tmp_path, capture_output=True, text=True)
        assert res.returncode == 2 and msg in res.stderr, (msg, res.stderr)
    res = subprocess.run([str(exe), str(tmp_path / "nowhere")], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "meta.txt not found" in res.stderr


@pytest.mark.slow
@pytest.mark.csim
@pytest.mark.parametrize("full_range", [False, True], ids=["realistic", "full_range"])
def test_csim_edge_moe_full_shapes(full_range, tmp_path):
    """Every edge_moe.yaml shape (192->576, 192->192, 192->768, 768->192, 192->384, 384->192, patch
    embedding 3x16x16 over 128 patches), 129 tokens, bit-exact through the ping-pong sequence."""
    cfg = load_config("edge_moe")
    jobs, names = model_sequence(cfg, np.random.default_rng(60 + full_range), full_range)
    expected, got = run_csim(jobs, cfg, tmp_path)
    assert_jobs_equal(expected, got, names)


# ---------------------------------------------------------------------------------------------
# The exact rule (numerics.linear_sum: exact): operand conversion, exact sum, one rounding


def exact_config(name: str):
    return rule_config(name, "exact")


def python_int_exact(x, w, b, x_fmt, w_fmt, b_fmt, cfg):
    """y = act(b + sum operand(x) * W) with Python integers and an explicit operand conversion:
    round half up to the operand's fraction bits, then symmetric saturation."""
    op, act = cfg.fmt("operand"), cfg.fmt("act")
    sh = x_fmt.frac - op.frac
    lim = (1 << (op.width - 1)) - 1
    xo = [[max(-lim, min(lim, (int(v) + (1 << (sh - 1))) >> sh if sh > 0 else int(v) << -sh)) for v in row] for row in x]
    frac = op.frac + w_fmt.frac
    out = np.empty((len(xo), w.shape[0]), dtype=object)
    for k, row in enumerate(xo):
        for o in range(w.shape[0]):
            out[k, o] = (int(b[o]) << (frac - b_fmt.frac)) + sum(a * int(c) for a, c in zip(row, w[o]))
    # floor to act's fraction bits, wrap to its width (the shipped TRN / WRAP act)
    y = [[((v >> (frac - act.frac)) + (1 << 31)) % (1 << 32) - (1 << 31) for v in r] for r in out]
    return np.array(y, dtype=np.int64)


@pytest.mark.parametrize("name", ["tiny", "edge_moe"])
@pytest.mark.parametrize("full_range", [False, True], ids=["realistic", "full_range"])
def test_exact_rule_equals_python_integers(name, full_range):
    """Realistic and full-range operands (the operand saturates, the sum wraps act), act and pixel
    inputs, weight and patch-weight formats: the spec equals a Python-integer evaluation."""
    cfg = exact_config(name)
    rng = np.random.default_rng(11 + full_range)
    for o, i, r, wr, br in [(13, 37, 5, "weight", "bias"), (9, 2 * cfg.model.dim, 3, "weight", "attn_bias")]:
        x, w, b = rand_layer(cfg, o, i, r, rng, full_range, wr, br)
        got = compute_linear(x, w, b, cfg, w_fmt=cfg.fmt(wr), b_fmt=cfg.fmt(br))
        assert np.array_equal(got, python_int_exact(x, w, b, cfg.fmt("act"), cfg.fmt(wr), cfg.fmt(br), cfg))
    pix = rand_raw(cfg.fmt("pixel"), (4, 48), rng)
    w = rand_raw(cfg.fmt("patch_weight"), (6, 48), rng, None if full_range else 0.05)
    b = rand_raw(cfg.fmt("bias"), 6, rng)
    got = compute_linear(pix, w, b, cfg, x_fmt=cfg.fmt("pixel"), w_fmt=cfg.fmt("patch_weight"), b_fmt=cfg.fmt("bias"))
    assert np.array_equal(got, python_int_exact(pix, w, b, cfg.fmt("pixel"), cfg.fmt("patch_weight"), cfg.fmt("bias"), cfg))


def test_exact_rule_rounds_once():
    """The two rules differ in the low bits (per-product floors lose up to one LSB each), and the exact
    rule is independent of the input order (any tile schedule gives the same bits)."""
    cfg, ce = rule_config("tiny", "per_product"), exact_config("tiny")
    rng = np.random.default_rng(12)
    x, w, b = rand_layer(cfg, 32, 128, 17, rng)
    kw = dict(w_fmt=cfg.fmt("weight"), b_fmt=cfg.fmt("bias"))
    y_pp, y_ex = compute_linear(x, w, b, cfg, **kw), compute_linear(x, w, b, ce, **kw)
    assert not np.array_equal(y_pp, y_ex)
    perm = rng.permutation(128)
    assert np.array_equal(compute_linear(x[:, perm], w[:, perm], b, ce, **kw), y_ex)
    # per_product's floors bias the sum downwards; the exact rule's error is unbiased
    ref = cfg.fmt("act").to_float(x) @ cfg.fmt("weight").to_float(w).T + cfg.fmt("bias").to_float(b)
    bias_pp = float((cfg.fmt("act").to_float(y_pp) - ref).mean())
    bias_ex = float((cfg.fmt("act").to_float(y_ex) - ref).mean())
    assert bias_pp < -40 * 2.0 ** -22 and abs(bias_ex) < 4 * 2.0 ** -22
