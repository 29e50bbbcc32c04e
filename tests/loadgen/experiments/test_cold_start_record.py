"""A forced cold start is recorded part by part: the campaign loop writes the adapter's `ColdStart`
and the first request it led to, and `aggregate` reads each component from them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.loadgen_servers import ScriptedServer
from support.sample_outputs import outputs_for
from support.scripted_platform import ScriptedPlatform
from support.synthetic_results import EPOCH, CellSpec, _header

from contract.outputs import StackOutputs
from loadgen.analysis.aggregate import Settings, aggregate
from loadgen.engine.errors import ErrorKind
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.config import ExperimentConfig
from loadgen.platforms.base import ColdStart, FunctionSpec, InvokeTarget
from loadgen.record.format import FLAG_WARMUP, record_file_name
from loadgen.record.writer import RecordWriter
from loadgen.results import CellSummary, open_results
from loadgen.results.first_request import first_request
from loadgen.results.models import PlatformRecord

OUTPUTS = outputs_for("openfaas", "k8s", gateway_url="http://127.0.0.1:9", ftp=False)
COST_S = (0.25, 0.5)
INIT_MS = 0.125


class ColdPlatform(ScriptedPlatform):
    """Each forced cold start costs a known time; each segment's request a known call id, whose
    platform record reports an init time."""

    def __init__(self, server: ScriptedServer) -> None:
        super().__init__(server)
        self.forced: list[ColdStart] = []
        self.targets = 0

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        cold = ColdStart(
            method="redeploy", effective_ns=time.time_ns(), cost_s=COST_S[len(self.forced)]
        )
        self.forced.append(cold)
        return cold

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: str = "sync"
    ) -> InvokeTarget:
        self.targets += 1
        return InvokeTarget(url=self.server.url(f"/meta?id=call-{self.targets}"), method="GET")

    async def records(
        self, function: FunctionSpec, start_ns: int, end_ns: int
    ) -> list[PlatformRecord]:
        return [PlatformRecord(id=f"call-{n}", cold=True, init_ms=INIT_MS) for n in (1, 2)]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


def test_forced_cold_starts_are_recorded_component_by_component(
    server: ScriptedServer, tmp_path: Path
) -> None:
    document = {
        "name": "cold",
        "processes": 1,
        "functions": {"echo": {}},
        "experiments": [
            {"name": "c", "kind": "cold", "functions": ["echo"], "method": "forced", "count": 2}
        ],
    }
    platform = ColdPlatform(server)
    campaign = Campaign(
        ExperimentConfig.model_validate(document),
        StackOutputs.model_validate(OUTPUTS),
        tmp_path / "results",
        base=tmp_path,
        platform_factory=lambda outputs, image: platform,  # type: ignore[arg-type,return-value]
    )
    try:
        campaign.run()
    finally:
        campaign.close()
    (cell,) = open_results(tmp_path / "results").cells
    summary = cell.segments()
    assert isinstance(summary, CellSummary)
    for n, (event, forced) in enumerate(zip(summary.segments, platform.forced, strict=True), 1):
        assert event.cold_start is not None
        assert event.cold_start.model_dump() == forced.model_dump()
        first = event.first_request
        assert first is not None
        assert first.ok
        assert first.id == f"call-{n}"
        # The engine starts after the platform said ready, and its request after that.
        assert forced.effective_ns <= first.send_ns <= first.end_ns
    stored = json.loads((cell.path / "summary.json").read_text())
    assert "idle_s" not in stored["segments"][0]  # nothing written that did not happen
    assert stored["segments"][0]["summary"]["requests"] == 1

    result = aggregate(open_results(tmp_path / "results"), Settings())

    def component(name: str, stat: str) -> object:
        (row,) = [
            r
            for r in result.rows
            if r["level"] == "cell" and r["metric"] == f"cold_start_{name}_ms" and r["stat"] == stat
        ]
        return row["value"]

    assert component("to_ready", "max") == 500.0
    assert component("to_ready", "mean") == 375.0
    gaps = [
        (e.first_request.send_ns - e.cold_start.effective_ns) / 1e6
        for e in summary.segments
        if e.first_request is not None and e.cold_start is not None
    ]
    assert component("ready_to_send", "max") == pytest.approx(max(gaps))
    latencies = [
        (e.first_request.end_ns - e.first_request.send_ns) / 1e6
        for e in summary.segments
        if e.first_request is not None
    ]
    assert component("first_latency", "mean") == pytest.approx(sum(latencies) / 2)
    assert component("init", "count") == 2
    assert component("init", "max") == INIT_MS


def test_first_request_is_the_earliest_measured_one_across_files(tmp_path: Path) -> None:
    """Warm-up and dropped arrivals are not the first request; the earliest intended start
    wins across the process files; times are each file's wall anchor plus the record's offset
    from the file's epoch."""
    spec = CellSpec(mode="open", sweep_name="rate", sweep_value=10)
    anchors = (10**18, 10**18 + 7)
    rows = (
        # (intended, send, end, error, flags, call id)
        [(5, 6, 50, ErrorKind.NONE, FLAG_WARMUP, b"w"), (30, 31, 90, ErrorKind.NONE, 0, b"b")],
        [(10, 10, 10, ErrorKind.DROPPED, 0, None), (20, 25, 70, ErrorKind.TIMEOUT, 0, b"a")],
    )
    paths = []
    for index, (anchor, records) in enumerate(zip(anchors, rows, strict=True)):
        path = tmp_path / record_file_name(index)
        writer = RecordWriter(path, _header(spec, index, "run", anchor))
        for intended, send, end, error, flags, call_id in records:
            captured = [] if call_id is None else [(0, call_id)]
            status = 200 if error == ErrorKind.NONE else 0
            writer.append(
                EPOCH + intended, EPOCH + send, EPOCH + end, status, 0, int(error), flags,
                captured, None,
            )  # fmt: skip
        writer.close(warmup_records=0, dropped=0, end_ns=EPOCH + 100, reason="completed")
        paths.append(path)
    first = first_request(paths)
    assert first is not None
    assert first.model_dump() == {
        "send_ns": anchors[1] + 25,
        "end_ns": anchors[1] + 70,
        "ok": False,
        "id": "a",
    }
    assert first_request([]) is None
