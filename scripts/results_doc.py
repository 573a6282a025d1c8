"""Replace a marked section of docs/RESULTS.md:
<!-- BEGIN name --> ... <!-- END name --> (the markers stay, the text between them is replaced)."""
import re
from pathlib import Path


def update_section(doc: Path, name: str, body: str) -> None:
    doc = Path(doc)
    text = doc.read_text() if doc.exists() else ""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        raise SystemExit(f"error: {doc} has no section markers for {name!r} ({begin} ... {end})")
    doc.write_text(text)


def section_of(text: str, name: str) -> str | None:
    """The text between <!-- BEGIN name --> and <!-- END name --> in a document's text (None without
    the markers): the part update_section replaces."""
    m = re.search(re.escape(f"<!-- BEGIN {name} -->") + r"(.*?)" + re.escape(f"<!-- END {name} -->"), text, re.S)
    return m.group(1) if m else None


def read_section(doc: Path, name: str) -> str | None:
    """section_of a document file (None when the document or the markers are missing)."""
    doc = Path(doc)
    return section_of(doc.read_text() if doc.exists() else "", name)


def row_key(line: str) -> str:
    """The first cell of a markdown table row (``| key | ... |`` -> ``key``)."""
    return line.strip().strip("|").split("|")[0].strip()


def table_rows(text: str, header: str) -> dict:
    """The body rows of the markdown table in ``text`` as {first cell: row}, in order: the lines that
    start with ``| ``, except the header row (first cell ``header``)."""
    return {row_key(line): line.rstrip() for line in text.splitlines()
            if line.startswith("| ") and row_key(line) != header}
