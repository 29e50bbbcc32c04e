"""Closed-loop asynchronous cells keep N outstanding jobs, against the real local target (one
async queue worker, Community Edition's): each user waits for its call's completion before its
next submission, so accepted − completed never exceeds the users; a call that does not
complete within `completion_deadline_s` of its 202 is lost and its user moves on."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from support.cli import run_loadgen
from support.local_target import LocalTarget

from loadgen.analysis.aggregate import Settings, aggregate
from loadgen.analysis.completion_rows import cell_completions
from loadgen.completions.summary import backlog
from loadgen.report.figures.completions import completions_figure
from loadgen.results import open_results
from loadgen.results.tree import Cell

USERS = 3
JOBS = 9


@pytest.fixture(scope="module")
def cells(target: LocalTarget, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Cell]:
    directory = tmp_path_factory.mktemp("jobs")
    common = {"kind": "users", "functions": ["sleep"], "invocation": "async"}
    # One queue worker runs 150 ms calls one at a time: submissions alone would pile all nine
    # up in the queue within milliseconds; jobs keep at most three there.
    jobs = {"name": "jobs", "users": [USERS], "requests": JOBS, "completion_deadline_s": 60}
    # Each call sleeps 150 ms; its user gives up 50 ms after the 202.
    lost = {"name": "lost", "users": [2], "requests": 4, "completion_deadline_s": 0.05}
    document: dict[str, Any] = {
        "name": "async-jobs",
        "number_of_runs": 1,
        "processes": 1,
        "timeouts": {"deploy_s": 60, "ready_s": 60, "request_s": 60},
        "functions": {"sleep": {"params": {"ms": 150}}},
        "experiments": [{**common, **jobs}, {**common, **lost}],
    }
    experiment = directory / "jobs.yaml"
    experiment.write_text(yaml.safe_dump(document))
    results = directory / "results"
    run = run_loadgen(
        "run", str(experiment), "--stack-outputs", str(target.directory / "outputs.json"),
        "--results", str(results), cwd=directory, timeout=600,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stdout + run.stderr
    tree = open_results(results)
    return {c.info.id.split("--")[0]: c for c in tree.cells}


def _completions(cell: Cell) -> dict[str, Any]:
    [segment] = json.loads((cell.path / "summary.json").read_text())["segments"]
    return dict(segment["completions"])


def test_n_users_never_have_more_than_n_jobs_outstanding(cells: dict[str, Cell]) -> None:
    cell = cells["jobs"]
    assert cell.info.status == "complete"
    completions = _completions(cell)
    assert completions["accepted"] == JOBS
    assert completions["completed"] == JOBS
    assert (completions["lost"], completions["failed"]) == (0, 0)
    joined = cell_completions(cell)
    assert joined is not None
    _times, levels = backlog(joined)
    assert max(levels) == USERS  # every user had a job out at once, never more
    assert levels[-1] == 0
    assert min(levels) >= 0
    assert completions["job_deadline_s"] == 60
    # The report draws each async cell's backlog beside its completions.
    tree = open_results(cell.path.parents[1])
    figure = completions_figure([aggregate(tree, Settings(), keep_requests=True)])
    svg = figure.svg.decode()
    assert "sleep: backlog over time" in svg
    assert "calls accepted, not completed" in svg
    # Each job from its submission to its completion: at least the function's sleep.
    assert completions["completion"]["p50"] >= 150
    assert completions["completion_rate"] > 0


def test_a_job_past_its_deadline_is_lost_and_its_user_moves_on(cells: dict[str, Cell]) -> None:
    cell = cells["lost"]
    completions = _completions(cell)
    # Every user submitted all its calls (none waited for ever), and none completed in time.
    assert completions["submitted"] == 4
    assert completions["accepted"] == 4
    assert completions["completed"] == 0
    assert completions["lost"] == 4
    assert completions["job_deadline_s"] == 0.05
