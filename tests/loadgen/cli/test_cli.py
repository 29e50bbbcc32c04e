"""The `loadgen` command line: user errors, help, JSON output, thresholds, interrupts."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.loadgen_servers import ScriptedServer, Target, parse_json_stdout, wait_for_records
from typer.testing import CliRunner

from loadgen.cli import app

LOADGEN = [sys.executable, "-m", "loadgen"]
SUMMARY_KEYS = {
    "requests",
    "ok",
    "errors",
    "dropped",
    "duration_s",
    "rps",
    "send_rate",
    "target_rps",
    "latency_ms",
    "service_ms",
    "sched_lag_ms",
    "processes",
    "valid",
    "warnings",
}
LATENCY_KEYS = {"p50", "p90", "p95", "p99", "p999", "max", "mean"}


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOADGEN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["hit", "ftp://127.0.0.1/"], "URL"),
        (["hit", "http://"], "URL"),
        (["hit", "127.0.0.1:8080"], "URL"),
        (["hit", "http://127.0.0.1:99999/"], "URL"),
        (["hit", "http://127.0.0.1/", "--threshold", "p99<<5"], "--threshold"),
        (["hit", "http://127.0.0.1/", "--threshold", "p98<5ms"], "--threshold"),
        (["hit", "http://127.0.0.1/", "-H", "NoColonHere"], "--header"),
        (["hit", "http://127.0.0.1/", "-H", "Bad Name: x"], "--header"),
        (["hit", "http://127.0.0.1/", "-H", "Content-Length: 5"], "--header"),
        (["hit", "http://127.0.0.1/", "-d", "@/nonexistent/body.json"], "--data"),
        (["hit", "http://127.0.0.1/", "-c", "5", "--rate", "10", "--duration", "1"], "--users"),
        (["hit", "http://127.0.0.1/", "--seed", "3"], "--seed"),
        (["hit", "http://127.0.0.1/", "--on-saturation", "drop"], "--on-saturation"),
        (["hit", "http://127.0.0.1/", "--max-inflight", "5"], "--max-inflight"),
        (["hit", "http://127.0.0.1/", "--arrival", "poisson"], "--arrival"),
        (["hit", "http://127.0.0.1/", "-n", "10", "--duration", "1"], "--duration"),
        (["hit", "http://127.0.0.1/", "--rate", "10"], "--rate"),
        (["hit", "http://127.0.0.1/", "--rate", "0", "-n", "5"], "--rate"),
        (
            ["hit", "http://127.0.0.1/", "--rate", "10", "-n", "5", "--arrival", "burst"],
            "--arrival",
        ),
        (["hit", "http://127.0.0.1/", "--timeout", "0"], "--timeout"),
        (["hit", "http://127.0.0.1/", "--duration", "soon"], "--duration"),
        (["hit", "http://127.0.0.1/", "--warmup", "-1"], "--warmup"),
        (["hit", "http://127.0.0.1/", "-c", "0"], "--users"),
        (["hit", "http://127.0.0.1/", "--processes", "0"], "--processes"),
        (["hit", "http://127.0.0.1/", "--capture-header", "X-A: b"], "--capture-header"),
        (["hit", "http://127.0.0.1/", "-m", "GE T"], "--method"),
        (["inspect", "/nonexistent-dir"], "DIRECTORY"),
        (["export", "/nonexistent-dir", "-o", "x.csv"], "DIRECTORY"),
    ],
)
def test_user_errors_exit_2_with_one_clear_message(args: list[str], option: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_internal_errors_exit_1_with_the_traceback_in_a_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import loadgen.cli.validate

    def broken(path: Path) -> None:
        raise RuntimeError("an invariant broke")

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(loadgen.cli.validate, "load_experiment", broken)
    result = CliRunner().invoke(app, ["validate", "anything.yaml"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert "internal error (RuntimeError: an invariant broke)" in line
    assert "Traceback" not in result.output
    [log] = (tmp_path / "state" / "faasbench" / "errors").glob("loadgen-*.log")
    assert str(log) in line
    text = log.read_text()
    assert "Traceback" in text
    assert "an invariant broke" in text


def test_records_must_be_a_usable_directory(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = CliRunner().invoke(app, ["hit", "http://127.0.0.1/", "--records", str(a_file)])
    assert result.exit_code == 2
    assert "--records" in result.output


def test_errors_from_a_real_process_have_no_traceback() -> None:
    result = run_cli("hit", "http://127.0.0.1/", "--threshold", "p99 is small")
    assert result.returncode == 2
    assert "--threshold" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


@pytest.mark.parametrize("command", [[], ["hit"], ["inspect"], ["export"]])
def test_help_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("loadgen")
    result = subprocess.run(
        [str(script), "hit", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "--rate" in result.stdout


def test_json_run_then_inspect_and_export(haproxy: Target, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli(
        "hit",
        haproxy.url("/meta"),
        "-c",
        "5",
        "-n",
        "300",
        "--processes",
        "2",
        "--records",
        str(out),
        "--json",
        "--threshold",
        "p99<10s",
        "--threshold",
        "requests==300",
        "--capture-header",
        "X-Custom",
    )
    assert result.returncode == 0, result.stderr
    summary = parse_json_stdout(result.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert set(summary["latency_ms"]) == LATENCY_KEYS
    assert set(summary["service_ms"]) == LATENCY_KEYS
    assert set(summary["sched_lag_ms"]) == {"p50", "p99", "max"}
    bounds = summary["percentile_bounds"]
    assert set(bounds["latency_ms"]) == LATENCY_KEYS - {"max", "mean"}
    for key, (low, high) in bounds["latency_ms"].items():
        assert low <= high == summary["latency_ms"][key]
    assert (summary["requests"], summary["ok"], summary["processes"]) == (300, 300, 2)
    assert summary["target_rps"] is None
    assert [t["passed"] for t in summary["thresholds"]] == [True, True]
    assert json.loads((out / "summary.json").read_text()) == summary

    inspected = run_cli("inspect", str(out), "--json")
    assert inspected.returncode == 0
    report = parse_json_stdout(inspected.stdout)
    assert {key: report[key] for key in ("records", "complete", "processes")} == {
        "records": 300,
        "complete": True,
        "processes": 2,
    }
    assert report["started"] <= report["ended"]

    csv = tmp_path / "new" / "dir" / "r.csv"  # -o creates missing parent directories
    exported = run_cli("export", str(out), "--format", "csv", "-o", str(csv))
    assert exported.returncode == 0, exported.stderr
    lines = csv.read_text().splitlines()
    assert len(lines) == 301
    assert '"header_x_custom"' in lines[0]
    assert lines[1].count('"custom-1"') == 1
    assert '"i-7"' in lines[1]


def test_failed_threshold_exits_99(haproxy: Target) -> None:
    result = run_cli(
        "hit", haproxy.url("/503"), "-n", "50", "--processes", "1", "--json",
        "--threshold", "error_rate<1%",
    )  # fmt: skip
    assert result.returncode == 99
    summary = parse_json_stdout(result.stdout)
    assert summary["errors"] == {"http_503": 50}
    assert summary["thresholds"][0]["passed"] is False


def test_human_report(haproxy: Target) -> None:
    result = run_cli("hit", haproxy.url("/"), "-n", "500", "-c", "4", "--processes", "1")
    assert result.returncode == 0, result.stderr
    assert "Latency histogram" in result.stdout
    assert "Requests/sec" in result.stdout
    assert "p99" in result.stdout


def test_open_loop_json(scripted_server: ScriptedServer) -> None:
    result = run_cli(
        "hit", scripted_server.url("/ok"), "--rate", "400", "-n", "200", "--arrival", "poisson",
        "--seed", "11", "--processes", "2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = parse_json_stdout(result.stdout)
    assert (summary["requests"], summary["target_rps"], summary["seed"]) == (200, 400.0, 11)
    assert summary["arrival"] == "poisson"


def test_ctrl_c_stops_cleanly_and_reports(haproxy: Target, tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen(
        [*LOADGEN, "hit", haproxy.url("/"), "--rate", "300", "--duration", "60",
         "--processes", "2", "--records", str(out), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        # Interrupt once both workers have written records, however long they took to start.
        before = sum(wait_for_records(out, processes=2))
    except AssertionError:
        process.kill()
        raise
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    summary = parse_json_stdout(stdout)
    assert summary["interrupted"] is True
    assert summary["valid"] is False
    assert before <= summary["requests"] < 60 * 300
    inspected = parse_json_stdout(run_cli("inspect", str(out), "--json").stdout)
    assert inspected["records"] == summary["requests"]
    assert {file["reason"] for file in inspected["files"]} == {"interrupted"}


def test_version_prints_the_package_version() -> None:
    from loadgen.version import loadgen_version

    done = run_cli("--version", timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"loadgen {loadgen_version()}"
    assert loadgen_version() != "0+unknown"


@pytest.mark.parametrize(
    ("args", "old", "new"),
    [
        (["doctor", "--outputs", "/nonexistent/outputs.json"], "--outputs", "--stack-outputs"),
        (["validate", "c.yaml", "--outputs=/nonexistent/o.json"], "--outputs", "--stack-outputs"),
        (["hit", "http://127.0.0.1/", "--out", "/dev/null"], "--out", "--records"),
    ],
)
def test_an_old_option_spelling_still_works_with_a_warning(
    args: list[str], old: str, new: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{old} is deprecated" in lines[0]
    assert f"use {new}" in lines[0]
    assert "Traceback" not in result.output


def _commands() -> list[tuple[str, object]]:
    import typer.main

    group = typer.main.get_command(app)
    found: list[tuple[str, object]] = []

    def walk(prefix: str, command: object) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found.append((prefix, command))

    walk("", group)
    return found


def test_every_command_spells_its_options_one_way() -> None:
    """The naming rule of docs/loadgen.md: `-o/--output` is what a command writes, the stack's
    outputs file is `--stack-outputs`, a records directory `--records`, and no old spelling
    remains among the options a command shows."""
    from loadgen.cli.errors import DEPRECATED_OPTIONS

    for name, command in _commands():
        for param in command.params:  # type: ignore[attr-defined]
            if param.param_type_name != "option":
                continue
            opts = set(param.opts)
            assert not opts & set(DEPRECATED_OPTIONS), (name, opts)
            if "-o" in opts or "--output" in opts:
                assert opts == {"-o", "--output"}, (name, opts)
            for opt in opts:
                assert "_" not in opt, (name, opt)


def test_inspect_a_campaign_exits_1_and_says_why_when_it_is_incomplete(tmp_path: Path) -> None:
    from support.synthetic_results import CampaignSpec, CellSpec, write_campaign

    root = write_campaign(
        tmp_path / "c", CampaignSpec(name="c", cells=(CellSpec(requests=20, processes=2),))
    )
    done = CliRunner().invoke(app, ["inspect", str(root)])
    assert done.exit_code == 0, done.output
    assert "Cells:      1 of 1 complete" in done.stdout
    assert "Complete:   yes" in done.stdout
    (cell,) = (root / "cells").iterdir()
    whole = CliRunner().invoke(app, ["inspect", str(cell), "--json"])
    assert whole.exit_code == 0
    assert json.loads(whole.stdout)["complete"] is True

    (file,) = sorted((cell / "records").glob("*-001.lgrec"))
    file.unlink()
    manifest = json.loads((root / "manifest.json").read_text())
    (root / "manifest.json").write_text(json.dumps({**manifest, "ended": None}))
    broken = CliRunner().invoke(app, ["inspect", str(root), "--json"])
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert report["complete"] is False
    assert report["problems"] == [
        "the campaign did not finish (interrupted, or still running): "
        "`loadgen run --resume` completes it",
        f"cell {cell.name}: no record file for process 1 of 2 "
        "(it did not start, or its file was removed)",
    ]
    assert CliRunner().invoke(app, ["inspect", str(cell)]).exit_code == 1


def test_a_closed_port_says_connection_refused_not_client_cpu() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli("hit", f"http://127.0.0.1:{port}/", "-n", "3", "--processes", "1")
    assert result.returncode == 0, result.stderr
    assert "connection refused" in result.stdout.lower()
    assert "CPU" not in result.stdout
    assert "Valid: NO" in result.stdout
    as_json = run_cli("hit", f"http://127.0.0.1:{port}/", "-n", "3", "--processes", "1", "--json")
    summary = parse_json_stdout(as_json.stdout)
    assert summary["valid"] is False
    assert summary["errors"] == {"connect": 3}
    assert not any("CPU" in warning for warning in summary["warnings"])
    assert any("connection refused" in warning.lower() for warning in summary["warnings"])
    assert any("every request failed (connect 3)" in w for w in summary["warnings"])


def test_non_2xx_responses_are_errors_and_make_the_run_invalid(haproxy: Target) -> None:
    result = run_cli("hit", haproxy.url("/404"), "-n", "20", "-c", "2", "--processes", "1")
    assert result.returncode == 0, result.stderr  # invalid, but no --threshold failed
    assert "Valid: NO" in result.stdout
    assert "http_404" in result.stdout
    assert "status 404 is not an ok status" in result.stdout
    summary = parse_json_stdout(
        run_cli("hit", haproxy.url("/404"), "-n", "20", "-c", "2", "--processes", "1",
                "--json").stdout
    )  # fmt: skip
    assert (summary["ok"], summary["errors"], summary["valid"]) == (0, {"http_404": 20}, False)
    assert "every request failed (http_404 20)" in summary["warnings"][0]

    accepted = parse_json_stdout(
        run_cli("hit", haproxy.url("/404"), "-n", "20", "-c", "2", "--processes", "1",
                "--ok-status", "2xx,404", "--json").stdout
    )  # fmt: skip
    assert (accepted["ok"], accepted["errors"]) == (20, {})
    assert not any("failed" in warning for warning in accepted["warnings"])


@pytest.mark.parametrize("text", ["abc", "99", "300-200", "2xy", "1000"])
def test_a_bad_ok_status_names_the_option(text: str) -> None:
    result = CliRunner().invoke(app, ["hit", "http://127.0.0.1/", "--ok-status", text])
    assert result.exit_code == 2
    assert "'--ok-status'" in result.output
