"""OpenWhisk zip actions for the suite, built deterministically: the same sources give the same
bytes (fixed timestamps, permissions and order, stored uncompressed so no zlib version changes
the output), so an action's hash changes only when its code does.

A Python zip holds `__main__.py`, whose `main(args)` runs the function through the shared
runtime, and the `functions` package with only the modules that function needs. A Node zip holds
`functions/node/*.js` at its root, a `package.json` whose `main` is `action.js` (which exports
`main(params)`), and `function.json` (`{"function": NAME}`), which `action.js` reads beside
itself to pick the function. Go and Java have no OpenWhisk action (`OPENWHISK_LANGUAGES`): the
chart's go:1.17 and java:8 runtimes take a Go `Main` function or a Gson `main(JsonObject)`,
and those sources are HTTP servers.

    python -m functions.package matrix matrix.zip
    python -m functions.package --language node matrix matrix-node.zip
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ._registry import FUNCTION_NAMES, LANGUAGE_FUNCTIONS, Language, UnknownFunction

_PACKAGE = Path(__file__).resolve().parent
#: Modules every action carries besides its function's own.
RUNTIME_MODULES = ("__init__", "_openwhisk", "_params", "_registry", "_runtime")
#: Helper modules a function imports besides the runtime's, carried in its action only.
FUNCTION_MODULES: dict[str, tuple[str, ...]] = {"thumbnail": ("_s3",)}
_EPOCH = (1980, 1, 1, 0, 0, 0)
#: The languages that have an OpenWhisk zip action.
OPENWHISK_LANGUAGES: tuple[Language, ...] = ("python", "node")
#: The file of a Node action that exports `main(params)`, and the one naming its function.
NODE_ENTRY = "action.js"
NODE_FUNCTION_FILE = "function.json"

_ENTRY_POINT = '''"""OpenWhisk entry point of the {name!r} benchmark function."""

from functions._openwhisk import run


def main(args):
    return run({name!r}, args)
'''


def function_names() -> list[str]:
    """The suite's functions, in a stable order."""
    return list(FUNCTION_NAMES)


class NoAction(ValueError):
    """A function or language that has no OpenWhisk zip action; the message says why."""


def action_files(
    name: str, language: Language = "python", package: Path = _PACKAGE
) -> dict[str, bytes]:
    """Archive path -> content of the action for function `name` in `language`; `package` is
    the `functions/` directory the sources are read from."""
    if name not in FUNCTION_NAMES:
        raise UnknownFunction(name)
    if language not in OPENWHISK_LANGUAGES:
        raise NoAction(
            f"{language} has no OpenWhisk zip action (only {', '.join(OPENWHISK_LANGUAGES)})"
        )
    if name not in LANGUAGE_FUNCTIONS[language]:
        raise NoAction(
            f"function {name!r} has no {language} implementation; "
            f"{language} has {', '.join(LANGUAGE_FUNCTIONS[language])}"
        )
    if language == "node":
        return _node_files(name, package / "node")
    files = {"__main__.py": _ENTRY_POINT.format(name=name).encode()}
    for module in (*RUNTIME_MODULES, *FUNCTION_MODULES.get(name, ()), name):
        files[f"{package.name}/{module}.py"] = (package / f"{module}.py").read_bytes()
    return files


def _node_files(name: str, sources: Path) -> dict[str, bytes]:
    scripts = sorted(sources.glob("*.js"))
    if not (sources / NODE_ENTRY).is_file():
        raise NoAction(f"no {NODE_ENTRY} in {sources}: the Node sources are missing")
    files = {path.name: path.read_bytes() for path in scripts}
    files["package.json"] = _json({"name": f"faasbench-{name}", "main": NODE_ENTRY})
    files[NODE_FUNCTION_FILE] = _json({"function": name})
    return files


def _json(document: dict[str, str]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def openwhisk_zip(name: str, language: Language = "python", package: Path = _PACKAGE) -> bytes:
    """The zip action of function `name` in `language`, byte-identical for identical sources."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, content in sorted(action_files(name, language, package).items()):
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, content)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m functions.package", description="Write a function's OpenWhisk zip."
    )
    parser.add_argument("function", choices=function_names())
    parser.add_argument("output", type=Path)
    parser.add_argument("--language", choices=OPENWHISK_LANGUAGES, default="python")
    args = parser.parse_args(argv)
    try:
        content = openwhisk_zip(args.function, args.language)
    except NoAction as exc:
        parser.error(str(exc))
    args.output.write_bytes(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
