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
