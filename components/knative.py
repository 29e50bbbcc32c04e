"""Knative Serving with Kourier on Kubernetes: the release's CRDs, core and Kourier manifests,
fetched pinned and verified when the program starts (`components.knative_config`), applied as
ConfigGroups in that order, then faasbench's own objects (the function namespace and the
NodePort HAProxy checks Kourier on).

The manifests are read at program start, like the OpenWhisk chart: `pulumi preview` shows the
objects, and only the first preview needs the network (the verified files are cached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import knative_config
from components.knative_config import (
    KOURIER_VERSION,
    SERVING_VERSION,
    KnativeManifestError,
    KnativeSettings,
    configure_kourier,
    configure_serving,
    function_namespace,
    parse_manifest,
    probe_service,
)
from components.pinned_source import PinnedFetchError, ReleaseAsset, fetch_release_asset


class KnativeFetchError(RuntimeError):
    """A release manifest could not be fetched or is not the pinned one; a user-facing error."""


@dataclass(frozen=True)
class KnativeArgs:
    provider: k8s.Provider
    settings: KnativeSettings = field(default_factory=KnativeSettings)
    #: Release file name -> sha256 to require instead of the release's checksums.txt.
    sha256: dict[str, str] = field(default_factory=dict)
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def fetch_manifest(asset: ReleaseAsset, sha256: str | None = None) -> tuple[str, str]:
    """The text of a verified release manifest and its sha256."""
    if sha256 is not None:
        asset = ReleaseAsset(
            asset.repository, asset.tag, asset.name, sha256, asset.checksums, asset.host
        )
    try:
        path, digest = fetch_release_asset(asset)
    except PinnedFetchError as exc:
        raise KnativeFetchError(f"Knative's {asset.name}: {exc}") from None
    return path.read_text(), digest


def release_objects(
    settings: KnativeSettings, sha256: dict[str, str] | None = None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """The objects of each release manifest, configured, and the sha256 of each file."""
    pins = sha256 or {}
    objects: dict[str, list[dict[str, Any]]] = {}
    digests: dict[str, str] = {}
    for key, asset in (
        ("crds", knative_config.SERVING_CRDS),
        ("serving", knative_config.SERVING_CORE),
        ("kourier", knative_config.KOURIER),
    ):
        text, digest = fetch_manifest(asset, pins.get(asset.name))
        try:
            parsed = parse_manifest(text, asset.label)
            if key == "serving":
                parsed = configure_serving(parsed, settings)
            elif key == "kourier":
                parsed = configure_kourier(parsed)
        except KnativeManifestError as exc:
            raise KnativeFetchError(f"Knative's {asset.name}: {exc}") from None
        objects[key] = parsed
        digests[asset.name.removesuffix(".yaml")] = digest
    return objects, digests


class Knative(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: KnativeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:knative:Knative", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        objects, digests = release_objects(args.settings, args.sha256)
        previous: list[pulumi.Resource] = list(args.depends_on)
        groups: list[pulumi.Resource] = []
        for key in ("crds", "serving", "kourier"):
            group = k8s.yaml.v2.ConfigGroup(
                f"{name}-{key}",
                objs=objects[key],
                opts=pulumi.ResourceOptions.merge(
                    on_cluster, pulumi.ResourceOptions(depends_on=previous)
                ),
            )
            groups.append(group)
            previous = [group]
        ours = k8s.yaml.v2.ConfigGroup(
            f"{name}-faasbench",
            objs=[function_namespace(), probe_service()],
            opts=pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=previous)
            ),
        )
        self.manifests = digests
        self.versions = {"serving": SERVING_VERSION, "kourier": KOURIER_VERSION}
        #: Depend on these to act once Knative and Kourier are installed.
        self.ready: list[pulumi.Resource] = [*groups, ours]
        self.register_outputs({"manifests": digests})
