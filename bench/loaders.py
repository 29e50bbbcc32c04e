"""Benchmark loads from many loaders (`--loaders`) on this machine and write its section of
docs/performance.md.

    uv run python bench/loaders.py [--cores N] [--seconds 10] [--note TEXT]

With N cores (default: the cores this process may use):

- scaling: a closed loop against HAProxy with N processes ÷ the same with one process
  (bar: ≥ 0.9 × N, so ≥ 1.8 on two cores);
- pool overhead: `--loaders local:N --processes 1` ÷ plain `--processes N`, same closed loop
  (bar: at most 5 % fewer requests per second);
- open loop of 4,000/s from `--loaders local:2` (one process each): achieved ÷ target within
  ±1 %;
- start skew on loopback: the largest loader start skew of the pool runs (bar: ≤ 1 ms).

The clients get the first N cores and HAProxy the rest (`taskset`); on a machine with no more
than N cores HAProxy shares the clients' cores and takes CPU they would scale onto. The figures
only mean something on a machine that is otherwise idle: the document records the load
average before and after, and `--note` says anything else about the conditions. Exits 1 if a
bar is missed (after writing the document).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sections import write_section

REPO = Path(__file__).resolve().parent.parent
OWNER = "bench/loaders.py"
USERS_PER_PROCESS = 50
OPEN_RATE = 4_000
OPEN_LOADERS = 2
OPEN_BAR = 0.01
SCALING_SHARE = 0.9
OVERHEAD_BAR = 0.05
SKEW_BAR_MS = 1.0
CLIENT_SATURATED = 0.8
"""A client process below this share of a core was not what limited the rate (validity's
CPU limit)."""
HAPROXY_CONFIG = """\
global
    maxconn 9000
    nbthread {threads}
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend target
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "hello"
"""


@dataclass
class Run:
    title: str
    command: list[str]
    summary: dict[str, Any]
    seconds: float


@dataclass
class Check:
    name: str
    measured: str
    bar: str
    passed: bool


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


@contextmanager
def haproxy(cpus: list[int]) -> Iterator[str]:
    """HAProxy on `cpus` (one thread each), or unpinned with one thread when there are none."""
    binary = shutil.which("haproxy")
    if binary is None:
        raise SystemExit("bench/loaders.py needs haproxy (make bootstrap installs it)")
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        config = Path(work) / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(threads=max(1, len(cpus)), port=port))
        pin = ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []
        process = subprocess.Popen(
            [*pin, binary, "-db", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"haproxy did not start ({config} rejected?)") from None
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}/"
        finally:
            process.terminate()
            process.wait(timeout=10)


CLIENT_PIN: list[str] = []
"""`taskset -c 0-(N-1)` when the target has cores of its own: the clients keep to theirs."""


def hit(title: str, url: str, *args: str) -> Run:
    command = [*CLIENT_PIN, sys.executable, "-m", "loadgen", "hit", url, "--json", *args]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode not in (0, 99):
        raise SystemExit(f"{title}: loadgen hit exited {done.returncode}: {done.stderr[-2000:]}")
    print(f"{title}: done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    shown = ["loadgen", *command[command.index("-m") + 2 :]]
    return Run(title, shown, json.loads(done.stdout), time.monotonic() - started)


def measure(url: str, cores: int, seconds: int, pairs: int) -> tuple[list[Run], list[Check]]:
    """`pairs` rounds of (1 process, N processes, local:N) in alternating order, so a change
    in the machine's load hits all three alike; the bars take the median of the rounds."""
    duration = f"{seconds}s"
    users = str(USERS_PER_PROCESS * cores)
    runs: list[Run] = []
    scaling: list[tuple[float, float, float]] = []
    overhead: list[tuple[float, float, float]] = []
    busiest: list[float] = []
    steps = {
        "one": ("closed loop, 1 process", ["-c", str(USERS_PER_PROCESS), "--processes", "1"]),
        "many": (f"closed loop, {cores} processes", ["-c", users, "--processes", str(cores)]),
        "pool": (
            f"closed loop, --loaders local:{cores}",
            ["-c", users, "--loaders", f"local:{cores}", "--processes", "1"],
        ),
    }
    for round_ in range(pairs):
        order = ["one", "many", "pool"] if round_ % 2 == 0 else ["pool", "many", "one"]
        done: dict[str, Run] = {}
        for key in order:
            title, args = steps[key]
            done[key] = hit(f"round {round_ + 1}: {title}", url, *args, "--duration", duration)
            runs.append(done[key])
        busiest.append(max(done["many"].summary["client_cpu"]))
        one, many, pool = (done[key].summary["rps"] for key in ("one", "many", "pool"))
        scaling.append((many / one, many, one))
        overhead.append((1 - pool / many, pool, many))
    open_loop = hit(f"open loop {OPEN_RATE:,}/s, --loaders local:{OPEN_LOADERS}", url,
                    "--rate", str(OPEN_RATE), "--duration", duration, "--loaders",
                    f"local:{OPEN_LOADERS}", "--processes", "1")  # fmt: skip
    runs.append(open_loop)
    achieved = open_loop.summary["rps"] / OPEN_RATE
    skews = [
        (loader["start_skew_ms"], loader["clock_uncertainty_ms"])
        for run in runs
        for loader in run.summary.get("loaders", [])
        if loader["start_skew_ms"] is not None
    ]
    skew, uncertainty = max(skews, key=lambda pair: abs(pair[0]))
    median_skew = statistics.median(abs(value) for value, _ in skews)
    ratio = statistics.median(value for value, _, _ in scaling)
    lost = statistics.median(value for value, _, _ in overhead)
    checks = [
        Check(
            f"{cores} processes ÷ 1 process, closed loop, req/s (median of {pairs} rounds)",
            f"{ratio:.2f} (rounds: "
            + "; ".join(f"{many:,.0f} ÷ {one:,.0f}" for _, many, one in scaling)
            + f"; busiest of the {cores} processes: up to {max(busiest):.2f} of a core"
            + (
                ", so the target or the machine, not the clients, set the rate)"
                if max(busiest) < CLIENT_SATURATED
                else ")"
            ),
            f"≥ {SCALING_SHARE * cores:.1f}",
            ratio >= SCALING_SHARE * cores,
        ),
        Check(
            f"--loaders local:{cores} vs --processes {cores}: req/s lost (median of {pairs})",
            f"{lost:+.1%} (rounds: "
            + "; ".join(f"{pool:,.0f} vs {many:,.0f}" for _, pool, many in overhead)
            + ")",
            f"≤ {OVERHEAD_BAR:.0%}",
            lost <= OVERHEAD_BAR,
        ),
        Check(
            f"open loop {OPEN_RATE:,}/s from local:{OPEN_LOADERS}: achieved ÷ target",
            f"{achieved:.4f} (rps {open_loop.summary['rps']:,.1f}; send rate "
            f"{open_loop.summary['send_rate']:,.1f}/s; sched lag p99 "
            f"{open_loop.summary['sched_lag_ms']['p99']} ms)",
            f"within ±{OPEN_BAR:.0%}",
            abs(achieved - 1) <= OPEN_BAR,
        ),
        Check(
            "start skew on loopback: the largest of every loader of every pool run",
            f"{skew:.3f} ms (clock known to ±{uncertainty:.3f} ms; median of the "
            f"{len(skews)} loaders' skews {median_skew:.3f} ms)",
            f"≤ {SKEW_BAR_MS:g} ms",
            abs(skew) <= SKEW_BAR_MS,
        ),
    ]
    return runs, checks


def _summary_excerpt(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("requests", "ok", "rps", "send_rate", "duration_s", "processes", "client_cpu",
            "latency_ms", "sched_lag_ms", "valid", "warnings", "start_skew_ms",
            "clock_uncertainty_ms", "partial")  # fmt: skip
    excerpt = {key: summary[key] for key in keys if key in summary}
    if "loaders" in summary:
        excerpt["loaders"] = [
            {key: loader[key] for key in ("name", "processes", "clock_offset_ms",
             "clock_uncertainty_ms", "start_skew_ms", "requests", "client_cpu", "behind")}
            for loader in summary["loaders"]
        ]  # fmt: skip
    return excerpt


def document(
    cores: int,
    seconds: int,
    runs: list[Run],
    checks: list[Check],
    loads: tuple[str, str],
    note: str,
    target_cpus: list[int],
) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Loads from many loaders (`--loaders`)",
        "",
        f"Written by `bench/loaders.py --cores {cores} --seconds {seconds}` on {now}. Do not "
        "edit: rerun the script on a machine that is otherwise idle (`--cores N` for a bigger "
        "one).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs online, Python "
        f"{platform.python_version()}; load average (1, 5, 15 min) {loads[0]} before, "
        f"{loads[1]} after. "
        + (
            f"HAProxy (the target) runs on CPUs {','.join(map(str, target_cpus))}, the clients "
            f"on CPUs 0-{cores - 1} (`taskset`)."
            if target_cpus
            else "HAProxy (the target, one thread) shares the clients' cores: with no core of "
            "its own it takes CPU the clients would scale onto, so on such a machine the "
            "scaling check measures the machine more than loadgen."
        ),
        "",
    ]
    if note:
        lines += [f"**Conditions:** {note}", ""]
    lines += ["| check | measured | bar | result |", "|---|---|---|---|"]
    lines += [
        f"| {c.name} | {c.measured} | {c.bar} | {'pass' if c.passed else 'FAIL'} |" for c in checks
    ]
    lines += ["", "## Commands and summaries", ""]
    for run in runs:
        shown = " ".join(run.command).replace(run.command[2], "$URL", 1)
        lines += [
            f"### {run.title}",
            "",
            f"Took {run.seconds:.1f} s (the pool runs include starting the LocalCluster).",
            "",
            "```",
            f"$ {shown}",
            json.dumps(_summary_excerpt(run.summary)),
            "```",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3, help="rounds of the closed-loop runs")
    parser.add_argument("--note", default="", help="the conditions, said in the document")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "performance.md")
    args = parser.parse_args()
    before = load_average()
    available = sorted(os.sched_getaffinity(0))
    target_cpus = available[args.cores :]
    if target_cpus:
        CLIENT_PIN[:] = ["taskset", "-c", ",".join(map(str, available[: args.cores]))]
    with haproxy(target_cpus) as url:
        runs, checks = measure(url, args.cores, args.seconds, args.pairs)
    loads = (before, load_average())
    text = document(args.cores, args.seconds, runs, checks, loads, args.note, target_cpus)
    write_section(args.output, OWNER, text)
    for check in checks:
        print(f"{'pass' if check.passed else 'FAIL'}  {check.name}: {check.measured}")
    return 0 if all(check.passed for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
