"""The suite's function names and how to load one by name.

Functions are imported lazily so that a packaged OpenWhisk action, which carries only its own
module, never tries to import the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ._params import Param

Handler = Callable[[Mapping[str, Any]], Any]

#: Every function of the suite; each is the module `functions.<name>` with a `main(params)`.
FUNCTION_NAMES: tuple[str, ...] = (
    "echo",
    "sleep",
    "matrix",
    "ftp",
    "chain",
    "b64",
    "jsonserde",
    "floatops",
    "synthetic",
    "thumbnail",
)

#: The languages a function may be written in; `python` is the suite above (functions/*.py).
Language = Literal["python", "node", "go", "java"]
LANGUAGES: tuple[Language, ...] = ("python", "node", "go", "java")

#: Which suite functions exist in each language. Every language speaks the same HTTP mode and
#: returns the same `meta` envelope, so a cell's `language` is the only thing that differs.
LANGUAGE_FUNCTIONS: dict[Language, tuple[str, ...]] = {
    "python": FUNCTION_NAMES,
    "node": ("echo", "sleep", "matrix"),
    "go": ("echo", "sleep", "matrix"),
    "java": ("echo", "sleep", "matrix"),
}


class UnknownFunction(LookupError):
    """A function name that is not part of the suite."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown function {name!r}; known: {', '.join(FUNCTION_NAMES)}")


def parameters(name: str) -> tuple[Param, ...] | None:
    """The parameters function `name` declares (`PARAMS`); None when it takes any."""
    if name not in FUNCTION_NAMES:
        raise UnknownFunction(name)
    module = importlib.import_module(f"{__package__}.{name}")
    declared: tuple[Param, ...] | None = module.PARAMS
    return declared


def load(name: str) -> Handler:
    """The `main` of function `name`; `UnknownFunction` for any other name."""
    if name not in FUNCTION_NAMES:
        raise UnknownFunction(name)
    module = importlib.import_module(f"{__package__}.{name}")
    handler: Handler = module.main
    return handler
