"""`echo`: returns its parameters unchanged; the cheapest possible handler, so warm and cold
scenarios measure the platform rather than the function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: echo takes any parameters and returns them.
PARAMS = None


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    return dict(params)
