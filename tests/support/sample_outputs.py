"""Stack outputs files as a stack would write them, for tests that read them (validate,
feasibility, campaigns against scripted servers, the bad-inputs corpus)."""

from __future__ import annotations

from typing import Any


def outputs_for(
    framework: str,
    orchestrator: str,
    *,
    gateway_url: str = "http://10.0.2.9:8080",
    ftp: bool = True,
    **limits: Any,
) -> dict[str, Any]:
    """An AWS stack's outputs for `framework` on `orchestrator`, its gateway at `gateway_url`;
    `limits` override OpenFaaS Pro's (no caps, scale to zero, no idler)."""
    base: dict[str, Any] = {
        "cloud": "aws",
        "orchestrator": orchestrator,
        "framework": framework,
        "gateway_url": gateway_url,
    }
    if ftp:
        base["ftp"] = {
            "host": "10.0.2.7",
            "port": 21,
            "user": "faasbench",
            "password": "ftp-secret-value",
            "test_file": "testfile.bin",
            "test_file_bytes": 1048576,
            "test_file_sha256": "0" * 64,
            "max_clients": 500,
        }
    if framework == "openfaas":
        base["openfaas"] = {
            "url": gateway_url,
            "username": "admin",
            "password": "gateway-secret-value",
            "namespace": "openfaas-fn",
            "limits": {
                "max_functions": None,
                "max_replicas": None,
                "scale_to_zero": True,
                "idler": False,
                **limits,
            },
            "versions": {"gateway": "0.27.13", "provider": "faas-netes 0.18.17"},
        }
    else:
        base["openwhisk"] = {
            "api_host": gateway_url,
            "auth": "uuid:key-secret-value",
            "namespace": "guest",
            "insecure_tls": False,
            "idle_timeout_s": 600,
        }
    return base
