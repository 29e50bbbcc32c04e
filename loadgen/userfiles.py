"""Reading the files a user hands `loadgen`: one place, one set of rules, one kind of error.

Every file named on a command line or in a campaign (the campaign YAML, a stack's outputs
JSON, a trace CSV, `hit --data @FILE`, record files, a results tree's JSON) is read here:

- only a regular file is opened (a symlink is followed, but a FIFO, a device such as
  `/dev/zero`, a socket or a directory is refused before anything is read, and the file is
  opened non-blocking so a FIFO swapped in afterwards cannot hang the reader either);
- a file read whole has a size limit for its kind, checked before and while reading;
- bad UTF-8, bad YAML and bad JSON become a `UserFileError` naming the file and, where it is
  known, the line: never a traceback.

YAML goes through one loader that refuses duplicate keys (naming the key and both lines),
nesting deeper than `MAX_DEPTH`, documents whose aliases expand past `MAX_NODES` values or
refer to themselves, and out-of-range scalars (a 5,000-digit integer, the 31st of February).
It reads plain scalars such as `1e6` as numbers (YAML 1.2), not as strings.

`excerpt` is how a message quotes a value the user gave: a few dozen characters at most.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
import stat
from collections.abc import Iterator
from typing import IO, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

#: The largest file of each kind that is read whole (bytes).
CAMPAIGN_LIMIT = 1 * MIB
OUTPUTS_LIMIT = 16 * MIB
BODY_LIMIT = 16 * MIB
"""The suite's HTTP server refuses bodies over 16 MiB (functions/serve.py)."""
RESULTS_JSON_LIMIT = 64 * MIB
#: A trace is streamed, never held whole: its total size and each line are bounded instead.
TRACE_LIMIT = 4 * GIB
TRACE_LINE_LIMIT = 1 * MIB

#: Deepest nesting of mappings and lists a YAML or JSON document may have.
MAX_DEPTH = 32
#: Most values (scalars, mappings, lists) a YAML document may expand to, aliases included.
MAX_NODES = 200_000
#: How much of a value a message quotes.
EXCERPT_CHARS = 60


class UserFileError(ValueError):
    """A file cannot be used; the message names it, the line where known, and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


_REPR = reprlib.Repr()
_REPR.maxstring = EXCERPT_CHARS
_REPR.maxother = EXCERPT_CHARS
_REPR.maxlong = 40
_REPR.maxlevel = 2
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 4


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr(value)` cut to about `limit` characters, whatever its size or nesting."""
    text = _REPR.repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def shorten(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Text cut to `limit` characters, on one line (for names and messages, not values)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _size(count: int) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """`path` opened for reading in binary, if it is a regular file (after symlinks)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UserFileError(path, exc.strerror or str(exc)) from None
    except ValueError as exc:  # an embedded NUL in the name
        raise UserFileError(repr(str(path)), str(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        raise UserFileError(path, f"is {_kind_of(info.st_mode)}, not a regular file")
    try:
        # O_NONBLOCK: a FIFO swapped in after the check still cannot block the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UserFileError(path, exc.strerror or str(exc)) from None
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode):
        os.close(fd)
        raise UserFileError(path, f"is {_kind_of(opened.st_mode)}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: str | os.PathLike[str], *, kind: str, limit: int) -> bytes:
    """The whole file, at most `limit` bytes (else an error naming the limit of `kind`)."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        too_big = f"is larger than {_size(limit)}, the limit for {kind}"
        if size > limit:
            raise UserFileError(path, f"{too_big} ({_size(size)})")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise UserFileError(path, exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise UserFileError(path, too_big)
    return data


def decode_utf8(data: bytes, path: str | os.PathLike[str]) -> str:
    """UTF-8 text (a leading byte-order mark dropped), or an error naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise UserFileError(path, f"not UTF-8 text (byte 0x{bad})", line) from None


def read_text(path: str | os.PathLike[str], *, kind: str, limit: int) -> str:
    return decode_utf8(read_bytes(path, kind=kind, limit=limit), path)


def text_lines(
    path: str | os.PathLike[str], *, kind: str, limit: int, line_limit: int
) -> Iterator[str]:
    """The file's lines as UTF-8 text, streamed: each at most `line_limit` bytes, the whole at
    most `limit` (for files too large to read whole, such as traces)."""
    with open_regular(path) as handle:
        total = 0
        number = 0
        while True:
            try:
                raw = handle.readline(line_limit + 1)
            except OSError as exc:
                raise UserFileError(path, exc.strerror or str(exc)) from None
            if not raw:
                return
            number += 1
            total += len(raw)
            if len(raw) > line_limit and not raw.endswith(b"\n"):
                raise UserFileError(path, f"line longer than {_size(line_limit)}", number)
            if total > limit:
                raise UserFileError(path, f"is larger than {_size(limit)}, the limit for {kind}")
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                raise UserFileError(path, f"not UTF-8 text (byte 0x{bad})", number) from None
            yield text


# --- JSON ---------------------------------------------------------------------------------------


def _json_depth_ok(document: object) -> bool:
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return False
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return True


def parse_json(text: str | bytes, source: str) -> Any:
    """A JSON document, nested at most `MAX_DEPTH` deep."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserFileError(source, f"not JSON ({exc.msg})", exc.lineno) from None
    except UnicodeDecodeError:
        raise UserFileError(source, "not UTF-8 text") from None
    except (RecursionError, ValueError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise UserFileError(source, f"not usable JSON ({problem})") from None
    if not _json_depth_ok(document):
        raise UserFileError(source, f"nested deeper than {MAX_DEPTH} levels")
    return document


def read_json(path: str | os.PathLike[str], *, kind: str, limit: int) -> Any:
    return parse_json(read_text(path, kind=kind, limit=limit), str(path))


# --- YAML ---------------------------------------------------------------------------------------

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: YAML 1.2's floats with an exponent and no dot (`1e6`, `-2E-3`), which YAML 1.1 reads as text.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


class _Refused(yaml.YAMLError):
    """A document refused for its shape (depth, size, self-reference): message and line."""

    def __init__(self, problem: str, node: Node) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = node.start_mark


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the checks described in the module's docstring."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    # Composition: nesting depth while composing, expanded size and self-reference after.
    def compose_node(self, parent: Node | None, index: object) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def compose_document(self) -> Node:
        node: Node = super().compose_document()
        _check_expansion(node)
        return node

    # Construction: duplicate keys, and scalars Python cannot represent.
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue
                if first is not key_node:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key {excerpt(key)} (first on line "
                        f"{first.start_mark.line + 1}, again on line "
                        f"{key_node.start_mark.line + 1})",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            value = excerpt(node.value) if isinstance(node, ScalarNode) else node.tag
            raise ConstructorError(
                None, None,
                f"cannot read {value} as {node.tag.rsplit(':', 1)[-1]} "
                f"({str(exc).split(':')[0]})",
                node.start_mark,
            ) from None  # fmt: skip


StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))


def _check_expansion(root: Node) -> None:
    """Refuse a node graph that refers to itself, or whose aliases expand it past MAX_NODES
    values or MAX_DEPTH levels (the composer bounds only the written nesting)."""
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()

    def measure(node: Node, depth: int) -> tuple[int, int]:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in open_nodes:
            raise _Refused("an alias refers to the node that contains it", node)
        if depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels (through aliases)", node)
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            sizes[id(node)] = (1, 1)
            return 1, 1
        open_nodes.add(id(node))
        count, deepest = 1, 0
        for child in children:
            child_count, child_depth = measure(child, depth + 1)
            count += child_count
            deepest = max(deepest, child_depth)
            if count > MAX_NODES:
                raise _Refused(
                    f"expands to more than {MAX_NODES:,} values (anchors and aliases included)",
                    node,
                )
        open_nodes.discard(id(node))
        sizes[id(node)] = (count, deepest + 1)
        return count, deepest + 1

    measure(root, 1)


def parse_yaml(text: str, source: str) -> Any:
    """One YAML document through `StrictLoader`; every problem a `UserFileError` with its line."""
    try:
        loader = StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed in YAML"
        raise UserFileError(source, f"not valid YAML: {problem}", line) from None
    try:
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        problem = f"character U+{exc.character:04X} is not allowed in YAML"
        raise UserFileError(source, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        raise UserFileError(source, f"not valid YAML: {problem}", line) from None
    except RecursionError:
        raise UserFileError(source, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def read_yaml(path: str | os.PathLike[str], *, kind: str, limit: int) -> Any:
    return parse_yaml(read_text(path, kind=kind, limit=limit), str(path))
