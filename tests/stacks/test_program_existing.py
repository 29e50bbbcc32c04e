"""cloud: existing creates no machines: a provider for the user's cluster, and its outputs."""

from __future__ import annotations

from support.pulumi_mocks import FAKE_KUBECONFIG, project_defaults, run_program


def test_existing_cluster_creates_only_a_provider() -> None:
    config = {**project_defaults(), "cloud": "existing", "kubeconfig": FAKE_KUBECONFIG}
    run = run_program(config, ("kubeconfig",), stack="lab")
    assert dict(run.mocks.inventory()) == {
        "faasbench:k8s:ExistingCluster": 1,
        "pulumi:providers:kubernetes": 1,
    }
    provider = run.mocks.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == FAKE_KUBECONFIG
    assert set(run.outputs) == {
        "cloud",
        "orchestrator",
        "framework",
        "kubeconfig",
        "kube_api_internal",
    }
    assert run.value("cloud") == "existing"
    assert run.secret("kubeconfig")
    assert run.value("kube_api_internal") == "https://127.0.0.1:6443"
