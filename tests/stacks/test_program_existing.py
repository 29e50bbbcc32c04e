"""cloud: existing creates no machines and exports only what exists."""

from __future__ import annotations

from support.pulumi_mocks import project_defaults, run_program


def test_existing_cluster_creates_nothing_and_exports_the_basics() -> None:
    config = {**project_defaults(), "cloud": "existing", "kubeconfig": "apiVersion: v1\n"}
    run = run_program(config, ("kubeconfig",), stack="lab")
    assert run.mocks.resources == []
    assert set(run.outputs) == {"cloud", "orchestrator", "framework"}
    assert run.value("cloud") == "existing"
