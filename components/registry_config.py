"""The stack's private registry and how cluster nodes are told to trust it.

`registry: private` runs distribution's registry (`registry:3`) on the bastion, plain HTTP on
its private address. Image
references name it by that address (`10.0.1.10:5000/faasbench/faasbench-functions:...`), so
every runtime that pulls must accept HTTP for it: containerd in k3s through `registries.yaml`
(a mirror whose endpoint is `http://`), Docker on Swarm and Nomad nodes through
`insecure-registries` in `daemon.json` (written by the docker-install step).
"""

from __future__ import annotations

import pulumi
import yaml

#: distribution's registry, pinned to an exact release tag: 3.1.1, the maintained line
#: (docker-library/official-images 0a44432d, 2026-05-04: "Tags: 3.1.1, 3.1, 3, latest"). 2.8.3
#: was dropped there in 25ebf49c (2025-06-04) with its EOL Alpine 3.18 base. The 3.x image keeps
#: what registry-server.sh relies on (distribution-library-image: data in /var/lib/registry,
#: HTTP on :5000, the /v2/ API); its default configuration moved to
#: /etc/distribution/config.yml, which the step never touches. Data lives on the bastion's disk.
REGISTRY_IMAGE = "registry:3.1.1"
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
