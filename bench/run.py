"""Benchmark `loadgen hit` beside wrk and hey on this machine and write docs/performance.md.

    uv run python bench/run.py [--output docs/performance.md]

Needs at least two CPUs, haproxy, wrk, hey and taskset. Every target runs on CPU 0 and every
client on CPU 1, one pair at a time, each step with a freshly started target. The document is
written from what the tools print; no figure in it is typed by hand. Exits 1 if a bar is missed.

Other processes on the machine distort such measurements, so each step measures the user CPU
time that neither its client nor its target used while it ran; a step during which that exceeds
5% of a core is repeated (up to three attempts, each after waiting for the machine to be quiet),
and the document shows the interference of the attempt it reports.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sections import write_section

REPO = Path(__file__).resolve().parent.parent
TARGET_CPU = "0"
CLIENT_CPU = "1"
CLOSED_USERS = 50
CLOSED_REQUESTS = 500_000
WRK_SECONDS = 5
OPEN_SECONDS = 10
OPEN_BARS = ((2_000, 0.01), (20_000, 0.02))
STALL_RATE = 1_000
STALL_SECONDS = 5
STALL_AFTER_S = 2.0
STALL_FOR_S = 1.0
STALL_BAR_MS = 900.0
HEY_STALL_WORKERS = 10
OVERHEAD_USERS = 10
OVERHEAD_SECONDS = 10
OVERHEAD_DELAY_MS = 10.0
OVERHEAD_BAR_MS = 0.2
OVERHEAD_PAIRS = 3
THROUGHPUT_BAR = 1.5
RAW_OUTPUT_LINES = 60
QUIET_BUSY = 0.05
QUIET_WAIT_S = 300.0
INTERFERENCE_LIMIT_CORES = 0.05
ATTEMPTS = 3
TICKS_PER_S = os.sysconf("SC_CLK_TCK")

HAPROXY_CONFIG = """\
global
    maxconn 9000
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend target
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "hello"
"""

TargetFactory = Callable[[int], list[str]]
"""Command line of a target server listening on the given port."""


@dataclass
class Step:
    """One client command as run against a fresh target, and what it printed."""

    title: str
    command: list[str]
    output: str
    seconds: float
    interference_cores: float
    attempt: int


@dataclass
class Check:
    name: str
    measured: str
    bar: str
    passed: bool


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verdict(check: Check) -> str:
    return "pass" if check.passed else "FAIL"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def target_server(command: list[str], port: int) -> Iterator[int]:
    """A target pinned to the target CPU for the duration of the block; yields its pid."""
    process = subprocess.Popen(
        ["taskset", "-c", TARGET_CPU, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        time.sleep(0.3)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def machine_user_ticks() -> int:
    """User and nice time of all CPUs, in clock ticks."""
    fields = Path("/proc/stat").read_text().split()[1:3]
    return int(fields[0]) + int(fields[1])


def process_user_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[11])


def children_user_s() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime


def machine_busy(interval_s: float) -> float:
    """Fraction of all CPUs' time spent busy over `interval_s` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    busy_before, total_before = sample()
    time.sleep(interval_s)
    busy_after, total_after = sample()
    return (busy_after - busy_before) / max(1, total_after - total_before)


def wait_for_quiet() -> None:
    deadline = time.monotonic() + QUIET_WAIT_S
    while machine_busy(1.0) >= QUIET_BUSY and time.monotonic() < deadline:
        continue


def measure(
    report: Report,
    title: str,
    target: TargetFactory,
    client: Callable[[int, int], list[str]],
) -> Step:
    """Run `client(port, attempt)` on the client CPU against a fresh target on the target CPU.

    Repeats the step when other processes used more than 5% of a core while it ran.
    """
    step: Step | None = None
    for attempt in range(1, ATTEMPTS + 1):
        wait_for_quiet()
        port = free_port()
        with target_server(target(port), port) as target_pid:
            command = ["taskset", "-c", CLIENT_CPU, *client(port, attempt)]
            machine_before = machine_user_ticks()
            target_before = process_user_ticks(target_pid)
            client_before = children_user_s()
            started = time.monotonic()
            result = subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=600
            )
            seconds = time.monotonic() - started
            others_s = (
                (machine_user_ticks() - machine_before) / TICKS_PER_S
                - (process_user_ticks(target_pid) - target_before) / TICKS_PER_S
                - (children_user_s() - client_before)
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"{title}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        interference = max(0.0, others_s) / seconds
        step = Step(title, command, result.stdout + result.stderr, seconds, interference, attempt)
        if interference <= INTERFERENCE_LIMIT_CORES:
            break
    assert step is not None
    report.steps.append(step)
    return step


def loadgen(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "loadgen", "hit", url, *args, "--processes", "1", "--json"]


def loadgen_summary(step: Step) -> dict[str, Any]:
    return json.loads(step.output.strip().splitlines()[-1])


def hey_rps(output: str) -> float:
    return float(_search(r"Requests/sec:\s+([0-9.]+)", output))


def hey_p99_ms(output: str) -> float:
    return float(_search(r"99%+ in ([0-9.]+) secs", output)) * 1000


def wrk_rps(output: str) -> float:
    return float(_search(r"Requests/sec:\s+([0-9.]+)", output))


def wrk_p50_ms(output: str) -> float:
    match = re.search(r"^\s+50%\s+([0-9.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no 50% line in wrk output:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


def _search(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"pattern {pattern!r} not found in:\n{text}")
    return match.group(1)


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


def haproxy(work: Path) -> TargetFactory:
    def command(port: int) -> list[str]:
        config = work / f"haproxy-{port}.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=port))
        return ["haproxy", "-db", "-f", str(config)]

    return command


def bench_server(kind: str, *args: str) -> TargetFactory:
    def command(port: int) -> list[str]:
        script = str(REPO / "bench" / "servers.py")
        return [sys.executable, script, kind, "--port", str(port), *args]

    return command


def closed_loop(report: Report, work: Path) -> None:
    target = haproxy(work)
    wrk = measure(
        report,
        "wrk, closed loop",
        target,
        lambda port, _: ["wrk", "-t1", f"-c{CLOSED_USERS}", f"-d{WRK_SECONDS}s", url(port)],
    )
    hey = measure(
        report,
        "hey, closed loop",
        target,
        lambda port, _: ["hey", "-n", str(CLOSED_REQUESTS), "-c", str(CLOSED_USERS), url(port)],
    )
    lg = measure(
        report,
        "loadgen, closed loop, records written",
        target,
        lambda port, attempt: loadgen(
            url(port),
            "-c",
            str(CLOSED_USERS),
            "-n",
            str(CLOSED_REQUESTS),
            "--records",
            str(work / f"closed-loop-records-{attempt}"),
        ),
    )
    summary = loadgen_summary(lg)
    ratio = summary["rps"] / hey_rps(hey.output)
    report.checks.append(
        Check(
            "closed loop, 1 process, 50 users, with records: loadgen req/s ÷ hey req/s",
            f"{ratio:.2f} ({summary['rps']:,.0f} ÷ {hey_rps(hey.output):,.0f}; "
            f"wrk {wrk_rps(wrk.output):,.0f})",
            f"≥ {THROUGHPUT_BAR}",
            ratio >= THROUGHPUT_BAR,
        )
    )
    records = Path(summary["records_dir"])
    command = [sys.executable, "-m", "loadgen", "inspect", str(records), "--json"]
    inspected = subprocess.run(command, capture_output=True, text=True, check=True)
    report.steps.append(
        Step("loadgen inspect of the closed-loop records", command, inspected.stdout, 0.0, 0.0, 1)
    )
    on_disk = json.loads(inspected.stdout)
    report.checks.append(
        Check(
            "closed-loop records read back: count = requests, files complete",
            f"{on_disk['records']:,} records, {summary['requests']:,} requests, "
            f"complete {on_disk['complete']}",
            "equal, complete",
            on_disk["records"] == summary["requests"] == CLOSED_REQUESTS and on_disk["complete"],
        )
    )


def open_loop(report: Report, work: Path) -> None:
    for rate, tolerance in OPEN_BARS:
        step = measure(
            report,
            f"loadgen, open loop {rate:,}/s",
            haproxy(work),
            lambda port, _, rate=rate: loadgen(
                url(port), "--rate", str(rate), "--duration", str(OPEN_SECONDS)
            ),
        )
        summary = loadgen_summary(step)
        achieved = summary["rps"] / rate
        sent = summary["send_rate"] / rate
        report.checks.append(
            Check(
                f"open loop {rate:,}/s for {OPEN_SECONDS} s: achieved ÷ target",
                f"{achieved:.4f} (rps {summary['rps']:,.1f}; send rate ÷ target {sent:.4f}; "
                f"sched_lag p99 {summary['sched_lag_ms']['p99']} ms; ok {summary['ok']:,}/"
                f"{summary['requests']:,})",
                f"within ±{tolerance:.0%}",
                abs(achieved - 1) <= tolerance
                and abs(sent - 1) <= tolerance
                and summary["ok"] == summary["requests"],
            )
        )


def stall(report: Report) -> None:
    target = bench_server(
        "stall", "--stall-after", str(STALL_AFTER_S), "--stall-for", str(STALL_FOR_S)
    )
    lg = measure(
        report,
        f"loadgen, open loop {STALL_RATE:,}/s against a server that stalls {STALL_FOR_S:g} s",
        target,
        lambda port, _: loadgen(
            url(port), "--rate", str(STALL_RATE), "--duration", str(STALL_SECONDS)
        ),
    )
    per_worker = STALL_RATE // HEY_STALL_WORKERS
    hey = measure(
        report,
        f"hey, {HEY_STALL_WORKERS} workers × {per_worker}/s against the same kind of stall",
        target,
        lambda port, _: [
            "hey",
            "-z",
            f"{STALL_SECONDS}s",
            "-c",
            str(HEY_STALL_WORKERS),
            "-q",
            str(per_worker),
            url(port),
        ],
    )
    p99 = loadgen_summary(lg)["latency_ms"]["p99"]
    hey_p99 = hey_p99_ms(hey.output)
    expected = (STALL_FOR_S - 0.01 * STALL_SECONDS) * 1000
    shows = "does not show" if hey_p99 < STALL_BAR_MS else "shows"
    report.checks.append(
        Check(
            f"stall of {STALL_FOR_S:g} s in a {STALL_SECONDS} s open-loop run at {STALL_RATE:,}/s: "
            "loadgen latency p99",
            f"{p99:,.1f} ms (hey's p99: {hey_p99:,.1f} ms, which {shows} the stall)",
            f"≥ {STALL_BAR_MS:g} ms",
            p99 >= STALL_BAR_MS,
        )
    )
    report.notes.append(
        f"Stall arithmetic: arrivals are uniform, so the requests caught by a {STALL_FOR_S:g} s "
        f"stall wait between 0 and {STALL_FOR_S:g} s; the slowest 1% of a {STALL_SECONDS} s run "
        f"are those that arrived in the first {0.01 * STALL_SECONDS:g} s of the stall, so an "
        f"instrument that times from the intended send should report p99 ≈ {expected:,.0f} ms "
        f"(with a 10 s run it would be ≈ {(STALL_FOR_S - 0.1) * 1000:,.0f} ms). hey sends from "
        f"{HEY_STALL_WORKERS} workers that block during the stall, so only {HEY_STALL_WORKERS} "
        "of its requests see it (coordinated omission)."
    )


def overhead(report: Report) -> None:
    """Alternate wrk and loadgen a few times: both see the same drift of the machine."""
    target = bench_server("sleep", "--delay-ms", str(OVERHEAD_DELAY_MS))
    differences = []
    pairs = []
    for pair in range(1, OVERHEAD_PAIRS + 1):
        wrk = measure(
            report,
            f"wrk against a server that answers after {OVERHEAD_DELAY_MS:g} ms "
            f"(pair {pair} of {OVERHEAD_PAIRS})",
            target,
            lambda port, _: [
                "wrk",
                "-t1",
                f"-c{OVERHEAD_USERS}",
                f"-d{OVERHEAD_SECONDS}s",
                "--latency",
                url(port),
            ],
        )
        lg = measure(
            report,
            f"loadgen against the same kind of server, {OVERHEAD_USERS} users "
            f"(pair {pair} of {OVERHEAD_PAIRS})",
            target,
            lambda port, _: loadgen(
                url(port), "-c", str(OVERHEAD_USERS), "--duration", str(OVERHEAD_SECONDS)
            ),
        )
        loadgen_p50 = loadgen_summary(lg)["latency_ms"]["p50"]
        wrk_p50 = wrk_p50_ms(wrk.output)
        differences.append(loadgen_p50 - wrk_p50)
        pairs.append(f"{loadgen_p50:.3f} − {wrk_p50:.3f}")
    difference = statistics.median(differences)
    report.checks.append(
        Check(
            f"overhead at a known {OVERHEAD_DELAY_MS:g} ms service time, {OVERHEAD_USERS} users: "
            f"loadgen p50 − wrk p50, median of {OVERHEAD_PAIRS} alternating pairs",
            f"{difference:+.3f} ms (pairs: {'; '.join(pairs)})",
            f"≤ {OVERHEAD_BAR_MS} ms",
            difference <= OVERHEAD_BAR_MS,
        )
    )


def first_line(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def quiet_output(command: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    return result.stdout.strip()


def environment() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    hey_version = quiet_output(["dpkg-query", "-W", "-f", "${Version}", "hey"])
    commit = quiet_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO)
    return [
        ("CPU", f"{models[0] if models else platform.processor()} × {os.cpu_count()} online"),
        ("Kernel", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        (
            "loadgen",
            f"faasbench {version('faasbench')} (commit {commit or 'unknown'}); "
            f"uvloop {version('uvloop')}, httptools {version('httptools')}, "
            f"hdrhistogram {version('hdrhistogram')}",
        ),
        ("HAProxy", first_line(["haproxy", "-v"])),
        ("wrk", first_line(["wrk", "-v"])),
        ("hey", f"Debian package {hey_version or 'unknown'} (hey prints no version)"),
    ]


def display(command: list[str], work: Path) -> str:
    """The command as a reader would type it: no interpreter path, no temporary directory."""
    words = []
    for word in command:
        shown = "python" if word == sys.executable else word
        shown = shown.replace(str(work), "$WORK").replace(str(REPO) + "/", "")
        words.append(shown)
    return " ".join(words)


def raw(output: str, work: Path) -> str:
    lines = output.replace(str(work), "$WORK").rstrip().splitlines()
    if len(lines) > RAW_OUTPUT_LINES:
        omitted = len(lines) - RAW_OUTPUT_LINES
        lines = [*lines[:RAW_OUTPUT_LINES], f"[{omitted} more lines not shown]"]
    return "\n".join(lines)


def render(report: Report, env: list[tuple[str, str]], work: Path, finished: str) -> str:
    out = [
        "# Performance of `loadgen hit` beside wrk and hey",
        "",
        f"Written by `bench/run.py` on {finished}. Do not edit: rerun the script "
        "(`uv run python bench/run.py`) on a machine with two otherwise idle cores.",
        "",
        "Each step starts a fresh target on CPU 0 and runs one client on CPU 1 (`taskset`). "
        "loadgen runs with one worker process. `$WORK` is a temporary directory. Before each "
        f"step the script waits (up to {QUIET_WAIT_S:.0f} s) for the machine to be below "
        f"{QUIET_BUSY:.0%} busy; during the step it measures the user CPU time used by other "
        f"processes, and repeats the step (at most {ATTEMPTS} attempts) when that exceeds "
        f"{INTERFERENCE_LIMIT_CORES:.0%} of a core.",
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in env],
        "",
        "## Bars",
        "",
        "| check | measured | bar | result |",
        "|---|---|---|---|",
        *[
            f"| {check.name} | {check.measured} | {check.bar} | {verdict(check)} |"
            for check in report.checks
        ],
        "",
        *[f"{note}\n" for note in report.notes],
        "## Commands and raw output",
        "",
    ]
    for step in report.steps:
        context = (
            f"Attempt {step.attempt}; other processes used {step.interference_cores:.1%} of a "
            f"core while it ran; took {step.seconds:.1f} s."
            if step.seconds
            else "Reads the records back."
        )
        out.extend(
            [
                f"### {step.title}",
                "",
                context,
                "",
                "```",
                f"$ {display(step.command, work)}",
                raw(step.output, work),
                "```",
                "",
            ]
        )
    return "\n".join(out)


def preflight() -> None:
    missing = [tool for tool in ("haproxy", "wrk", "hey", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench: missing tools: {', '.join(missing)}")
    cpus = os.sched_getaffinity(0)
    if not {int(TARGET_CPU), int(CLIENT_CPU)} <= cpus:
        sys.exit(
            f"bench: needs CPUs {TARGET_CPU} and {CLIENT_CPU}; this process may use {sorted(cpus)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "performance.md")
    args = parser.parse_args()
    preflight()
    env = environment()
    report = Report()
    with tempfile.TemporaryDirectory(prefix="loadgen-bench-") as directory:
        work = Path(directory)
        closed_loop(report, work)
        open_loop(report, work)
        stall(report)
        overhead(report)
        finished = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        write_section(args.output, "bench/run.py", render(report, env, work, finished))
    for check in report.checks:
        print(f"{verdict(check)}  {check.name}: {check.measured} (bar {check.bar})")
    print(f"wrote {args.output}")
    if not all(check.passed for check in report.checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
