"""The activation buffers between calls (rtl/src/act_buffer.sv): the specification of what a buffer
holds and the order in which it is written and read.

A buffer holds ``rows`` rows of ``values`` values, kept as ``nb = ceil(values / lanes)`` beats of
``lanes`` act values; entry ``row * nb + beat``. It is written from and read into AXI-Stream beats of
``lanes`` act values (the linear engine's y_ / acc_ / x_ beats and LayerNorm's), in the order an
access names:

* **row-major**: for each listed row, its beats first .. first + n_beats - 1 (the engine's x_,
  LayerNorm's rows);
* **block-major**: for each of those beats, every listed row (the engine's y_ and acc_: ``(ob, k)``
  ascending, docs/linear.md).

The rows of an access are either ``base, base + 1, ...`` or an explicit list (a call's gather or
scatter list; a read may name a row twice, a write that does keeps the last beat written). The beats
``first .. first + n_beats - 1`` of each row may be a part of the row (the row stride stays ``nb``), so
that one memory holds several buffers side by side: the frame's hidden buffer holds fc1's output in a
dense MLP layer and LN2(x) (beats 0 ..) beside an expert's hidden rows (the beats after) in a MoE
layer (:meth:`BufferShape.hidden`).

Storage: ``narrow`` buffers keep each value in the MAC array's operand format (formats.operand,
RND / SAT_SYM) and return it as the act value of that operand, exactly: what only feeds the engine's
x_ loses nothing, since the engine converts x_ to the operand first and the conversion of an operand
value is the value itself (:func:`store`). Other buffers keep act values as they are.

A write of a narrow buffer may instead round to odd (``odd``, bit 60): the operand's bits of x
truncated (floor), the LSB set when a dropped bit was set, then SAT_SYM. A value stored so and later
rounded (half up, or truncated) to a format with at least two fraction bits fewer than the operand's,
and no more integer bits, gives exactly what rounding x itself to that format gives: the coarser
format's rounding boundaries lie on the operand's grid with LSB 0, and rounding to odd keeps every
value on the side of each such boundary it was on (:func:`store`; tests/test_act_buffer.py checks it
against attention's K / V conversion). So the frame's hidden buffer can hold qkv between the qkv
call and attention (rtl/src/attention_block.sv): Q (whose format has the operand's fraction bits)
rounded half up, K and V rounded to odd.

Order of effects: accesses take effect one after another in command order. The RTL enforces it for a
read after a write (a read starts once every write commanded before it has landed); a write commanded
after a read must not overtake it, which the data flow guarantees (the engine's y_ follows from its
x_ / acc_: the residual's accumulate reads an entry before its result is written back), and which the
RTL checks in simulation.

Command words (64 bits, ``cmd_`` of the RTL; :func:`command_words`); every bit not named is 0:

=========  ======================================================================
bits       field
=========  ======================================================================
63         1 read, 0 write
62         1 block-major, 0 row-major
61         1 the rows follow as ``n`` list words (``base`` must be 0), 0 rows ``base + k``
60         1 round to odd (writes of a narrow buffer only), 0 the operand's RND
53:48      first beat
45:40      n_beats - 1 (first + n_beats <= nb)
26:16      base
10:0       n (rows, 1 .. buffer rows; ``base + n <= rows`` without a list)
=========  ======================================================================

A list word is the row number in bits 15:0, every other bit zero, row < buffer rows. A word that
breaks these rules raises :class:`ActBufferError` here and sets the RTL's sticky ``err``; the RTL then
takes no more words (at most one more after a bad list word, which it checks a cycle later).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from python_ref.config import Config

N_BITS, BASE_BITS, NB_BITS = 11, 11, 6
MAX_ROWS = (1 << N_BITS) - 1        # n and base + n <= rows fit their 11-bit fields
MAX_NB = 1 << NB_BITS
# the bits a command word may have set (the fields above); a list word's: 15:0
CMD_FIELDS = (0b1111 << 60) | ((MAX_NB - 1) << 48) | ((MAX_NB - 1) << 40) | (MAX_ROWS << 16) | MAX_ROWS
WORD_BITS = 64


class ActBufferError(ValueError):
    """An access or command word outside the buffer's rules."""


@dataclass(frozen=True)
class BufferShape:
    """One buffer: ``rows`` rows of ``values`` values in beats of ``lanes``; ``narrow``: operand storage."""
    lanes: int
    values: int
    rows: int
    narrow: bool = False

    def __post_init__(self):
        if self.lanes < 1 or self.values < 1:
            raise ActBufferError(f"lanes ({self.lanes}) and values ({self.values}) must be >= 1")
        if not 1 <= self.rows <= MAX_ROWS:
            raise ActBufferError(f"rows ({self.rows}) must be in 1..{MAX_ROWS} (the command's base field)")
        if self.nb > MAX_NB:
            raise ActBufferError(f"{self.nb} beats a row (values {self.values} / lanes {self.lanes}) exceed {MAX_NB}")

    @property
    def nb(self) -> int:
        return -(-self.values // self.lanes)

    @property
    def depth(self) -> int:
        return self.rows * self.nb

    @classmethod
    def residual(cls, cfg: Config) -> "BufferShape":
        """The residual x of the frame: T rows of D act values in beats of the engine's LO lanes."""
        return cls(cfg.hardware.linear_out, cfg.model.dim, cfg.model.tokens)

    @classmethod
    def hidden(cls, cfg: Config) -> "BufferShape":
        """What the engine reads on x_ only, operands in its LI lanes, T rows: fc1's output (the dense
        MLP's hidden rows) and, in a MoE layer, LN2(x) (beats 0 .. ceil(D / LI) - 1, each expert's
        fc1 gathers its rows) beside an expert's hidden rows (the beats after): the wider of the two."""
        m = cfg.model
        values = m.mlp_hidden
        if any(m.is_moe_layer(L) for L in range(m.layers)):
            li = cfg.hardware.linear_in
            values = max(values, -(-m.dim // li) * li + m.expert_hidden)
        return cls(cfg.hardware.linear_in, values, m.tokens, narrow=True)

    @classmethod
    def logits(cls, cfg: Config) -> "BufferShape":
        """A MoE layer's gate logits: T rows of E act values, one beat of E lanes (moe_router's input)."""
        return cls(cfg.model.experts, cfg.model.experts, cfg.model.tokens)

    @classmethod
    def frame(cls, cfg: Config) -> dict[str, "BufferShape"]:
        """The frame's buffers as rtl/src/act_buffers.sv builds them, by port prefix."""
        return {"x_": cls.residual(cfg), "h_": cls.hidden(cfg), "g_": cls.logits(cfg)}


@dataclass(frozen=True)
class Access:
    """One read or write of a buffer: ``rows`` in the access's order; ``listed`` sends them as list
    words (else they must be base, base + 1, ...); beats ``first`` .. ``first + n_beats - 1`` of each
    row, ``n_beats`` None = the rest of the row; ``odd``: a narrow buffer's write rounds to odd."""
    read: bool
    rows: tuple[int, ...]
    block_major: bool = False
    listed: bool = False
    n_beats: int | None = None
    first: int = 0
    odd: bool = False

    def beats(self, shape: BufferShape) -> int:
        return self.n_beats if self.n_beats is not None else shape.nb - self.first

    def order(self, shape: BufferShape) -> list[tuple[int, int]]:
        """(row, beat) of every beat of the access, in stream order."""
        cols = range(self.first, self.first + self.beats(shape))
        if self.block_major:
            return [(r, b) for b in cols for r in self.rows]
        return [(r, b) for r in self.rows for b in cols]

    def check(self, shape: BufferShape) -> None:
        n, nbt = len(self.rows), self.beats(shape)
        if not 1 <= n <= shape.rows:
            raise ActBufferError(f"an access of {n} rows: must be 1..{shape.rows} (the buffer's rows)")
        if self.first < 0 or nbt < 1 or self.first + nbt > shape.nb:
            raise ActBufferError(f"beats {self.first}..{self.first + nbt - 1}: must lie in 0..{shape.nb - 1} "
                                 "(the buffer's beats a row)")
        bad = [r for r in self.rows if not 0 <= r < shape.rows]
        if bad:
            raise ActBufferError(f"row {bad[0]} outside the buffer's {shape.rows} rows")
        if not self.listed and list(self.rows) != list(range(self.rows[0], self.rows[0] + n)):
            raise ActBufferError("rows that are not base, base + 1, ... need listed=True")
        if self.odd and (self.read or not shape.narrow):
            raise ActBufferError("round to odd is a write of a narrow buffer only")


def command_words(acc: Access, shape: BufferShape) -> list[int]:
    """The cmd_ words of an access: the command, then (listed) one word per row."""
    acc.check(shape)
    n, base = len(acc.rows), 0 if acc.listed else acc.rows[0]
    word = (int(acc.read) << 63 | int(acc.block_major) << 62 | int(acc.listed) << 61 | int(acc.odd) << 60
            | acc.first << 48 | (acc.beats(shape) - 1) << 40 | base << 16 | n)
    return [word] + (list(acc.rows) if acc.listed else [])


def decode_words(words: list[int], shape: BufferShape) -> list[Access]:
    """The accesses of a cmd_ word stream, raising ActBufferError where the RTL sets err (the word
    at which it stops)."""
    out, i = [], 0
    while i < len(words):
        w = words[i]
        if w >> WORD_BITS or w & ~CMD_FIELDS:
            raise ActBufferError(f"word {i}: {w:#x} sets bits outside the command's fields")
        read, blk, lst, odd = bool(w >> 63 & 1), bool(w >> 62 & 1), bool(w >> 61 & 1), bool(w >> 60 & 1)
        if odd and (read or not shape.narrow):
            raise ActBufferError(f"word {i}: round to odd on a {'read' if read else 'write of a wide buffer'}")
        first, nbt = w >> 48 & (MAX_NB - 1), (w >> 40 & (MAX_NB - 1)) + 1
        base, n = w >> 16 & MAX_ROWS, w & MAX_ROWS
        if not 1 <= n <= shape.rows:
            raise ActBufferError(f"word {i}: n = {n} rows, must be 1..{shape.rows}")
        if first + nbt > shape.nb:
            raise ActBufferError(f"word {i}: beats {first}..{first + nbt - 1}, the buffer has {shape.nb} a row")
        if lst and base:
            raise ActBufferError(f"word {i}: a listed access with base {base} (must be 0)")
        if not lst and base + n > shape.rows:
            raise ActBufferError(f"word {i}: rows {base}..{base + n - 1} past the buffer's {shape.rows}")
        if lst:
            rows = words[i + 1:i + 1 + n]
            if len(rows) < n:
                raise ActBufferError(f"word {i}: {n} list words announced, {len(rows)} follow")
            for j, r in enumerate(rows):
                if r >> 16 or r >= shape.rows:
                    raise ActBufferError(f"word {i + 1 + j}: list word {r:#x} is not a row below {shape.rows}")
            i += n
        else:
            rows = list(range(base, base + n))
        out.append(Access(read, tuple(rows), blk, lst, nbt, first, odd))
        i += 1
    return out


def store(beat_raw: np.ndarray, shape: BufferShape, cfg: Config, odd: bool = False) -> np.ndarray:
    """What a written beat reads back as: raw act integers (lanes,). narrow: act(operand(x)), the
    operand (formats.operand: RND, SAT_SYM) as the act value it is exactly; ``odd``: the operand's
    bits rounded to odd (floor, the LSB or-ed with every dropped bit), then SAT_SYM."""
    x = np.asarray(beat_raw, dtype=np.int64)
    if not shape.narrow:
        if odd:
            raise ActBufferError("round to odd is a write of a narrow buffer only")
        return x.copy()
    act, op = cfg.fmt("act"), cfg.fmt("operand")
    if op.frac > act.frac or op.int_bits > act.int_bits:
        raise ActBufferError(f"formats.operand {op.c_type} is not inside formats.act {act.c_type}: "
                             "narrow storage would not be exact")
    sh = act.frac - op.frac
    if not odd:
        return np.asarray(op.quantize(x, act.frac), dtype=np.int64) << sh
    qmax = (1 << (op.width - 1)) - 1
    t = (x >> sh) | ((x & ((1 << sh) - 1)) != 0)
    return np.clip(t, -qmax, qmax) << sh


def odd_store_is_exact(op, target) -> str | None:
    """Why a value stored rounded to odd in operand format ``op`` and then converted to ``target`` may
    differ from ``target``'s conversion of the value itself (None: it never does): ``target`` must
    round half up or truncate, saturate (any mode) and have at least two fraction bits fewer and no
    more integer bits than ``op``."""
    if target.quant not in ("RND", "TRN"):
        return f"{target.c_type} rounds {target.quant} (RND or TRN needed)"
    if target.frac > op.frac - 2:
        return f"{target.c_type} has {target.frac} fraction bits, the operand {op.frac} (two fewer needed)"
    if target.int_bits > op.int_bits or target.overflow not in ("SAT", "SAT_SYM"):
        return f"{target.c_type} does not saturate (SAT or SAT_SYM) inside the operand {op.c_type}"
    return None


class ActBuffer:
    """The buffer's contents: ``mem[row * nb + beat]`` = a beat of raw act values (zero at start)."""

    def __init__(self, shape: BufferShape, cfg: Config):
        self.shape, self.cfg = shape, cfg
        self.mem = np.zeros((shape.depth, shape.lanes), dtype=np.int64)

    def write(self, acc: Access, beats: np.ndarray) -> None:
        order = acc.order(self.shape)
        beats = np.asarray(beats, dtype=np.int64).reshape(len(order), self.shape.lanes)
        for (r, b), beat in zip(order, beats):
            self.mem[r * self.shape.nb + b] = store(beat, self.shape, self.cfg, acc.odd)

    def read(self, acc: Access) -> np.ndarray:
        """(beats, lanes) in stream order."""
        return np.stack([self.mem[r * self.shape.nb + b] for r, b in acc.order(self.shape)])


__all__ = ["Access", "ActBuffer", "ActBufferError", "BufferShape", "CMD_FIELDS", "MAX_NB", "MAX_ROWS", "WORD_BITS", "command_words",
           "decode_words", "odd_store_is_exact", "store"]
