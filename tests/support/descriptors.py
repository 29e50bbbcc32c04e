"""Whether a benchmark function leaves descriptors (sockets, files) open.

The calls run in a child process of their own: the test process also holds other tests'
servers and threads (with several test workers, a whole file's fixtures), which open and close
descriptors meanwhile, so only a process that does nothing but call the function can compare
its descriptors before and after.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Call:
    """One call: its parameters, and either a subset of the result it must return or a
    substring of the FunctionError it must raise."""

    params: dict[str, Any]
    returns: dict[str, Any] = field(default_factory=dict)
    raises: str | None = None


_CHILD = """
import gc, importlib, json, os, sys, warnings
from functions._params import FunctionError

module, calls, repeat = json.loads(sys.argv[1])
main = importlib.import_module(f"functions.{module}").main

def call(spec):
    try:
        result = main(spec["params"])
    except FunctionError as error:
        if spec["raises"] is None or spec["raises"] not in str(error):
            raise
        return
    if spec["raises"] is not None:
        raise AssertionError(f"{spec['params']} did not fail")
    missing = {k: v for k, v in spec["returns"].items() if result.get(k) != v}
    if missing:
        raise AssertionError(f"{spec['params']} returned {result}, expected {missing}")

def open_fds():
    gc.collect()
    return set(os.listdir("/proc/self/fd"))

call(calls[0])  # imports and lazy initialisation happen before counting
before = open_fds()
with warnings.catch_warnings():
    warnings.simplefilter("error", ResourceWarning)
    for _ in range(repeat):
        for spec in calls:
            call(spec)
print(json.dumps(sorted(open_fds() ^ before)))
"""


def descriptors_changed(module: str, calls: list[Call], repeat: int = 5) -> list[str]:
    """The descriptors opened or closed by `repeat` rounds of `calls` to functions.<module>
    (empty when nothing leaked); a call that does not behave as declared fails the test."""
    argument = json.dumps([module, [asdict(c) for c in calls], repeat])
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, argument],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
