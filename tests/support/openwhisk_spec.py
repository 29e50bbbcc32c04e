"""Validate HTTP exchanges against OpenWhisk's own Swagger 2.0 description of its API.

The spec lists runtime kinds of OpenWhisk's main repository (python:3.10, python:3.11, ...);
the deployed chart (openwhisk-deploy-kube 1.0.1) names its Python runtime `python:3` in its
runtimes.json. The kind enum is therefore widened with the chart's kinds, and only with them.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema

from support.specs import OPENWHISK_CHART_SPEC, OPENWHISK_SWAGGER, require_file, require_tree


def swagger_path() -> Path:
    """The pinned swagger file (a test that needs it is skipped, naming why, without it)."""
    return require_file(OPENWHISK_SWAGGER)


def chart_kinds() -> list[str]:
    runtimes = json.loads((require_tree(OPENWHISK_CHART_SPEC) / "runtimes.json").read_text())
    runtimes = runtimes["runtimes"]
    return [runtime["kind"] for family in runtimes.values() for runtime in family]


class SwaggerSpec:
    """Path templates, parameters and schemas of one Swagger 2.0 document."""

    def __init__(self, document: dict[str, Any], extra_kinds: list[str] = ()) -> None:
        self.document = copy.deepcopy(document)
        kind = self.document["definitions"]["ActionExec"]["properties"]["kind"]
        kind["enum"] = [*kind["enum"], *(k for k in extra_kinds if k not in kind["enum"])]
        self.base_path = self.document.get("basePath", "")
        self._templates = [
            (template, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+?)", template) + "$"))
            for template in self.document["paths"]
        ]

    @classmethod
    def load(cls) -> SwaggerSpec:
        return cls(json.loads(swagger_path().read_text()), chart_kinds())

    def match(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(template, operation, path parameters) of a request path; AssertionError if none."""
        assert path.startswith(self.base_path + "/"), f"{path} is outside {self.base_path}"
        relative = path[len(self.base_path) :]
        for template, pattern in self._templates:
            found = pattern.match(relative)
            if found:
                item = self.document["paths"][template]
                operation = item.get(method.lower())
                assert operation is not None, f"{method} is not an operation of {template}"
                return template, operation, found.groupdict()
        raise AssertionError(f"no path template matches {relative}")

    def _parameters(self, template: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
        merged = {
            (p["name"], p["in"]): p for p in self.document["paths"][template].get("parameters", [])
        }
        merged.update({(p["name"], p["in"]): p for p in operation.get("parameters", [])})
        return list(merged.values())

    def schema_errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        rooted = {**schema, "definitions": self.document["definitions"]}
        validator = jsonschema.Draft4Validator(rooted)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]

    def request_errors(self, method: str, url: str, body: bytes | None) -> list[str]:
        """Everything about a request that the spec does not allow."""
        parts = urlsplit(url)
        template, operation, path_params = self.match(method, parts.path)
        errors: list[str] = []
        parameters = self._parameters(template, operation)
        for p in parameters:
            if p["in"] == "path" and not path_params.get(p["name"]):
                errors.append(f"path parameter {p['name']} missing")
        declared = {p["name"]: p for p in parameters if p["in"] == "query"}
        query = parse_qsl(parts.query, keep_blank_values=True)
        for name, value in query:
            p = declared.get(name)
            if p is None:
                errors.append(f"query parameter {name!r} is not declared for {method} {template}")
                continue
            errors.extend(_scalar_errors(name, value, p))
        given = {name for name, _ in query}
        errors.extend(
            f"required query parameter {name!r} missing"
            for name, p in declared.items()
            if p.get("required") and name not in given
        )
        body_params = [p for p in parameters if p["in"] == "body"]
        if body:
            if not body_params:
                errors.append(f"{method} {template} takes no body")
            else:
                try:
                    document = json.loads(body)
                except ValueError:
                    errors.append("body is not JSON")
                else:
                    errors.extend(self.schema_errors(body_params[0]["schema"], document))
        elif body_params and body_params[0].get("required"):
            errors.append(f"{method} {template} requires a body")
        return errors

    def response_errors(self, method: str, path: str, status: int, body: bytes) -> list[str]:
        """Whether the spec documents this status for the operation, and the body's schema."""
        template, operation, _ = self.match(method, path)
        responses = operation["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            return [f"{method} {template} does not document status {status}"]
        if "$ref" in response:
            response = self.document["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema = response.get("schema")
        if schema is None:
            return []
        try:
            document = json.loads(body)
        except ValueError:
            return [f"{method} {template} {status}: body is not JSON"]
        return self.schema_errors(schema, document)


def _scalar_errors(name: str, value: str, parameter: dict[str, Any]) -> list[str]:
    kind = parameter.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return [f"query parameter {name!r}={value!r} is not an integer"]
    if kind == "boolean" and value not in {"true", "false"}:
        return [f"query parameter {name!r}={value!r} is not a boolean"]
    if "enum" in parameter and value not in parameter["enum"]:
        return [f"query parameter {name!r}={value!r} is not one of {parameter['enum']}"]
    return []
