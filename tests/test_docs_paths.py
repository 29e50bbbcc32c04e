"""Every repository path that README.md and docs/*.md write in backticks exists.

What counts as a path: a word inside an inline code span (`...`) or a fenced code block
(```...```) that starts with one of the repository's top-level folders (`PREFIXES`). Words are
split at whitespace, `=`, quotes, parentheses, commas and semicolons, so `uv run python
bench/run.py` checks `bench/run.py`; a trailing `.` or `:` is punctuation and dropped.

How a path is read:

- a trailing `/` names a folder, which must be a directory;
- `:LINE` or `:LINE-LINE` is dropped (the file must exist, its lines are not counted);
- `::test_name` (a pytest node id) is dropped from the path, and the file must define
  `test_name` (its `[parameters]` dropped); a node id with a `*` only checks the file;
- placeholders are globs: `<anything>` becomes `*`, and a path holding `*`, `?` or `[` must
  match at least one file or folder (`functions/<name>.py`, `stacks/config_*.py`);
- a folder the repository makes but does not hold, one that `.gitignore` anchors at the root
  (`/demo/`, what `make demo` writes), is not looked for: a checkout has none;
- a path in another repository is written with that repository in front
  (`apache/openwhisk:docs/annotations.md`): it starts with no folder of ours, so it is skipped.

Paths are looked up in the working tree. Markdown links and dotted module names
(`loadgen.processes.coordinator`) are not checked here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")))
PREFIXES = (
    "loadgen/",
    "components/",
    "stacks/",
    "contract/",
    "functions/",
    "tests/",
    "scripts/",
    "bench/",
    "examples/",
    "docs/",
    "demo/",
)

SPAN = re.compile(r"`([^`]+)`")
WORD_SEPARATORS = re.compile(r"[\s=\"'(),;]+")
LINE_SUFFIX = re.compile(r":\d+(?:-\d+)?$")
PLACEHOLDER = re.compile(r"<[^<>/]*>")
GLOB_CHARS = ("*", "?", "[")


@dataclass(frozen=True)
class Reference:
    line: int
    text: str


def generated_folders(root: Path) -> frozenset[str]:
    """Top-level folders `.gitignore` anchors at the root (`/demo/`): made by commands, never
    in a checkout."""
    ignore = root / ".gitignore"
    if not ignore.is_file():
        return frozenset()
    lines = ignore.read_text(encoding="utf-8").splitlines()
    return frozenset(m.group(1) for m in map(re.compile(r"^/([^/*?\[]+)/$").match, lines) if m)


def references(markdown: str) -> list[Reference]:
    """Every word starting with one of `PREFIXES` in the code spans and fenced blocks. A code
    span may run over lines within a paragraph; it is counted at the line where it starts."""
    texts: list[tuple[int, str]] = []  # (line, text) of every span and every fenced line
    paragraph: list[tuple[int, str]] = []

    def close_paragraph() -> None:
        joined = "\n".join(line for _, line in paragraph)
        for match in SPAN.finditer(joined):
            texts.append((paragraph[0][0] + joined.count("\n", 0, match.start()), match[1]))
        paragraph.clear()

    fenced = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            close_paragraph()
            fenced = not fenced
        elif fenced:
            texts.append((number, line))
        elif line.strip():
            paragraph.append((number, line))
        else:
            close_paragraph()
    close_paragraph()
    found: list[Reference] = []
    for number, text in texts:
        for word in WORD_SEPARATORS.split(text):
            word = word.rstrip(".:")
            if word.startswith(PREFIXES):
                found.append(Reference(number, word))
    return found


def problem(reference: str, root: Path, generated: frozenset[str]) -> str | None:
    """Why `reference` names nothing in `root`, or None when it does."""
    path, _, test_name = reference.partition("::")
    path = LINE_SUFFIX.sub("", path)
    if path.split("/", 1)[0] in generated:
        return None
    if ".." in path.split("/"):
        return "leaves the repository"
    folder = path.endswith("/")
    pattern = PLACEHOLDER.sub("*", path).rstrip("/")
    if any(char in pattern for char in GLOB_CHARS):
        matches = sorted(root.glob(pattern))
        if folder:
            matches = [m for m in matches if m.is_dir()]
        return None if matches else "matches nothing"
    target = root / pattern
    if folder and not target.is_dir():
        return "no such folder"
    if not target.exists():
        return "no such file or folder"
    name = test_name.split("[", 1)[0]  # a parametrized id's function
    if name and not any(char in name for char in GLOB_CHARS):
        source = target.read_text(encoding="utf-8") if target.is_file() else ""
        if not re.search(rf"^\s*(?:async\s+)?def {re.escape(name)}\(", source, re.MULTILINE):
            return f"defines no {name}"
    return None


def broken(markdown: str, root: Path) -> list[str]:
    generated = generated_folders(root)
    return [
        f"line {ref.line}: `{ref.text}`: {why}"
        for ref in references(markdown)
        if (why := problem(ref.text, root, generated)) is not None
    ]


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_the_doc_names_exists(doc: str) -> None:
    assert broken((ROOT / doc).read_text(encoding="utf-8"), ROOT) == []


def test_the_docs_are_read() -> None:
    assert "docs/architecture.md" in DOCS
    readme = references((ROOT / "README.md").read_text(encoding="utf-8"))
    assert any(ref.text == "docs/outputs.md" for ref in readme)


def test_a_broken_reference_is_caught(tmp_path: Path) -> None:
    (tmp_path / "loadgen" / "processes").mkdir(parents=True)
    (tmp_path / "loadgen" / "processes" / "coordinator.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_a(x):\n    pass\n")
    (tmp_path / ".gitignore").write_text("/demo/\n/results/\n__pycache__/\n")
    markdown = "\n".join(
        [
            "Moved: `loadgen/runner/coordinator.py`, still here: `loadgen/processes/`.",
            "Lines and tests: `loadgen/processes/coordinator.py:12-40`, `tests/test_x.py::test_a`,",
            "`tests/test_x.py::test_a[p-1]`, `tests/test_x.py::test_gone[p]`, and",
            "globs: `tests/test_x.py::*`, `loadgen/<pkg>/coordinator.py`, `loadgen/*/nothing.py`.",
            "Not a folder: `loadgen/processes/coordinator.py/`. Made by make: `demo/report.html`.",
            "Elsewhere: `apache/openwhisk:docs/annotations.md`; a module: `tests/x.free_port()`.",
            "```",
            "uv run python loadgen/runner/worker.py --out=tests/x.json (see loadgen/processes/)",
            "```",
            "Not fenced any more: loadgen/runner/ is prose, and a span may `run over",
            "lines/ loadgen/runner/x.py`, counted where it starts.",
            "",
            "A blank line ends a paragraph: ` unpaired",
            "",
            "and this `loadgen/processes/` pairs on its own.",
        ]
    )
    assert broken(markdown, tmp_path) == [
        "line 1: `loadgen/runner/coordinator.py`: no such file or folder",
        "line 3: `tests/test_x.py::test_gone[p]`: defines no test_gone",
        "line 4: `loadgen/*/nothing.py`: matches nothing",
        "line 5: `loadgen/processes/coordinator.py/`: no such folder",
        "line 6: `tests/x.free_port`: no such file or folder",
        "line 8: `loadgen/runner/worker.py`: no such file or folder",
        "line 8: `tests/x.json`: no such file or folder",
        "line 10: `loadgen/runner/x.py`: no such file or folder",
    ]
