"""The output keys each (orchestrator, framework) of a VM stack exports, as docs/outputs.md
lists them: one table for every test that checks a program's exported keys."""

from __future__ import annotations

BASE = {"cloud", "orchestrator", "framework", "expires_at"}
VM = BASE | {"bastion", "ssh_private_key", "machines", "nodes", "loader"}
OPENFAAS = {"gateway_url", "openfaas", "prometheus", "ftp"}
OPENWHISK = {"gateway_url", "openwhisk", "ftp"}
#: KEDA in its default mode (http); queue mode exports no gateway_url (tests/components/
#: test_keda.py).
KEDA = {"gateway_url", "keda", "ftp"}
KNATIVE = {"gateway_url", "knative", "ftp"}
#: kube-prometheus-stack on every Kubernetes stack.
MONITORING = {"prometheus", "grafana_url", "grafana_password"}
K8S = {"kubeconfig", "kube_api_internal"} | MONITORING
#: Where `run --remote` receives OpenFaaS's asynchronous results on the loader (VM stacks: there
#: is a loader).
CALLBACK = {"callback"}
EXPECTED = {
    ("k8s", "openfaas"): VM | K8S | OPENFAAS | CALLBACK,
    ("k8s", "openwhisk"): VM | K8S | OPENWHISK,
    ("k8s", "keda"): VM | K8S | KEDA,
    ("k8s", "knative"): VM | K8S | KNATIVE,
    ("swarm", "openfaas"): VM | {"swarm"} | OPENFAAS | CALLBACK,
    ("nomad", "openfaas"): VM | {"nomad"} | OPENFAAS | CALLBACK,
}
