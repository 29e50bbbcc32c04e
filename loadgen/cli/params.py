"""Turning command-line text into validated values, with errors that name the option.

Every problem with what the user typed becomes a `typer.BadParameter` (exit status 2, one
message, no traceback).
"""

import re
from pathlib import Path

import typer

from loadgen.userfiles import BODY_LIMIT, UserFileError, read_bytes

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS_S = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "h": 3600.0}


def usage_error(option: str, message: str) -> typer.BadParameter:
    return typer.BadParameter(message, param_hint=f"'{option}'")


def make_output_dir(directory: Path, option: str = "--output") -> None:
    """Create DIRECTORY and its missing parents for what a command writes; a path that cannot
    be one (a file on the way, no permission) is the user's mistake, named by OPTION."""
    if directory.is_dir():
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise usage_error(option, f"cannot create directory {directory}: {reason}") from None


def parse_statuses(texts: list[str], option: str = "--ok-status") -> frozenset[int]:
    """'200', '200-299', '2xx', comma-separated or repeated -> the set of statuses."""
    statuses: set[int] = set()
    for part in (p.strip() for text in texts for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            if len(part) == 3 and part[0].isdigit() and part[1:].lower() == "xx":
                first, last = int(part[0]) * 100, int(part[0]) * 100 + 99
            else:
                first = int(low)
                last = int(high) if dash else first
        except ValueError:
            raise usage_error(
                option, f"expected a status such as 200, 200-299 or 2xx, got {part!r}"
            ) from None
        if not 100 <= first <= last <= 999:
            raise usage_error(option, f"statuses are 100..999 (low to high), got {part!r}")
        statuses.update(range(first, last + 1))
    return frozenset(statuses)


def parse_header(text: str, option: str = "--header") -> tuple[str, str]:
    """'Name: value' -> (name, value); the value may be empty, the name may not."""
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name:
        raise usage_error(option, f"expected 'Name: value', got {text!r}")
    return name, value.strip()


def parse_body(text: str | None, option: str = "--data") -> bytes:
    """The body itself, or the contents of FILE when written as @FILE."""
    if text is None:
        return b""
    if text.startswith("@"):
        path = Path(text[1:])
        if not text[1:]:
            raise usage_error(option, "expected a file name after '@'")
        try:
            return read_bytes(path, kind="a request body", limit=BODY_LIMIT)
        except UserFileError as exc:
            raise usage_error(option, str(exc)) from None
    body = text.encode(errors="surrogateescape")
    if len(body) > BODY_LIMIT:
        raise usage_error(option, "the body is larger than 16 MiB")
    return body


def parse_seconds(text: str | None, option: str) -> float | None:
    """Seconds as a number, or with a unit: 500ms, 10s, 2m, 1h."""
    if text is None:
        return None
    match = _DURATION.match(text)
    if match is None:
        raise usage_error(
            option, f"expected seconds such as 10, 2.5, 500ms, 10s or 2m; got {text!r}"
        )
    return float(match.group(1)) * _DURATION_UNITS_S[match.group(2)]


def callback_endpoint(listen: str, url: str | None) -> tuple[tuple[str, int], str | None]:
    """--callback and --callback-url, checked (exit 2 naming the option)."""
    from loadgen.completions.addresses import absolute_http_url, parse_listen

    try:
        where = parse_listen(listen)
    except ValueError as exc:
        raise usage_error("--callback", str(exc)) from None
    try:
        return where, None if url is None else absolute_http_url(url)
    except ValueError as exc:
        raise usage_error("--callback-url", str(exc)) from None
