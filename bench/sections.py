"""docs/performance.md is written by several bench scripts: each owns one marked section."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, owner: str, text: str) -> None:
    """Replace `owner`'s section of `path` with `text` (append it if absent), keeping the rest."""
    start, end = f"<!-- {owner}: start -->", f"<!-- {owner}: end -->"
    section = f"{start}\n{text.rstrip()}\n{end}"
    current = path.read_text() if path.exists() else ""
    if start in current and end in current:
        before, rest = current.split(start, 1)
        current = before + section + rest.split(end, 1)[1]
    else:
        current = (current.rstrip("\n") + "\n\n" if current.strip() else "") + section + "\n"
    path.write_text(current)
