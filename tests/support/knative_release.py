"""Stand-ins for Knative's release manifests (serving-crds.yaml, serving-core.yaml,
kourier.yaml and each release's checksums.txt), served on 127.0.0.1 the way GitHub serves
release downloads.

The real manifests are release assets that cannot be fetched in tests (and are never copied
into the project). The stand-ins hold what faasbench configures in them (the ConfigMaps,
Kourier's Service) and, where the pinned spec is at hand, the real Service CRD, so the
program's whole path (download, checksum, parse, configure, apply) runs on them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import yaml

from components import knative_config
from components.pinned_source import ReleaseAsset
from support.openwhisk_chart import serve_archives
from support.specs import KNATIVE_SERVICE_CRD, SpecMissing, file_path

#: A tag that names an image by digest, as the release's `ko`-resolved manifests do.
_DIGEST = "sha256:" + "0" * 64


def _config_map(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": knative_config.SERVING_NAMESPACE},
        "data": {"_example": "# the release's documented defaults\n"},
    }


def _deployment(name: str, namespace: str, labels: dict[str, str], image: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def service_crd() -> dict[str, object] | None:
    """The pinned Service CRD, where it can be had."""
    try:
        return yaml.safe_load(file_path(KNATIVE_SERVICE_CRD).read_text())
    except SpecMissing:
        return None


def manifests() -> dict[str, list[dict[str, object]]]:
    """The stand-in objects of each release file."""
    crd = service_crd()
    crds = [crd] if crd is not None else []
    serving = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": knative_config.SERVING_NAMESPACE},
        },
        *(
            _config_map(name)
            for name in (
                "config-autoscaler",
                "config-network",
                "config-domain",
                "config-observability",
            )
        ),
        *(
            _deployment(
                component,
                knative_config.SERVING_NAMESPACE,
                {"app": component},
                f"gcr.io/knative-releases/knative.dev/serving/cmd/{component}@{_DIGEST}",
            )
            for component in ("activator", "autoscaler", "controller", "webhook")
        ),
    ]
    kourier = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": knative_config.KOURIER_NAMESPACE},
        },
        _deployment(
            "3scale-kourier-gateway",
            knative_config.KOURIER_NAMESPACE,
            dict(knative_config.KOURIER_GATEWAY_LABEL),
            "docker.io/envoyproxy/envoy:v1.37-latest",
        ),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kourier", "namespace": knative_config.KOURIER_NAMESPACE},
            "spec": {
                "type": "LoadBalancer",
                "selector": dict(knative_config.KOURIER_GATEWAY_LABEL),
                "ports": [
                    {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 8080},
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443},
                ],
            },
        },
    ]
    return {"serving-crds.yaml": crds, "serving-core.yaml": serving, "kourier.yaml": kourier}


def _text(objects: list[dict[str, object]]) -> bytes:
    return ("---\n" + yaml.safe_dump_all(objects, sort_keys=False)).encode()


def _checksums(files: dict[str, bytes]) -> bytes:
    return "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode()


@dataclasses.dataclass(frozen=True)
class ServedRelease:
    """The served stand-ins: the assets to point the program at, and the bytes of each file."""

    assets: dict[str, ReleaseAsset]
    files: dict[str, bytes]


@contextmanager
def local_release(
    files: dict[str, bytes] | None = None, checksums: dict[str, bytes] | None = None
) -> Iterator[ServedRelease]:
    """Serve the stand-ins (or `files` instead) with a checksums.txt per release (or the given
    ones, to test a mismatch); yields the assets named like the real ones."""
    served = files or {name: _text(objects) for name, objects in manifests().items()}
    originals = {
        asset.name: asset
        for asset in (
            knative_config.SERVING_CRDS,
            knative_config.SERVING_CORE,
            knative_config.KOURIER,
        )
    }
    paths: dict[str, bytes] = {}
    for name, asset in originals.items():
        paths[f"/{asset.repository}/releases/download/{asset.tag}/{name}"] = served[name]
    for repository, tag in {(a.repository, a.tag) for a in originals.values()}:
        listed = {n: served[n] for n, a in originals.items() if a.repository == repository}
        body = (checksums or {}).get(repository) or _checksums(listed)
        paths[f"/{repository}/releases/download/{tag}/checksums.txt"] = body
    with serve_archives(paths) as url:
        yield ServedRelease(
            {name: dataclasses.replace(asset, host=url) for name, asset in originals.items()},
            served,
        )
