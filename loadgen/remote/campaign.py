"""One campaign on the loader: probe, upload, install, run (streamed), copy the results back.

Remote layout, under `--remote-dir` (default `~/faasbench`):

    venv-<hash>/                 faasbench of that content hash (reused while the code is unchanged)
    wheels/<hash>/*.whl          the wheel it was installed from
    wheelhouse/                  --wheelhouse: dependencies for a loader without internet
    bootstrap/pip-*.whl          pip for a python3 without ensurepip
    campaigns/<name>/            experiment.yaml, its trace files, outputs.json (0600, removed
                                 after the run), loadgen.pgid, results/

Every remote step is one of `scripts.py`'s POSIX sh scripts.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import yaml
from pydantic import SecretStr

from contract.outputs import SshHost, StackOutputs
from loadgen.experiments.config import ExperimentConfig
from loadgen.remote.scripts import CLEANUP, FETCH, INSTALL, NOTHING, PROBE, RUN, SIGNAL, UPLOAD
from loadgen.remote.ssh import (
    NO_PYTHON,
    SSH_FAILED,
    RemoteError,
    SshTarget,
    describe_ssh_failure,
    private_key_file,
)
from loadgen.remote.wheel import Wheel, build_wheel, bundled_pip, project_root
from loadgen.userfiles import CAMPAIGN_LIMIT, parse_yaml, read_bytes

Echo = Callable[[str], None]

#: How long an interrupted remote campaign gets to flush its records and clean up.
STOP_GRACE_S = 300.0


@dataclass(frozen=True)
class RemoteOptions:
    """How to reach the loader and where faasbench lives there."""

    ssh_port: int = 22
    remote_dir: str = "~/faasbench"
    wheelhouse: Path | None = None
    #: `--callback`/`--callback-url` of the remote run (`loadgen.remote.callback`).
    callback: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteState:
    directory: str
    venv_ready: bool
    has_results: bool
    running: bool


def loader_of(outputs: StackOutputs) -> SshHost:
    """The stack's `loader`, else its bastion (the contract's default)."""
    host = outputs.loader or outputs.bastion
    if host is None:
        raise RemoteError(
            f"the stack exports neither loader nor bastion (cloud {outputs.cloud}): --remote "
            "needs a machine inside the network; run without it where the gateway is reachable"
        )
    return host


def remote_outputs(outputs: StackOutputs) -> bytes:
    """The outputs the remote campaign reads: every secret it needs in clear, but not the SSH
    key (the loader has no use for it)."""

    def reveal(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, dict):
            return {k: reveal(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [reveal(v) for v in value]
        return value

    document = reveal(outputs.model_dump(mode="python", exclude={"ssh_private_key"}))
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


#: Keys of an experiment that name a trace file (`trace`: file; `multi-trace`: the other three).
TRACE_FIELDS = ("file", "invocations", "durations", "memory")


def campaign_files(experiment: Path, config: ExperimentConfig) -> tuple[bytes, dict[str, Path]]:
    """The experiment file as the loader gets it, and the trace files it names (by their path
    relative to it there). A trace outside the file's directory is copied to `traces/` and the
    file rewritten to name it there."""
    text = read_bytes(experiment, kind="a campaign file", limit=CAMPAIGN_LIMIT)
    document: Any = None
    traces: dict[str, Path] = {}
    for index, entry in enumerate(config.experiments):
        for field in TRACE_FIELDS:
            trace = getattr(entry, field, None)
            if not isinstance(trace, Path):
                continue
            source = trace if trace.is_absolute() else experiment.parent / trace
            relative = PurePosixPath(trace.as_posix())
            if trace.is_absolute() or ".." in trace.parts:
                # The field too where an experiment names three files (two may share a name).
                label = (
                    f"{index}-{trace.name}" if field == "file" else f"{index}-{field}-{trace.name}"
                )
                relative = PurePosixPath("traces") / label
                document = document or parse_yaml(text.decode("utf-8-sig"), str(experiment))
                document["experiments"][index][field] = str(relative)
            traces[str(relative)] = source
    if document is not None:
        text = yaml.safe_dump(document, sort_keys=False).encode()
    return text, traces


def run_remote(
    experiment: Path,
    config: ExperimentConfig,
    outputs: StackOutputs,
    results: Path,
    *,
    resume: bool,
    image: str | None,
    options: RemoteOptions,
    echo: Echo,
) -> int:
    """The campaign on the loader; returns the remote `loadgen run`'s exit status."""
    host = loader_of(outputs)
    if outputs.ssh_private_key is None:
        raise RemoteError("the stack exports no ssh_private_key: --remote logs in with it")
    if not resume and (results / "manifest.json").exists():
        raise RemoteError(
            f"{results} already holds a campaign: pass --resume to continue it, or choose "
            "another --results directory"
        )
    if options.wheelhouse is not None and not options.wheelhouse.is_dir():
        raise RemoteError(f"--wheelhouse {options.wheelhouse}: not a directory")
    experiment_text, traces = campaign_files(experiment, config)
    wheel = build_wheel(project_root())
    echo(f"faasbench {wheel.version} (content {wheel.content_hash}): {wheel.path.name}")
    results.mkdir(parents=True, exist_ok=True)
    with private_key_file(outputs.ssh_private_key.get_secret_value()) as key:
        target = SshTarget(host.host, host.user, options.ssh_port, key, results / ".known_hosts")
        state = _probe(target, options.remote_dir, wheel, config.name)
        if state.running:
            raise RemoteError(
                f"campaign {config.name} is already running on {target.name}: wait for it, or "
                "interrupt it there"
            )
        campaign = f"{state.directory}/campaigns/{config.name}"
        members: list[tuple[str, Path | bytes, int]] = [
            (f"campaigns/{config.name}/experiment.yaml", experiment_text, 0o644),
            (f"campaigns/{config.name}/outputs.json", remote_outputs(outputs), 0o600),
            *((f"campaigns/{config.name}/{name}", path, 0o644) for name, path in traces.items()),
        ]
        if not state.venv_ready:
            members += _install_members(wheel, options.wheelhouse)
        if resume and not state.has_results and (results / "manifest.json").exists():
            echo(f"{target.name}: no results of {config.name} there; uploading {results}")
            members += _tree_members(results, f"campaigns/{config.name}/results")
        _upload(target, state.directory, config.name, fresh=not resume, members=members)
        try:
            if state.venv_ready:
                echo(f"{target.name}: reusing {state.directory}/venv-{wheel.content_hash}")
            else:
                _install(target, state.directory, wheel, options.wheelhouse is not None, echo)
            args = remote_run_args(campaign, resume=resume, image=image, options=options)
            echo(f"{target.name}: running {config.name} in {campaign}")
            status = _run(target, state.directory, config.name, wheel, args, echo)
            _fetch(target, state.directory, config.name, results, echo)
        finally:
            _cleanup(target, state.directory, config.name)
    return status


def remote_run_args(
    campaign: str, *, resume: bool, image: str | None, options: RemoteOptions
) -> list[str]:
    """The remote `loadgen run`'s arguments, in the campaign's directory `campaign`."""
    args = [
        "experiment.yaml",
        "--stack-outputs",
        "outputs.json",
        "--results",
        f"{campaign}/results",
    ]
    args += ["--plain", *(["--resume"] if resume else [])]
    args += ["--image", image] if image is not None else []
    return args + list(options.callback)


def _probe(target: SshTarget, remote_dir: str, wheel: Wheel, name: str) -> RemoteState:
    result = target.run(PROBE, remote_dir, wheel.content_hash, name, timeout=120)
    if result.returncode == NO_PYTHON:
        raise RemoteError(
            f"{target.name}: {result.stderr.strip()}: install python3 (3.11+, and python3-venv "
            "or uv) on the loader"
        )
    if result.returncode != 0:
        raise RemoteError(f"{target.name}: {_last_line(result.stderr)}")
    facts = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return RemoteState(
        directory=facts["dir"],
        venv_ready=facts.get("venv") == "ready",
        has_results=facts.get("results") == "yes",
        running=facts.get("running") == "yes",
    )


def _install_members(wheel: Wheel, wheelhouse: Path | None) -> list[tuple[str, Path | bytes, int]]:
    members: list[tuple[str, Path | bytes, int]] = [
        (f"wheels/{wheel.content_hash}/{wheel.path.name}", wheel.path, 0o644)
    ]
    pip = bundled_pip()
    if pip is not None:
        members.append((f"bootstrap/{pip.name}", pip, 0o644))
    if wheelhouse is not None:
        members += [
            (f"wheelhouse/{path.name}", path, 0o644)
            for path in sorted(wheelhouse.iterdir())
            if path.is_file() and path.suffix in {".whl", ".gz", ".zip"}
        ]
    return members


def _tree_members(root: Path, prefix: str) -> Iterable[tuple[str, Path | bytes, int]]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not relative.parts[0].startswith("."):
            yield (f"{prefix}/{relative.as_posix()}", path, 0o644)


def _upload(
    target: SshTarget,
    directory: str,
    name: str,
    *,
    fresh: bool,
    members: list[tuple[str, Path | bytes, int]],
) -> None:
    """One tar stream through ssh: the loader needs nothing but sh and tar."""
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w", dereference=True) as tar:
            for arcname, content, mode in members:
                if isinstance(content, Path):
                    info = tar.gettarinfo(str(content), arcname=arcname)
                    info.mode, info.uid, info.gid, info.uname, info.gname = mode, 0, 0, "", ""
                    with content.open("rb") as source:
                        tar.addfile(info, source)
                else:
                    info = tarfile.TarInfo(arcname)
                    info.size, info.mode = len(content), mode
                    tar.addfile(info, io.BytesIO(content))
        archive.seek(0)
        result = target.run(UPLOAD, directory, name, "fresh" if fresh else "keep", stdin=archive)
    if result.returncode != 0:
        detail = _last_line(result.stderr)
        raise RemoteError(f"{target.name}: copying the campaign failed: {detail}")


def _install(target: SshTarget, directory: str, wheel: Wheel, offline: bool, echo: Echo) -> None:
    venv = f"{directory}/venv-{wheel.content_hash}"
    echo(f"{target.name}: installing faasbench {wheel.version} in {venv}")
    relative = f"wheels/{wheel.content_hash}/{wheel.path.name}"
    mode = "offline" if offline else "online"
    result = target.run(INSTALL, directory, wheel.content_hash, relative, mode, timeout=1800)
    for line in result.stdout.splitlines():
        echo(f"{target.name}: {line}")
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        hint = (
            "the wheelhouse lacks a dependency (see docs/experiments.md for building it)"
            if offline
            else "pip needs the loader's internet access (or pass --wheelhouse DIR)"
        )
        raise RemoteError(f"{target.name}: installing faasbench failed; {hint}:\n{tail}")


def _run(
    target: SshTarget, directory: str, name: str, wheel: Wheel, args: list[str], echo: Echo
) -> int:
    """The remote `loadgen run`, its output streamed as it comes. The local ssh runs in its own
    session, so a terminal's Ctrl-C reaches only this process, which forwards it as SIGINT to
    the remote process group (recorded in loadgen.pgid) and waits for a clean stop."""
    argv = target.argv(RUN, directory, name, wheel.content_hash, *args)
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        status = process.wait()
    except KeyboardInterrupt:
        echo(f"{target.name}: interrupting the campaign (Ctrl-C again to stop it at once)")
        status = _interrupt(target, directory, name, process)
    if status == SSH_FAILED:
        echo(
            f"{target.name}: the connection was lost; the campaign may still be running there "
            "(run again with --resume once it ends)"
        )
        return 1
    return status


def _interrupt(
    target: SshTarget, directory: str, name: str, process: subprocess.Popen[bytes]
) -> int:
    _signal(target, directory, name, "INT")
    try:
        return process.wait(timeout=STOP_GRACE_S)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        _signal(target, directory, name, "TERM")
    try:
        return process.wait(timeout=30)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        process.kill()
        process.wait()
        return 130


def _signal(target: SshTarget, directory: str, name: str, signal: str) -> None:
    # If the loader is gone, the run's own ssh ends too and its status tells.
    with contextlib.suppress(RemoteError):
        target.run(SIGNAL, directory, name, signal, timeout=60)


def _fetch(target: SshTarget, directory: str, name: str, results: Path, echo: Echo) -> None:
    """The remote results tree, streamed as tar into `results` (what exists, also after an
    interruption); the local `.incomplete/` is replaced by the remote one."""
    incomplete = results / ".incomplete"
    process = subprocess.Popen(
        target.argv(FETCH, directory, name),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    count = 0
    cleared = False
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
            for member in tar:
                if not cleared:
                    shutil.rmtree(incomplete, ignore_errors=True)
                    cleared = True
                count += _extract(tar, member, results)
    except tarfile.ReadError:
        pass  # an empty stream: nothing there (the status says why)
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        status = process.wait()
    if status == SSH_FAILED:
        detail = describe_ssh_failure(target, stderr)
        raise RemoteError(f"copying the results back failed: {detail}")
    if status == NOTHING:
        echo(f"{target.name}: no results tree to copy back")
        return
    if status != 0:
        raise RemoteError(f"{target.name}: copying the results back failed: {_last_line(stderr)}")
    echo(f"{results}: {count} files copied back from {target.name}:{directory}/campaigns/{name}")


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path) -> bool:
    """Files and directories only, never outside `root`; True for a file written."""
    parts = PurePosixPath(member.name).parts
    parts = tuple(p for p in parts if p != ".")
    if not parts or member.name.startswith("/") or ".." in parts:
        return False
    destination = root.joinpath(*parts)
    if member.isdir():
        destination.mkdir(parents=True, exist_ok=True)
        return False
    if not member.isfile():
        return False
    source: IO[bytes] | None = tar.extractfile(member)
    if source is None:
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    with source, destination.open("wb") as handle:
        while chunk := source.read(1 << 20):
            handle.write(chunk)
    return True


def _cleanup(target: SshTarget, directory: str, name: str) -> None:
    """The outputs' secrets do not stay on the loader after the run."""
    with contextlib.suppress(RemoteError):
        target.run(CLEANUP, directory, name, timeout=60)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
