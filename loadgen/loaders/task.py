"""What runs on a loader (a Dask worker): its agent, started, sent off and collected.

Two tasks per run, both pinned to the loader: `prepare` starts the agent (a subprocess: the
worker is daemonic and cannot have multiprocessing children) and returns once its processes
are ready; `finish` gives it the start instant, relays its progress to the scheduler's
metadata (`progress_key`) and returns its outcome with the record files' bytes. Between the two
the agent waits in this worker's registry; `stop` (run with `Client.run`, outside the task
threads) tells it to end early.
"""

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from loadgen.loaders.models import LoaderAssignment, LoaderOutcome, LoaderReady
from loadgen.record.format import RECORD_FILE_SUFFIX

STDERR_TAIL = 4000
"""The most of an agent's stderr that a failure's message carries."""


class LoaderError(RuntimeError):
    """The loader's agent failed (the message is its own)."""


class _Agent:
    def __init__(self, assignment: LoaderAssignment) -> None:
        self.name = assignment.name
        self.records_dir = (
            Path(tempfile.mkdtemp(prefix="loadgen-records-")) if assignment.records else None
        )
        assignment = assignment.model_copy(
            update={"records_dir": str(self.records_dir) if self.records_dir else None}
        )
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loadgen.loaders.agent"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
        )
        self.lock = threading.Lock()
        self.started = False
        """Whether `finish` took it over (it then closes the agent itself)."""
        self.send({**assignment.model_dump(mode="json")})

    @property
    def stdout(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def send(self, message: dict[str, Any]) -> None:
        with self.lock, contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        line = self.stdout.readline()
        if not line:
            self.process.wait()
            raise LoaderError(
                f"{self.name}: its agent exited ({self.process.returncode}) without a word"
                f"{self._stderr_tail()}"
            )
        message = json.loads(line)
        if "error" in message:
            raise LoaderError(f"{self.name}: {message['error']}{self._stderr_tail()}")
        return dict(message)

    def _stderr_tail(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read()[-STDERR_TAIL:].decode("utf-8", "replace").strip()
        return f"; its stderr: {text}" if text else ""

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stdout.close()
        self.stderr.close()
        if self.records_dir is not None:
            shutil.rmtree(self.records_dir, ignore_errors=True)


_AGENTS: dict[str, _Agent] = {}
_AGENTS_LOCK = threading.Lock()


def progress_key(run_key: str, name: str) -> list[str]:
    """Where a loader's latest progress is kept in the scheduler's metadata."""
    return ["loadgen", run_key, "progress", name]


def prepare(assignment: LoaderAssignment) -> LoaderReady:
    """Start the loader's agent and return once every one of its processes is ready."""
    agent = _Agent(assignment)
    try:
        message = agent.receive()
        if "ready" not in message:
            raise LoaderError(f"{agent.name}: expected ready, got {sorted(message)}")
    except BaseException:
        agent.close()
        raise
    with _AGENTS_LOCK:
        _AGENTS[assignment.run_key] = agent
    return LoaderReady.model_validate(message["ready"])


def finish(run_key: str, t0_ns: int) -> LoaderOutcome:
    """Start the prepared agent at `t0_ns` (this loader's clock) and return what it measured,
    with its record files."""
    from distributed import get_client

    with _AGENTS_LOCK:
        agent = _AGENTS.get(run_key)
        if agent is not None:
            agent.started = True
    if agent is None:
        raise LoaderError(f"run {run_key} was not prepared on this loader (or was stopped)")
    client = get_client()
    try:
        agent.send({"go": t0_ns})
        while True:
            message = agent.receive()
            if "progress" in message:
                with contextlib.suppress(Exception):
                    client.set_metadata(progress_key(run_key, agent.name), message)
                continue
            if "report" not in message:
                raise LoaderError(f"{agent.name}: unexpected message {sorted(message)}")
            outcome = LoaderOutcome.model_validate(message["report"])
            records: dict[str, bytes] = {}
            if agent.records_dir is not None:
                for path in sorted(agent.records_dir.glob(f"*{RECORD_FILE_SUFFIX}")):
                    records[path.name] = path.read_bytes()
            return outcome.model_copy(update={"records": records})
    finally:
        with _AGENTS_LOCK:
            _AGENTS.pop(run_key, None)
        agent.close()


def stop(run_key: str) -> bool:
    """Tell this loader's agent of `run_key`, if any, to stop; True when there was one."""
    with _AGENTS_LOCK:
        agent = _AGENTS.get(run_key)
        if agent is not None and not agent.started:
            # Prepared but never started: nobody else will close it. This runs in the worker's
            # event loop (`Client.run`), so the waiting is left to a thread.
            del _AGENTS[run_key]
            threading.Thread(target=agent.close, daemon=True).start()
    if agent is None:
        return False
    agent.send({"stop": True})
    return True
