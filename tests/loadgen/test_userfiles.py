"""The one reader of user files: regular files only, sizes bounded, every decode or parse
problem a message naming the file (and line), strict YAML, bounded JSON."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from loadgen.userfiles import (
    MAX_DEPTH,
    MAX_NODES,
    UserFileError,
    excerpt,
    parse_json,
    parse_yaml,
    read_bytes,
    read_text,
    read_yaml,
    text_lines,
)


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"a": 1}')
    assert read_bytes(path, kind="a body", limit=100) == b'{"a": 1}'
    link = tmp_path / "link.json"
    link.symlink_to(path)
    assert read_bytes(link, kind="a body", limit=100) == b'{"a": 1}'


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_and_links_to_them_are_refused_before_reading(target: str, tmp_path: Path) -> None:
    link = tmp_path / "innocent.yaml"
    link.symlink_to(target)
    for path in (Path(target), link):
        with pytest.raises(UserFileError, match="is a device, not a regular file"):
            read_bytes(path, kind="a campaign file", limit=1024)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(read_bytes(fifo, kind="a campaign file", limit=1024))
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the reader so the test run can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome[0], UserFileError)
    assert "FIFO" in str(outcome[0])


def test_directories_sockets_and_missing_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserFileError, match=rf"^{tmp_path}: is a directory"):
        read_bytes(tmp_path, kind="x", limit=10)
    with pytest.raises(UserFileError, match="No such file or directory"):
        read_bytes(tmp_path / "absent", kind="x", limit=10)
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        with pytest.raises(UserFileError, match="a socket"):
            read_bytes(path, kind="x", limit=10)
    finally:
        server.close()


def test_size_limit_per_kind(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a" * 2048)
    with pytest.raises(UserFileError, match="larger than 1 KiB, the limit for a campaign file"):
        read_bytes(path, kind="a campaign file", limit=1024)


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: ok\nowner: J\xfcrgen\n")
    with pytest.raises(UserFileError) as caught:
        read_text(path, kind="a campaign file", limit=1024)
    assert str(caught.value) == f"{path}:2: not UTF-8 text (byte 0xfc)"


def test_streamed_lines_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    path.write_bytes(b"a,b\n" + b"1" * 5000 + b"\n")
    lines = text_lines(path, kind="a trace file", limit=10**6, line_limit=1000)
    assert next(lines) == "a,b\n"
    with pytest.raises(UserFileError, match=r":2: line longer than 1000 bytes"):
        next(lines)


# --- YAML -------------------------------------------------------------------------------------


def test_duplicate_keys_name_the_key_and_both_lines() -> None:
    with pytest.raises(UserFileError) as caught:
        parse_yaml("name: a\nseed: 1\nname: b\n", "c.yaml")
    assert caught.value.line == 3
    assert "duplicate key 'name' (first on line 1, again on line 3)" in str(caught.value)
    nested = "functions:\n  echo: {}\n  echo: {params: {}}\n"
    with pytest.raises(UserFileError, match="duplicate key 'echo'"):
        parse_yaml(nested, "c.yaml")


def test_merge_keys_may_override_what_they_merge() -> None:
    document = parse_yaml("base: &b {n: 1, seed: 2}\nuse: {<<: *b, n: 3}\n", "c.yaml")
    assert document["use"] == {"n": 3, "seed": 2}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "{a: " * 50_000 + "1" + "}" * 50_000,
        "".join("  " * i + "a:\n" for i in range(MAX_DEPTH + 5)),
    ],
)
def test_deep_nesting_is_refused_not_a_recursion_error(text: str) -> None:
    with pytest.raises(UserFileError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_yaml(text, "deep.yaml")


def test_alias_expansion_and_self_reference_are_bounded() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(UserFileError, match=f"expands to more than {MAX_NODES:,} values"):
        parse_yaml("\n".join(levels), "bomb.yaml")
    with pytest.raises(UserFileError, match="refers to the node that contains it"):
        parse_yaml("a: &a [1, *a]\n", "loop.yaml")
    assert parse_yaml("a: &a {n: 1}\nb: *a\n", "ok.yaml") == {"a": {"n": 1}, "b": {"n": 1}}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("n: " + "9" * 5000, "cannot read"),
        ("when: 2001-02-31", "day is out of range"),
        ("a: \x00", r"U\+0000 is not allowed"),
        ("a: [unclosed", "not valid YAML"),
        ("!!python/object:os.system x", "not valid YAML"),
    ],
)
def test_every_yaml_problem_is_a_user_file_error(text: str, fragment: str) -> None:
    with pytest.raises(UserFileError, match=fragment) as caught:
        parse_yaml(text, "c.yaml")
    assert "\n" not in str(caught.value)


def test_exponent_floats_are_numbers() -> None:
    assert parse_yaml("a: 1e6\nb: -2.5E-3\nc: 10\nd: '1e6'\n", "c.yaml") == {
        "a": 1_000_000.0,
        "b": -0.0025,
        "c": 10,
        "d": "1e6",
    }


def test_read_yaml_goes_through_the_safe_reader(tmp_path: Path) -> None:
    link = tmp_path / "c.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(UserFileError, match="device"):
        read_yaml(link, kind="a campaign file", limit=1024)


# --- JSON and excerpts ------------------------------------------------------------------------


def test_json_depth_and_syntax() -> None:
    assert parse_json('{"a": [1, 2]}', "o.json") == {"a": [1, 2]}
    with pytest.raises(UserFileError, match="nested"):
        parse_json("[" * 100_000 + "]" * 100_000, "o.json")
    with pytest.raises(UserFileError, match=f"nested deeper than {MAX_DEPTH}"):
        parse_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "o.json")
    with pytest.raises(UserFileError, match=r"^o.json:2: not JSON"):
        parse_json('{"a":\n  nope}', "o.json")


def test_excerpts_stay_short_whatever_the_value() -> None:
    shared: list[object] = [0]
    for _ in range(30):
        shared = [shared] * 10  # a billion-laughs shape: repr() would never end
    for value in ("x" * 10**6, 10**4000 // 7, shared, {str(i): i for i in range(10**5)}):
        assert len(excerpt(value)) <= 60
