"""A campaign of asynchronous calls against the real local target (examples/local-async.yaml):
its async cells submit through /async-function/, the campaign's callback receiver gets every
result, and each segment records its completions beside its records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from support.cli import run_loadgen
from support.local_target import LocalTarget

from loadgen.analysis.aggregate import Settings, aggregate
from loadgen.report.figures.completions import completions_figure
from loadgen.results import open_results
from loadgen.results.completions import COMPLETIONS_FILE, read_completions

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-async.yaml"


def test_the_async_example_measures_every_call_to_its_completion(
    target: LocalTarget, tmp_path: Path
) -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["number_of_runs"] = 1  # the example's statistics need 3; this checks the path
    experiment = tmp_path / "local-async.yaml"
    experiment.write_text(yaml.safe_dump(document))
    results = tmp_path / "results"
    run = run_loadgen(
        "run", str(experiment), "--stack-outputs", str(target.directory / "outputs.json"),
        "--results", str(results), cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    tree = open_results(results)
    cells = {c.info.id.split("--")[0]: c for c in tree.cells}
    assert {c.info.status for c in cells.values()} == {"complete"}
    assert (cells["sync"].info.invocation, cells["async"].info.invocation) == ("sync", "async")

    summary = json.loads((cells["async"].path / "summary.json").read_text())
    [segment] = summary["segments"]
    assert segment["summary"]["ok"] == 60  # 20/s for 3 s, each answered 202
    completions = segment["completions"]
    assert completions["accepted"] == 60
    assert completions["completed"] == 60
    assert (completions["lost"], completions["failed"]) == (0, 0)
    assert completions["completion"]["p50"] >= 20  # the function sleeps 20 ms
    kept = read_completions(cells["async"].path / "records" / f"s000-{COMPLETIONS_FILE}")
    assert len(kept) == 60
    sync = json.loads((cells["sync"].path / "summary.json").read_text())["segments"][0]
    assert "completions" not in sync
    assert not list((cells["sync"].path / "records").glob(f"*{COMPLETIONS_FILE}"))

    # The analysis keeps sync and async apart and measures the async calls to completion.
    result = aggregate(tree, Settings(), keep_requests=True)
    rows = result.table().to_pylist()
    groups = [r for r in rows if r["level"] == "group"]
    assert {r["invocation"] for r in groups} == {"sync", "async"}
    async_rows = {
        (r["metric"], r["stat"]): r["value"] for r in groups if r["invocation"] == "async"
    }
    assert async_rows[("completions", "completed")] == 60
    assert async_rows[("completions", "lost")] == 0
    assert async_rows[("completion_ms", "p50")] >= 20
    assert async_rows[("completion_ms", "run_median_p50")] == async_rows[("completion_ms", "p50")]
    sync_metrics = {r["metric"] for r in groups if r["invocation"] == "sync"}
    assert "completion_ms" not in sync_metrics
    # The report draws both: completion beside synchronous latency, completions over time.
    figure = completions_figure([result])
    assert not figure.empty
    svg = figure.svg.decode()
    assert "completion (async)" in svg
    assert "latency (sync)" in svg
    assert "completed calls per second" in svg
    shutil.rmtree(results)
