"""Bodies of the OpenFaaS gateway's `/system` API, with the upstream JSON field names.

Written from the types of github.com/openfaas/faas-provider (`types/model.go`,
`types/requests.go`) and the gateway's OpenAPI description (openfaas/faas
`api-docs/spec.openapi.yml`); field names are upstream's, so a body dumps to what the gateway
expects. Unknown fields in responses are kept: newer gateways add some (e.g. `usage`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class FunctionResources(_Body):
    """faas-provider `types.FunctionResources`: Kubernetes-style quantities ("128Mi", "0.5")."""

    memory: str | None = None
    cpu: str | None = None


class FunctionDeployment(_Body):
    """faas-provider `types.FunctionDeployment`: the body of `POST`/`PUT /system/functions`."""

    service: str
    image: str
    namespace: str | None = None
    envProcess: str | None = None
    envVars: dict[str, str] | None = None
    constraints: list[str] | None = None
    secrets: list[str] | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    limits: FunctionResources | None = None
    requests: FunctionResources | None = None
    readOnlyRootFilesystem: bool | None = None


class ScaleServiceRequest(_Body):
    """faas-provider `types.ScaleServiceRequest`: body of `POST /system/scale-function/{name}`."""

    serviceName: str
    namespace: str | None = None
    replicas: int = Field(ge=0)


class DeleteFunctionRequest(_Body):
    """faas-provider `types.DeleteFunctionRequest`: body of `DELETE /system/functions`."""

    functionName: str
    namespace: str | None = None


class FunctionStatus(BaseModel):
    """faas-provider `types.FunctionStatus`: what `GET /system/function/{name}` returns.

    Upstream omits zero counts (`omitempty`), so absent replica counts mean 0.
    """

    model_config = ConfigDict(extra="allow")

    name: str
    image: str
    namespace: str | None = None
    envVars: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    invocationCount: float = 0
    replicas: int = 0
    availableReplicas: int = 0
