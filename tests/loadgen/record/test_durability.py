"""Crash safety and flat memory: the properties that matter for long runs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.jitter import SleepProbe
from support.loadgen_servers import Target, parse_json_stdout

from loadgen.engine import RequestSpec
from loadgen.processes.coordinator import execute
from loadgen.record import RecordFile, inspect_run, record_files
from loadgen.workload.schedule import constant_offset
from loadgen.workload.spec import ClosedLoop

RATE = 1000
KILL_AFTER_S = 5.0


def wait_for_headers(directory: Path, processes: int, timeout_s: float = 30.0) -> list[RecordFile]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        paths = record_files(directory)
        if len(paths) == processes:
            try:
                return [RecordFile(path) for path in paths]
            except ValueError:
                pass
        time.sleep(0.05)
    raise AssertionError("the run did not start")


def disk_horizon_ns(directory: Path) -> int:
    """Latest completion (ns since the epoch) that every process has on disk."""
    horizons = []
    for path in record_files(directory):
        with RecordFile(path) as record_file:
            horizons.append(record_file.last_end_ns or 0)
    return min(horizons)


def test_sigkill_loses_at_most_one_second_of_records(haproxy: Target, tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "hit", haproxy.url("/"), "--rate", str(RATE),
         "--duration", "60", "--processes", "2", "--records", str(out), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    probe = SleepProbe()
    try:
        files = wait_for_headers(out, 2)
        header = files[0].header
        for record_file in files:
            record_file.close()
        start_wall_ns = header.wall_anchor_ns + header.start_ns
        kill_at_ns = start_wall_ns + KILL_AFTER_S * 1e9
        # While the run goes on, what is on disk is never more than a second behind (plus
        # however late this machine runs the writer threads and this reader).
        lags_s = []
        with probe:
            time.sleep(1.0)
            while time.time_ns() < kill_at_ns - 0.2e9:
                on_disk_ns = disk_horizon_ns(out)
                lags_s.append((time.time_ns() - header.wall_anchor_ns - on_disk_ns) / 1e9)
                time.sleep(0.15)
            slack_s = probe.slack(0.0)
            assert len(lags_s) >= 5
            assert max(lags_s) < 1.0 + slack_s, (lags_s, slack_s)
            time.sleep(max(0.0, (kill_at_ns - time.time_ns()) / 1e9))
            killed_at_ns = time.time_ns() - start_wall_ns
            os.killpg(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    intended = set()
    for path in record_files(out):
        with RecordFile(path) as record_file:
            assert not record_file.complete
            assert record_file.footer is None
            start = record_file.header.start_ns
            intended.update(record.intended_ns - start for record in record_file.records())
    # The constant schedule says exactly which requests were due; every one due more than a
    # second before the kill (and whatever this machine's scheduling delayed) must be on disk.
    horizon_ns = killed_at_ns - 1_000_000_000 - int(slack_s * 1e9)
    due = [offset for k in range(RATE * 10) if (offset := constant_offset(RATE, k)) < horizon_ns]
    assert len(due) >= (KILL_AFTER_S - 1.2) * RATE - slack_s * RATE
    missing = [offset for offset in due if offset not in intended]
    assert missing == []

    assert inspect_run(out).complete is False
    cli = subprocess.run(
        [sys.executable, "-m", "loadgen", "inspect", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1, cli.stderr  # an incomplete run
    report = parse_json_stdout(cli.stdout)
    assert report["complete"] is False
    assert report["records"] >= len(due)


def test_worker_memory_does_not_grow_with_the_number_of_requests(
    haproxy: Target, tmp_path: Path
) -> None:
    def peak_rss_kib(total: int, name: str) -> int:
        result = execute(
            RequestSpec(url=haproxy.url("/")),
            ClosedLoop(users=20, total=total),
            processes=1,
            out_dir=tmp_path / name,
        )
        assert result.summary.records == total
        return result.reports[0].max_rss_kib

    short = peak_rss_kib(10_000, "short")
    long = peak_rss_kib(150_000, "long")
    # Keeping even 40 bytes per request would add about 5.6 MiB.
    assert long - short < 3 * 1024, (short, long)
