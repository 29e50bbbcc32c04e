"""The OpenWhisk controller API's documents faasbench writes and reads (swagger definitions of
`apiv1swagger.json`: ActionPut and its parts, Activation)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    """Request bodies: exactly the fields written, None fields left out when dumped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class KeyValue(_Model):
    """Swagger definition `KeyValue`."""

    key: str
    value: Any


class ActionLimits(_Model):
    """Swagger definition `ActionLimits`: timeout in ms, memory and logs in MB."""

    timeout: int | None = None
    memory: int | None = None
    logs: int | None = None
    concurrency: int | None = None


class ActionExec(_Model):
    """Swagger definition `ActionExec`; `code` is the base64 zip when `binary` is true."""

    kind: str
    code: str | None = None
    main: str | None = None
    binary: bool | None = None
    components: list[str] | None = None
    """For kind `sequence`: the fully qualified actions it runs in order."""


class ActionPut(_Model):
    """Swagger definition `ActionPut`: the body of create and update."""

    exec_: ActionExec = Field(alias="exec")
    limits: ActionLimits | None = None
    annotations: list[KeyValue] | None = None
    parameters: list[KeyValue] | None = None


class Activation(BaseModel):
    """Swagger definitions `ActivationBrief` / `Activation` (what `docs=true` returns).

    Only the fields records need; others (logs, response, subject) are kept but unused.
    """

    model_config = ConfigDict(extra="allow")

    activationId: str  # upstream field name
    name: str
    namespace: str
    start: int
    end: int | None = None
    duration: int | None = None
    annotations: list[KeyValue] = Field(default_factory=list)

    def annotation(self, key: str) -> Any:
        for item in self.annotations:
            if item.key == key:
                return item.value
        return None
