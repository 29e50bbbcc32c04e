# ruff: noqa: E501  (a table of cases: one line each reads best)
"""A corpus of bad inputs, at least one per class of issue #17, run through the real CLI in a
subprocess with 2 GiB of address space and a time limit: each must exit 2 with one line that
names the field (or option, or file), never a traceback, never a hang, never all of memory.

The classes: files that are not regular or not text (1), nesting (2), duplicate keys (3),
booleans as numbers (4), non-finite, tiny or huge numbers (5), results_dir (7), duplicate sweep
values (8), function parameters (9), dependency cycles (10), environment names (11), users >
requests (12), unbounded counts (13) and messages that echo huge values (15). Priming (6) needs
a platform and the stack config (14) is the Pulumi program's: both are tested beside their code
(tests/loadgen/experiments/test_cell_failures.py, tests/stacks/test_config.py).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.sample_outputs import outputs_for

from loadgen.record.format import RECORD_FILE_SUFFIX

ADDRESS_SPACE = 2 * 1024**3
TIME_LIMIT_S = 90
URL = "http://127.0.0.1:9/"

OUTPUTS = outputs_for("openfaas", "k8s", gateway_url="http://10.0.2.9:8080", ftp=False)

GOOD_HEAD = "name: corpus\nfunctions:\n  echo: {}\n  matrix: {}\n"
GOOD_EXPERIMENTS = (
    "experiments:\n  - {name: u, kind: users, functions: [echo], users: [1], requests: 5}\n"
)

Setup = Callable[[Path], list[str]]


def campaign(text: str) -> Setup:
    """`validate` of a campaign file holding `text`."""

    def setup(tmp: Path) -> list[str]:
        (tmp / "c.yaml").write_text(text)
        return ["validate", "c.yaml"]

    return setup


def campaign_bytes(content: bytes) -> Setup:
    def setup(tmp: Path) -> list[str]:
        (tmp / "c.yaml").write_bytes(content)
        return ["validate", "c.yaml"]

    return setup


def link_to(target: str, *, as_: str = "campaign") -> Setup:
    def setup(tmp: Path) -> list[str]:
        if as_ == "campaign":
            (tmp / "c.yaml").symlink_to(target)
            return ["validate", "c.yaml"]
        (tmp / "c.yaml").write_text(GOOD_HEAD + GOOD_EXPERIMENTS)
        (tmp / "outputs.json").symlink_to(target)
        return ["validate", "c.yaml", "--stack-outputs", "outputs.json"]

    return setup


def fifo(kind: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        if kind == "campaign":
            os.mkfifo(tmp / "c.yaml")
            return ["validate", "c.yaml"]
        if kind == "outputs":
            (tmp / "c.yaml").write_text(GOOD_HEAD + GOOD_EXPERIMENTS)
            os.mkfifo(tmp / "outputs.json")
            return ["validate", "c.yaml", "--stack-outputs", "outputs.json"]
        if kind == "trace":
            os.mkfifo(tmp / "t.csv")
            (tmp / "c.yaml").write_text(
                GOOD_HEAD + "experiments:\n  - {name: t, kind: trace, functions: [echo], "
                "file: t.csv, mapping: {echo: f}, minutes: 1}\n"
            )
            return ["validate", "c.yaml"]
        if kind == "body":
            os.mkfifo(tmp / "body")
            return ["hit", URL, "--data", "@body"]
        raise AssertionError(kind)

    return setup


def outputs_text(content: bytes) -> Setup:
    def setup(tmp: Path) -> list[str]:
        (tmp / "c.yaml").write_text(GOOD_HEAD + GOOD_EXPERIMENTS)
        (tmp / "outputs.json").write_bytes(content)
        return ["validate", "c.yaml", "--stack-outputs", "outputs.json"]

    return setup


def results_file(tmp: Path) -> list[str]:
    (tmp / "c.yaml").write_text(GOOD_HEAD + GOOD_EXPERIMENTS)
    (tmp / "outputs.json").write_text(json.dumps(OUTPUTS))
    (tmp / "taken").write_text("a file")
    return ["run", "c.yaml", "--stack-outputs", "outputs.json", "--results", "taken"]


def args(*argv: str) -> Setup:
    return lambda tmp: list(argv)


def bomb() -> str:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(levels) + "\n"


CORPUS: list[tuple[str, Setup, str]] = [
    # 1: only regular files, bounded, text
    ("campaign -> /dev/zero", link_to("/dev/zero"), "c.yaml: (file): is a device, not a regular file"),
    ("campaign -> /dev/urandom", link_to("/dev/urandom"), "is a device"),
    ("outputs -> /dev/zero", link_to("/dev/zero", as_="outputs"), "outputs.json: is a device"),
    ("campaign FIFO", fifo("campaign"), "c.yaml: (file): is a FIFO (named pipe), not a regular file"),
    ("outputs FIFO", fifo("outputs"), "outputs.json: is a FIFO"),
    ("trace FIFO", fifo("trace"), "experiments.0.file: "),
    ("body FIFO", fifo("body"), "'--data': body: is a FIFO"),
    ("body -> /dev/zero", args("hit", URL, "--data", "@/dev/zero"), "'--data': /dev/zero: is a device"),
    ("campaign directory", args("validate", "/"), "/: (file): is a directory"),
    ("huge campaign", campaign_bytes(b"# " + b"x" * (2 * 1024 * 1024)), "(file): is larger than 1 MiB"),
    ("latin-1 campaign", campaign_bytes(b"name: J\xfcrgen\n"), "c.yaml: line 1: not UTF-8 text"),
    ("latin-1 outputs", outputs_text(b'{"cloud": "\xe9"}'), "outputs.json:1: not UTF-8 text"),
    ("outputs not JSON", outputs_text(b"{cloud: aws"), "outputs.json:1: not JSON"),
    # 2: nesting
    ("deep YAML", campaign("a: " + "[" * 5000 + "]" * 5000), "nested deeper than 32 levels"),
    ("deep JSON", outputs_text(b"[" * 100_000 + b"]" * 100_000), "outputs.json: not usable JSON (nested too deeply)"),
    ("alias bomb", campaign(bomb()), "expands to more than 200,000 values"),
    # 3: duplicate keys
    ("duplicate key", campaign(GOOD_HEAD + "name: again\n" + GOOD_EXPERIMENTS), "line 5: not valid YAML: duplicate key 'name' (first on line 1, again on line 5)"),
    # 4: booleans are not numbers
    ("requests: true", campaign(GOOD_HEAD + GOOD_EXPERIMENTS.replace("requests: 5", "requests: true")), "experiments.0.requests: Input should be a valid integer"),
    # 5: finite bounds
    ("tiny duration", campaign(GOOD_HEAD + "experiments:\n  - {name: r, kind: rates, functions: [echo], rates: [10], duration_s: 1e-300}\n"), "experiments.0.duration_s: Input should be greater than or equal to 0.1"),
    ("huge rate", campaign(GOOD_HEAD + "experiments:\n  - {name: r, kind: rates, functions: [echo], rates: [1e400], duration_s: 1}\n"), "experiments.0.rates.0: Input should be a finite number"),
    ("hit 400-digit rate", args("hit", URL, "--rate", "9" * 400, "-n", "5"), "'--rate': Input should be a finite number"),
    ("hit 400-digit duration", args("hit", URL, "--duration", "9" * 400), "'--duration': Input should be a finite number"),
    ("hit tiny timeout", args("hit", URL, "--timeout", "1e-300"), "'--timeout'"),
    ("hit huge warm-up", args("hit", URL, "--warmup", "99999999"), "'--warmup': Input should be less than or equal to 3600"),
    # 7: results_dir
    ("results_dir ..", campaign("results_dir: ../elsewhere\n" + GOOD_HEAD + GOOD_EXPERIMENTS), "results_dir: must stay inside the working directory"),
    ("results is a file", results_file, "--results: taken exists and is not a directory"),
    # 8: duplicate sweep values
    ("duplicate users", campaign(GOOD_HEAD + GOOD_EXPERIMENTS.replace("users: [1]", "users: [1, 1.0]")), "experiments.0.users"),
    ("duplicate rates", campaign(GOOD_HEAD + "experiments:\n  - {name: r, kind: rates, functions: [echo], rates: [10, 10.0], duration_s: 1}\n"), "experiments.0.rates: values must be unique"),
    # 9: function parameters
    ("unknown parameter", campaign(GOOD_HEAD.replace("matrix: {}", "matrix: {params: {size: 3}}") + GOOD_EXPERIMENTS), "functions.matrix.params.size: matrix takes no such parameter"),
    ("parameter out of range", campaign(GOOD_HEAD.replace("matrix: {}", "matrix: {params: {n: 100000}}") + GOOD_EXPERIMENTS), "functions.matrix.params.n: n must be between 1 and 400"),
    # 10: dependency cycles
    ("self dependency", campaign(GOOD_HEAD.replace("echo: {}", "echo: {depends_on: [echo]}") + GOOD_EXPERIMENTS), "functions.echo.depends_on: a dependency cycle: echo -> echo"),
    # 11: environment names
    ("env $(id)", campaign(GOOD_HEAD.replace("echo: {}", "echo: {env: {'$(id)': x}}") + GOOD_EXPERIMENTS), "functions.echo.env: variable name '$(id)' is not a POSIX name"),
    # 12: users > requests
    ("users > requests", campaign(GOOD_HEAD + GOOD_EXPERIMENTS.replace("users: [1]", "users: [50]")), "experiments.0: users 50 > requests 5"),
    ("hit -c > -n", args("hit", URL, "-c", "50", "-n", "5"), "'--users': 50 users > 5 requests"),
    # 13: every count has a maximum
    ("hit processes", args("hit", URL, "--processes", "100000"), "'--processes': 100000 is more than"),
    ("hit users", args("hit", URL, "-c", "10000000"), "'--users'"),
    ("hit max-inflight", args("hit", URL, "--rate", "10", "-n", "5", "--max-inflight", "10000000"), "'--max-inflight'"),
    ("level", args("aggregate", ".", "--level", "1.5"), "'--level': expected a confidence level between 0 and 1, got 1.5"),
    ("campaign processes", campaign("processes: 100000\n" + GOOD_HEAD + GOOD_EXPERIMENTS), "processes: Input should be less than or equal to 256"),
    # bytes that are not UTF-8 in arguments (the shell passes them as they are)
    ("non-ASCII URL", args("hit", "http://127.0.0.1:9/\udcff"), "'URL': URL must be printable ASCII"),
    ("non-Latin-1 header", args("hit", URL, "-H", "X: \u20ac"), "'--header': header 'X': the value must be Latin-1 text"),
    ("control in a header", args("hit", URL, "-H", "X: a\x01"), "'--header': header 'X' has a control character"),
    ("capture header", args("hit", URL, "--capture-header", "\udcff"), "'--capture-header'"),
    ("megabyte URL", args("hit", URL + "a" * 100_000), "'URL': URL must be printable ASCII of at most 8192"),
    # 15: messages never echo megabytes
    ("megabyte name", campaign("name: " + "x" * 900_000 + "\n" + GOOD_HEAD.split("\n", 1)[1] + GOOD_EXPERIMENTS), "name: String should match pattern"),
    ("megabyte env name", campaign(GOOD_HEAD.replace("echo: {}", "echo:\n    env:\n      ? '" + "y " * 400_000 + "'\n      : x") + GOOD_EXPERIMENTS), "functions.echo.env: variable name"),
]  # fmt: skip


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@pytest.mark.parametrize(
    ("setup", "expected"),
    [(setup, expected) for _, setup, expected in CORPUS],
    ids=[name for name, _, _ in CORPUS],
)
def test_every_bad_input_is_one_clear_line_with_exit_2(
    setup: Setup, expected: str, tmp_path: Path
) -> None:
    argv = setup(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "loadgen", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=TIME_LIMIT_S,  # a hang fails the test here
        preexec_fn=_limits,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    assert "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, output[-2000:]
    assert expected in lines[0], lines[0]
    assert len(lines[0]) < 400


def test_a_fifo_among_records_is_reported_not_waited_on(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    os.mkfifo(tmp_path / "run" / f"p0{RECORD_FILE_SUFFIX}")
    result = subprocess.run(
        [sys.executable, "-m", "loadgen", "inspect", "run", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIME_LIMIT_S,
        preexec_fn=_limits, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # an incomplete run
    report = json.loads(result.stdout)
    assert report["complete"] is False
    assert any("is a FIFO (named pipe), not a regular file" in p for p in report["problems"])
