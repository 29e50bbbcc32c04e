"""The study's state file, `study.json` in the study directory: which stages are done, so that
running the same command again continues where the last one stopped."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loadgen.userfiles import UserFileError, parse_json, read_text

Stage = Literal["up", "run", "aggregate", "report", "destroy"]
STAGES: tuple[Stage, ...] = ("up", "run", "aggregate", "report", "destroy")
STATE_FILE = "study.json"
_STATE_LIMIT = 1 << 20


class StateError(ValueError):
    """The state file cannot be read, or belongs to another study (the message says which)."""


class StudyState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stack: str
    campaign: str = Field(description="the campaign file, resolved")
    done: dict[Stage, str] = Field(default_factory=dict, description="stage -> when (UTC)")
    started: list[Stage] = Field(default_factory=list, description="stages ever begun")

    def is_done(self, stage: Stage) -> bool:
        return stage in self.done

    def begin(self, stage: Stage) -> None:
        if stage not in self.started:
            self.started.append(stage)

    def finish(self, stage: Stage) -> None:
        self.done[stage] = datetime.now(UTC).isoformat(timespec="seconds")

    def undo(self, stage: Stage) -> None:
        self.done.pop(stage, None)


def load_state(directory: Path, stack: str, campaign: Path) -> StudyState:
    """The state in DIRECTORY, or a fresh one; StateError when it is another study's."""
    path = directory / STATE_FILE
    resolved = str(campaign.resolve())
    if not path.exists():
        return StudyState(stack=stack, campaign=resolved)
    try:
        state = StudyState.model_validate(
            parse_json(read_text(path, kind="a study state", limit=_STATE_LIMIT), str(path))
        )
    except UserFileError as exc:
        raise StateError(str(exc)) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(document)"
        raise StateError(f"{path}: {where}: {error['msg']}") from None
    if state.stack != stack or state.campaign != resolved:
        raise StateError(
            f"{path}: belongs to the study of stack {state.stack} with {state.campaign}: "
            f"use another --dir for stack {stack} with {resolved}"
        )
    return state


def save_state(directory: Path, state: StudyState) -> None:
    """Write atomically: a crash leaves the old state or the new, never half of one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STATE_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
