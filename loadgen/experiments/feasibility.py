"""Whether a campaign can run on a stack, decided before anything is deployed.

Problems name the field of the experiment file and the stack's limit: a 10-replica sweep on
OpenFaaS Community Edition is refused up front instead of failing an hour into a campaign.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from contract.outputs import StackOutputs
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.feasibility_knative import knative_problems
from loadgen.experiments.keda_checks import keda_problems
from loadgen.experiments.kinds import (
    Autoscaling,
    ClosedSweep,
    ColdStarts,
    Experiment,
    ReplicaSweep,
    Trace,
)
from loadgen.experiments.trace import TraceError, read_trace
from loadgen.platforms import invocations


def _edition(outputs: StackOutputs) -> str:
    if outputs.cloud == "local":
        return "the local target's emulation of OpenFaaS Community Edition"
    if outputs.orchestrator == "k8s":
        return "OpenFaaS Community Edition"
    # Swarm and Nomad run the Community Edition gateway, whose scale API sets their limits.
    return f"OpenFaaS on {outputs.orchestrator} behind the Community Edition gateway"


def feasibility_problems(
    config: ExperimentConfig, outputs: StackOutputs | None, base: Path
) -> list[str]:
    """Every reason the campaign cannot run as written (empty: it can). Without outputs only
    what the file alone decides (trace rows) is checked."""
    problems: list[str] = []
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}"
        if isinstance(experiment, Trace):
            path = experiment.file if experiment.file.is_absolute() else base / experiment.file
            try:
                read_trace(path, set(experiment.mapping.values()))
            except TraceError as exc:
                problems.append(f"{where}.file: {exc}")
    if outputs is None:
        return problems
    for name in config.functions:
        if name in {"ftp"} and outputs.ftp is None:
            problems.append(f"functions.{name}: the stack exports no ftp server")
        if name == "thumbnail":
            problems += _object_storage_problems(name, config.functions[name].params, outputs)
        if config.dependencies(name) and outputs.gateway_url is None:
            problems.append(f"functions.{name}: calls other functions, the stack has no gateway")
    for name, function in config.functions.items():
        if function.sequence and outputs.framework != "openwhisk":
            problems.append(
                f"functions.{name}.sequence: native sequences exist on OpenWhisk only "
                "(OpenFaaS chains by nested calls)"
            )
    problems += _ftp_problems(config, outputs)
    problems += _invocation_problems(config, outputs)
    problems += keda_problems(config, outputs)
    if outputs.framework != "knative":
        problems += [
            f"functions.{name}.knative: Knative knobs apply to framework knative only, "
            f"and the stack runs {outputs.framework}"
            for name, function in config.functions.items()
            if function.knative is not None
        ]
    if outputs.framework == "openfaas":
        problems += _openfaas_problems(config, outputs)
    elif outputs.framework == "knative":
        problems += knative_problems(config, outputs)
    elif outputs.framework == "openwhisk":
        problems += _openwhisk_problems(config, outputs)
    return problems


def _invocation_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    """An invocation the stack's platform lacks (web on OpenFaaS) is refused."""
    allowed, _queue = invocations(outputs)
    return [
        f"experiments.{index}.invocation: {experiment.invocation} is not an invocation of "
        f"{outputs.framework} on {outputs.orchestrator} (it has {', '.join(allowed)})"
        for index, experiment in enumerate(config.experiments)
        if experiment.invocation not in allowed
    ]


def feasibility_warnings(config: ExperimentConfig, outputs: StackOutputs | None) -> list[str]:
    """What the campaign can do but should know: the queue its asynchronous calls wait in."""
    if outputs is None:
        return []
    _allowed, queue = invocations(outputs)
    asynchronous = [e.name for e in config.experiments if e.invocation == "async"]
    if queue is None or not asynchronous:
        return []
    return [f"experiments {', '.join(asynchronous)} (invocation: async): {queue}"]


def _users(experiment: Experiment) -> list[tuple[str, int]]:
    """The closed-loop user counts of an experiment, each with its field's path suffix."""
    if isinstance(experiment, ClosedSweep):
        return [(f"users.{position}", value) for position, value in enumerate(experiment.users)]
    if isinstance(experiment, ReplicaSweep | Autoscaling):
        return [("users", experiment.users)]
    return []


def _object_storage_problems(
    name: str, params: Mapping[str, object], outputs: StackOutputs
) -> list[str]:
    """thumbnail needs the stack's object storage, and an input_size it seeded."""
    storage = outputs.object_storage
    if storage is None:
        return [
            f"functions.{name}: the stack exports no object storage "
            "(objectStorage: true in the stack config)"
        ]
    size = params.get("input_size")
    if isinstance(size, int) and not isinstance(size, bool) and size not in storage.input_sizes:
        seeded = ", ".join(str(s) for s in storage.input_sizes)
        return [
            f"functions.{name}.params.input_size: {size} is not seeded in the stack's object "
            f"storage (seeded: {seeded})"
        ]
    return []


def _ftp_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    """Closed-loop users of the ftp function beyond what the stack's FTP server accepts at once
    (each in-flight call holds one FTP session): the calls past the limit would fail."""
    if outputs.ftp is None or outputs.ftp.max_clients is None:
        return []
    limit = outputs.ftp.max_clients
    problems = []
    for index, experiment in enumerate(config.experiments):
        uses_ftp = any(
            function == "ftp" or "ftp" in config.dependencies(function)
            for function in experiment.functions
        )
        if not uses_ftp:
            continue
        for field, users in _users(experiment):
            if users > limit:
                problems.append(
                    f"experiments.{index}.{field}: {users} users calling ftp > ftp.max_clients "
                    f"{limit} (the stack's FTP server accepts {limit} sessions at once; raise "
                    "ftpMaxClients and pulumi up)"
                )
    return problems


def _openfaas_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    problems: list[str] = []
    if outputs.openfaas is None:
        return ["framework openfaas, but the stack exports no openfaas section"]
    limits = outputs.openfaas.limits
    edition = _edition(outputs)
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}"
        replicas = (
            list(experiment.replicas)
            if isinstance(experiment, ReplicaSweep)
            else [experiment.replicas]
        )
        if limits.max_replicas is not None:
            for position, value in enumerate(replicas):
                if value > limits.max_replicas:
                    field = (
                        f"{where}.replicas.{position}"
                        if isinstance(experiment, ReplicaSweep)
                        else f"{where}.replicas"
                    )
                    problems.append(
                        f"{field}: {value} replicas > max_replicas {limits.max_replicas} "
                        f"({edition})"
                    )
        if limits.max_functions is not None:
            for function in experiment.functions:
                needed = 1 + len(config.dependencies(function))
                if needed > limits.max_functions:
                    problems.append(
                        f"{where}.functions: {function} needs {needed} functions deployed at "
                        f"once > max_functions {limits.max_functions} ({edition})"
                    )
        if (
            isinstance(experiment, ColdStarts)
            and experiment.method == "natural"
            and not limits.idler
        ):
            problems.append(
                f"{where}.method: natural cold starts need something that reaps idle "
                f"functions, and {edition} runs no idler (use method: forced)"
            )
    return problems


def _openwhisk_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    problems: list[str] = []
    if outputs.openwhisk is None:
        return ["framework openwhisk, but the stack exports no openwhisk section"]
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}"
        if isinstance(experiment, ReplicaSweep):
            problems.append(
                f"{where}.kind: OpenWhisk has no replicas to sweep (it scales containers itself)"
            )
        elif experiment.replicas != 1 and not isinstance(experiment, Autoscaling):
            problems.append(f"{where}.replicas: OpenWhisk has no replicas; leave it at 1")
    return problems
