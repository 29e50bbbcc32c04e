"""A small HCL writer for Nomad and Consul agent configuration (attributes and blocks).

Configuration is built as Python dicts by pure functions and written here; tests parse the
result back with python-hcl2, so a quoting mistake cannot reach a machine. Only the subset both
HCL 1 (what Nomad and Consul read agent files with) and HCL 2 agree on is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

HclValue = str | int | bool | Sequence[str] | Mapping[str, object]


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        # Nomad and Consul parse agent files as HCL 1, which keeps "${" literally while HCL 2
        # would start a template: refuse rather than write something the two read differently.
        if "${" in value or "%{" in value:
            raise ValueError(f"HCL string {value!r} contains a template sequence")
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    raise TypeError(f"no HCL literal for {value!r}")


def render_hcl(body: Mapping[str, object], indent: int = 0) -> str:
    """Keys map to attributes, or to blocks when the value is a mapping. A key with spaces,
    like 'plugin "docker"', is a labelled block (its labels written as given)."""
    pad = "  " * indent
    lines: list[str] = []
    for key, value in body.items():
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key} {{")
            inner = render_hcl(value, indent + 1)
            if inner:
                lines.append(inner.rstrip("\n"))
            lines.append(f"{pad}}}")
        else:
            if not key.isidentifier():
                raise ValueError(f"HCL attribute name {key!r} is not an identifier")
            lines.append(f"{pad}{key} = {_literal(value)}")
    return "\n".join(lines) + ("\n" if lines else "")


def block_label(kind: str, label: str) -> str:
    """The key of a labelled block, e.g. block_label("plugin", "docker") -> 'plugin "docker"'."""
    return f"{kind} {json.dumps(label)}"
