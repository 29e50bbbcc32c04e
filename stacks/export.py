"""Export stack outputs through the contract: unknown keys are a bug, secrets are always marked."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from contract.outputs import StackOutputs, secret_paths


def mark_secrets(values: Mapping[str, object]) -> dict[str, object]:
    """Check every key against `StackOutputs` and wrap every secret field in `Output.secret`."""
    unknown = set(values) - set(StackOutputs.model_fields)
    if unknown:
        raise KeyError(f"not in the stack output contract: {', '.join(sorted(unknown))}")
    marked: dict[str, object] = dict(values)
    for path in sorted(secret_paths()):
        _wrap(marked, path)
    return marked


def _wrap(tree: dict[str, object], path: tuple[str, ...]) -> None:
    head, *rest = path
    if head not in tree or tree[head] is None:
        return
    if not rest:
        tree[head] = pulumi.Output.secret(tree[head])
        return
    nested = tree[head]
    if not isinstance(nested, Mapping):
        raise TypeError(f"stack output {head} must be a mapping to hold {'.'.join(path)}")
    copied = dict(nested)
    _wrap(copied, tuple(rest))
    tree[head] = copied


def export_outputs(values: Mapping[str, object]) -> None:
    for key, value in mark_secrets(values).items():
        pulumi.export(key, value)
