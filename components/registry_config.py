"""The stack's private registry and how cluster nodes are told to trust it.

`registry: private` runs `registry:2` on the bastion, plain HTTP on its private address. Image
references name it by that address (`10.0.1.10:5000/faasbench/faasbench-functions:...`), so
every runtime that pulls must accept HTTP for it: containerd in k3s through `registries.yaml`
(a mirror whose endpoint is `http://`), Docker on Swarm and Nomad nodes through
`insecure-registries` in `daemon.json` (written by the docker-install step).
"""

from __future__ import annotations

import pulumi
import yaml

#: distribution's registry, pinned to an exact release tag (v2.8.3, the last 2.x release line
#: when this was written); data lives on the bastion's disk.
REGISTRY_IMAGE = "registry:2.8.3"
REGISTRY_PORT = 5000


def k3s_registries(address: str) -> str:
    """k3s's `/etc/rancher/k3s/registries.yaml` for a plain-HTTP registry at `address`
    (host:port). k3s turns it into containerd's hosts configuration on start."""
    document = {"mirrors": {address: {"endpoint": [f"http://{address}"]}}}
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def insecure_registries(address: pulumi.Input[str] | None) -> pulumi.Input[list[str]]:
    """The docker-install step's INSECURE_REGISTRIES: the private registry, or none."""
    if address is None:
        return []
    return pulumi.Output.from_input(address).apply(lambda a: [a])
