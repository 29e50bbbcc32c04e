"""Reading an experiment file: YAML, then the model, with every problem listed by its path."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from loadgen.experiments.config import ExperimentConfig, config_problems


class ExperimentFileError(ValueError):
    """The file is not a valid experiment; `problems` lists each as `path: message`."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_experiment(path: Path) -> ExperimentConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExperimentFileError(path, [f"(file): {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ExperimentFileError(path, ["(file): not UTF-8 text"]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ExperimentFileError(path, [f"{where}: not valid YAML: {problem}"]) from None
    if not isinstance(document, dict):
        raise ExperimentFileError(path, ["(top level): expected a mapping of settings"])
    try:
        return ExperimentConfig.model_validate(document)
    except ValidationError as exc:
        raise ExperimentFileError(path, config_problems(exc)) from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ExperimentFileError(path, [f"(top level): {exc}"]) from None
