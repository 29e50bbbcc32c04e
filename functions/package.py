"""OpenWhisk zip actions for the suite, built deterministically: the same sources give the same
bytes (fixed timestamps, permissions and order, stored uncompressed so no zlib version changes
the output), so an action's hash changes only when its code does.

A zip holds `__main__.py`, whose `main(args)` runs the function through the shared runtime, and
the `functions` package with only the modules that function needs.

    python -m functions.package matrix matrix.zip
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ._registry import FUNCTION_NAMES, UnknownFunction

_PACKAGE = Path(__file__).resolve().parent
#: Modules every action carries besides its function's own.
RUNTIME_MODULES = ("__init__", "_openwhisk", "_params", "_registry", "_runtime")
#: Helper modules a function imports besides the runtime's, carried in its action only.
FUNCTION_MODULES: dict[str, tuple[str, ...]] = {"thumbnail": ("_s3",)}
_EPOCH = (1980, 1, 1, 0, 0, 0)

_ENTRY_POINT = '''"""OpenWhisk entry point of the {name!r} benchmark function."""

from functions._openwhisk import run


def main(args):
    return run({name!r}, args)
'''


def function_names() -> list[str]:
    """The suite's functions, in a stable order."""
    return list(FUNCTION_NAMES)


def action_files(name: str) -> dict[str, bytes]:
    """Archive path -> content of the action for function `name`."""
    if name not in FUNCTION_NAMES:
        raise UnknownFunction(name)
    files = {"__main__.py": _ENTRY_POINT.format(name=name).encode()}
    for module in (*RUNTIME_MODULES, *FUNCTION_MODULES.get(name, ()), name):
        files[f"{_PACKAGE.name}/{module}.py"] = (_PACKAGE / f"{module}.py").read_bytes()
    return files


def openwhisk_zip(name: str) -> bytes:
    """The zip action of function `name`, byte-identical for identical sources."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, content in sorted(action_files(name).items()):
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
    args = parser.parse_args(argv)
    args.output.write_bytes(openwhisk_zip(args.function))
    return 0


if __name__ == "__main__":
    sys.exit(main())
