"""Throughput counts the time a cell's engine runs were active, not the idle gaps between its
segments (idle trace minutes, cold-start waits); the wall span stays as its own row."""

import json
from pathlib import Path

import pytest
from support.synthetic_results import EPOCH, CampaignSpec, write_campaign

from loadgen.analysis.aggregate import Aggregate, Settings, aggregate
from loadgen.analysis.requests import load_requests
from loadgen.analysis.stats import active_s
from loadgen.engine.errors import ERROR_NAMES, ErrorKind
from loadgen.record.format import RecordHeader, record_file_name
from loadgen.record.writer import RecordWriter
from loadgen.report.html import render_report
from loadgen.results import open_results

FAST = Settings()
S = 1_000_000_000
MS = 1_000_000


def _header(run_id: str, index: int, processes: int) -> RecordHeader:
    return RecordHeader(
        run_id=run_id,
        process_index=index,
        processes=processes,
        monotonic_epoch_ns=EPOCH,
        wall_anchor_ns=1_750_000_000 * S,
        start_ns=0,
        hostname="test",
        pid=1,
        loadgen_version="0",
        engine="http1",
        method="POST",
        url="http://gateway.test/function/echo",
        workload={"kind": "open", "rate": 10.0, "duration_s": 10.0},
        capture_headers=[],
        error_classes={int(code): name for code, name in ERROR_NAMES.items()},
    )


def _segment(
    records: Path, index: int, start_s: float, requests: int, *, processes: int = 1, errors: int = 0
) -> tuple[int, int]:
    """One engine run as the campaign loop leaves it (files `sNNN-records-PPP.lgrec`, one
    run_id): `requests` arrivals 100 ms apart from `start_s`, each answered in 20 ms, the last
    `errors` of them timeouts. Returns (first intended, last end) in ns since the epoch."""
    run_id = f"segment-{index}"
    writers = [
        RecordWriter(records / f"s{index:03d}-{record_file_name(p)}", _header(run_id, p, processes))
        for p in range(processes)
    ]
    first = round(start_s * S)
    for k in range(requests):
        intended = first + k * 100 * MS
        failed = k >= requests - errors
        writers[k % processes].append(
            intended,
            intended,
            intended + 20 * MS,
            0 if failed else 200,
            0,
            int(ErrorKind.TIMEOUT) if failed else int(ErrorKind.NONE),
            0,
            None,
            None,
        )
    last = first + (requests - 1) * 100 * MS + 20 * MS
    for writer in writers:
        writer.close(warmup_records=0, dropped=0, end_ns=last, reason="completed")
    return first, last


def _cell(root: Path, run: int, segments: list[tuple[float, int]], errors: int = 0) -> Path:
    """A trace cell of run `run`: one segment per (start second, requests)."""
    cell_id = f"t--echo--none--run{run:03d}"
    records = root / "cells" / cell_id / "records"
    records.mkdir(parents=True)
    for index, (start, count) in enumerate(segments):
        _segment(records, index, start, count, processes=2, errors=errors)
    info = {
        "id": cell_id,
        "function": "echo",
        "mode": "trace",
        "sweep": {"name": "none"},
        "run": run,
        "status": "complete",
        "started": "2025-01-01T00:00:00Z",
    }
    (records.parent / "cell.json").write_text(json.dumps(info))
    return records.parent


def _value(result: Aggregate, **match: object) -> float:
    rows = [r for r in result.rows if all(r[k] == v for k, v in match.items())]
    assert len(rows) == 1, (match, rows)
    value = rows[0]["value"]
    assert isinstance(value, float)
    return value


def test_union_of_intervals_counts_overlaps_once_and_skips_gaps() -> None:
    assert active_s([]) == 0.0
    assert active_s([(0, 10 * S)]) == 10.0
    assert active_s([(30 * S, 40 * S), (0, 10 * S)]) == 20.0
    assert active_s([(0, 10 * S), (5 * S, 15 * S), (15 * S, 16 * S), (20 * S, 25 * S)]) == 21.0
    assert active_s([(0, 10 * S), (2 * S, 3 * S)]) == 10.0
    assert active_s([(5, 5)]) == 0.0


def test_a_cell_with_an_idle_gap_divides_by_its_active_time(tmp_path: Path) -> None:
    """Two segments of about 10 s with 60 s of nothing between them: about 20 s active."""
    write_campaign(tmp_path, CampaignSpec(cells=()))
    cell = _cell(tmp_path, 0, [(0.0, 100), (70.0, 100)])
    requests = load_requests(sorted((cell / "records").glob("*.lgrec")))
    assert [(r.run_id, r.requests) for r in requests.engine_runs] == [
        ("segment-0", 100),
        ("segment-1", 100),
    ]
    result = aggregate(open_results(tmp_path), FAST)
    at_cell = {"level": "cell", "subset": "all"}
    # Each segment: first intended at its start, last completion 9.9 s + 20 ms later.
    assert _value(result, metric="active_s", stat="value", **at_cell) == pytest.approx(2 * 9.92)
    assert _value(result, metric="duration_s", stat="value", **at_cell) == pytest.approx(79.92)
    assert _value(result, metric="throughput_rps", stat="value", **at_cell) == pytest.approx(
        200 / (2 * 9.92)
    )


def test_groups_pool_and_take_the_median_of_active_throughput(tmp_path: Path) -> None:
    write_campaign(tmp_path, CampaignSpec(cells=()))
    # Run 0: one 10 s segment. Run 1: the same load cut in two with a 50 s gap. Run 2: three
    # segments, the last 10 of whose 40 requests fail (ok only counts).
    _cell(tmp_path, 0, [(0.0, 100)])
    _cell(tmp_path, 1, [(0.0, 50), (55.0, 50)])
    _cell(tmp_path, 2, [(0.0, 40), (100.0, 40), (200.0, 40)], errors=10)
    result = aggregate(open_results(tmp_path), FAST)
    active = {0: 9.92, 1: 2 * 4.92, 2: 3 * 3.92}
    ok = {0: 100, 1: 100, 2: 3 * 30}
    for run in active:
        at_cell = {"level": "cell", "run": run, "subset": "all"}
        assert _value(result, metric="active_s", stat="value", **at_cell) == pytest.approx(
            active[run]
        )
        assert _value(result, metric="throughput_rps", stat="value", **at_cell) == pytest.approx(
            ok[run] / active[run]
        )
    group = {"level": "group", "subset": "all"}
    assert _value(result, metric="active_s", stat="total", **group) == pytest.approx(
        sum(active.values())
    )
    assert _value(result, metric="duration_s", stat="total", **group) == pytest.approx(
        9.92 + 59.92 + 203.92
    )
    assert _value(result, metric="throughput_rps", stat="pooled", **group) == pytest.approx(
        sum(ok.values()) / sum(active.values())
    )
    rates = sorted(ok[run] / active[run] for run in active)
    assert _value(result, metric="throughput_rps", stat="run_median", **group) == pytest.approx(
        rates[1]
    )


def test_the_report_says_what_throughput_divides_by(tmp_path: Path) -> None:
    write_campaign(tmp_path, CampaignSpec(cells=()))
    _cell(tmp_path, 0, [(0.0, 100), (70.0, 100)])
    result = aggregate(open_results(tmp_path), FAST)
    page = render_report([result], None, [])
    results = page[page.index("<h2>Results</h2>") : page.index("<h2>Comparison</h2>")]
    assert "ok responses per second of active time" in results
    assert "<code>active_s</code>" in results
    # The group's throughput cell shows the active-time figure (200 ok in 19.84 s), not the
    # wall-span one (200 in 79.92 s), at the report's three significant digits.
    assert ">10.1<" in results
    assert "2.50" not in results
