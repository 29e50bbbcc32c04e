"""Read `faasbench:*` keys from Pulumi's config into `StackConfig`, or explain what is wrong.

Every problem is reported at once, each line naming the key, the bad value (never a secret's)
and what is allowed, so one `pulumi preview` shows the user everything to fix.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from stacks.config import StackConfig
from stacks.config_fields import excerpt

NAMESPACE = "faasbench"

#: Keys holding credentials: refused unless stored with `pulumi config set --secret`.
SECRET_KEYS = ("sshPrivateKey", "kubeconfig", "openfaasLicense", "registryToken")

SET_HINTS = {
    "cloud": "pulumi config set cloud aws",
    "sshPrivateKey": "pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519",
    "kubeconfig": "pulumi config set --secret kubeconfig < ~/.kube/config",
    "openfaasLicense": "pulumi config set --secret openfaasLicense < ~/.openfaas/LICENSE",
    "registryToken": "pulumi config set --secret registryToken < ~/.docker-hub-token",
}


class ConfigError(ValueError):
    """The stack configuration is invalid; the message lists every problem."""


def _sections() -> dict[str, type[BaseModel]]:
    sections: dict[str, type[BaseModel]] = {}
    for name, field in StackConfig.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sections[name] = annotation
    return sections


def key_locations() -> dict[str, tuple[str | None, bool]]:
    """Every config key -> (section field name or None for top level, holds a list)."""
    locations: dict[str, tuple[str | None, bool]] = {}
    models: list[tuple[str | None, type[BaseModel]]] = [(None, StackConfig)]
    models += list(_sections().items())
    for section, model in models:
        for name, field in model.model_fields.items():
            if section is None and name in _sections():
                continue
            alias = field.alias or name
            is_list = _holds_list(field.annotation)
            locations[alias] = (section, is_list)
    return locations


def _holds_list(annotation: object) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_holds_list(arg) for arg in typing.get_args(annotation))


def _parse_list(key: str, raw: str) -> object:
    text = raw.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(f"{NAMESPACE}:{key}: {excerpt(raw)} is not a valid list") from None
    return [item.strip() for item in text.split(",") if item.strip()]


def _suggest(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def load_stack_config(raw: Mapping[str, str], secret_keys: Iterable[str] = ()) -> StackConfig:
    """Validate raw string config (keys without namespace) into a StackConfig.

    `secret_keys` are the keys Pulumi holds encrypted; credentials outside it are refused.
    """
    locations = key_locations()
    secret = set(secret_keys)
    problems: list[str] = []
    tree: dict[str, object] = {}
    for key, value in raw.items():
        if key not in locations:
            problems.append(f"{NAMESPACE}:{key}: unknown key{_suggest(key, locations)}")
            continue
        if key in SECRET_KEYS and key not in secret:
            problems.append(
                f"{NAMESPACE}:{key} is stored in plain text; store it encrypted: {SET_HINTS[key]}"
            )
            continue
        section, is_list = locations[key]
        try:
            parsed = _parse_list(key, value) if is_list else value
        except ConfigError as err:
            problems.append(str(err))
            continue
        target = tree if section is None else tree.setdefault(section, {})
        assert isinstance(target, dict)
        target[key] = parsed
    try:
        config = StackConfig.model_validate(tree)
    except ValidationError as err:
        problems += [_describe(e) for e in err.errors()]
    if problems:
        raise ConfigError(_format(problems))
    return config


def _format(problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"invalid faasbench stack configuration:\n{lines}"


def _describe(error: ErrorDetails) -> str:
    sections = _sections()
    parts: list[str] = []
    for item in error["loc"]:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif item not in sections:
            parts.append(str(item))
    key = ".".join(parts)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        hint = SET_HINTS.get(key)
        return f"{NAMESPACE}:{key} is required" + (f": {hint}" if hint else "")
    if not key:
        return message
    base_key = key.split("[")[0]
    shown = "" if base_key in SECRET_KEYS else f" = {excerpt(error['input'])}"
    return f"{NAMESPACE}:{key}{shown}: {message}"


def read_pulumi_config() -> tuple[dict[str, str], set[str]]:
    """This stack's `faasbench:*` values (as strings) and which of them are secret.

    Pulumi's Python SDK has no public way to list config keys, and listing them is what lets
    us reject misspelt keys, so this reads the runtime's config map, which the language host
    fills from the engine before the program runs (and `set_all_config` fills under mocks).
    """
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{NAMESPACE}:"
    raw = {k.removeprefix(prefix): str(v) for k, v in values.items() if k.startswith(prefix)}
    secret = {k.removeprefix(prefix) for k in raw if runtime_config.is_config_secret(prefix + k)}
    return raw, secret
