"""`faasbench study`: up, run, aggregate, report, destroy, each stage recorded in the study's
state file so the same command, run again, continues where the last one stopped.

- up: select or create the stack, set `expiresAt` (now + `ttlHours`) unless a later one is set,
  `up` (a no-op when nothing changed), write the outputs (secrets included, mode 0600);
- run: `loadgen run --stack-outputs` (`--remote` when the stack has a loader or bastion; from
  this machine otherwise, e.g. the local target), `--resume` once a run has begun;
- aggregate, report: `loadgen aggregate` and `loadgen report`;
- destroy, unless `--keep`. A failing stage or Ctrl-C (SIGINT, SIGTERM) destroys the stack too,
  unless `--keep`, and says so; the state keeps what is done, so the next run resumes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from contract.expiry import EXPIRY_TAG, expiry_after, parse_expiry
from faasbench.plan import Plan
from faasbench.pulumi_stack import PulumiError, PulumiStack
from faasbench.state import STAGES, Stage, StudyState, save_state
from loadgen.outputs import OutputsError, parse_outputs

OUTPUTS_FILE = "outputs.json"
RESULTS_DIR = "results"
REPORT_FILE = "report.html"
#: How long a stage's `loadgen` gets to stop after Ctrl-C is passed on to it.
CHILD_GRACE_S = 120.0
INTERRUPTED_EXIT = 130
FAILED_EXIT = 1

Echo = Callable[[str], Any]


class StageFailed(RuntimeError):
    """A stage did not finish; the message names it and why."""


@dataclass(frozen=True)
class StudyOptions:
    directory: Path
    keep: bool
    remote: bool | None  # None: decided by the outputs (a loader or bastion: remote)
    plain: bool


def _loadgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "loadgen", *args]


def _shown(command: list[str]) -> str:
    return "$ loadgen " + " ".join(command[3:])


def run_child(args: list[str], stage: str) -> None:
    """Run a stage's command in its own process group (a terminal's Ctrl-C reaches only us):
    on Ctrl-C pass one SIGINT on and wait for it to stop, so `loadgen run` leaves its results
    resumable; a non-zero exit is `StageFailed`, 130 is Ctrl-C."""
    process = subprocess.Popen(args, process_group=0)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=CHILD_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    if code in (INTERRUPTED_EXIT, -signal.SIGINT):
        raise KeyboardInterrupt
    if code != 0:
        raise StageFailed(f"{stage}: loadgen {args[3]} exited with status {code}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a closed session, `kill`) takes the Ctrl-C path: the stack is destroyed."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wanted_expiry(current: str | None, ttl_hours: int, now: datetime) -> str | None:
    """The `expiresAt` to set before `up`: now + `ttl_hours`; None (keep `current`) while
    `current` is still ahead, so that a rerun's `up` changes nothing and stays a no-op."""
    if current is not None and parse_expiry(current) > now:
        return None
    return expiry_after(now, ttl_hours)


class Study:
    def __init__(
        self,
        plan: Plan,
        stack: PulumiStack,
        state: StudyState,
        options: StudyOptions,
        echo: Echo,
    ) -> None:
        self.plan = plan
        self.stack = stack
        self.state = state
        self.options = options
        self.echo = echo
        self.touched = False  # the stack was selected or created: destroy has something to do
        self.expires_at = plan.stack.expires_at  # what the stack's tags say, once up has run

    @property
    def directory(self) -> Path:
        return self.options.directory

    def _say(self, text: str) -> None:
        self.echo(f"faasbench: {text}")

    def _begin(self, stage: Stage) -> None:
        self._say(f"== {stage}")
        self.state.begin(stage)
        save_state(self.directory, self.state)

    def _finish(self, stage: Stage) -> None:
        self.state.finish(stage)
        save_state(self.directory, self.state)

    # --- the stages ----------------------------------------------------------------------

    def up(self) -> None:
        self._begin("up")
        self.stack.select_or_create()
        self.touched = True
        config = self.plan.stack
        expiry = wanted_expiry(config.expires_at, config.ttl_hours, datetime.now(UTC))
        if expiry is not None:
            self._say(f"expiresAt {expiry} (now + ttlHours {config.ttl_hours}): {EXPIRY_TAG}")
            self.stack.set_config("faasbench:expiresAt", expiry)
            self.expires_at = expiry
        else:
            self._say(f"expiresAt {config.expires_at} kept ({EXPIRY_TAG})")
        outputs = self.stack.up()
        self._write_outputs(outputs)
        self._finish("up")

    def _write_outputs(self, outputs: dict[str, Any]) -> None:
        path = self.directory / OUTPUTS_FILE
        partial = path.with_suffix(".json.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(outputs, file, indent=2)
        os.replace(partial, path)

    def _remote(self) -> bool:
        if self.options.remote is not None:
            return self.options.remote
        path = self.directory / OUTPUTS_FILE
        try:
            outputs = parse_outputs(path.read_text(encoding="utf-8"), str(path))
        except (OSError, OutputsError) as exc:
            raise StageFailed(f"run: the stack's outputs: {exc}") from None
        return outputs.loader is not None or outputs.bastion is not None

    def run(self) -> None:
        resume = "run" in self.state.started
        self._begin("run")
        args = [
            "run",
            str(self.plan.campaign),
            "--stack-outputs",
            str(self.directory / OUTPUTS_FILE),
            "--results",
            str(self.directory / RESULTS_DIR),
        ]
        if resume:
            args.append("--resume")
        if self._remote():
            args.append("--remote")
        if self.options.plain:
            args.append("--plain")
        command = _loadgen(*args)
        self._say(_shown(command))
        run_child(command, "run")
        self._finish("run")

    def aggregate(self) -> None:
        self._begin("aggregate")
        command = _loadgen("aggregate", str(self.directory / RESULTS_DIR))
        self._say(_shown(command))
        run_child(command, "aggregate")
        self._finish("aggregate")

    def report(self) -> None:
        self._begin("report")
        report = self.directory / REPORT_FILE
        command = _loadgen("report", str(self.directory / RESULTS_DIR), "-o", str(report))
        self._say(_shown(command))
        run_child(command, "report")
        self._finish("report")
        self._say(f"report: {report}")

    def destroy(self) -> None:
        self._begin("destroy")
        self.stack.destroy()
        self.state.undo("up")
        self._finish("destroy")

    # --- the whole ---------------------------------------------------------------------

    def remaining(self) -> list[Stage]:
        """The stages left before destroy (each needs the stack up)."""
        return [s for s in STAGES[1:4] if not self.state.is_done(s)]

    def execute(self) -> int:
        """Run what is left; the exit status."""
        if self.state.is_done("destroy") and not self.remaining():
            self._say(f"the study in {self.directory} is complete and its stack destroyed")
            return 0
        work = self.remaining()
        try:
            with sigterm_as_interrupt():
                if work:
                    self.up()
                for stage in work:
                    getattr(self, stage)()
        except KeyboardInterrupt:
            return self._abandon("interrupted", INTERRUPTED_EXIT)
        except (StageFailed, PulumiError) as exc:
            self._say(f"failed: {exc}")
            return self._abandon("a stage failed", FAILED_EXIT)
        if self.options.keep:
            self._kept()
            return 0
        try:
            with sigterm_as_interrupt():
                self.touched = True
                self.destroy()
        except KeyboardInterrupt:
            self._say(f"destroy interrupted: stack {self.stack.name} may still have resources")
            return INTERRUPTED_EXIT
        except PulumiError as exc:
            self._destroy_failed(exc)
            return FAILED_EXIT
        self._say(f"done: report {self.directory / REPORT_FILE}; stack {self.stack.name} destroyed")
        return 0

    def _kept(self) -> None:
        expiry = self.expires_at or "its expiresAt"
        self._say(
            f"--keep: stack {self.stack.name} keeps running (and costing) until destroyed: "
            f"pulumi destroy --stack {self.stack.name}, or faasbench sweep --destroy after "
            f"{expiry}"
        )

    def _abandon(self, why: str, code: int) -> int:
        again = "run the same command again to resume"
        if self.options.keep or not self.touched:
            if self.touched:
                self._say(f"{why}: --keep: stack {self.stack.name} left as it is; {again}")
            else:
                self._say(f"{why} before the stack was touched; {again}")
            return code
        self._say(f"{why}: destroying stack {self.stack.name} (--keep keeps it); {again}")
        try:
            with sigterm_as_interrupt():
                self.stack.destroy()
        except KeyboardInterrupt:
            self._say(f"destroy interrupted: stack {self.stack.name} may still have resources")
            return code
        except PulumiError as exc:
            self._destroy_failed(exc)
            return code
        self.state.undo("up")
        save_state(self.directory, self.state)
        self._say(f"stack {self.stack.name} destroyed")
        return code

    def _destroy_failed(self, exc: Exception) -> None:
        self._say(
            f"destroy failed: {exc}; stack {self.stack.name} may still have resources: "
            f"pulumi destroy --stack {self.stack.name}, or faasbench sweep --destroy"
        )
