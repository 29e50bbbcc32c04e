"""cloud: existing creates no machines: a provider for the user's cluster, the platform on it
(OpenFaaS, monitoring and the in-cluster FTP server), and its outputs."""

from __future__ import annotations

from support.pulumi_mocks import FAKE_KUBECONFIG, project_defaults, run_program


def test_existing_cluster_creates_kubernetes_objects_only() -> None:
    config = {**project_defaults(), "cloud": "existing", "kubeconfig": FAKE_KUBECONFIG}
    run = run_program(config, ("kubeconfig",), stack="lab")
    assert dict(run.mocks.inventory()) == {
        "faasbench:k8s:ExistingCluster": 1,
        "faasbench:openfaas:OpenFaasK8s": 1,
        "faasbench:ftp:FtpInCluster": 1,
        "faasbench:monitoring:Monitoring": 1,
        "pulumi:providers:kubernetes": 1,
        "random:index/randomPassword:RandomPassword": 3,
        "kubernetes:core/v1:Namespace": 4,
        "kubernetes:core/v1:Secret": 3,
        "kubernetes:core/v1:ConfigMap": 1,
        "kubernetes:yaml/v2:ConfigGroup": 1,
        "kubernetes:helm.sh/v3:Release": 2,
    }
    provider = run.mocks.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == FAKE_KUBECONFIG
    release = run.mocks.one("kubernetes:helm.sh/v3:Release", "openfaas")
    # The nodes are not ours: no control placement on an existing cluster.
    assert "nodeSelector" not in release.inputs["values"]
    assert "tolerations" not in release.inputs["values"]
    assert run.value("cloud") == "existing"
    assert run.secret("kubeconfig")
    assert run.value("kube_api_internal") == "https://127.0.0.1:6443"


def test_object_storage_is_opt_in_and_its_secret_key_is_a_secret() -> None:
    config = {
        **project_defaults(),
        "cloud": "existing",
        "kubeconfig": FAKE_KUBECONFIG,
        "objectStorage": "true",
    }
    run = run_program(config, ("kubeconfig",), stack="lab")
    inventory = dict(run.mocks.inventory())
    assert inventory["faasbench:storage:ObjectStorageInCluster"] == 1
    assert inventory["kubernetes:yaml/v2:ConfigGroup"] == 2
    assert run.value("object_storage.endpoint") == (
        "http://object-storage.faasbench-storage.svc:7070"
    )
    assert run.value("object_storage.input_sizes") == [4096, 262144, 4194304]
    assert run.secret("object_storage.secret_key")
    assert not run.secret("object_storage.bucket")
