"""Function replicas of the local gateway: `python -m functions.serve` processes on loopback, or
the server of the function's language (`loadgen.local.runtimes`).

A Python replica binds an ephemeral port itself (`PORT=0`) and names it, with its instance id, on
its first line of stderr, so there is no port to guess and no race for one. A replica of another
language is handed a port the gateway has just found free, and names its instance in its health
answer. It is ready once `/_/health` answers. Each replica is recorded in the state directory
(`replicas/<pid>.json`, with its start time) so `loadgen local down` finds it even after the
gateway died.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

import functions
from loadgen.local.procs import Tracked, write_json
from loadgen.local.runtimes import Launch

log = logging.getLogger("loadgen.local.gateway")

#: The first line `functions.serve` writes once it listens.
_LISTENING = re.compile(
    r"^functions\.serve: \S+ on (?P<host>\S+):(?P<port>\d+) \(instance (?P<id>\w+)\)"
)
#: Seconds a replica gets to start listening and answer its probe.
START_TIMEOUT_S = 30.0
#: What a stopping replica gives requests in flight before it exits (`SHUTDOWN_GRACE_S`).
GRACE_S = 10.0
#: Variables the gateway sets itself; a deployment's envVars cannot move the replica elsewhere.
_RESERVED = ("FUNCTION", "HOST", "PORT")
_SUITE_ROOT = str(Path(functions.__file__).resolve().parents[1])


class ReplicaError(Exception):
    """A replica that did not start: the message says why (its own stderr included)."""


@dataclass(eq=False)
class Replica:
    service: str
    process: asyncio.subprocess.Process
    tracked: Tracked
    port: int
    instance_id: str
    state_file: Path
    generation: int
    stopping: bool = False
    _stderr: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """SIGTERM (requests in flight finish), SIGKILL after the grace period; idempotent."""
        self.stopping = True
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), GRACE_S + 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        self.forget()

    def forget(self) -> None:
        self.state_file.unlink(missing_ok=True)
        if self._stderr is not None:
            self._stderr.cancel()


def replica_env(
    function: str, env_vars: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, str]:
    """The gateway's own environment, `defaults`, the deployment's envVars, then what the
    gateway fixes: the function, loopback, an ephemeral port, and the suite on the path."""
    env = {k: v for k, v in os.environ.items() if k not in _RESERVED}
    env.update(defaults)
    env.update({k: v for k, v in env_vars.items() if k not in _RESERVED})
    path = env.get("PYTHONPATH")
    env.update(
        {
            "FUNCTION": function,
            "HOST": "127.0.0.1",
            "PORT": "0",
            "SHUTDOWN_GRACE_S": str(GRACE_S),
            "PYTHONPATH": _SUITE_ROOT + (os.pathsep + path if path else ""),
        }
    )
    return env


async def start_replica(
    service: str,
    function: str,
    env: Mapping[str, str],
    state_dir: Path,
    session: aiohttp.ClientSession,
    generation: int,
    launch: Launch | None = None,
) -> Replica:
    """Start one replica (`launch`: of another language than Python) and return once it
    answers its health probe."""
    if launch is not None and launch.language != "python":
        return await _start_other(service, env, state_dir, session, generation, launch)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "functions.serve",
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        tracked = Tracked.of(f"replica {service}", process.pid)
        state_file = state_dir / f"{process.pid}.json"
        write_json(state_file, {**tracked.to_json(), "function": service})
        try:
            first = await asyncio.wait_for(process.stderr.readline(), START_TIMEOUT_S)
        except TimeoutError:
            raise ReplicaError(
                f"{service}: no replica listening after {START_TIMEOUT_S:.0f} s"
            ) from None
        match = _LISTENING.match(first.decode(errors="replace"))
        if match is None:
            rest = await _read_rest(process.stderr)
            text = (first + rest).decode(errors="replace").strip()
            raise ReplicaError(f"{service}: the replica did not start: {text or 'no output'}")
        replica = Replica(
            service=service,
            process=process,
            tracked=tracked,
            port=int(match["port"]),
            instance_id=match["id"],
            state_file=state_file,
            generation=generation,
        )
        write_json(
            state_file,
            {**tracked.to_json(), "function": service, "port": replica.port,
             "instance_id": replica.instance_id},
        )  # fmt: skip
        replica._stderr = asyncio.create_task(_forward(service, process.pid, process.stderr))
        await _probe(replica, session)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        (state_dir / f"{process.pid}.json").unlink(missing_ok=True)
        raise
    return replica


def _free_port() -> int:
    """A loopback port free now (the replica binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _start_other(
    service: str,
    env: Mapping[str, str],
    state_dir: Path,
    session: aiohttp.ClientSession,
    generation: int,
    launch: Launch,
) -> Replica:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        *launch.argv,
        env={**env, "PORT": str(port)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        tracked = Tracked.of(f"replica {service}", process.pid)
        state_file = state_dir / f"{process.pid}.json"
        replica = Replica(
            service=service,
            process=process,
            tracked=tracked,
            port=port,
            instance_id=f"{launch.language}-{process.pid}",
            state_file=state_file,
            generation=generation,
        )
        write_json(
            state_file,
            {**tracked.to_json(), "function": service, "port": port, "language": launch.language},
        )
        replica._stderr = asyncio.create_task(_forward(service, process.pid, process.stderr))
        health = await _probe(replica, session)
        instance = health.get("instance") if isinstance(health, dict) else None
        if isinstance(instance, str) and instance:
            replica.instance_id = instance
        write_json(
            state_file,
            {**tracked.to_json(), "function": service, "port": port,
             "instance_id": replica.instance_id, "language": launch.language},
        )  # fmt: skip
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        (state_dir / f"{process.pid}.json").unlink(missing_ok=True)
        raise
    return replica


async def _probe(replica: Replica, session: aiohttp.ClientSession) -> object:
    """Wait for the replica's health answer; its JSON body (None when it is not JSON)."""
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    while True:
        try:
            async with session.get(f"{replica.url}/_/health") as response:
                body = await response.read()
                if response.status == 200:
                    try:
                        return json.loads(body)
                    except ValueError:
                        return None
        except aiohttp.ClientError:
            pass
        if replica.process.returncode is not None:
            raise ReplicaError(f"{replica.service}: the replica exited while starting")
        if asyncio.get_running_loop().time() > deadline:
            raise ReplicaError(f"{replica.service}: no health answer in {START_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.01)


async def _read_rest(stream: asyncio.StreamReader) -> bytes:
    try:
        return await asyncio.wait_for(stream.read(8192), 5)
    except TimeoutError:
        return b""


async def _forward(service: str, pid: int, stream: asyncio.StreamReader) -> None:
    """Copy a replica's stderr into the gateway's log (it writes little: no request logs)."""
    async for line in stream:
        log.warning("%s[%d]: %s", service, pid, line.decode(errors="replace").rstrip())
