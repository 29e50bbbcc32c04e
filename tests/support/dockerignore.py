"""Docker's `.dockerignore` rule, for checking what a build context lets through."""

from __future__ import annotations

import fnmatch


def included(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    keep = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if any(fnmatch.fnmatchcase(candidate, body) for candidate in candidates):
            keep = negated
    return keep
