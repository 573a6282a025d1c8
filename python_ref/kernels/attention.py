"""Multi-head self-attention on the unified MAC array: the numerical specification that the later
hls/ and rtl/ attention must equal bit for bit.

Input: the raw activation-format integers of one layer's qkv output, shape (T, 3D) (Q | K | V; head
i uses columns i*d .. (i+1)*d - 1 of each block, d = head_dim = D / heads). Output: attn_out, raw
activation-format integers (T, D), the heads concatenated in order. The projection is not part of
this kernel (it is an ordinary linear layer).

Architecture (decided, docs/attention.md and ../shared/design/performance.md section 4.3): QK^T and
AV run on the unified LI x LO array of DSP48E2 (27 x 18 bits): the activation operand (q, or the
exp values e) on the 27-bit A port, the stationary operand (K, or V) on the 18-bit B port, whole
(one array pass per product: the shipped configs) or, when the config gives K and V more than 18
bits, split into a signed hi part and an unsigned lo part (two passes). Every dot product is EXACT
and each result is rounded once. The softmax is TWO-PASS with DEFERRED normalisation: the row
maximum is taken as the scores leave the array, then one exp per score, an exact sum, one
reciprocal per row, and the multiply by 1/sum happens once per OUTPUT (after AV), not once per score.

Formats (shipped configs; ``F_x`` = fraction bits; all come from the config and the softmax units):

==========  ==============================================  ====  ==================================
quantity    format                                          F     how it is produced
==========  ==============================================  ====  ==================================
qkv         act   ap_fixed<32,10,AP_TRN,AP_WRAP>            22    input (raw integers)
q           attention_q  ap_fixed<26,8,AP_RND,AP_SAT_SYM>   18    assignment act -> q (RND, SAT_SYM)
k, v        attention_kv ap_fixed<18,7,AP_RND,AP_SAT_SYM>   11    assignment act -> kv (RND, SAT_SYM)
S = q.k     exact integer                                   29    sum of d exact products (no rounding)
s           score ap_fixed<32,10,AP_RND,AP_SAT>             22    assignment of S * 2^-g (one rounding)
m           score format                                    22    exact row maximum of s
s - m       exact ap_fixed<33,11>, <= 0                     22    exact difference
e           EXP_FORMAT ap_ufixed<25,1>                      24    exp unit (python_ref.kernels.exp)
sigma       SUM_FORMAT ap_ufixed<32,8>                      24    exact sum of the row's e
r           RECIP_FORMAT ap_ufixed<32,1>                    31    reciprocal unit, round(2^55 / sigma)
U = e.v     exact integer                                   35    sum of T exact products (no rounding)
r * U       exact integer                                   66    one exact product per output
o           act   ap_fixed<32,10,AP_TRN,AP_WRAP>            22    assignment of r * U (act's Q and O modes)
==========  ==============================================  ====  ==================================

Definition, per head h (d = head_dim = 4^g, so d^-1/2 = 2^-g is an exact shift; other head dims
are rejected naming model.dim and model.heads):

1. ``q = qf(Q_h)``, ``k, v = kvf(K_h), kvf(V_h)``: assignments from the activation format (22
   fraction bits) to q's format (:func:`q_format`: ``numerics.attention_q``, else formats.operand)
   and K / V's (:func:`kv_format`: ``numerics.attention_kv``, else formats.operand). Shipped: round
   half up (AP_RND) at 2^-18 and 2^-11, then symmetric saturation (AP_SAT_SYM) to +-(2^25 - 1) and
   +-(2^17 - 1) raw, i.e. |q| <= 128 - 2^-18, |k|, |v| <= 64 - 2^-11.
2. ``S_ij = sum_c q_ic k_jc``, exact (F_q + F_kv = 29 fraction bits).
3. ``s_ij = score(S_ij * 2^-g)``: the exact value (29 + g fraction bits) assigned once to the score
   format: round half up at 2^-22, then saturation to [-512, 512 - 2^-22] (AP_SAT).
4. Per row i (two-pass, :func:`python_ref.kernels.softmax.softmax_two_pass_stats_raw` with the
   score format): ``m_i = max_j s_ij`` (exact), ``e_ij = exp(s_ij - m_i)`` by the exp unit
   (``exp_neg_raw``, frac_in = 22; e = 2^24 = 1.0 exactly at the maximum), ``sigma_i = sum_j
   e_ij`` (exact: same fraction bits, no overflow since 1 <= sigma <= T <= 255), ``r_i =
   round(2^55 / sigma_i)`` (reciprocal unit, exact rounding, ties up).
5. ``U_id = sum_j e_ij v_jd``, exact (24 + F_kv = 35 fraction bits).
6. ``o_id = act(r_i U_id)``: the exact product (31 + 35 = 66 fraction bits) assigned to the
   activation format with act's quantization and overflow modes (shipped: TRN = floor at 2^-22,
   WRAP, which never acts, see below).

The two forms of the array (:func:`single_pass`; the definition above does not depend on them, only
the formats do):

* **single pass** (K and V at most 18 bits: the shipped configs, format study (3) in
  docs/accuracy.md): the whole value on the B port, one array step per product and dim block. The
  DSP cascade bound L |q|max |kv|max < 2^47 limits q: with L = 32 and an 18-bit kv, q must be at most
  26 bits (:func:`check_config` names the fields); real q stay below 7.7, K / V below 55.9.
* **split** (K and V wider than 18 bits, e.g. formats.operand when the two fields are left out): each
  stationary value goes through the array twice, as a signed hi part and an unsigned lo part.

Effective probability, order freedom and range proofs follow; the proofs give the shipped single
pass first, then the split form (K, V in the 27-bit operand ap_fixed<27,9>, q too: Q = 2^26 - 1).

The effective probability is ``p_ij = e_ij r_i`` (55 fraction bits, never rounded: it exists only
inside the deferred product); :class:`AttentionResult` exposes it as float64 for error reports.

Order freedom: m is a maximum, sigma, S and U are exact integer sums, and every rounding acts on
an exact value. So the result does not depend on the order keys (or dims) arrive in, on the array
size LI x LO, or on the schedule: there is no order parameter. (Edge-MoE's online softmax rounds
inside its recurrence and depends on the arrival order; see python_ref.kernels.softmax.)

Range proofs, single pass (shipped formats; Q = 2^25 - 1 and K = 2^17 - 1 are the largest q and K / V
magnitudes after SAT_SYM):

* Ports: q (26-bit signed) or e in [0, 2^24] on the 27-bit A port, k or v (18-bit signed) whole on
  the 18-bit B port.
* DSP cascade, LI <= 32 products per P register (48-bit signed): QK^T |sum| <= 32 Q K = 2^47 - 2^30
  - 2^22 + 32 < 2^47 (strict; a 27-bit q would reach about 2^48, which is why q has 26 bits), AV
  |sum| <= 32 2^24 K < 2^46. :func:`cascade_bounds` gives both for any formats, and check_config rejects a config
  where one reaches 2^47.
* Wider than 48 bits (the in-block accumulation in fabric adders): |S| <= d Q K < 2^(42 + log2 d)
  (d = 64: 49-bit signed), |U| <= sigma K <= 255 2^24 K < 2^49; the output product |r U| <= (2^55 +
  2^31) K < 2^73. S and U fit int64; the spec keeps the exact-product helper for r U in every form.
* Scores, softmax and output as below (the same bounds hold with the narrower operands: |o| <= 64).

Range proofs, split form (K and V in the 27-bit operand, q too; Q = 2^26 - 1):

* Operands. |q|, |k|, |v| <= Q raw. The hardware splits each stationary value x (k or v) as
  ``x = hi * 2^10 + lo`` with ``hi = x >> 10`` (arithmetic shift, so hi in [-2^16, 2^16 - 1]: 17-bit
  signed) and ``lo = x & 1023`` (10-bit unsigned, in [0, 1023]); both fit the 18-bit signed B port.
  The A port (27-bit signed) takes q (27-bit signed) or e in [0, 2^24] (25-bit unsigned = 26-bit
  signed).
* DSP cascade, LI <= 32 products per P register (48-bit signed, range [-2^47, 2^47 - 1]):
  QK^T hi: |q hi| <= Q 2^16 < 2^42, so |sum| <= 32 Q 2^16 = 2^47 - 2^21 < 2^47 (strict);
  QK^T lo: 0 <= lo <= 1023, |sum| <= 32 Q 1023 < 2^41;
  AV hi:   0 <= e <= 2^24, |sum| <= 32 2^24 2^16 = 2^45;   AV lo: |sum| <= 32 2^24 1023 < 2^39.
  So one tile's partial sums never wrap the P register.
* Wider than 48 bits (fabric adders, not the DSP cascade): the accumulation over in-blocks and the
  combination hi * 2^10 + lo. A whole hi-sum over d = 64 dims reaches 64 Q 2^16 ~ 2^48 (does NOT
  fit a signed 48-bit P), and over T keys sum_j e_ij hi_jd reaches sigma 2^16 <= 255 2^40 ~ 2^48;
  neither can be accumulated modulo 2^48 because S is saturated (step 3) and U is multiplied
  (step 6). The combined values need:
  |S| <= d Q^2 < 2^(52 + log2 d): d = 64: < 2^58, i.e. 59-bit signed (d = 16: 57 bits);
  |U| <= sigma Q <= 255 2^24 Q < 2^58, i.e. 59-bit signed (in general < 2^(24 + 26 + log2 T)).
  Both fit int64 here (and for every d <= 1024 and T <= 255), so the spec computes them in int64.
* Scores. 2^-g S is saturated to the score format (full-range operands do saturate: |q.k| / 8 can
  reach 2^19). s - m in [-(2^32 - 1), 0] raw (33 bits), the exp unit's input (any x <= -32 gives 0).
* Softmax. 2^24 <= sigma <= T 2^24 < 2^32 (the maximum contributes exactly 1.0); r in
  [2^31 / T, 2^31] (never saturates: sigma >= 1 gives 1/sigma <= 1).
* Deferred product. r <= 2^31 (32 bits unsigned) times |U| < 2^58 (59 bits signed) is a ~90-bit
  product in general; with the rounding bound |r sigma - 2^55| <= sigma / 2 <= 2^31 it is at most
  (2^55 + 2^31) Q < 2^81 (82-bit signed). It does not fit int64: the spec forms it exactly from a
  split of U (:func:`assign_exact_product`, tested against Python integers), the hardware needs a
  32 x 59 multiplier (e.g. 6 DSP48E2 as 3 x 2 tiles) per deferred-normalisation lane.
* Output. |o| <= (1 + 2^-24) Q 2^-18 < 257 < 512: act cannot overflow, so its WRAP never acts
  (and any overflow mode gives the same bits).

Performance: QK^T and AV are integer matrix products computed EXACTLY with float64 BLAS
(:func:`exact_matmul`: operands split into pieces so that every partial result stays below 2^53,
recombined in int64). One edge_moe layer (3 heads, T = 129, d = 64) takes a few milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config, ConfigError
from ..exact import assign_exact_product, exact_matmul
from ..fixed import FixedFormat
from ..hwconfig import KernelHwConfig, constant_list
from .exp import MAX_FRAC_IN as EXP_MAX_FRAC_IN
from .softmax import EXP_FORMAT, MAX_ROW, RECIP_FORMAT, SUM_FORMAT, softmax_two_pass_stats_raw

MAX_TOKENS = MAX_ROW  # 255: a softmax row (one key per token) must fit SUM_FORMAT's integer bits
SPLIT_LO_BITS = 10  # the hardware's stationary split x = hi * 2^10 + lo (hi 17-bit signed, lo 10-bit unsigned)
B_PORT_BITS = 18    # the DSP48E2's B port (signed): a K / V format at most this wide goes through in one pass
P_BITS = 48         # the DSP48E2's P register (signed): one cascade of L products must stay inside it


class AttentionError(ValueError):
    """Bad input or configuration for the attention kernel (the message names the problem)."""



# ---------------------------------------------------------------------------------------------
# The kernel

def head_shift(cfg: Config) -> int:
    """g with head_dim = 4^g (so d^-1/2 = 2^-g, an exact shift); other head dims are rejected."""
    m = cfg.model
    d = m.head_dim
    g = (d.bit_length() - 1) // 2
    if d < 1 or (1 << (2 * g)) != d:
        raise AttentionError(
            f"attention: head_dim = model.dim / model.heads = {m.dim} / {m.heads} = {d} is not a power of 4; "
            f"the scale head_dim**-0.5 must be an exact shift (head dims 1, 4, 16, 64, 256, ...)")
    return g


@dataclass(frozen=True)
class AttentionResult:
    """Every intermediate of :func:`attention`, raw integers, per head (leading axis h):
    q (h, T, d) :func:`q_format`, k, v (h, T, d) :func:`kv_format` (both the operand format unless the
    config sets numerics.attention_q / attention_kv); S (h, T, T) exact q.k (F_q + F_kv fraction bits); s (h, T, T) score
    format; m (h, T) score format; e (h, T, T) EXP_FORMAT; sigma (h, T) SUM_FORMAT; r (h, T)
    RECIP_FORMAT; U (h, T, d) exact e.v (F_exp + F_kv fraction bits); out (T, D) act."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    S: np.ndarray
    s: np.ndarray
    m: np.ndarray
    e: np.ndarray
    sigma: np.ndarray
    r: np.ndarray
    U: np.ndarray
    out: np.ndarray

    @property
    def p(self) -> np.ndarray:
        """Effective probabilities e * r as float64 (h, T, T): what multiplies v, never rounded.
        (e < 2^25 and r < 2^32, so e * r < 2^57 is exact in int64; one float rounding at 2^-53.)"""
        prod = self.e * self.r[..., None]
        return np.ldexp(prod.astype(np.float64), -(EXP_FORMAT.frac + RECIP_FORMAT.frac))


def kv_format(cfg: Config) -> FixedFormat:
    """The format of K and V on the array's B port: ``numerics.attention_kv``, else formats.operand."""
    kv = cfg.numerics.attention_kv
    return cfg.fmt("operand") if kv is None else kv


def q_format(cfg: Config) -> FixedFormat:
    """The format of q on the array's A port: ``numerics.attention_q``, else formats.operand."""
    q = cfg.numerics.attention_q
    return cfg.fmt("operand") if q is None else q


def single_pass(cfg: Config) -> bool:
    """K and V fit the B port whole: one array pass per product (else the hi / lo split, two)."""
    return kv_format(cfg).width <= B_PORT_BITS


def cascade_bounds(cfg: Config) -> dict[str, int]:
    """The largest |sum| of one DSP cascade (L = linear_in products, one P register) for QK^T and AV,
    over every operand the formats admit (SAT_SYM: |x| <= 2^(w-1) - 1; other modes 2^(w-1)); e <= 2^F_exp.
    Single pass: q times the whole k, e times the whole v; split: times hi (17-bit signed) or lo."""
    L = cfg.hardware.linear_in
    q, kv = q_format(cfg), kv_format(cfg)

    def mag(f: FixedFormat) -> int:
        return (1 << (f.width - 1)) - (f.overflow == "SAT_SYM")
    e_max = 1 << EXP_FORMAT.frac
    b_max = mag(kv) if single_pass(cfg) else max(-(-mag(kv) >> SPLIT_LO_BITS), (1 << SPLIT_LO_BITS) - 1)
    return {"QK^T": L * mag(q) * b_max, "AV": L * e_max * b_max}


def _check_formats(cfg: Config) -> None:
    score = cfg.fmt("score")
    if not score.signed or not 0 <= score.frac <= EXP_MAX_FRAC_IN:
        raise AttentionError(f"formats.score: the exp unit reads s - m with at most {EXP_MAX_FRAC_IN} fraction "
                             f"bits from a signed score; got {score.c_type}")
    # s - m goes to the exp unit in its input format, formats.act with one more integer bit
    # (hls/src/attention.cpp, "s - m is exact in the exp unit's input format")
    act = cfg.fmt("act")
    if score.frac != act.frac or score.int_bits > act.int_bits or score.width > act.width:
        raise AttentionError(f"formats.score: s - m must be exact in the exp unit's input format (formats.act with one "
                             f"more integer bit): score needs act's {act.frac} fraction bits and at most its "
                             f"{act.int_bits} integer bits; got {score.c_type} with {act.c_type}")


def check_qkv(qkv_raw, cfg: Config) -> np.ndarray:
    """Validate one layer's qkv (raw act integers, shape (T, 3 * dim), 1 <= T <= 255); int64 copy."""
    act = cfg.fmt("act")
    D = cfg.model.dim
    x = np.asarray(qkv_raw)
    if x.ndim != 2:
        raise AttentionError(f"attention: qkv must be a 2-D array (tokens, 3 * model.dim = {3 * D}), "
                             f"got shape {x.shape}")
    if x.shape[1] != 3 * D:
        raise AttentionError(f"attention: qkv has {x.shape[1]} columns, expected 3 * model.dim = {3 * D} (Q | K | V)")
    T = x.shape[0]
    if not 1 <= T <= MAX_TOKENS:
        raise AttentionError(f"attention: T = {T} tokens; a softmax row holds 1 .. {MAX_TOKENS} scores "
                             f"(the sum format {SUM_FORMAT.c_type} limits it to {MAX_TOKENS})")
    if x.dtype.kind not in "iu" and not (x.dtype == object and all(isinstance(v, (int, np.integer)) for v in x.flat)):
        raise AttentionError(f"attention: qkv must hold raw integers of {act.c_type}, got dtype {x.dtype}")
    lo, hi = int(x.min()), int(x.max())
    if lo < act.raw_min or hi > act.raw_max:
        raise AttentionError(f"attention: qkv raw values outside {act.c_type} range [{act.raw_min}, {act.raw_max}] "
                             f"(got [{lo}, {hi}])")
    return x.astype(np.int64)


def attention(qkv_raw, cfg: Config) -> AttentionResult:
    """The attention of one layer (see the module docstring): every intermediate, raw."""
    g = head_shift(cfg)
    _check_formats(cfg)
    x = check_qkv(qkv_raw, cfg)
    act, qf, score, kv = cfg.fmt("act"), q_format(cfg), cfg.fmt("score"), kv_format(cfg)
    T = x.shape[0]
    D, H, d = cfg.model.dim, cfg.model.heads, cfg.model.head_dim

    # 1. operands: (3, H, T, d) -> q, k, v each (H, T, d)
    blocks = x.reshape(T, 3, H, d).transpose(1, 2, 0, 3)
    q = np.ascontiguousarray(qf.quantize(blocks[0], act.frac))
    k, v = (np.ascontiguousarray(kv.quantize(t, act.frac)) for t in blocks[1:])
    # 2. exact scores, 3. one rounding to the score format
    S = exact_matmul(q, k.transpose(0, 2, 1))
    s = score.quantize(S, qf.frac + kv.frac + g)
    # 4. two-pass statistics, every row of every head at once
    m, sigma, r, e = softmax_two_pass_stats_raw(s.reshape(H * T, T), cfg, score)
    m, sigma, r, e = m.reshape(H, T), sigma.reshape(H, T), r.reshape(H, T), e.reshape(H, T, T)
    # 5. exact e.v, 6. deferred normalisation: one exact product and one assignment per output
    U = exact_matmul(e, v)
    o = assign_exact_product(r[:, :, None], U, RECIP_FORMAT.frac + EXP_FORMAT.frac + kv.frac, act)
    out = np.ascontiguousarray(np.asarray(o).astype(np.int64).transpose(1, 0, 2).reshape(T, D))
    return AttentionResult(q=q, k=k, v=v, S=S, s=s, m=m, e=e, sigma=sigma, r=r, U=U, out=out)


def s_acc_format(cfg: Config) -> FixedFormat:
    """The exact QK^T sum S (F_q + F_kv fraction bits) as the HLS holds it (hls/src/attention.h:
    attention_config::s_acc_t): d products, each at most 2^(q.width - 1) 2^(kv.width - 1) in magnitude,
    so |S| < 2^(q.width + kv.width - 2 + bit_length(d)) plus a sign bit."""
    q, kv = q_format(cfg), kv_format(cfg)
    width = q.width + kv.width - 2 + cfg.model.head_dim.bit_length() + 1
    return FixedFormat(width, width - q.frac - kv.frac)


def u_acc_format(cfg: Config) -> FixedFormat:
    """The exact AV sum U (F_exp + F_kv fraction bits; attention_config::u_acc_t): T <= tokens
    products e v with 0 <= e < 2^EXP.width and |v| <= 2^(kv.width - 1)."""
    kv = kv_format(cfg)
    width = EXP_FORMAT.width + kv.width - 1 + cfg.model.tokens.bit_length() + 1
    return FixedFormat(width, width - EXP_FORMAT.frac - kv.frac)


def check_config(cfg: Config) -> None:
    """What the attention unit can be built for (raises ConfigError naming the field)."""
    try:
        head_shift(cfg)
        _check_formats(cfg)
    except AttentionError as exc:
        raise ConfigError(str(exc).replace("attention: ", "")) from None
    hw, d = cfg.hardware, cfg.model.head_dim
    li, lo = hw.linear_in, hw.linear_out
    a_pw = hw.axi_width // cfg.fmt("act").width
    if d % li or d % lo or d % a_pw or (li % lo and lo % li):
        raise ConfigError(f"hardware.linear_tile = {{in: {li}, out: {lo}}}: the attention array needs head_dim = {d} "
                          f"to be a multiple of both (and of the {a_pw} activations per AXI word), and one of "
                          f"them to divide the other")
    for name, f in (("QK^T", s_acc_format(cfg)), ("AV", u_acc_format(cfg))):
        if f.width > 64:
            raise ConfigError(f"formats.operand / numerics.attention_q / attention_kv: the exact {name} sum needs "
                              f"{f.width} bits (at most 64)")
    q, kv, op = q_format(cfg), kv_format(cfg), cfg.fmt("operand")
    if not single_pass(cfg) and kv.width - SPLIT_LO_BITS > B_PORT_BITS - 1:
        raise ConfigError(f"numerics.attention_kv = {kv.c_type}: K and V wider than the {B_PORT_BITS}-bit B port are "
                          f"split as hi 2^{SPLIT_LO_BITS} + lo, so they can have at most {B_PORT_BITS - 1 + SPLIT_LO_BITS} "
                          f"bits")
    for field, f in (("attention_q", cfg.numerics.attention_q), ("attention_kv", cfg.numerics.attention_kv)):
        if f is not None and (f.quant, f.overflow) != ("RND", "SAT_SYM"):
            raise ConfigError(f"numerics.{field} = {f.c_type}: the RTL converts to it with AP_RND and AP_SAT_SYM "
                              f"only (rtl/src/attn_qkv_store.sv)")
    for name, bound in cascade_bounds(cfg).items():
        if bound >= 1 << (P_BITS - 1):
            raise ConfigError(f"numerics.attention_q = {q.c_type}, numerics.attention_kv = {kv.c_type} (formats.operand "
                              f"{op.c_type} where unset), hardware.linear_tile.in = {li}: one DSP cascade of {name} "
                              f"products can reach {bound} >= 2^{P_BITS - 1}, beyond the signed {P_BITS}-bit P "
                              f"register; narrow q or K / V")


def _format_constants(name: str, f: FixedFormat) -> dict:
    """The RTL's view of an operand format (the C++ has the typedef): width, integer bits, mode codes
    (FixedFormat.codes, as every format of the generated headers)."""
    docs = {"W": "bits", "I": "integer bits", "QUANT": f"quantization code ({f.quant})",
            "OVERFLOW": f"overflow code ({f.overflow})"}
    codes = f.codes()
    return {f"{name}_{field.lower()}": (codes[field], f"{name} {doc}") for field, doc in docs.items()}


def hw_config(cfg: Config) -> KernelHwConfig:
    g = head_shift(cfg)
    return KernelHwConfig(
        "attention", "ATTENTION", "multi-head attention on the MAC array (python_ref/kernels/attention.py)",
        constant_list(
            head_shift=(g, "g: head_dim = 4^g, d^-1/2 = 2^-g (an exact shift)"),
            max_tokens=(cfg.model.tokens, "tokens per layer: the on-chip buffers' row count"),
            kv_split=(int(not single_pass(cfg)), "1: K and V split hi / lo (two array passes); 0: one pass"),
            **_format_constants("q", q_format(cfg)), **_format_constants("kv", kv_format(cfg)),
        ),
        types=(("q_t", q_format(cfg), "q on the array's A port (numerics.attention_q, else formats.operand)"),
               ("kv_t", kv_format(cfg), "K and V on the B port (numerics.attention_kv, else formats.operand)"),
               ("s_acc_t", s_acc_format(cfg), "exact q.k (F_q + F_kv fraction bits)"),
               ("s_scaled_t", FixedFormat(s_acc_format(cfg).width, s_acc_format(cfg).int_bits - g),
                "the same raw bits read as S * 2^-g (F_q + F_kv + g fraction bits)"),
               ("u_acc_t", u_acc_format(cfg), "exact e.v (F_exp + F_kv fraction bits)")),
    )


def attention_raw(qkv_raw, cfg: Config) -> np.ndarray:
    """attn_out (T, D) raw act integers of one layer's qkv (T, 3D) raw act integers."""
    return attention(qkv_raw, cfg).out


def attention_float(qkv: np.ndarray, cfg: Config) -> np.ndarray:
    """Convenience: quantize float qkv to the activation format, return float attn_out."""
    act = cfg.fmt("act")
    return act.to_float(attention_raw(act.from_float(np.asarray(qkv, dtype=np.float64)), cfg))


def phase_order(heads: int) -> list[tuple[str, int]]:
    """The array phases of one layer (rtl/src/attn_phase.sv): QK0 QK1 AV0 QK2 AV1 ... AV(H-1)."""
    out = [("QK", 0)]
    for h in range(1, heads):
        out += [("QK", h), ("AV", h - 1)]
    out.append(("AV", heads - 1))
    return out


def input_segments(heads: int) -> list[tuple[str, int]]:
    """The RTL unit's x_ stream, segment by segment (rtl/src/attn_qkv_store.sv, attn_pkg::seg_sel /
    seg_head): per phase of :func:`phase_order`, a QK phase's Q then K of its head, an AV phase's V:
    Q0 K0 Q1 K1 V0 .... Each segment is a head's d columns of Q, K or V, token after token."""
    return [(m, h) for ph, h in phase_order(heads) for m in (("Q", "K") if ph == "QK" else ("V",))]


__all__ = ["AttentionError", "AttentionResult", "MAX_TOKENS", "SPLIT_LO_BITS", "attention", "attention_float",
           "input_segments", "phase_order",
           "attention_raw", "check_qkv", "head_shift", "kv_format"]
