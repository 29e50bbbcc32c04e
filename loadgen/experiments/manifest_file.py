"""A campaign's `manifest.json`: written atomically, and on `--resume` read back and checked to
belong to the same experiment file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loadgen.results.models import CampaignManifest
from loadgen.userfiles import RESULTS_JSON_LIMIT, UserFileError, read_text


class CampaignError(RuntimeError):
    """The campaign cannot start or go on (the message says why)."""


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


def open_manifest(path: Path, manifest: CampaignManifest, *, resume: bool) -> CampaignManifest:
    """`manifest` for a new campaign; with `resume`, the one already at `path` (reopened), if
    it is of the same experiment file."""
    if not (path.exists() or path.is_symlink()):
        return manifest
    existing = read_manifest(path)
    results_dir = path.parent
    if not resume:
        raise CampaignError(
            f"{results_dir} already holds campaign {existing.campaign!r}: pass "
            "--resume to continue it, or choose another --results directory"
        )
    if existing.config_hash != manifest.config_hash:
        raise CampaignError(
            f"{results_dir} holds campaign {existing.campaign!r} of a different "
            "experiment file (its hash differs): resume only with the same file"
        )
    return existing.model_copy(update={"ended": None})
