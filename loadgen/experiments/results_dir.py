"""A campaign's results directory as the campaign loop writes it: the manifest (checked against
the one already there on `--resume`), each cell built in `.incomplete/<id>/` and moved into
`cells/<id>/` only when done, and every JSON document written whole (a partial file, then a
rename). `loadgen.results.tree` reads what this writes and names its files.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loadgen.experiments.inputs import InputsChanged, inputs_problem
from loadgen.experiments.outcomes import CampaignError
from loadgen.results.models import CampaignManifest
from loadgen.results.tree import CELL_INFO, CELLS, MANIFEST
from loadgen.userfiles import RESULTS_JSON_LIMIT, UserFileError, read_text

#: Where the cell being measured is built (`loadgen inspect` reports it as in progress).
INCOMPLETE = ".incomplete"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_json(path: Path, document: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    partial.replace(path)


def read_manifest(path: Path) -> CampaignManifest:
    try:
        return CampaignManifest.model_validate_json(
            read_text(path, kind="a campaign manifest", limit=RESULTS_JSON_LIMIT)
        )
    except UserFileError as exc:
        raise CampaignError(f"{exc}: not a results directory loadgen can resume") from None
    except ValidationError:
        raise CampaignError(
            f"{path}: not a loadgen campaign manifest; choose another --results directory"
        ) from None


class ResultsDir:
    """The results directory of one campaign."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def check_inputs(self, inputs: dict[str, str] | None, files: dict[str, Path]) -> None:
        """Raise InputsChanged if the campaign already here started from other trace files than
        those of digests `inputs` (`loadgen.experiments.inputs`); nothing here: no check."""
        manifest_path = self.path / MANIFEST
        if not (manifest_path.exists() or manifest_path.is_symlink()):
            return
        try:
            existing = read_manifest(manifest_path)
        except CampaignError:
            return  # `prepare` refuses the directory
        problem = inputs_problem(existing.inputs, inputs, files)
        if problem is not None:
            raise InputsChanged(f"{self.path} holds campaign {existing.campaign!r}: {problem}")

    def prepare(
        self, manifest: CampaignManifest, *, resume: bool, files: dict[str, Path] | None = None
    ) -> CampaignManifest:
        """Start the campaign of `manifest` here, or with `resume` go on with the one already
        here (refused if it is another experiment file's, or its trace `files` changed); a cell
        left incomplete is dropped. Returns the manifest in force: the existing one, reopened,
        when resuming."""
        manifest_path = self.path / MANIFEST
        if manifest_path.exists() or manifest_path.is_symlink():
            existing = read_manifest(manifest_path)
            if not resume:
                raise CampaignError(
                    f"{self.path} already holds campaign {existing.campaign!r}: pass "
                    "--resume to continue it, or choose another --results directory"
                )
            if existing.config_hash != manifest.config_hash:
                raise CampaignError(
                    f"{self.path} holds campaign {existing.campaign!r} of a different "
                    "experiment file (its hash differs): resume only with the same file"
                )
            problem = inputs_problem(existing.inputs, manifest.inputs, files or {})
            if problem is not None:
                raise CampaignError(f"{self.path} holds campaign {existing.campaign!r}: {problem}")
            manifest = existing.model_copy(update={"ended": None})
        (self.path / CELLS).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.path / INCOMPLETE, ignore_errors=True)
        self.write_manifest(manifest)
        return manifest

    def write_manifest(self, manifest: CampaignManifest) -> None:
        write_json(self.path / MANIFEST, manifest.document())

    def done(self, cell_id: str) -> bool:
        """The cell is in `cells/` (a resumed campaign skips it)."""
        return (self.path / CELLS / cell_id / CELL_INFO).is_file()

    def new_cell(self, cell_id: str) -> Path:
        """An empty folder under `.incomplete/` to build the cell in."""
        work = self.path / INCOMPLETE / cell_id
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        return work

    def publish(self, cell_id: str, work: Path) -> None:
        """Move a finished cell from `work` into `cells/`, in place of any of the same id."""
        final = self.path / CELLS / cell_id
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
