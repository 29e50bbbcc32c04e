"""The campaign file on disk: its YAML read, then validated into the model, with every problem
listed by its path."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from loadgen.experiments.config import ExperimentConfig, config_problems
from loadgen.userfiles import CAMPAIGN_LIMIT, UserFileError, read_yaml


class ExperimentFileError(ValueError):
    """The file is not a valid experiment; `problems` lists each as `path: message`."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_experiment(path: Path) -> ExperimentConfig:
    """The validated campaign; the file is read by `loadgen.userfiles` (a regular file of at
    most 1 MiB, strict YAML)."""
    try:
        document = read_yaml(path, kind="a campaign file", limit=CAMPAIGN_LIMIT)
    except UserFileError as exc:
        where = f"line {exc.line}" if exc.line is not None else "(file)"
        raise ExperimentFileError(path, [f"{where}: {exc.problem}"]) from None
    if not isinstance(document, dict):
        raise ExperimentFileError(path, ["(top level): expected a mapping of settings"])
    try:
        return ExperimentConfig.model_validate(document)
    except ValidationError as exc:
        raise ExperimentFileError(path, config_problems(exc)) from None
    except RecursionError:
        raise ExperimentFileError(path, ["(top level): nested too deeply"]) from None
