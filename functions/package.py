"""OpenWhisk zip actions for the suite, built deterministically: the same sources give the same
bytes (fixed timestamps, permissions and order, stored uncompressed so no zlib version changes
the output), so an action's hash changes only when its code does.

A Python zip holds `__main__.py`, whose `main(args)` runs the function through the shared
runtime, and the `functions` package with only the modules that function needs. A Node zip holds
`functions/node/*.js` at its root, a `package.json` whose `main` is `action.js` (which exports
`main(params)`), and `function.json` (`{"function": NAME}`), which `action.js` reads beside
itself to pick the function.

A Go zip is a source action for the go:1.17 runtime, which compiles it at init with its own
launcher: `go.mod` and `functions/go/*.go` except the HTTP server's entry (`serve.go`), plus
`action.go`, written here, whose `Main` runs the function it names. A Java action is a jar for
the java:8 runtime: the classes of `functions/java/*.java` except the HTTP server's
(`Serve.java`) and of `functions/java/action/WhiskAction.java` (whose static `main(JsonObject)`
the runtime calls), compiled with `javac --release 8` against Gson (which the runtime provides
and the jar leaves out), and `function.json` naming the function. Its bytes are the same for
the same sources and the same javac.

    python -m functions.package matrix matrix.zip
    python -m functions.package --language node matrix matrix-node.zip
    python -m functions.package --language go matrix matrix-go.zip
    python -m functions.package --language java matrix matrix-java.jar
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
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
#: The languages that have an OpenWhisk action.
OPENWHISK_LANGUAGES: tuple[Language, ...] = ("python", "node", "go", "java")
#: Each language's action `main`: the function the runtime calls (the Go runtime calls the
#: capitalised name) or, for Java, the class whose static `main(JsonObject)` it calls.
ACTION_MAIN: dict[Language, str] = {
    "python": "main",
    "node": "main",
    "go": "Main",
    "java": "WhiskAction",
}
#: The file of a Node action that exports `main(params)`, and the one naming its function (in
#: the Java jar too).
NODE_ENTRY = "action.js"
NODE_FUNCTION_FILE = "function.json"
#: The HTTP servers' entries, which the Go and Java actions leave out.
GO_SERVER = "serve.go"
JAVA_SERVER = "Serve.java"
#: The Go action's generated entry, and the Java action's source folder.
GO_ENTRY = "action.go"
JAVA_ACTION_DIR = "action"
#: Where Gson's jar is looked for (Debian's libgoogle-gson-java), unless FAASBENCH_GSON_JAR
#: names one.
GSON_JAR = Path("/usr/share/java/gson.jar")
MANIFEST = "META-INF/MANIFEST.MF"

_GO_ENTRY_POINT = """// The OpenWhisk entry of the {name!r} benchmark function, written by
// functions/package.py: the go:1.17 runtime's launcher calls Main for each activation.

package main

// actionFunction is the function this action runs.
const actionFunction = {literal}

// Main is one activation: the envelope of actionFunction on the activation's parameters.
func Main(params map[string]interface{{}}) map[string]interface{{}} {{
	return RunAction(actionFunction, params)
}}
"""

_ENTRY_POINT = '''"""OpenWhisk entry point of the {name!r} benchmark function."""

from functions._openwhisk import run


def main(args):
    return run({name!r}, args)
'''


def function_names() -> list[str]:
    """The suite's functions, in a stable order."""
    return list(FUNCTION_NAMES)


class NoAction(ValueError):
    """A function or language that has no OpenWhisk action, or an action that cannot be built
    here (a missing toolchain); the message says why."""


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
    if language == "go":
        return _go_files(name, package / "go")
    if language == "java":
        return _java_files(name, package / "java")
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


def _go_files(name: str, sources: Path) -> dict[str, bytes]:
    files = {
        path.name: path.read_bytes()
        for path in sorted(sources.glob("*.go"))
        if path.name != GO_SERVER and not path.name.endswith("_test.go")
    }
    if not files or not (sources / "go.mod").is_file():
        raise NoAction(f"no Go sources and go.mod in {sources}: the Go sources are missing")
    if GO_ENTRY in files:
        raise NoAction(f"{sources / GO_ENTRY} exists: that name is the action's generated entry")
    files["go.mod"] = (sources / "go.mod").read_bytes()
    files[GO_ENTRY] = _GO_ENTRY_POINT.format(name=name, literal=json.dumps(name)).encode()
    return files


def gson_jar() -> Path:
    """The Gson jar the Java action compiles against: FAASBENCH_GSON_JAR, else Debian's."""
    return Path(os.environ.get("FAASBENCH_GSON_JAR") or GSON_JAR)


def _java_files(name: str, sources: Path) -> dict[str, bytes]:
    shared = [path for path in sorted(sources.glob("*.java")) if path.name != JAVA_SERVER]
    entries = sorted((sources / JAVA_ACTION_DIR).glob("*.java"))
    if not shared or not entries:
        raise NoAction(f"no Java action sources in {sources}: the Java sources are missing")
    javac = shutil.which("javac")
    if javac is None:
        raise NoAction(
            "java: javac is not installed (Debian package default-jdk-headless); "
            "the Java action is compiled here"
        )
    gson = gson_jar()
    if not gson.is_file():
        raise NoAction(
            f"java: no Gson jar at {gson} (Debian package libgoogle-gson-java, or set "
            "FAASBENCH_GSON_JAR); the Java action compiles against it"
        )
    with tempfile.TemporaryDirectory(prefix="faasbench-java-") as scratch:
        classes = Path(scratch)
        command = [javac, "--release", "8", "-nowarn", "-encoding", "UTF-8"]
        command += ["-cp", str(gson), "-d", str(classes), *map(str, [*shared, *entries])]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise NoAction(f"java: javac failed: {(result.stdout + result.stderr).strip()}")
        files = {
            path.relative_to(classes).as_posix(): path.read_bytes()
            for path in sorted(classes.rglob("*.class"))
        }
    files[MANIFEST] = b"Manifest-Version: 1.0\r\nCreated-By: faasbench\r\n\r\n"
    files[NODE_FUNCTION_FILE] = _json({"function": name})
    return files


def _json(document: dict[str, str]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def openwhisk_zip(name: str, language: Language = "python", package: Path = _PACKAGE) -> bytes:
    """The zip action (Java: the jar) of function `name` in `language`, byte-identical for
    identical sources (and, for Java, the same javac)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        files = action_files(name, language, package)
        # A jar's manifest comes first, where java.util.jar.JarInputStream looks for it.
        for path, content in sorted(files.items(), key=lambda item: (item[0] != MANIFEST, item)):
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, content)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m functions.package",
        description="Write a function's OpenWhisk zip (Java: jar).",
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
