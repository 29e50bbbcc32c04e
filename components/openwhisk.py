"""Apache OpenWhisk on Kubernetes: the openwhisk-deploy-kube chart, fetched pinned at program
start (see `components.openwhisk_chart`), as a Helm release with generated auth keys.

The chart's system and guest keys are public defaults, so both are generated here (a UUID and
a 64-character key each) and the guest key is exported as a secret. The release gets a long
timeout: its init jobs clone repositories and install the catalog, which takes many minutes.
Beside the release, one NetworkPolicy lets the stack's Prometheus read the components'
`/metrics` (`components.openwhisk_config.metrics_network_policy`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import openwhisk_chart
from components.endpoint import Endpoint
from components.openwhisk_chart import chart_with_runtimes, fetch_chart
from components.openwhisk_config import (
    IMAGE_TAG,
    NAMESPACE,
    RELEASE,
    Capacity,
    OpenWhiskSettings,
    Prewarm,
    Scraper,
    metrics_network_policy,
    openwhisk_values,
    runtimes_with_prewarm,
)
from components.pinned_source import PinnedTree

#: The chart installs CouchDB, Kafka/ZooKeeper (and etcd with the new scheduler), the
#: controller, invokers and the catalog; 30 minutes covers slow image pulls on fresh nodes.
RELEASE_TIMEOUT_S = 1800


@dataclass(frozen=True)
class OpenWhiskArgs:
    provider: k8s.Provider
    api: pulumi.Input[Endpoint]
    """The endpoint clients use, exactly as the stack exports it."""
    settings: OpenWhiskSettings
    capacity: pulumi.Input[Capacity]
    """Invokers and action memory (`plan_capacity`); its problems stop the deployment."""
    prewarm: list[Prewarm] | None = None
    source: PinnedTree | None = None
    """None: the pinned chart (`components.openwhisk_chart.OPENWHISK_CHART`)."""
    scraper: Scraper | None = None
    """The Prometheus pods that scrape the components' metrics; None: no one is let in."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def _auth_key(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A `uuid:key` pair as OpenWhisk's subjects use (64 alphanumeric characters of key)."""
    child = pulumi.ResourceOptions(parent=parent)
    uuid = random.RandomUuid(f"{name}-uuid", opts=child)
    key = random.RandomPassword(f"{name}-key", length=64, special=False, opts=child)
    return pulumi.Output.secret(pulumi.Output.concat(uuid.result, ":", key.result))


def _report_problems(capacity: Capacity) -> Capacity:
    """A plan that does not fit fails the preview (errors logged there stop `pulumi up` before
    it creates anything), with the numbers in the message."""
    for problem in capacity.problems:
        pulumi.log.error(f"OpenWhisk does not fit: {problem}")
    return capacity


class OpenWhisk(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: OpenWhiskArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:openwhisk:OpenWhisk", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        source = args.source or openwhisk_chart.OPENWHISK_CHART
        chart = fetch_chart(source)
        runtimes = runtimes_with_prewarm(
            json.loads((chart / "runtimes.json").read_text()), args.prewarm
        )
        chart_copy, runtimes_file = chart_with_runtimes(chart, runtimes)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAMESPACE),
            opts=on_cluster,
        )
        system_auth = _auth_key(f"{name}-system", self)
        guest_auth = _auth_key(f"{name}-guest", self)
        capacity = pulumi.Output.from_input(args.capacity).apply(_report_problems)
        values = pulumi.Output.all(args.api, system_auth, guest_auth, capacity).apply(
            lambda v: openwhisk_values(
                args.settings.sized(v[3]),
                api=v[0],
                runtimes_file=runtimes_file,
                system_auth=v[1],
                guest_auth=v[2],
            )
        )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE,
            chart=str(chart_copy),
            namespace=NAMESPACE,
            values=pulumi.Output.secret(values),
            timeout=RELEASE_TIMEOUT_S,
            opts=pulumi.ResourceOptions.merge(
                on_cluster,
                pulumi.ResourceOptions(depends_on=[namespace, *args.depends_on]),
            ),
        )
        if args.scraper is not None:
            policy = metrics_network_policy(args.settings.scheduler, args.scraper)
            k8s.networking.v1.NetworkPolicy(
                f"{name}-metrics-scrape",
                metadata=policy["metadata"],
                spec=policy["spec"],
                opts=pulumi.ResourceOptions.merge(
                    on_cluster, pulumi.ResourceOptions(depends_on=[namespace])
                ),
            )
        self.guest_auth = guest_auth
        self.capacity = capacity
        self.runtimes_file = runtimes_file
        #: Depend on these to act once OpenWhisk is installed.
        self.ready: list[pulumi.Resource] = [release]
        self.versions = {"images": IMAGE_TAG, "chart_commit": source.commit}
        self.register_outputs({"status": release.status})
