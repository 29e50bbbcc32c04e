"""Kubernetes objects as a cluster would receive them: validated against the API of the
Kubernetes release the stacks run (kubernetes-validate's schemas, strict: an unknown field is an
error), custom resources against the CRDs that define them; and the objects the program creates
itself, read from a run under the mocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils

from support.pulumi_mocks import RecordingMocks

KUBERNETES_VERSION = "1.36.0"
#: Registrations of the program that are not objects themselves.
NOT_OBJECTS = {"kubernetes:helm.sh/v3:Release", "kubernetes:yaml/v2:ConfigGroup"}


# kubernetes-validate parses its schema files (1.6 MB of definitions) again on every call; they
# are read-only package data, so each is parsed once per test session. Validation itself is
# the library's, unchanged.
kubernetes_validate.utils.schema_contents = cache(kubernetes_validate.utils.schema_contents)


class InvalidObject(AssertionError):
    pass


def plain(value: Any) -> Any:
    """Numbers as a manifest holds them: the mocks (like the engine) carry every number as a
    float; whole ones are integers to Kubernetes."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def program_objects(mocks: RecordingMocks) -> list[dict[str, Any]]:
    """The Kubernetes objects the program creates itself: typed resources (their inputs carry
    apiVersion and kind) and the objects of its ConfigGroups."""
    found: list[dict[str, Any]] = []
    for resource in mocks.resources:
        if not resource.typ.startswith("kubernetes:") or resource.typ in NOT_OBJECTS:
            continue
        found.append(plain(resource.inputs))
    for group in mocks.of_type("kubernetes:yaml/v2:ConfigGroup"):
        found += [plain(obj) for obj in group.inputs.get("objs", [])]
    return found


def describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata", {})
    where = f"{metadata.get('namespace')}/" if metadata.get("namespace") else ""
    return f"{obj.get('apiVersion')} {obj.get('kind')} {where}{metadata.get('name')}"


def _strict(schema: Any) -> Any:
    """A CRD's openAPIV3Schema as the API server applies it to a structural schema: fields it
    does not declare are not kept (pruned), which for a manifest means they are a mistake."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    result = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


class CrdValidators:
    """jsonschema validators for the custom kinds of a set of CRDs, by (apiVersion, kind)."""

    def __init__(self, crds: Iterable[Mapping[str, Any]]) -> None:
        self.schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for crd in crds:
            spec = crd["spec"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                schema = _strict(version["schema"]["openAPIV3Schema"])
                # metadata is the API server's (checked as ObjectMeta below), not the CRD's.
                schema.get("properties", {}).pop("metadata", None)
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                self.schemas[key] = schema

        self._validators: dict[tuple[str, str], jsonschema.Draft7Validator] = {}

    def validator(self, api_version: str, kind: str) -> jsonschema.Draft7Validator | None:
        key = (api_version, kind)
        if key not in self.schemas:
            return None
        if key not in self._validators:
            self._validators[key] = jsonschema.Draft7Validator(self.schemas[key])
        return self._validators[key]


@cache
def _validated(text: str) -> None:
    """kubernetes-validate reads its schemas on every call: each distinct object once."""
    obj = json.loads(text)
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        raise InvalidObject(f"{describe(obj)}: {path}: {exc.message}") from None
    except kubernetes_validate.SchemaNotFoundError:
        raise InvalidObject(
            f"{describe(obj)}: Kubernetes {KUBERNETES_VERSION} serves no "
            f"{obj.get('apiVersion')} {obj.get('kind')}"
        ) from None


def validate(obj: Mapping[str, Any], crds: CrdValidators | None = None) -> None:
    """Raises InvalidObject naming the object, the field and the problem."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    custom = crds.validator(api_version, kind) if crds is not None else None
    if custom is None:
        _validated(json.dumps(obj, sort_keys=True))
        return
    errors = sorted(custom.iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        path = ".".join(str(p) for p in first.path)
        raise InvalidObject(f"{describe(obj)}: {path}: {first.message}")
    # The custom object's metadata, as the API server checks it.
    meta = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata", {})}
    _validated(json.dumps(meta, sort_keys=True))


def problems(objs: Iterable[Mapping[str, Any]], crds: CrdValidators | None = None) -> list[str]:
    """Every object that does not validate, one line each."""
    found = []
    for obj in objs:
        try:
            validate(obj, crds)
        except InvalidObject as exc:
            found.append(str(exc))
    return found
