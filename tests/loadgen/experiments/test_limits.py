# ruff: noqa: E501  (a table of cases: one line each reads best)
"""Limits and bad inputs of campaign files: strict types, finite bounds, unique sweep values and
exact cell ids, function parameters against what each function declares, dependency cycles,
environment names, results_dir; and a property: any document either validates and plans, or is
refused with exit 2 and one line per problem naming its field (never a traceback)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loadgen.cli import app
from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.cells import cell_id, expand, sweep_text
from loadgen.experiments.config import ExperimentConfig
from loadgen.results.models import Sweep

runner = CliRunner()

HEAD = """\
name: limits
functions:
  echo: {}
  matrix: {}
  sleep: {}
"""


def campaign(tmp_path: Path, text: str, head: str = HEAD) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(head + text)
    return path


def users(extra: str = "", users: str = "[1]", requests: str = "5") -> str:
    return (
        "experiments:\n  - {name: u, kind: users, functions: [echo], "
        f"users: {users}, requests: {requests}{extra}}}\n"
    )


def rates(rates: str = "[10]", duration: str = "1", extra: str = "") -> str:
    return (
        "experiments:\n  - {name: r, kind: rates, functions: [echo], "
        f"rates: {rates}, duration_s: {duration}{extra}}}\n"
    )


REFUSED: list[tuple[str, str, str]] = [
    # class 4: booleans and strings are not numbers
    ("requests: true", users(requests="true"), "experiments.0.requests: Input should be a valid integer"),
    ("users: [true]", users(users="[true]"), "experiments.0.users.0: Input should be a valid integer"),
    ("quoted number", users(requests="'5'"), "experiments.0.requests: Input should be a valid integer"),
    ("float users", users(users="[2.0]"), "experiments.0.users.0: Input should be a valid integer"),
    ("sequence: yes", "", "functions.chain.sequence: Input should be a valid boolean"),
    # class 5: finite bounds a run can honour
    ("infinite rate", rates(rates="[.inf]"), "experiments.0.rates.0: Input should be a finite number"),
    ("nan rate", rates(rates="[.nan]"), "experiments.0.rates.0: Input should be a finite number"),
    ("huge rate", rates(rates="[1e300]"), "experiments.0.rates.0: Input should be less than or equal to 1000000"),
    ("tiny duration", rates(duration="1e-300"), "experiments.0.duration_s: Input should be greater than or equal to 0.1"),
    ("huge duration", rates(duration="1e300"), "experiments.0.duration_s: Input should be less than or equal to 86400"),
    ("huge warm-up", users(extra=", warmup_s: 1e9"), "experiments.0.warmup_s: Input should be less than or equal to 3600"),
    ("tiny timeout", "timeouts: {request_s: 1e-9}\n" + users(), "timeouts.request_s: Input should be greater than or equal to 0.01"),
    ("huge requests", users(requests="1" + "0" * 40), "experiments.0.requests: Input should be less than or equal to 1000000000"),
    (
        "inactivity",
        "experiments:\n  - {name: c, kind: cold, functions: [echo], method: natural, inactivity_s: 1e-6}\n",
        "experiments.0.inactivity_s: Input should be greater than or equal to 1",
    ),
    (
        "minute length",
        "experiments:\n  - {name: t, kind: trace, functions: [echo], file: t.csv, mapping: {echo: f}, minutes: 1, minute_s: 1e-300}\n",
        "experiments.0.minute_s: Input should be greater than or equal to 1",
    ),
    ("less than a request", rates(rates="[0.01]", duration="1"), "experiments.0: rate 0.01/s for 1 s is less than one request"),
    ("negative seed", "seed: -1\n" + users(), "seed: Input should be greater than or equal to 0"),
    ("processes", "processes: 100000\n" + users(), "processes: Input should be less than or equal to 256"),
    # class 8: duplicate sweep values
    ("same users twice", users(users="[10, 10]", requests="100"), "experiments.0.users: values must be unique: 10 appears twice"),
    ("10 and 10.0", rates(rates="[10, 10.0]"), "experiments.0.rates: values must be unique"),
    ("same function twice", users().replace("[echo]", "[echo, echo]"), "experiments.0.functions: values must be unique"),
    # class 9: function parameters against each function's declaration
    ("n out of range", users(), "functions.matrix.params.n: n must be between 1 and 400, got 100000"),
    ("unknown parameter", users(), "functions.matrix.params.size: matrix takes no such parameter (it takes n, seed)"),
    ("wrong type", users(), "functions.matrix.params.n: n must be an integer, got 'big'"),
    ("range out of bounds", users(), "functions.matrix.params.n: n must be between 1 and 400, got 1000"),
    ("range on a float", users(), "functions.sleep.params.ms: a random range needs an integer parameter"),
    ("list value", users(), "functions.matrix.params.n: expected a string, number, boolean, null or a range {min, max}, got a list"),
    # class 10: dependency cycles
    ("self dependency", users(), "functions.chain.depends_on: a dependency cycle: chain -> chain"),
    ("two-function cycle", users(), "functions.echo.depends_on: a dependency cycle: echo -> sleep -> echo"),
    # class 11: environment variables
    ("space in a name", users(), "functions.echo.env: variable name 'A B' is not a POSIX name"),
    ("command in a name", users(), "functions.echo.env: variable name '$(id)' is not a POSIX name"),
    ("empty name", users(), "functions.echo.env: variable name '' is not a POSIX name"),
    ("NUL in a value", users(), "functions.echo.env: X: the value must not contain a NUL character"),
    ("number value", users(), "functions.echo.env: PORT: the value must be text (quote it), got 21"),
    # class 12: more users than requests
    ("users > requests", users(users="[1, 50]", requests="10"), "experiments.0: users 50 > requests 10"),
    # class 7: results_dir from the file stays inside the working directory
    ("absolute results_dir", "results_dir: /tmp/elsewhere\n" + users(), "results_dir: must be a relative path inside the working directory"),
    ("results_dir with ..", "results_dir: results/../../x\n" + users(), "results_dir: must stay inside the working directory"),
    ("empty results_dir", "results_dir: ''\n" + users(), "results_dir: must not be empty"),
    # class 3: duplicate keys
    ("duplicate key", "seed: 1\nseed: 2\n" + users(), "line 7: not valid YAML: duplicate key 'seed' (first on line 6, again on line 7)"),
]  # fmt: skip

HEADS = {
    "sequence: yes": HEAD + "  chain: {sequence: 'yes'}\n",
    "n out of range": HEAD.replace("matrix: {}", "matrix: {params: {n: 100000}}"),
    "unknown parameter": HEAD.replace("matrix: {}", "matrix: {params: {size: 1}}"),
    "wrong type": HEAD.replace("matrix: {}", "matrix: {params: {n: big}}"),
    "range out of bounds": HEAD.replace("matrix: {}", "matrix: {params: {n: {min: 1, max: 1000}}}"),
    "range on a float": HEAD.replace("sleep: {}", "sleep: {params: {ms: {min: 1, max: 2}}}"),
    "list value": HEAD.replace("matrix: {}", "matrix: {params: {n: [1, 2]}}"),
    "self dependency": HEAD + "  chain: {depends_on: [chain]}\n",
    "two-function cycle": HEAD.replace("echo: {}", "echo: {depends_on: [sleep]}").replace(
        "sleep: {}", "sleep: {depends_on: [echo]}"
    ),
    "space in a name": HEAD.replace("echo: {}", "echo: {env: {A B: x}}"),
    "command in a name": HEAD.replace("echo: {}", "echo: {env: {'$(id)': x}}"),
    "empty name": HEAD.replace("echo: {}", "echo: {env: {'': x}}"),
    "NUL in a value": HEAD.replace("echo: {}", 'echo: {env: {X: "a\\0b"}}'),
    "number value": HEAD.replace("echo: {}", "echo: {env: {PORT: 21}}"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [(text, expected) for _, text, expected in REFUSED],
    ids=[name for name, _, _ in REFUSED],
)
def test_bad_campaigns_are_refused_naming_the_field(
    text: str, expected: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    name = request.node.callspec.id
    path = campaign(tmp_path, text, HEADS.get(name, HEAD))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}: {expected}" in result.output
    assert "Traceback" not in result.output
    assert "function-after" not in result.output  # never a union's every branch


def test_union_errors_are_one_line_not_one_per_branch(tmp_path: Path) -> None:
    path = campaign(tmp_path, users(), HEAD.replace("matrix: {}", "matrix: {params: {n: [1]}}"))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_valid_params_and_ranges_pass(tmp_path: Path) -> None:
    head = HEAD.replace("matrix: {}", "matrix: {params: {n: {min: 10, max: 400}, seed: 3}}")
    head = head.replace("sleep: {}", "sleep: {params: {ms: 2.5}}")
    head = head.replace("echo: {}", "echo: {params: {anything: 1, goes: x}, env: {A_1: '2'}}")
    result = runner.invoke(app, ["validate", str(campaign(tmp_path, users(), head))])
    assert result.exit_code == 0, result.output


def test_sweep_values_give_exact_cell_ids() -> None:
    close = [Sweep(name="rate", value=10.0), Sweep(name="rate", value=10.0000001)]
    ids = {cell_id("r", "echo", sweep, 0) for sweep in close}
    assert len(ids) == 2
    # Values `:g` spells exactly keep the ids they always had (resume finds its cells).
    assert cell_id("u", "echo", Sweep(name="users", value=10), 3) == "u--echo--users-10--run003"
    assert sweep_text(2.5) == "2.5"
    assert sweep_text(1_000_000.0) == "1e+06"
    assert float(sweep_text(123456.789)) == 123456.789


def test_near_equal_rates_are_distinct_cells(tmp_path: Path) -> None:
    path = campaign(tmp_path, rates(rates="[10, 10.0000001]"))
    cells = expand(load_experiment(path), tmp_path)
    assert len({cell.id for cell in cells}) == len(cells) == 2


def test_a_trace_minute_beyond_the_rate_limit_is_refused(tmp_path: Path) -> None:
    header = ["HashOwner", "HashApp", "HashFunction", "Trigger", *map(str, range(1, 1441))]
    row = ["o", "a", "f", "http", str(10**9), *["0"] * 1439]
    (tmp_path / "t.csv").write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    text = (
        "experiments:\n  - {name: t, kind: trace, functions: [echo], file: t.csv, "
        "mapping: {echo: f}, minutes: 1, scale: 1000, minute_s: 1}\n"
    )
    result = runner.invoke(app, ["validate", str(campaign(tmp_path, text))])
    assert result.exit_code == 2, result.output
    assert "more than 1,000,000: lower scale or raise minute_s" in result.output


TRACE_HEADER = ",".join(
    ["HashOwner", "HashApp", "HashFunction", "Trigger", *map(str, range(1, 1441))]
).encode()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (TRACE_HEADER + b'\no,a,f,http,"' + b"1" * 200_000 + b'"\n', "not CSV (field larger"),
        (TRACE_HEADER + b"\no,a,f,http," + b"1," * 1439 + b"x\n", "counts must be whole numbers"),
        (TRACE_HEADER + b"\no,a,f,http," + b"-1," * 1440 + b"\n", "counts must be from 0"),
        (b"\xff\xfe not utf-8", "not UTF-8 text"),
        (b"a" * (2 * 1024 * 1024), "line longer than 1 MiB"),
    ],
)
def test_broken_trace_files_are_problems_not_tracebacks(
    content: bytes, fragment: str, tmp_path: Path
) -> None:
    (tmp_path / "t.csv").write_bytes(content)
    text = (
        "experiments:\n  - {name: t, kind: trace, functions: [echo], file: t.csv, "
        "mapping: {echo: f}, minutes: 1}\n"
    )
    result = runner.invoke(app, ["validate", str(campaign(tmp_path, text))])
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output


# --- the property -------------------------------------------------------------------------------

garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["min", "max", "x"]), st.integers(-5, 500), max_size=3),
)


def mostly(sensible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The sensible value three times in four, anything else otherwise."""
    return st.one_of(sensible, sensible, sensible, garbage)


suite = st.sampled_from(["echo", "matrix", "sleep", "chain", "ftp", "b64"])
names = mostly(suite)
keys = st.one_of(suite, suite, st.text(max_size=4), st.integers(-3, 3), st.booleans())
seconds = mostly(st.floats(0.05, 10, allow_nan=False))
counts = mostly(st.integers(0, 50))

experiment = st.fixed_dictionaries(
    {
        "name": mostly(st.sampled_from(["a", "b", "c"])),
        "kind": mostly(
            st.sampled_from(
                ["users", "replicas", "autoscaling", "rates", "stages", "trace", "cold"]
            )
        ),
        "functions": mostly(st.lists(names, min_size=1, max_size=3)),
    },
    optional={
        "users": st.one_of(mostly(st.lists(counts, min_size=1, max_size=3)), counts),
        "requests": counts,
        "replicas": st.one_of(counts, mostly(st.lists(counts, min_size=1, max_size=3))),
        "rates": mostly(st.lists(mostly(st.floats(0.001, 2e6)), min_size=1, max_size=3)),
        "duration_s": seconds,
        "warmup_s": seconds,
        "arrival": mostly(st.sampled_from(["constant", "poisson"])),
        "stages": mostly(
            st.lists(st.fixed_dictionaries({"rate": counts, "duration_s": seconds}), max_size=2)
        ),
        "method": mostly(st.sampled_from(["forced", "natural"])),
        "count": counts,
        "chunks": counts,
        "inactivity_s": seconds,
        "file": mostly(st.just("trace.csv")),
        "mapping": mostly(st.dictionaries(keys, st.just("f"), max_size=2)),
        "minutes": counts,
        "minute_s": seconds,
        "scale": seconds,
    },
)
function = st.fixed_dictionaries(
    {},
    optional={
        "params": mostly(
            st.dictionaries(st.sampled_from(["n", "seed", "ms", "x"]), garbage, max_size=2)
        ),
        "env": mostly(st.dictionaries(st.sampled_from(["A", "B_1", "1X", "a b"]), garbage)),
        "unknown": garbage,
        "depends_on": mostly(st.lists(names, max_size=2)),
        "sequence": mostly(st.booleans()),
        "body": mostly(st.text(max_size=4)),
    },
)
document = st.fixed_dictionaries(
    {
        "name": mostly(st.just("prop")),
        "functions": mostly(st.dictionaries(keys, function, min_size=1, max_size=3)),
        "experiments": mostly(st.lists(experiment, min_size=1, max_size=3)),
    },
    optional={
        "number_of_runs": counts,
        "seed": mostly(st.integers(0, 2**64)),
        "order": mostly(st.sampled_from(["sequential", "shuffled"])),
        "results_dir": mostly(st.sampled_from(["results", "a/b", "../x", "/abs", ""])),
        "processes": counts,
        "delay_between_runs_s": seconds,
        "timeouts": mostly(st.fixed_dictionaries({}, optional={"request_s": seconds})),
    },
)
FIELDS = "|".join(
    re.escape(field.alias or name) for name, field in ExperimentConfig.model_fields.items()
)
#: One refusal line: the file, then a path that starts with a real field, a line number, or
#: the file/top level.
PROBLEM = re.compile(rf"^\S+: (\(file\)|\(top level\)|line \d+|({FIELDS})(\..*?)?): \S")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=document)
def test_any_document_validates_and_plans_or_is_refused_naming_the_field(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    header = ["HashOwner", "HashApp", "HashFunction", "Trigger", *map(str, range(1, 1441))]
    row = ["o", "a", "f", "http", *["30"] * 1440]
    (tmp_path / "trace.csv").write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = runner.invoke(app, ["validate", str(path)])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    event("valid" if result.exit_code == 0 else "refused")
    if result.exit_code == 0:
        assert "valid" in result.output
        return
    lines = result.output.strip().splitlines()
    assert lines, "a refusal always says why"
    for line in lines:
        assert PROBLEM.match(line), line
        assert len(line) < 600
