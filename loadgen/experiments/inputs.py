"""The content of the files a campaign's cells are made from (a `trace`'s `file`, a
`multi-trace`'s `invocations`, `durations` and `memory`): the manifest records each file's
SHA-256 by the field naming it, and `--resume` refuses a campaign whose files changed since it
started (the cells would mix two traces, or two samples).

Files are hashed in chunks: a day of the Azure trace is hundreds of MB.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.kinds import MultiTrace, Trace

CHUNK = 1 << 20


class InputsChanged(ValueError):
    """The files of a resumed campaign are not those it started with."""


def input_files(config: ExperimentConfig, base: Path) -> dict[str, Path]:
    """Each input file by the field naming it (`experiments.N.file`, ...), relative paths read
    from `base` (the experiment file's folder); empty for a campaign without trace experiments."""

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    files: dict[str, Path] = {}
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}"
        if isinstance(experiment, Trace):
            files[f"{where}.file"] = resolve(experiment.file)
        elif isinstance(experiment, MultiTrace):
            for field in ("invocations", "durations", "memory"):
                files[f"{where}.{field}"] = resolve(getattr(experiment, field))
    return files


def file_digest(path: Path) -> str:
    """`sha256:` and the hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def input_digests(config: ExperimentConfig, base: Path) -> dict[str, str] | None:
    """The digest of each input file by its field; None for a campaign without any (its
    manifest stays as it always was). A file that cannot be read raises InputsChanged."""
    files = input_files(config, base)
    if not files:
        return None
    digests = {}
    for field, path in files.items():
        try:
            digests[field] = file_digest(path)
        except OSError as exc:
            raise InputsChanged(f"{field}: {path}: cannot be read ({exc.strerror})") from None
    return digests


def inputs_problem(
    recorded: dict[str, str] | None, current: dict[str, str] | None, files: dict[str, Path]
) -> str | None:
    """Why a campaign that recorded `recorded` cannot resume with files of digests `current`
    (None: it can). A manifest without a record (written before loadgen kept one) cannot be
    checked, so a campaign with input files refuses it."""
    if current is None:
        return None
    if recorded is None:
        return (
            "its manifest records no digest of the trace files (an older loadgen started it), "
            "so whether they changed cannot be checked: start the campaign again in another "
            "--results directory"
        )
    for field, digest in current.items():
        if recorded.get(field) != digest:
            return (
                f"{field}: {files[field]} is not the file the campaign started with (its "
                "SHA-256 differs): resume only with the same trace files, or choose another "
                "--results directory"
            )
    return None
