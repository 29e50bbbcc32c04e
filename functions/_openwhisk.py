"""OpenWhisk adapter: what a packaged action's `main(args)` calls.

OpenWhisk's python:3 runtime keeps the action's process alive across warm activations, so the
runtime's instance id and cold flag mean the same as in HTTP mode. Errors are returned as
`{"error": ..., "meta": ...}`, which OpenWhisk records as an application error. Parameters
named `__ow_*` (what the platform adds for web actions) are platform metadata, not function
parameters, and are dropped.
"""

from __future__ import annotations

from typing import Any

from ._registry import load
from ._runtime import invoke


def run(name: str, args: object) -> dict[str, Any]:
    """One activation of function `name` with OpenWhisk's `args`."""
    if isinstance(args, dict):
        args = {k: v for k, v in args.items() if not k.startswith("__ow_")}
    return invoke(name, load(name), args, "openwhisk").document
