"""Record files: round trip, torn tails, flush and fsync cadence, inspect, export."""

import os
import random
import threading
import time
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from support.jitter import SleepProbe

from loadgen.engine.errors import ErrorKind
from loadgen.record import (
    RecordFile,
    RecordFormatError,
    RecordHeader,
    RecordWriter,
    export_run,
    inspect_run,
)
from loadgen.record import writer as writer_module
from loadgen.record.format import FLAG_NEW_CONNECTION, FLAG_WARMUP, PREAMBLE, record_file_name

EPOCH = 1_000_000_000_000


def header(index: int = 0, processes: int = 1, run_id: str = "run-1") -> RecordHeader:
    return RecordHeader(
        run_id=run_id,
        process_index=index,
        processes=processes,
        monotonic_epoch_ns=EPOCH,
        wall_anchor_ns=1_700_000_000_000_000_000,
        start_ns=5_000,
        hostname="test",
        pid=1,
        loadgen_version="0",
        engine="http1",
        method="GET",
        url="http://127.0.0.1/",
        workload={"kind": "open", "rate": 10.0},
        capture_headers=["x-call-id", "x-openwhisk-activation-id"],
        error_classes={0: "ok"},
    )


def sample_rows(count: int, seed: int = 1) -> list[tuple]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        intended = EPOCH + i * 1_000_000
        send = intended + rng.randrange(0, 50_000)
        end = send + rng.randrange(10_000, 5_000_000)
        error = rng.choice([0, 0, 0, int(ErrorKind.HTTP), int(ErrorKind.TIMEOUT)])
        status = 0 if error == ErrorKind.TIMEOUT else (503 if error else 200)
        captured = [(0, f"call-{i}".encode())] if i % 3 == 0 else None
        meta = b'{"instance":"i-%d","cold":false}' % i if i % 5 == 0 else None
        flags = (FLAG_WARMUP if i < 10 else 0) | (FLAG_NEW_CONNECTION if i % 7 == 0 else 0)
        rows.append((intended, send, end, status, i * 3, error, flags, captured, meta))
    return rows


def write_file(path: Path, rows: list[tuple], flush_every: int = 100, close: bool = True) -> None:
    writer = RecordWriter(path, header())
    for position, row in enumerate(rows, start=1):
        writer.append(*row)
        if position % flush_every == 0:
            writer.flush()
    if close:
        writer.close(warmup_records=10, dropped=0, end_ns=EPOCH + 10**12, reason="completed")
    else:
        writer.flush()
        wait_for_count(path, len(rows))


def wait_for_count(path: Path, count: int, timeout_s: float = 30.0) -> int:
    """Wait until the writer thread has put `count` records in the file; the count seen."""
    deadline = time.monotonic() + timeout_s
    seen = 0
    while time.monotonic() < deadline:
        with RecordFile(path) as record_file:
            seen = record_file.record_count
        if seen >= count:
            break
        time.sleep(0.005)
    return seen


def as_tuple(record) -> tuple:
    return (
        record.intended_ns + EPOCH,
        record.send_ns + EPOCH,
        record.end_ns + EPOCH,
        record.status,
        record.bytes,
        record.error,
        record.flags,
        list(record.captured) or None,
        record.meta,
    )


def test_round_trip(tmp_path: Path) -> None:
    rows = sample_rows(1234)
    path = tmp_path / "r.lgrec"
    write_file(path, rows)
    with RecordFile(path) as record_file:
        assert [as_tuple(record) for record in record_file.records()] == rows
        assert record_file.complete
        assert record_file.footer is not None
        assert record_file.footer.records == 1234
        assert record_file.record_count == 1234
        assert record_file.header.capture_headers == ["x-call-id", "x-openwhisk-activation-id"]
        assert record_file.last_end_ns == max(row[2] for row in rows) - EPOCH


def test_reader_keeps_everything_before_a_torn_tail(tmp_path: Path) -> None:
    rows = sample_rows(500)
    whole = tmp_path / "whole.lgrec"
    write_file(whole, rows, flush_every=50)
    data = whole.read_bytes()
    _, _, header_length = PREAMBLE.unpack_from(data)
    blocks_start = PREAMBLE.size + header_length
    rng = random.Random(9)
    cuts = {rng.randrange(blocks_start, len(data)) for _ in range(60)}
    cuts = sorted(cuts | {blocks_start, blocks_start + 1, len(data) - 1})
    for cut in cuts:
        torn = tmp_path / "torn.lgrec"
        torn.write_bytes(data[:cut])
        with RecordFile(torn) as record_file:
            got = [as_tuple(record) for record in record_file.records()]
            assert got == rows[: len(got)]
            assert len(got) % 50 == 0
            assert not record_file.complete
        torn.unlink()
    torn.write_bytes(data[: blocks_start - 1])
    with pytest.raises(RecordFormatError):
        RecordFile(torn)


def test_reader_stops_at_a_corrupt_block(tmp_path: Path) -> None:
    rows = sample_rows(300)
    path = tmp_path / "r.lgrec"
    write_file(path, rows, flush_every=100)
    data = bytearray(path.read_bytes())
    with RecordFile(path) as record_file:
        second = record_file.blocks()[1]
    data[second.offset + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    with RecordFile(path) as record_file:
        assert [as_tuple(record) for record in record_file.records()] == rows[:100]
        assert record_file.torn
        assert not record_file.complete


def test_not_a_record_file(tmp_path: Path) -> None:
    path = tmp_path / "x.lgrec"
    path.write_bytes(b"hello world, not records at all")
    with pytest.raises(RecordFormatError):
        RecordFile(path)
    path.write_bytes(b"")
    with pytest.raises(RecordFormatError):
        RecordFile(path)


class FakeClock:
    """Stands in for the writer's `time` module: CLOCK_MONOTONIC moves only when the test
    says so, and the test can wait until the writer thread has read it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.reads = 0
        self._changed = threading.Condition()

    def monotonic(self) -> float:
        with self._changed:
            self.reads += 1
            self._changed.notify_all()
            return self.now

    def wait_for_reads(self, reads: int, timeout_s: float = 30.0) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.reads >= reads, timeout_s), (
                f"the writer thread read the clock {self.reads} times, not {reads}"
            )


class RecordingFsync:
    """Counts fsync calls (made by the writer thread) and lets the test wait for one."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        self.path = path
        self.clock = clock
        self.records_at_sync: list[int] = []
        self._clock_reads: list[int] = []
        self._real = os.fsync
        self._changed = threading.Condition()

    def __call__(self, fd: int) -> None:
        self._real(fd)
        with RecordFile(self.path) as record_file:
            count = record_file.record_count
        with self._changed:
            self.records_at_sync.append(count)
            self._clock_reads.append(self.clock.reads)
            self._changed.notify_all()

    @property
    def calls(self) -> int:
        with self._changed:
            return len(self.records_at_sync)

    def wait_for(self, calls: int, timeout_s: float = 30.0) -> None:
        """Until the writer has synced `calls` times and noted the time of the last sync (the
        clock must not move in between, or the writer would note a later time)."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.records_at_sync) >= calls, timeout_s), (
                f"{len(self.records_at_sync)} fsync calls, expected {calls}"
            )
            reads = self._clock_reads[calls - 1]
        self.clock.wait_for_reads(reads + 1, timeout_s)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(writer_module, "time", fake)
    return fake


def test_flushed_records_reach_the_file_without_waiting_for_a_sync(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The clock never moves, so no fsync is due: a flush alone puts records in the file."""
    path = tmp_path / "live.lgrec"
    with SleepProbe() as probe:
        writer = RecordWriter(path, header())
        for row in sample_rows(40):
            writer.append(*row)
        writer.flush()
        # Written by the thread as soon as it is handed the block: not at the next flush,
        # fsync or idle wake-up (every 0.25 s), only as late as this machine runs the thread.
        assert wait_for_count(path, 40, timeout_s=probe.slack(0.1)) == 40
    with RecordFile(path) as record_file:
        assert not record_file.complete
    writer.close(warmup_records=0, dropped=0, end_ns=EPOCH, reason="completed")
    with RecordFile(path) as record_file:
        assert record_file.complete


def test_fsync_runs_within_a_second_of_new_records_and_not_when_idle(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sync.lgrec"
    fsync = RecordingFsync(path, clock)
    monkeypatch.setattr(writer_module.os, "fsync", fsync)
    rows = iter(sample_rows(100))

    def hand_over(writer: RecordWriter, count: int = 10) -> None:
        for _ in range(count):
            writer.append(*next(rows))
        writer.flush()

    writer = RecordWriter(path, header())
    clock.wait_for_reads(1)  # the thread's start: its last sync is "now"
    hand_over(writer)
    wait_for_count(path, 10)
    clock.wait_for_reads(2)  # the thread checked the clock after writing
    assert fsync.calls == 0, "synced before a second had passed"

    # Nothing new arrives, but what was written is a second old: the thread's idle wake-up
    # syncs it.
    clock.now += writer_module.FSYNC_EVERY_S
    fsync.wait_for(1)
    assert fsync.records_at_sync == [10]

    # Half a second later a block arrives: written at once, synced only a second after the
    # last sync, at the next wake-up.
    clock.now += 0.5
    reads = clock.reads
    hand_over(writer)
    wait_for_count(path, 20)
    clock.wait_for_reads(reads + 1)
    assert fsync.calls == 1
    clock.now += 0.5
    fsync.wait_for(2)
    assert fsync.records_at_sync == [10, 20]

    # Clean for ten seconds: no sync at all (the thread keeps waking up to check).
    clock.now += 10
    time.sleep(4 * writer_module._IDLE_WAKE_S)
    assert fsync.calls == 2

    # A block after a long quiet spell is more than a second after the last sync: synced at
    # once.
    hand_over(writer)
    fsync.wait_for(3)
    assert fsync.records_at_sync == [10, 20, 30]
    writer.close(warmup_records=0, dropped=0, end_ns=EPOCH, reason="completed")
    assert fsync.calls == 4, "close syncs the footer"
    with RecordFile(path) as record_file:
        assert record_file.complete
        assert record_file.record_count == 30


def test_inspect_reports_complete_and_incomplete_runs(tmp_path: Path) -> None:
    done = tmp_path / "done"
    done.mkdir()
    for index in range(2):
        writer = RecordWriter(done / record_file_name(index), header(index, 2))
        for row in sample_rows(30, seed=index):
            writer.append(*row)
        writer.close(warmup_records=0, dropped=0, end_ns=EPOCH + 10**9, reason="completed")
    report = inspect_run(done)
    assert (report.records, report.complete, report.processes) == (60, True, 2)
    assert report.started == "2023-11-14T22:13:20.000005Z"
    assert report.ended is not None
    assert report.ended > report.started

    crashed = tmp_path / "crashed"
    crashed.mkdir()
    write_file(crashed / record_file_name(0), sample_rows(30), flush_every=10, close=False)
    report = inspect_run(crashed)
    assert (report.records, report.complete) == (30, False)

    missing = tmp_path / "missing"
    missing.mkdir()
    writer = RecordWriter(missing / record_file_name(0), header(0, 2))
    writer.close(warmup_records=0, dropped=0, end_ns=EPOCH, reason="completed")
    report = inspect_run(missing)
    assert not report.complete
    assert any("no record file for process 1 of 2" in problem for problem in report.problems)


def _closed_run(directory: Path, run_id: str, processes: int, prefix: str = "") -> None:
    directory.mkdir(exist_ok=True)
    for index in range(processes):
        path = directory / f"{prefix}{record_file_name(index)}"
        writer = RecordWriter(path, header(index, processes, run_id=run_id))
        for row in sample_rows(5, seed=index):
            writer.append(*row)
        writer.close(warmup_records=0, dropped=0, end_ns=EPOCH + 10**9, reason="completed")


def test_inspect_takes_the_segments_of_a_cell_as_separate_whole_runs(tmp_path: Path) -> None:
    """A cold-start cell: segment 0 (the forced cold start's request) and segment 1 (load) are
    two engine runs with their own run ids; that is complete, not "files of different runs"."""
    _closed_run(tmp_path, "cold", 1, prefix="s000-")
    _closed_run(tmp_path, "load", 2, prefix="s001-")
    report = inspect_run(tmp_path)
    assert (report.complete, report.segments, report.records) == (True, 2, 15)
    assert report.problems == []
    assert report.run_id is None
    assert [file.segment for file in report.files] == [0, 1, 1]

    (tmp_path / f"s001-{record_file_name(1)}").unlink()
    report = inspect_run(tmp_path)
    assert not report.complete
    assert report.problems == [
        "segment 1: no record file for process 1 of 2 (it did not start, or its file was removed)"
    ]


def test_inspect_names_what_is_wrong_in_words(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    _closed_run(mixed, "run-a", 1)
    writer = RecordWriter(mixed / record_file_name(1), header(1, 1, run_id="run-b"))
    writer.close(warmup_records=0, dropped=0, end_ns=EPOCH, reason="completed")
    report = inspect_run(mixed)
    assert not report.complete
    assert any(
        "records of 2 different runs are mixed in one directory" in problem
        for problem in report.problems
    )

    torn = tmp_path / "torn"
    torn.mkdir()
    write_file(torn / record_file_name(0), sample_rows(30), flush_every=10, close=False)
    with (torn / record_file_name(0)).open("ab") as handle:
        handle.write(b"RECS\x01")
    (problem,) = inspect_run(torn).problems
    assert problem.startswith(f"{record_file_name(0)}: ends in a torn or corrupt block")
    assert "the 30 records before it are intact" in problem

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    write_file(unfinished / record_file_name(0), sample_rows(3), flush_every=1, close=False)
    (problem,) = inspect_run(unfinished).problems
    assert "no footer: process 0 did not finish" in problem


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trip(tmp_path: Path, fmt: str) -> None:
    run = tmp_path / "run"
    run.mkdir()
    rows = sample_rows(70_000)
    write_file(run / record_file_name(0), rows, flush_every=5000)
    output = tmp_path / f"records.{fmt}"
    assert export_run(run, output, fmt) == len(rows)  # type: ignore[arg-type]
    if fmt == "parquet":
        table = pq.read_table(output)
    else:
        nullable = pa_csv.ConvertOptions(strings_can_be_null=True)
        table = pa_csv.read_csv(output, convert_options=nullable)
    columns = table.to_pydict()
    assert columns["intended_ns"] == [row[0] - EPOCH for row in rows]
    assert columns["end_ns"] == [row[2] - EPOCH for row in rows]
    assert columns["status"] == [row[3] for row in rows]
    assert columns["latency_ns"] == [row[2] - row[0] for row in rows]
    assert columns["service_ns"] == [row[2] - row[1] for row in rows]
    expected_errors = [
        None if row[5] == 0 else ("http_503" if row[5] == ErrorKind.HTTP else "timeout")
        for row in rows
    ]
    assert columns["error"] == expected_errors
    assert columns["ok"] == [row[5] == 0 for row in rows]
    assert columns["warmup"] == [bool(row[6] & FLAG_WARMUP) for row in rows]
    assert columns["header_x_call_id"] == [
        row[7][0][1].decode() if row[7] else None for row in rows
    ]
    assert columns["meta"] == [row[8].decode() if row[8] else None for row in rows]
    if fmt == "parquet":
        metadata = pq.read_schema(output).metadata
        assert metadata[b"loadgen.wall_anchor_ns"] == b"1700000000000000000"
