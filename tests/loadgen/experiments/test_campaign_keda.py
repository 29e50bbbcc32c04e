"""KEDA in the campaign: the shipped examples valid on their stacks (and refused on the other
mode's), the `keda:` scaling knobs and the enqueue kind checked with their paths, and a whole
enqueue campaign run for real: the KEDA adapter deploys through a fake Kubernetes API whose
Deployments run as real consumer processes, on a real Redis server on 127.0.0.1; its records
read back as the analysis reads requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_kube import FakeKube, fake_kube, kubeconfig
from support.figure_svg import read_svg
from support.queue_server import Consumers, QueueServer, redis_server
from support.sample_outputs import outputs_for
from typer.testing import CliRunner

from contract.outputs import StackOutputs
from loadgen.analysis.aggregate import Settings, aggregate
from loadgen.analysis.requests import load_requests
from loadgen.cli import app
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.config import ExperimentConfig
from loadgen.platforms import KedaPlatform, make_platform
from loadgen.report.figures import all_figures
from loadgen.report.figures.queue import queue_over_time
from loadgen.results.tree import open_results

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def keda_outputs(mode: str, *, server: str = "https://10.0.2.4:6443", queue_url: str = "",
                 password: str = "p") -> dict[str, Any]:  # fmt: skip  # noqa: S107
    keda: dict[str, Any] = {
        "mode": mode,
        "namespace": "faasbench-fn",
        "versions": {"keda": "2.20.2"},
    }
    document: dict[str, Any] = {
        "cloud": "existing",
        "orchestrator": "k8s",
        "framework": "keda",
        "kubeconfig": kubeconfig(server),
        "keda": keda,
    }
    if mode == "http":
        document["gateway_url"] = "http://10.0.2.9:8080"
        keda["versions"]["http_add_on"] = "0.15.0"
    else:
        keda["queue"] = {
            "url": queue_url or "redis://10.0.2.4:30379",
            "password": password,
            "internal_address": "faasbench-queue.faasbench-fn.svc:6379",
        }
    return document


def validate(tmp_path: Path, example: Path, outputs: dict[str, Any]) -> Any:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return runner.invoke(app, ["validate", str(example), "--stack-outputs", str(path)])


@pytest.mark.parametrize("mode", ["http", "queue"])
def test_each_example_is_valid_on_its_mode_and_refused_on_the_other(
    mode: str, tmp_path: Path
) -> None:
    example = EXAMPLES / f"keda-{mode}.yaml"
    result = validate(tmp_path, example, keda_outputs(mode))
    assert result.exit_code == 0, result.output
    assert "valid on" in result.output
    other = validate(tmp_path, example, keda_outputs("queue" if mode == "http" else "http"))
    assert other.exit_code == 2
    if mode == "http":
        assert "experiments.0: kedaMode queue runs functions that take jobs" in other.output
    else:
        assert "experiments.0: kind enqueue needs kedaMode queue" in other.output


def test_keda_knobs_and_enqueue_are_checked_with_their_paths(tmp_path: Path) -> None:
    document = yaml.safe_load((EXAMPLES / "keda-queue.yaml").read_text())
    document["keda"]["polling_interval"] = 5
    document["experiments"][0]["drain_s"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "keda.polling_interval: Extra inputs are not permitted" in result.output
    assert "experiments.0.drain_s: Input should be greater than or equal to 0" in result.output
    assert "Traceback" not in result.output
    document = yaml.safe_load((EXAMPLES / "keda-queue.yaml").read_text())
    document["keda"]["min_replicas"] = 30
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "keda: min_replicas 30 is greater than max_replicas 20" in result.output
    # Enqueue experiments and keda: mean nothing to another framework.
    openfaas = validate(tmp_path, EXAMPLES / "keda-queue.yaml", outputs_for("openfaas", "k8s"))
    assert openfaas.exit_code == 2
    assert "enqueue experiments need framework keda" in openfaas.output
    assert "keda: applies to framework keda only" in openfaas.output


def test_too_many_replicas_for_keda_s_maximum_are_refused(tmp_path: Path) -> None:
    document = yaml.safe_load((EXAMPLES / "keda-http.yaml").read_text())
    document["experiments"][0]["replicas"] = 11
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(document))
    result = validate(tmp_path, path, keda_outputs("http"))
    assert result.exit_code == 2
    assert "experiments.0.replicas: 11 > keda.max_replicas 10" in result.output


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[QueueServer]:
    with redis_server(tmp_path) as server:
        yield server


class Kubelet:
    """Runs each fake Deployment's replicas as real consumer processes (its pods)."""

    def __init__(self, state: FakeKube, consumers: Consumers) -> None:
        self.state, self.consumers = state, consumers
        self.pods: dict[str, list[Any]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(0.05):
            self.state.settle()
            wanted: dict[str, tuple[str, int]] = {}
            for (plural, _, name), obj in list(self.state.objects.items()):
                if plural == "deployments":
                    env = obj["spec"]["template"]["spec"]["containers"][0]["env"]
                    function = next(e["value"] for e in env if e["name"] == "FUNCTION")
                    wanted[name] = (function, int(obj["spec"]["replicas"]))
            for name in set(self.pods) | set(wanted):
                function, count = wanted.get(name, ("", 0))
                running = self.pods.setdefault(name, [])
                while len(running) < count:
                    running.append(self.consumers.start(function, key=name))
                while len(running) > count:
                    running.pop().terminate()


def test_an_enqueue_campaign_runs_through_the_keda_adapter(
    queue: QueueServer, tmp_path: Path
) -> None:
    consumers = Consumers(queue)
    document = {
        "name": "jobs",
        "keda": {"polling_interval_s": 2, "cooldown_s": 30, "target": 3, "max_replicas": 4},
        "functions": {"sleep": {"params": {"ms": 30}}},
        "experiments": [
            {"name": "q", "kind": "enqueue", "functions": ["sleep"], "rates": [40],
             "duration_s": 0.5, "arrival": "constant", "drain_s": 20, "sample_interval_s": 0.1},
        ],
    }  # fmt: skip
    config = ExperimentConfig.model_validate(document)
    with fake_kube() as (state, server):
        outputs = StackOutputs.model_validate(
            keda_outputs("queue", server=server, queue_url=queue.url, password=queue.password)
        )
        kubelet = Kubelet(state, consumers)
        kubelet.thread.start()
        campaign = Campaign(
            config, outputs, tmp_path / "results", base=tmp_path, image="img:1",
            platform_factory=make_platform,
        )  # fmt: skip
        try:
            assert isinstance(campaign.platform, KedaPlatform)
            assert campaign.platform.scaling.cooldown_s == 30  # the file's keda: reached it
            report = campaign.run()
        finally:
            campaign.close()
            kubelet.stop.set()
            kubelet.thread.join()
            consumers.stop_all()
        scaled = [o for (plural, _, _), o in state.objects.items() if plural == "scaledobjects"]
    [outcome] = report.outcomes
    assert outcome.status == "complete", outcome.reason
    assert outcome.requests == 20
    assert outcome.errors == 0
    assert scaled == []  # removed with the function at the end of the campaign
    tree = open_results(tmp_path / "results")
    [cell] = tree.cells
    records = sorted((cell.path / "records").glob("*.lgrec"))
    requests = load_requests(records)
    assert len(requests.ok) == 20
    assert requests.ok.all()
    assert requests.open_loop
    latency_ms = (requests.end_ns - requests.send_ns) / 1e6
    assert (latency_ms >= 30).all()  # each job slept 30 ms after its push
    assert set(requests.instance) == {next(iter(set(requests.instance)))}  # one consumer
    assert int((requests.meta_cold == 1).sum()) == 1
    [timeline] = list((cell.path / "records").glob("*queue.json"))
    samples = json.loads(timeline.read_text())["samples"]
    assert samples
    assert {s["replicas"] for s in samples} <= {0, 1, None}
    assert 1 in {s["replicas"] for s in samples}
    summary = json.loads((cell.path / "summary.json").read_text())
    assert summary["segments"][0]["summary"]["errors"] == {"lost": 0, "failed": 0}
    manifest = json.loads((tmp_path / "results" / "manifest.json").read_text())
    assert "cooldown_s" in json.dumps(manifest)  # the scaling knobs land in the manifest
    # The analysis takes the cell as it takes request cells, and the report draws its queue.
    result = aggregate(tree, Settings(), keep_requests=True)
    assert cell.info.id in result.requests
    figure = queue_over_time([result])
    assert not figure.empty
    svg = read_svg(figure.svg)
    assert {"backlog (jobs)", "replicas", "enqueue → completion (ms)"} <= set(svg.texts)
    assert "jobs" in figure.caption
    others = {f.id: f for f in all_figures([result])}
    assert not others["latency-time"].empty


def test_the_keda_example_loads_the_scaling_knobs() -> None:
    config = load_experiment(EXAMPLES / "keda-queue.yaml")
    assert config.keda is not None
    assert (config.keda.polling_interval_s, config.keda.cooldown_s) == (5, 60)


def test_a_queue_that_refuses_the_loader_fails_the_cell_with_its_reason(
    queue: QueueServer, tmp_path: Path
) -> None:
    document = {
        "name": "refused",
        "functions": {"echo": {}},
        "experiments": [
            {"name": "q", "kind": "enqueue", "functions": ["echo"], "rates": [10],
             "duration_s": 0.2, "drain_s": 1},
        ],
    }  # fmt: skip
    with fake_kube() as (state, server):
        outputs = StackOutputs.model_validate(
            keda_outputs("queue", server=server, queue_url=queue.url, password="wrong-password")
        )
        kubelet = Kubelet(state, Consumers(queue))
        kubelet.thread.start()
        campaign = Campaign(
            ExperimentConfig.model_validate(document), outputs, tmp_path / "results",
            base=tmp_path, image="img:1", platform_factory=make_platform,
        )  # fmt: skip
        try:
            report = campaign.run()
        finally:
            campaign.close()
            kubelet.stop.set()
            kubelet.thread.join()
            kubelet.consumers.stop_all()
    [outcome] = report.outcomes
    assert outcome.status == "failed"
    assert outcome.reason is not None
    assert outcome.reason.startswith(f"the queue at {queue.url}: AuthenticationError")
    assert "wrong-password" not in outcome.reason
