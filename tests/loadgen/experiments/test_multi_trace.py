"""`kind: multi-trace`: a stratified, seeded sample of a trace in the Azure Functions 2019
layout (written here, in that layout), its validation, its cells, and a replay of several
functions side by side against the local target."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import yaml
from support.cli import run_loadgen
from support.loadgen_servers import ScriptedServer
from support.local_target import LocalTarget
from support.sample_outputs import outputs_for
from support.scripted_platform import ScriptedPlatform
from typer.testing import CliRunner

from contract.outputs import StackOutputs
from functions import synthetic
from loadgen.analysis.requests import load_requests
from loadgen.bounds import max_processes
from loadgen.cli import app
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.cells import expand, multi_trace_sample
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.estimate import Assumptions, estimate
from loadgen.experiments.group_run import TRACE_FUNCTION, busiest_minute, group_processes
from loadgen.experiments.inputs import input_digests, input_files, inputs_problem
from loadgen.experiments.kinds import MultiTrace
from loadgen.experiments.multitrace import MAX_SAMPLE, deployed_memory
from loadgen.experiments.outcomes import CampaignError
from loadgen.platforms.base import FunctionSpec, InvokeTarget, PlatformError
from loadgen.processes.coordinator import default_processes
from loadgen.results.tree import open_results

if TYPE_CHECKING:
    from loadgen.loaders.pool import LoaderPool

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
INVOCATIONS = "invocations_per_function_md.anon.d01.csv"
DURATIONS = "function_durations_percentiles.anon.d01.csv"
MEMORY = "app_memory_percentiles.anon.d01.csv"
PERCENTILES = (0, 1, 25, 50, 75, 99, 100)
LOCAL = {
    **outputs_for("openfaas", "k8s", max_functions=15, max_replicas=5, scale_to_zero=False),
    "cloud": "local",
    "orchestrator": "local",
}


def key(index: int) -> tuple[str, str, str]:
    """Owner, app and function hashes of trace function `index` (two functions per app)."""
    return (f"owner{index // 4}", f"app{index // 2}", f"fn{index:03d}")


def write_trace(
    folder: Path,
    counts: list[list[int]],
    *,
    durations: dict[int, list[float]] | None = None,
    skip_durations: Set[int] = frozenset(),
    skip_apps: Set[str] = frozenset(),
    drop_column: str | None = None,
    median_mb: float | None = None,
) -> None:
    """The three files of the 2019 dataset for functions with these per-minute counts (from
    minute 1; the rest of the day is 0); every application's median allocation `median_mb`,
    else a small one of its own."""
    header = ["HashOwner", "HashApp", "HashFunction", "Trigger", *map(str, range(1, 1441))]
    rows = []
    for index, minutes in enumerate(counts):
        day = [*minutes, *[0] * (1440 - len(minutes))]
        rows.append([*key(index), "http", *map(str, day)])
    if drop_column is not None:
        position = header.index(drop_column)
        header.pop(position)
        rows = [row[:position] + row[position + 1 :] for row in rows]
    (folder / INVOCATIONS).write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")

    duration_header = ["HashOwner", "HashApp", "HashFunction", "Average", "Count", "Minimum",
                       "Maximum", *(f"percentile_Average_{p}" for p in PERCENTILES)]  # fmt: skip
    lines = [",".join(duration_header)]
    for index in range(len(counts)):
        if index in skip_durations:
            continue
        points = (durations or {}).get(index, [1, 1, 2, 2, 3, 4, 5])
        lines.append(",".join([*key(index), "2", "10", "1", "5", *map(str, points)]))
    (folder / DURATIONS).write_text("\n".join(lines) + "\n")

    memory_columns = (f"AverageAllocatedMb_pct{p}" for p in (1, 5, 25, 50, 75, 95, 99, 100))
    memory_header = ["HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb", *memory_columns]
    lines = [",".join(memory_header)]
    apps = sorted({key(index)[:2] for index in range(len(counts))})
    for number, (owner, application) in enumerate(apps):
        if application in skip_apps:
            continue
        median = 10 + number if median_mb is None else median_mb  # MB, distinct per app
        lines.append(",".join([owner, application, "100", str(median), *[str(median)] * 8]))
    (folder / MEMORY).write_text("\n".join(lines) + "\n")


def forty(folder: Path) -> list[list[int]]:
    """40 functions over 5 minutes, function i invoked i + 1 times a minute (distinct totals:
    ranks are indexes), plus one never invoked in the window."""
    counts = [[index + 1] * 5 for index in range(40)]
    write_trace(folder, [*counts, [0] * 5])
    return counts


def document(**experiment: Any) -> dict[str, Any]:
    return {
        "name": "mt",
        "seed": 5,
        "functions": {"synthetic": {}},
        "experiments": [
            {
                "name": "day",
                "kind": "multi-trace",
                "invocations": INVOCATIONS,
                "durations": DURATIONS,
                "memory": MEMORY,
                "sample": 8,
                "strata": 4,
                "minutes": 5,
                **experiment,
            }
        ],
    }


def write_experiment(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def sample_of(folder: Path, **experiment: Any) -> list[int]:
    """The sampled functions' indexes."""
    config = load_experiment(write_experiment(folder, document(**experiment)))
    spec = config.experiments[0]
    assert isinstance(spec, MultiTrace)
    return [int(f.function[2:]) for f in multi_trace_sample(spec, config, folder)]


def test_the_sample_is_seeded_and_spread_evenly_over_the_strata(tmp_path: Path) -> None:
    forty(tmp_path)
    first = sample_of(tmp_path, seed=1)
    assert len(first) == len(set(first)) == 8
    assert sample_of(tmp_path, seed=1) == first
    assert sorted(sample_of(tmp_path, seed=2)) != sorted(first)
    # Index = rank by invocations; 40 ranked functions make 4 strata of 10: 2 from each.
    for seed in range(1, 6):
        sample = sample_of(tmp_path, seed=seed)
        assert sorted(index // 10 for index in sample) == [0, 0, 1, 1, 2, 2, 3, 3]
        # The function never invoked in the window is never sampled.
        assert 40 not in sample
    # Without its own seed the experiment takes the campaign's.
    assert sample_of(tmp_path) == sample_of(tmp_path, seed=5)


def test_uneven_strata_still_fill_the_sample(tmp_path: Path) -> None:
    forty(tmp_path)
    sample = sample_of(tmp_path, sample=7, strata=3)
    assert len(set(sample)) == 7
    # 40 functions in 3 strata: ranks 0-12, 13-26, 27-39; shares 3, 2, 2.
    strata = [0 if i < 13 else 1 if i < 27 else 2 for i in sample]
    assert sorted(strata) == [0, 0, 0, 1, 1, 2, 2]
    assert sorted(sample_of(tmp_path, sample=40, strata=4)) == list(range(40))


def test_each_sampled_function_is_a_cell_of_one_group(tmp_path: Path) -> None:
    durations = {index: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0 + index] for index in range(40)}
    counts = [[index + 1, 0, 2 * (index + 1), 0, 3] for index in range(40)]
    write_trace(tmp_path, counts, durations=durations)
    data = document(scale=2, minute_s=10, start_minute=1, minutes=4)
    data["number_of_runs"] = 2
    config = load_experiment(write_experiment(tmp_path, data))
    cells = expand(config, tmp_path)
    assert len(cells) == 8 * 2
    assert len({cell.id for cell in cells}) == 16
    assert {cell.group for cell in cells} == {"day--run000", "day--run001"}
    names = {cell.deployed for cell in cells}
    assert len(names) == 8
    assert all(re.fullmatch(r"syn-[0-9a-f]{8}", name or "") for name in names)
    for cell in cells:
        trace = cell.trace
        assert trace is not None
        index = int(trace.function[2:])
        assert cell.function == "synthetic"
        assert cell.mode == "trace"
        assert cell.id == f"day--{cell.deployed}--none--run{cell.run:03d}"
        assert len(cell.segments) == 4
        for segment, count in zip(cell.segments, counts[index][:4], strict=True):
            if count == 0:
                assert segment.workload is None
                assert segment.duration_s == 10
            else:
                assert segment.workload is not None
                assert segment.workload.rate == pytest.approx(count * 2 / 10)
                assert segment.workload.duration_s == 10
        assert [cell.params[f"p{p}_ms"] for p in PERCENTILES] == durations[index]
        median = 10 + index // 2  # the app's median, as written
        assert cell.params["memory_mb"] == median
        assert cell.memory_mb == deployed_memory(median) == 128
        # The body is one the function accepts (each parameter within its bounds).
        assert json.loads(cell.body) == cell.params
        for param in synthetic.PARAMS:
            param.read(cell.params)
    # A run's minutes draw their own arrivals; the same function's runs differ too.
    seeds = [s.workload.seed for c in cells for s in c.segments if s.workload is not None]
    assert len(set(seeds)) == len(seeds)


def test_memory_is_the_app_median_plus_the_runtime_rounded_up() -> None:
    assert deployed_memory(0) == 128
    assert deployed_memory(64) == 128
    assert deployed_memory(65) == 192
    assert deployed_memory(300) == 384


def validate(folder: Path, data: dict[str, Any], outputs: dict[str, Any] | None = None) -> Any:
    args = ["validate", str(write_experiment(folder, data))]
    if outputs is not None:
        path = folder / "outputs.json"
        path.write_text(json.dumps(outputs))
        args += ["--stack-outputs", str(path)]
    return runner.invoke(app, args)


@pytest.mark.parametrize(
    ("change", "trace", "message"),
    [
        ({"strata": 9}, {}, "experiments.0: strata 9 > sample 8: every stratum needs a function"),
        ({"sample": 0}, {}, "experiments.0.sample: Input should be greater than or equal to 1"),
        ({"sample": 201}, {}, "experiments.0.sample: Input should be less than or equal to 200"),
        ({"sample": 41, "strata": 1}, {}, "experiments.0.invocations: "),
        ({"start_minute": 1440, "minutes": 2}, {}, "the window ends after minute 1440"),
        ({"invocation": "async"}, {}, "a multi-trace experiment replays sync calls only"),
        ({"functions": ["echo"]}, {}, "a multi-trace experiment deploys synthetic only"),
        ({"languages": ["go"]}, {}, "a multi-trace experiment deploys synthetic in python"),
        ({"memory_mb": [512]}, {}, "takes each function's memory from the trace"),
        ({"input_sizes": [4096]}, {}, "synthetic declares no input_size"),
        ({"max_memory_mb": 64}, {}, "experiments.0: max_memory_mb: 64 MiB < 128 MiB"),
        ({"invocations": "nowhere.csv"}, {}, "experiments.0.invocations: "),
        ({}, {"drop_column": "HashApp"}, "experiments.0.invocations: "),
        ({}, {"drop_column": "1440"}, "no column 1440"),
        ({"sample": 40}, {"skip_durations": {7}}, "experiments.0.durations: "),
        ({"sample": 40}, {"skip_apps": {"app3"}}, "experiments.0.memory: "),
        ({}, {"durations": {i: [5, 4, 3, 2, 1, 0, 0] for i in range(40)}}, "percentiles decrease"),
    ],
)
def test_a_broken_experiment_or_trace_is_refused_naming_the_field(
    tmp_path: Path, change: dict[str, Any], trace: dict[str, Any], message: str
) -> None:
    write_trace(tmp_path, [[index + 1] * 5 for index in range(40)], **trace)
    result = validate(tmp_path, document(**change))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_details_of_trace_errors(tmp_path: Path) -> None:
    write_trace(tmp_path, [[index + 1] * 5 for index in range(40)], skip_durations={3})
    result = validate(tmp_path, document(sample=40, strata=1))
    assert "no durations for sampled function owner0/app1/fn003" in result.output
    forty(tmp_path)
    result = validate(tmp_path, document(sample=41, strata=1))
    assert "40 function(s) have invocations in minutes 1..5, fewer than sample 41" in result.output


def test_params_come_from_the_trace_and_the_sample_from_the_stack_limits(tmp_path: Path) -> None:
    forty(tmp_path)
    data = document()
    data["functions"]["synthetic"] = {"params": {"p50_ms": 3, "mode": "sleep"}}
    result = validate(tmp_path, data)
    assert result.exit_code == 2
    assert "functions.synthetic.params.p50_ms: a multi-trace experiment takes it" in result.output
    assert "params.mode" not in result.output
    result = validate(tmp_path, document(sample=20), LOCAL)
    assert result.exit_code == 2
    assert "experiments.0.sample: 20 functions deployed at once > max_functions 15" in result.output
    result = validate(tmp_path, document(sample=15), LOCAL)
    assert result.exit_code == 0, result.output
    assert "15 cells" in result.output


def test_the_busiest_minute_counts_the_functions_called_in_it(tmp_path: Path) -> None:
    write_trace(tmp_path, [[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1], [2, 2, 2]])
    config = load_experiment(write_experiment(tmp_path, document(sample=5, strata=1, minutes=3)))
    cells = expand(config, tmp_path)
    assert busiest_minute(cells) == 3
    assert group_processes(None) == 1
    assert group_processes(3) == 3


def test_run_refuses_more_concurrent_functions_than_the_machine_takes(tmp_path: Path) -> None:
    limit = max_processes(default_processes())
    if limit >= MAX_SAMPLE:
        pytest.skip(f"this machine takes {limit} processes, more than a sample can hold")
    write_trace(tmp_path, [[1 + index % 3] * 2 for index in range(limit + 1)])
    data = document(sample=limit + 1, strata=1, minutes=2)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(outputs_for("openfaas", "k8s")))
    experiment = str(write_experiment(tmp_path, data))
    results = str(tmp_path / "results")
    run = run_loadgen(
        "run",
        experiment,
        "--stack-outputs",
        str(outputs),
        "--results",
        results,
        "--image",
        "registry.example/functions:1",
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert (
        f"experiments.0.sample: {limit + 1} functions called in one minute, 1 process(es) "
        f"each, need {limit + 1} processes at once, more than {limit}"
    ) in run.stderr
    assert not (tmp_path / "results" / "manifest.json").exists()  # nothing started


def poisson_bound(expected: float) -> float:
    """Half-width of a band holding a Poisson count with this mean but for ~1 in 10,000."""
    return 4 * math.sqrt(expected) + 1


def test_functions_are_replayed_side_by_side(target: LocalTarget, tmp_path: Path) -> None:
    # Three functions, so with sample 3 and strata 3 each is sampled; the quietest is idle in
    # the second minute.
    counts = [[6, 0], [20, 12], [40, 30]]
    write_trace(tmp_path, counts, durations={i: [1, 1, 2, 2, 3, 5, 8] for i in range(3)})
    data = document(sample=3, strata=3, minutes=2, minute_s=1.5)
    data["processes"] = 1
    data["timeouts"] = {"deploy_s": 60, "ready_s": 60, "request_s": 30}
    experiment = write_experiment(tmp_path, data)
    results = tmp_path / "results"
    run = run_loadgen("run", str(experiment), "--stack-outputs",
                      str(target.directory / "outputs.json"), "--results", str(results),
                      cwd=tmp_path, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "3 cells done, 0 failed" in run.stdout
    tree = open_results(results)
    assert len(tree.cells) == 3
    assert target.system("GET", "functions").json() == []
    starts: dict[int, set[int]] = {}
    for cell in tree.cells:
        trace = json.loads((cell.path / TRACE_FUNCTION).read_text())
        index = int(trace["function"][2:])
        assert cell.info.function == trace["name"]
        assert cell.info.status == "complete"
        requests = load_requests(cell.record_paths(), cell.platform_records())
        expected = sum(counts[index])
        assert abs(requests.count - expected) <= poisson_bound(expected), cell.info.id
        assert requests.ok.all()
        # Per minute too: minute i's records are s00i-*.
        for minute, count in enumerate(counts[index]):
            paths = [p for p in cell.record_paths() if p.name.startswith(f"s{minute:03d}-")]
            if count == 0:
                assert paths == []
                continue
            sent = load_requests(paths, []).count
            assert abs(sent - count) <= poisson_bound(count), (cell.info.id, minute)
        summary = json.loads((cell.path / "summary.json").read_text())
        for event in summary["segments"]:
            if "summary" in event:
                starts.setdefault(event["segment"], set()).add(event["summary"]["started"])
    # Every function called in a minute started at the same instant.
    assert all(len(instants) == 1 for instants in starts.values()), starts


def test_estimate_counts_a_group_once(tmp_path: Path) -> None:
    forty(tmp_path)
    data = document(sample=8, strata=4, minutes=3, minute_s=20)
    data["number_of_runs"] = 2
    config = load_experiment(write_experiment(tmp_path, data))
    cells = expand(config, tmp_path)
    assumed = Assumptions(deploy_s=30)
    # Per run: one reset (30 s) and three 20 s minutes, however many functions.
    assert estimate(config, cells, assumed).total_s == pytest.approx(2 * (30 + 3 * 20))
    assert estimate(config, cells, assumed).cells == 16


def test_the_shipped_sample_trace_is_what_its_script_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("sample_trace", ROOT / "scripts/sample_trace.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path)
    shipped = ROOT / "examples" / "traces"
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(path.name for path in shipped.iterdir())
    for name in names:
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
    # And the example samples each stratum from it.
    config = load_experiment(ROOT / "examples" / "multi-function-trace.yaml")
    cells = expand(config, ROOT / "examples")
    strata = [cell.trace.stratum for cell in cells if cell.trace is not None]
    assert sorted(strata) == [0, 0, 1, 1, 2, 2]


@pytest.mark.slow
def test_ctrl_c_stops_every_function_and_resume_measures_the_group_again(
    target: LocalTarget, tmp_path: Path
) -> None:
    write_trace(tmp_path, [[30, 30], [60, 60], [90, 90]])
    # Two 15 s minutes: a stop that waited for the minutes to end would take 30 s.
    data = document(sample=3, strata=3, minutes=2, minute_s=15)
    data["timeouts"] = {"deploy_s": 60, "ready_s": 60, "request_s": 30}
    experiment = write_experiment(tmp_path, data)
    outputs = str(target.directory / "outputs.json")
    results = tmp_path / "results"
    command = [sys.executable, "-m", "loadgen", "run", str(experiment), "--stack-outputs",
               outputs, "--results", str(results), "--plain"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    incomplete = results / ".incomplete"
    while time.monotonic() < deadline:
        # Stop once the first minute's runs are under way.
        if incomplete.is_dir() and list(incomplete.glob("*/records/.segment-000")):
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the campaign never reached its first minute")
    time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    assert not list((results / "cells").iterdir())  # the group is published whole or not at all
    resumed = run_loadgen("run", str(experiment), "--stack-outputs", outputs, "--results",
                          str(results), "--resume", cwd=tmp_path, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "3 cells done, 0 failed, 0 already done" in resumed.stdout
    tree = open_results(results)
    assert {cell.info.status for cell in tree.cells} == {"complete"}
    assert target.system("GET", "functions").json() == []


class NamedPlatform(ScriptedPlatform):
    """Each deployed function a path of the scripted server: the first sampled answers 400; a
    deploy of `refuse` fails."""

    def __init__(self, server: ScriptedServer, bad: str | None, refuse: str | None) -> None:
        super().__init__(server)
        self.bad, self.refuse = bad, refuse
        self.memory: dict[str, int] = {}

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        if function.deployed_name == self.refuse:
            raise PlatformError(f"cannot deploy {function.deployed_name}: quota")
        self.memory[function.deployed_name] = function.memory_mb
        await super().deploy(function, replicas, env)

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: str = "sync"
    ) -> InvokeTarget:
        path = "/status/400" if function.deployed_name == self.bad else "/ok"
        return InvokeTarget(url=self.server.url(path), method="GET")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


def scripted_document(**experiment: Any) -> dict[str, Any]:
    data = document(sample=3, strata=3, minutes=2, minute_s=1, **experiment)
    data["processes"] = 1
    return data


def scripted_campaign(
    folder: Path,
    server: ScriptedServer,
    *,
    bad: bool = False,
    refuse: bool = False,
    resume: bool = False,
    median_mb: float | None = None,
    **experiment: Any,
) -> tuple[Campaign, NamedPlatform]:
    write_trace(folder, [[8, 8], [12, 12], [16, 16]], median_mb=median_mb)
    config = ExperimentConfig.model_validate(scripted_document(**experiment))
    names = [cell.deployed for cell in expand(config, folder)]
    platform = NamedPlatform(server, names[0] if bad else None, names[1] if refuse else None)
    outputs = outputs_for("openfaas", "k8s", gateway_url="http://127.0.0.1:9", ftp=False)
    campaign = Campaign(
        config,
        StackOutputs.model_validate(outputs),
        folder / "results",
        base=folder,
        resume=resume,
        platform_factory=lambda outputs, image: platform,  # type: ignore[arg-type,return-value]
    )
    return campaign, platform


def test_one_function_failing_fails_its_cell_only(server: ScriptedServer, tmp_path: Path) -> None:
    campaign, platform = scripted_campaign(tmp_path, server, bad=True)
    try:
        report = campaign.run()
    finally:
        campaign.close()
    statuses = {o.cell.deployed: (o.status, o.reason) for o in report.outcomes}
    status, reason = statuses[platform.bad]
    assert status == "failed"
    assert str(reason).startswith("no request succeeded")
    assert sorted(s for s, _ in statuses.values()) == ["complete", "complete", "failed"]
    # Each function deployed under its own name with its memory, all before the minutes.
    assert sorted(platform.memory) == sorted(statuses)
    assert set(platform.memory.values()) == {128}
    tree = open_results(tmp_path / "results")
    assert sorted(c.info.function for c in tree.cells) == sorted(statuses)


def test_a_function_the_platform_refuses_fails_the_group(
    server: ScriptedServer, tmp_path: Path
) -> None:
    campaign, platform = scripted_campaign(tmp_path, server, refuse=True)
    try:
        report = campaign.run()
    finally:
        campaign.close()
    assert [o.status for o in report.outcomes] == ["failed"] * 3
    assert {o.reason for o in report.outcomes} == {f"cannot deploy {platform.refuse}: quota"}
    tree = open_results(tmp_path / "results")
    assert {c.info.status for c in tree.cells} == {"failed"}


def test_a_multi_trace_campaign_refuses_a_loader_pool(
    server: ScriptedServer, tmp_path: Path
) -> None:
    campaign, _ = scripted_campaign(tmp_path, server)
    campaign.loaders = cast("LoaderPool", object())
    try:
        with pytest.raises(CampaignError, match="run without --loaders"):
            campaign.run()
    finally:
        campaign.close()
    assert not (tmp_path / "results" / "manifest.json").exists()


def test_short_rows_and_bad_numbers_are_named_with_their_line(tmp_path: Path) -> None:
    forty(tmp_path)
    invocations = (tmp_path / INVOCATIONS).read_text().splitlines()
    invocations[3] = ",".join(invocations[3].split(",")[:100])
    (tmp_path / INVOCATIONS).write_text("\n".join(invocations) + "\n")
    result = validate(tmp_path, document())
    where = f"experiments.0.invocations: {tmp_path / INVOCATIONS}:4"
    assert f"{where}: 100 columns, the header has 1444" in result.output
    forty(tmp_path)
    durations = (tmp_path / DURATIONS).read_text().splitlines()
    durations[1:] = [line.rsplit(",", 1)[0] + ",slow" for line in durations[1:]]
    (tmp_path / DURATIONS).write_text("\n".join(durations) + "\n")
    result = validate(tmp_path, document())
    assert "experiments.0.durations: " in result.output
    assert "percentile_Average_100 must be a number, got 'slow'" in result.output


def test_a_changed_trace_is_read_again(tmp_path: Path) -> None:
    write_trace(tmp_path, [[index + 1] * 5 for index in range(40)])
    before = sample_of(tmp_path, sample=4, strata=4)
    # The busiest ten become the quietest: the top stratum's functions change.
    write_trace(tmp_path, [[100 - index if index < 10 else index + 1] * 5 for index in range(40)])
    after = sample_of(tmp_path, sample=4, strata=4)
    assert before != after
    assert sample_of(tmp_path, sample=4, strata=4) == after


def run_scripted(folder: Path, server: ScriptedServer, **options: Any) -> tuple[Any, NamedPlatform]:
    campaign, platform = scripted_campaign(folder, server, **options)
    try:
        return campaign.run(), platform
    finally:
        campaign.close()


def test_max_memory_mb_caps_what_a_sampled_function_is_given(
    server: ScriptedServer, tmp_path: Path
) -> None:
    # Every application allocates 3000 MB: 3000 + 64 rounds up to 3072 MiB.
    report, platform = run_scripted(tmp_path, server, median_mb=3000, max_memory_mb=1024)
    assert [o.status for o in report.outcomes] == ["complete"] * 3
    assert set(platform.memory.values()) == {1024}
    for cell in open_results(tmp_path / "results").cells:
        trace = json.loads((cell.path / TRACE_FUNCTION).read_text())
        assert (trace["trace_memory_mb"], trace["memory_mb"]) == (3072, 1024)
        # Each call allocates what the cap leaves beside the runtime.
        assert trace["allocated_mb"] == 1024 - 64
        assert cell.info.memory_mb == 1024
    # ... and is asked to: the body of its calls.
    capped = ExperimentConfig.model_validate(scripted_document(max_memory_mb=1024))
    assert {cell.params["memory_mb"] for cell in expand(capped, tmp_path)} == {1024 - 64}
    # A cap above what the trace asks for changes nothing.
    write_trace(tmp_path, [[8, 8], [12, 12], [16, 16]], median_mb=100)
    config = ExperimentConfig.model_validate(scripted_document(max_memory_mb=1024))
    for cell in expand(config, tmp_path):
        assert cell.trace is not None
        assert cell.memory_mb == cell.trace.trace_memory_mb == cell.trace.memory_mb == 192
        assert cell.trace.allocated_mb == 100
    # Without the key the settings (and the hash a campaign resumes by) are as before.
    plain = ExperimentConfig.model_validate(scripted_document())
    assert "max_memory_mb" not in plain.model_dump(mode="json", by_alias=True)["experiments"][0]


def openwhisk_outputs(user_memory_mb: int | None) -> dict[str, Any]:
    outputs = outputs_for("openwhisk", "k8s")
    if user_memory_mb is not None:
        capacity = {"invokers": 2, "user_memory_mb": user_memory_mb, "containers_per_invoker": 8}
        outputs["openwhisk"] = {**outputs["openwhisk"], "capacity": capacity}
    return outputs


def test_sampled_memory_is_checked_against_openwhisk(tmp_path: Path) -> None:
    write_trace(tmp_path, [[index + 1] * 5 for index in range(40)], median_mb=3000)
    result = validate(tmp_path, document(), openwhisk_outputs(2048))
    assert result.exit_code == 2, result.output
    problems = re.findall(r"experiments\.0\.memory: (\S+) needs 3072 MiB > an invoker's "
                          r"container pool \(2048 MiB", result.output)  # fmt: skip
    sampled = [f.key for f in multi_trace_sample_of(tmp_path, document())]
    assert sorted(problems) == sorted(sampled)
    assert "max_memory_mb caps" in result.output
    # Capped to fit the pool: valid.
    result = validate(tmp_path, document(max_memory_mb=2048), openwhisk_outputs(2048))
    assert result.exit_code == 0, result.output
    assert "8 cells" in result.output
    # Without the pool's size: valid, warned that the stack's largest action memory must allow it.
    result = validate(tmp_path, document(), openwhisk_outputs(None))
    assert result.exit_code == 0, result.output
    assert "warning: experiments.0.memory: 8 sampled function(s) need more than 2048 MiB" in (
        result.output
    )
    assert "openwhiskActionMemoryMaxMb" in result.output
    result = validate(tmp_path, document(max_memory_mb=2048), openwhisk_outputs(None))
    assert "warning" not in result.output
    # Other platforms take any limit a node holds: no problem, no warning.
    result = validate(tmp_path, document(), LOCAL)
    assert result.exit_code == 0, result.output
    assert "experiments.0.memory" not in result.output
    # Small functions fit: no problem.
    forty(tmp_path)
    result = validate(tmp_path, document(), openwhisk_outputs(2048))
    assert result.exit_code == 0, result.output


def multi_trace_sample_of(folder: Path, data: dict[str, Any]) -> list[Any]:
    config = load_experiment(write_experiment(folder, data))
    spec = config.experiments[0]
    assert isinstance(spec, MultiTrace)
    return multi_trace_sample(spec, config, folder)


def resume_cli(folder: Path) -> Any:
    """`loadgen run --resume` of the scripted campaign's file on an outputs file; the platform
    is never reached when the trace files are refused."""
    experiment = write_experiment(folder, scripted_document())
    outputs = folder / "outputs.json"
    outputs.write_text(
        json.dumps(outputs_for("openfaas", "k8s", gateway_url="http://127.0.0.1:9", ftp=False))
    )
    results = folder / "results"
    return runner.invoke(app, ["run", str(experiment), "--stack-outputs", str(outputs),
                               "--results", str(results), "--resume", "--plain"])  # fmt: skip


def test_resume_refuses_trace_files_whose_content_changed(
    server: ScriptedServer, tmp_path: Path
) -> None:
    report, _ = run_scripted(tmp_path, server)
    assert [o.status for o in report.outcomes] == ["complete"] * 3
    manifest = json.loads((tmp_path / "results" / "manifest.json").read_text())
    assert sorted(manifest["inputs"]) == [
        "experiments.0.durations", "experiments.0.invocations", "experiments.0.memory"
    ]  # fmt: skip
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", d) for d in manifest["inputs"].values())
    # The same files (written again, same bytes): the campaign resumes, every cell done.
    report, _ = run_scripted(tmp_path, server, resume=True)
    assert report.skipped == 3
    assert report.outcomes == []
    # A durations row more (for a function not sampled: the sample itself would not show it).
    with (tmp_path / DURATIONS).open("a") as stream:
        stream.write("ownerX,appX,fnX,2,10,1,5,1,1,2,2,3,4,5\n")
    result = resume_cli(tmp_path)
    assert result.exit_code == 2, result.output
    assert (
        f"experiments.0.durations: {tmp_path / DURATIONS} is not the file the campaign "
        "started with (its SHA-256 differs)"
    ) in result.output
    assert "Traceback" not in result.output


def test_resume_refuses_a_trace_campaign_whose_manifest_records_no_digests(
    server: ScriptedServer, tmp_path: Path
) -> None:
    run_scripted(tmp_path, server)
    path = tmp_path / "results" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["inputs"]  # as a loadgen before the record wrote it
    path.write_text(json.dumps(manifest))
    result = resume_cli(tmp_path)
    assert result.exit_code == 2, result.output
    assert "records no digest of the trace files" in result.output


def test_the_inputs_are_each_trace_file_by_its_field(tmp_path: Path) -> None:
    forty(tmp_path)
    (tmp_path / "single.csv").write_text((tmp_path / INVOCATIONS).read_text())
    data = document()
    data["functions"]["echo"] = {}
    data["experiments"].append(
        {"name": "one", "kind": "trace", "functions": ["echo"], "file": "single.csv",
         "mapping": {"echo": "fn000"}, "minutes": 2}
    )  # fmt: skip
    config = ExperimentConfig.model_validate(data)
    assert input_files(config, tmp_path) == {
        "experiments.0.invocations": tmp_path / INVOCATIONS,
        "experiments.0.durations": tmp_path / DURATIONS,
        "experiments.0.memory": tmp_path / MEMORY,
        "experiments.1.file": tmp_path / "single.csv",
    }
    digests = input_digests(config, tmp_path)
    assert digests is not None
    expected = hashlib.sha256((tmp_path / "single.csv").read_bytes()).hexdigest()
    assert digests["experiments.1.file"] == f"sha256:{expected}"
    # Same content, same digest, wherever the file is.
    assert digests["experiments.1.file"] == digests["experiments.0.invocations"]
    files = input_files(config, tmp_path)
    assert inputs_problem(digests, digests, files) is None
    changed = {**digests, "experiments.1.file": "sha256:" + "0" * 64}
    problem = inputs_problem(digests, changed, files)
    assert problem is not None
    assert problem.startswith(f"experiments.1.file: {tmp_path / 'single.csv'} is not the file")
    # A campaign without trace files records none and checks none.
    plain = ExperimentConfig.model_validate(
        {"name": "p", "functions": {"echo": {}}, "experiments": [
            {"name": "u", "kind": "users", "functions": ["echo"], "users": [1], "requests": 5}]}
    )  # fmt: skip
    assert input_digests(plain, tmp_path) is None
    assert inputs_problem(None, None, {}) is None
