"""Building a campaign's manifest: what was run, with what tools, against which stack."""

from __future__ import annotations

import hashlib
import json
import platform as platform_module
import socket
import subprocess
from importlib import metadata
from typing import Any

from contract.outputs import StackOutputs
from loadgen.outputs import public_outputs
from loadgen.results.models import CampaignManifest, ClockInfo, PlatformInfo, PlatformVersions
from loadgen.version import loadgen_version

#: The packages whose versions a result depends on (engine, control plane, statistics).
RECORDED_PACKAGES = ("uvloop", "httptools", "aiohttp", "httpx", "hdrhistogram", "pydantic",
                     "numpy", "scipy", "pyarrow")  # fmt: skip


def config_hash(config: dict[str, Any]) -> str:
    """The hash of an experiment file's validated settings (`model_dump(mode="json",
    by_alias=True)`): a campaign resumes only with the same file."""
    canonical = json.dumps(config, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def clock_info() -> ClockInfo:
    """The wall clock's source and whether NTP says it is synchronised (records carry wall
    anchors, so campaigns from different machines compare only with synced clocks)."""
    try:
        result = subprocess.run(
            ["timedatectl", "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if result.returncode == 0 and result.stdout.strip() in {"yes", "no"}:
            synced = result.stdout.strip() == "yes"
            return ClockInfo(source="CLOCK_REALTIME (timedatectl)", synced=synced)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return ClockInfo(source="CLOCK_REALTIME (sync state unknown)", synced=False)


def package_versions() -> dict[str, str]:
    versions = {"python": platform_module.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def build_manifest(
    *,
    campaign: str,
    config: dict[str, Any],
    seed: int,
    outputs: StackOutputs,
    cold_start_method: str,
    started: str,
    inputs: dict[str, str] | None = None,
) -> CampaignManifest:
    """The manifest of a campaign starting now: `config` is the experiment file's validated
    settings as JSON, `cold_start_method` the platform's way of forcing cold starts, `inputs`
    the digests of its trace files (`loadgen.experiments.inputs`)."""
    versions = PlatformVersions()
    if outputs.openfaas is not None:
        versions = PlatformVersions(
            gateway=outputs.openfaas.versions.gateway, provider=outputs.openfaas.versions.provider
        )
    elif outputs.knative is not None:
        versions = PlatformVersions(
            gateway=f"kourier {outputs.knative.versions.kourier}",
            provider=f"knative-serving {outputs.knative.versions.serving}",
        )
    elif outputs.openwhisk is not None and outputs.openwhisk.versions:
        versions = PlatformVersions(
            gateway=outputs.openwhisk.versions.get("images"),
            provider=outputs.openwhisk.versions.get("chart_commit"),
        )
    credits = None
    if outputs.machines is not None:
        modes = {mode for mode in outputs.machines.cpu_credits.values() if mode}
        credits = ",".join(sorted(modes)) or None
    return CampaignManifest(
        campaign=campaign,
        config_hash=config_hash(config),
        config=config,
        inputs=inputs,
        tool_version=loadgen_version(),
        packages=package_versions(),
        started=started,
        seed=seed,
        host=socket.gethostname(),
        clock=clock_info(),
        platform=PlatformInfo(
            cloud=outputs.cloud,
            orchestrator=outputs.orchestrator,
            framework=outputs.framework,
            versions=versions,
        ),
        node_roles=outputs.nodes.model_dump() if outputs.nodes is not None else {},
        instance_types=dict(outputs.machines.sizes) if outputs.machines is not None else {},
        cpu_credits=credits,
        cold_start_methods=[cold_start_method],
        outputs=public_outputs(outputs),
    )
