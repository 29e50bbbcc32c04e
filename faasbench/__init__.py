"""`faasbench`: one command from nothing to a report and back to nothing.

`faasbench study STACK CAMPAIGN.yaml` drives the Pulumi program through the Automation API
(`pulumi.automation`, which shells out to the `pulumi` CLI) and the load generator (`loadgen`,
as subprocesses): up, run, aggregate, report, destroy; `faasbench sweep` finds the stacks past
their expiry. The top layer: it imports `loadgen`, `contract` and Pulumi's Automation API;
nothing imports it (docs/architecture.md, docs/study.md).
"""
