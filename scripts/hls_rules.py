#!/usr/bin/env python3
"""Static checks of the Vitis HLS rules this project keeps (UG1399), on the sources in hls/src, for
every top function of the kernel registry (cosim/registry.py). A check reads the C++ text (comments
removed, braces matched); it does not replace the vendor tool, it keeps the rules the open flow cannot
otherwise see:

1. every top's array argument is sized (``T name[SIZE]``; no pointer, no ``name[]``), so the tool
   and C/RTL cosimulation know its extent;
2. every top argument has an ``#pragma HLS interface ... port=<name>`` in the top's body; an m_axi
   argument names its ``bundle=`` and its ``depth=``; a top with an s_axilite argument also has
   ``s_axilite port=return`` (the control registers in the same AXI4-Lite slave); an interface's
   ``depth=`` is a number or one constexpr name, the forms UG1399 documents for pragma values, never an
   expression such as ``A*B`` (rule ``depth-name``);
3. no ``#pragma HLS dependence ... false`` except on the variables the specification's contract
   covers (ALLOWED_FALSE_DEPENDENCES: the linear engine's destination, whose rows are distinct within
   one call, python_ref/kernels/linear.py), and then with the contract named in the lines above;
4. no global written outside the tops: namespace-scope variables in hls/src are const (tables),
   and no function other than a top keeps ``static`` non-const state;
5. the MAC array of the linear engine has exactly one call site (ONE_CALL_SITE), so HLS builds one;
6. an ``#pragma HLS allocation function instances=F`` sits in a function whose own body calls F,
   directly or through a function it calls that is ``#pragma HLS inline`` (not ``inline off``): the
   pragma limits the instances in the body it is written in (UG1399, pragma HLS allocation), so one
   written above the call sites, in a caller of a non-inlined function, limits nothing.

``python scripts/hls_rules.py`` prints the findings (exit 1 if any); tests/test_hls_rules.py runs
it on the sources and on deliberately broken copies.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ALLOWED_FALSE_DEPENDENCES = {("linear.cpp", "dst")}
ONE_CALL_SITE = ("linear_mac_tile",)


@dataclass(frozen=True)
class Finding:
    file: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: [{self.rule}] {self.message}"


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _match_brace(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def find_function(text: str, name: str):
    """(parameter text, body text) of the definition of ``name`` in comment-free ``text``, or None."""
    for m in re.finditer(rf"\b{name}\s*\(", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        rest = text[i:]
        brace = re.match(r"\s*(const\s*)?\{", rest)
        if brace:
            open_at = i + brace.end() - 1
            return text[m.end():i - 1], text[open_at + 1:_match_brace(text, open_at)]
    return None


def split_params(params: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def param_name(p: str) -> tuple[str, str]:
    """(name, kind): kind is 'array', 'unsized', 'pointer', 'stream' or 'scalar'."""
    m = re.search(r"(\w+)\s*((?:\[[^\]]*\])+)\s*$", p)
    if m:
        dims = re.findall(r"\[([^\]]*)\]", m.group(2))
        return m.group(1), "unsized" if any(not d.strip() for d in dims) else "array"
    name = re.search(r"(\w+)\s*$", p).group(1)
    if "*" in p:
        return name, "pointer"
    if "stream" in p:
        return name, "stream"
    return name, "scalar"


def interface_pragmas(body: str) -> dict[str, list[str]]:
    """port name -> the interface pragma lines naming it."""
    out: dict[str, list[str]] = {}
    for line in re.findall(r"#pragma\s+HLS\s+interface\b[^\n]*", body, flags=re.I):
        m = re.search(r"\bport\s*=\s*(\w+)", line)
        if m:
            out.setdefault(m.group(1), []).append(line)
    return out


def check_top(file: str, text: str, top: str) -> list[Finding]:
    found = find_function(strip_comments(text), top)
    if found is None:
        return [Finding(file, "top", f"top function {top} is not defined here")]
    params, body = found
    prag = interface_pragmas(body)
    out = []
    has_axilite = False
    for p in split_params(params):
        name, kind = param_name(p)
        if kind in ("unsized", "pointer"):
            out.append(Finding(file, "sized", f"{top}: argument '{name}' is {kind} ({p!r}); give it its size"))
        lines = prag.get(name, [])
        if not lines:
            out.append(Finding(file, "interface", f"{top}: argument '{name}' has no '#pragma HLS interface ... port={name}'"))
        for line in lines:
            if re.search(r"\bm_axi\b", line) and not (re.search(r"\bdepth\s*=", line) and re.search(r"\bbundle\s*=", line)):
                out.append(Finding(file, "m_axi", f"{top}: m_axi argument '{name}' needs bundle= and depth= ({line.strip()})"))
            depth = re.search(r"\bdepth\s*=\s*(\S+)", line)
            if depth and not re.fullmatch(r"\d+|[A-Za-z_]\w*", depth.group(1)):
                out.append(Finding(file, "depth-name", f"{top}: argument '{name}' has depth={depth.group(1)}: give the "
                                   "depth as a number or a constexpr name (UG1399 \"Using Constants with Pragmas\")"))
            if re.search(r"\bs_axilite\b", line):
                has_axilite = True
    if has_axilite and not any(re.search(r"\bs_axilite\b", line) for line in prag.get("return", [])):
        out.append(Finding(file, "s_axilite", f"{top}: s_axilite arguments but no 's_axilite port=return'"))
    return out


def check_dependences(file: str, text: str) -> list[Finding]:
    out = []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if not re.search(r"#pragma\s+HLS\s+dependence\b", line, flags=re.I) or not re.search(r"\bfalse\b", line):
            continue
        var = re.search(r"\bvariable\s*=\s*(\w+)", line)
        var = var.group(1) if var else "?"
        if (Path(file).name, var) not in ALLOWED_FALSE_DEPENDENCES:
            out.append(Finding(file, "dependence", f"line {n + 1}: 'dependence ... false' on '{var}' (no spec contract forbids that hazard)"))
        elif not any("contract" in prev for prev in lines[max(0, n - 6):n]):
            out.append(Finding(file, "dependence", f"line {n + 1}: 'dependence ... false' on '{var}' without the contract named above it"))
    return out


def outer_text(text: str) -> str:
    """``text`` with every outermost ``{...}`` block replaced by `` {} ``: what is at its own level."""
    flat, i = "", 0
    while i < len(text):
        if text[i] == "{":
            i = _match_brace(text, i) + 1
            flat += " {} "
            continue
        flat += text[i]
        i += 1
    return flat


def _top_level_statements(text: str) -> list[str]:
    """Namespace-scope statements of comment-free text (function bodies, struct bodies and
    initialisers removed), preprocessor lines dropped."""
    flat = outer_text(re.sub(r"^\s*#[^\n]*", "", text, flags=re.M))
    return [s.strip() for s in re.split(r";|\{\}", flat) if s.strip()]


def function_bodies(clean: str):
    """(name, body with its braces) of every function definition in comment-free text."""
    for m in re.finditer(r"\b(\w+)\s*\([^;{}]*\)\s*(const\s*)?\{", clean):
        name = m.group(1)
        if name not in ("if", "for", "while", "switch"):
            yield name, clean[m.end() - 1:_match_brace(clean, m.end() - 1) + 1]


def check_globals(file: str, text: str, tops: set[str]) -> list[Finding]:
    clean = strip_comments(text)
    out = []
    for st in _top_level_statements(clean):
        st1 = " ".join(st.split())
        if re.match(r"(typedef|using|static_assert|template|struct|class|enum|namespace|extern \"C\")\b", st1):
            continue
        if re.search(r"\b(const|constexpr)\b", st1.split("=")[0]) or "(" in st1.split("=")[0]:
            continue  # constants, tables, function declarations and definitions
        out.append(Finding(file, "global", f"namespace-scope variable written outside any top: '{st1[:80]}'"))
    # static state inside functions that are not tops
    for name, body in function_bodies(clean):
        if name in tops:
            continue
        for st in re.findall(r"\bstatic\s+(?!const\b|constexpr\b)([^;]*);", body):
            if "stream" not in st:
                out.append(Finding(file, "global", f"{name}: static state '{' '.join(st.split())[:60]}' outside a top"))
    return out


def check_call_sites(sources: dict[str, str]) -> list[Finding]:
    out = []
    for fn in ONE_CALL_SITE:
        calls = defs = 0
        for text in sources.values():
            clean = strip_comments(text)
            for m in re.finditer(rf"\b{fn}\s*\(", clean):
                before = clean[max(0, m.start() - 80):m.start()]
                if re.search(r"(static\s+)?\w[\w:<>]*\s+$", before) and re.match(r"[^;]*\)\s*\{", clean[m.end():]):
                    defs += 1
                else:
                    calls += 1
        if calls != 1:
            out.append(Finding("hls/src", "one-array", f"{fn} has {calls} call sites (the array must be built once)"))
    return out


_ALLOCATION = re.compile(r"#pragma\s+HLS\s+allocation\b(?=[^\n]*\bfunction\b)[^\n]*\binstances\s*=\s*(\w+)", re.I)
_INLINE = re.compile(r"#pragma\s+HLS\s+inline\b(?![^\n]*\boff\b)", re.I)


def check_allocations(sources: dict[str, str]) -> list[Finding]:
    """Rule 6: every function-allocation pragma is in the body that holds the calls it limits."""
    bodies: dict[str, list[tuple[str, str]]] = {}  # function -> (file, body) of each definition
    for fname, text in sources.items():
        for name, body in function_bodies(strip_comments(text)):
            bodies.setdefault(name, []).append((fname, body))
    # inlined only if every definition of that name says so: a conservative reading of same-name statics
    inlined = {n for n, defs in bodies.items() if all(_INLINE.search(b) for _, b in defs)}

    def calls(body: str, fn: str, seen: set[str]) -> bool:
        if re.search(rf"\b{fn}\s*\(", body):
            return True
        for callee in inlined - seen:
            if re.search(rf"\b{callee}\s*\(", body):
                seen.add(callee)
                if any(calls(b, fn, seen) for _, b in bodies[callee]):
                    return True
        return False

    out = []
    for holder, defs in bodies.items():
        for fname, body in defs:
            for fn in _ALLOCATION.findall(body):
                if not calls(body, fn, {holder}):
                    out.append(Finding(fname, "allocation", f"{holder}: 'allocation function instances={fn}' but "
                                       f"{holder} does not call {fn} in its body (nor through an inlined function): "
                                       "the pragma limits only the instances in the body it is written in (UG1399)"))
    return out


def check(src_dir: Path, kernels: dict | None = None) -> list[Finding]:
    """Every rule on the sources in ``src_dir`` for the registry's kernels (name -> (sources, tops))."""
    if kernels is None:
        from cosim.registry import KERNELS
        kernels = {k.name: (k.hls_sources, k.hls_tops) for k in KERNELS.values()}
    src_dir = Path(src_dir)
    files = {p.name: p.read_text() for p in sorted(src_dir.glob("*.cpp")) + sorted(src_dir.glob("*.h"))}
    tops = {t for _, ts in kernels.values() for t in ts}
    out: list[Finding] = []
    for name, (sources, ktops) in kernels.items():
        text = "\n".join(files.get(s, "") for s in sources)
        for top in ktops:
            where = next((s for s in sources if find_function(strip_comments(files.get(s, "")), top)), sources[0])
            out += check_top(where, text, top)
    for fname, text in files.items():
        out += check_dependences(fname, text)
        out += check_globals(fname, text, tops)
    out += check_call_sites(files)
    out += check_allocations(files)
    return out


def main() -> int:
    from cosim.toolchain import HLS_DIR
    findings = check(HLS_DIR / "src")
    for f in findings:
        print(f)
    print(f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
