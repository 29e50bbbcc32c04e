"""Whether a campaign can run on a stack, decided before anything is deployed.

Problems name the field of the experiment file and the stack's limit: a 10-replica sweep on
OpenFaaS Community Edition is refused up front instead of failing an hour into a campaign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from contract.outputs import StackOutputs
from loadgen.experiments.cells import multi_trace_sample
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.feasibility_knative import knative_problems
from loadgen.experiments.keda_checks import keda_problems
from loadgen.experiments.kinds import (
    DEFAULT_MEMORY_MB,
    Autoscaling,
    ClosedSweep,
    ColdStarts,
    Experiment,
    MultiTrace,
    ReplicaSweep,
    Trace,
)
from loadgen.experiments.multitrace import MultiTraceError
from loadgen.experiments.trace import TraceError, read_trace
from loadgen.platforms import invocations
from loadgen.platforms.languages import language_unavailable


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
        elif isinstance(experiment, MultiTrace):
            problems += _multi_trace_problems(config, experiment, where, base, outputs)
    if outputs is None:
        return problems
    for name in config.functions:
        if name in {"ftp"} and outputs.ftp is None:
            problems.append(f"functions.{name}: the stack exports no ftp server")
        if name == "thumbnail":
            problems += _object_storage_problems(name, config.functions[name].params, outputs)
    if outputs.object_storage is not None:
        problems += _input_sizes_problems(config, outputs.object_storage.input_sizes)
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
    problems += _language_problems(config, outputs)
    problems += _memory_problems(config, outputs)
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


def _multi_trace_problems(
    config: ExperimentConfig,
    experiment: MultiTrace,
    where: str,
    base: Path,
    outputs: StackOutputs | None,
) -> list[str]:
    """The three trace files can be sampled; the trace, not the file, sets synthetic's params;
    on OpenWhisk, an invoker can hold each sampled function's memory (as `_memory_problems`)."""
    problems = [
        f"functions.synthetic.params.{name}: a multi-trace experiment takes it from the trace "
        "(only mode may be set)"
        for name in sorted(config.functions["synthetic"].params)
        if name != "mode"
    ]

    try:
        sample = multi_trace_sample(experiment, config, base)
    except MultiTraceError as exc:
        problems.append(f"{where}.{exc.field}: {exc}")
        return problems
    capacity = _openwhisk_capacity_mb(outputs)
    if capacity is not None:
        problems += [
            f"{where}.memory: {function.key} needs {function.memory_mb} MiB > an invoker's "
            f"container pool ({capacity} MiB, openwhisk.capacity.user_memory_mb): no invoker "
            "could run the action (max_memory_mb caps what a sampled function is given)"
            for function in sample
            if function.memory_mb > capacity
        ]
    return problems


def _openwhisk_capacity_mb(outputs: StackOutputs | None) -> int | None:
    """An OpenWhisk invoker's container pool in MiB, where the outputs say (else None)."""
    if outputs is None or outputs.framework != "openwhisk" or outputs.openwhisk is None:
        return None
    capacity = outputs.openwhisk.capacity
    return None if capacity is None else capacity.user_memory_mb


def _invocation_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    """An invocation the stack's platform lacks (web on OpenFaaS) is refused."""
    allowed, _queue = invocations(outputs)
    return [
        f"experiments.{index}.invocation: {experiment.invocation} is not an invocation of "
        f"{outputs.framework} on {outputs.orchestrator} (it has {', '.join(allowed)})"
        for index, experiment in enumerate(config.experiments)
        if experiment.invocation not in allowed
    ]


#: OpenWhisk's smallest action memory (`whisk.limits.actions.memory.min` of its chart, which
#: the stack keeps) and the largest the stack allows by default (`openwhiskActionMemoryMaxMb`,
#: not among the outputs).
OPENWHISK_MIN_MEMORY_MB = 128
OPENWHISK_DEFAULT_MAX_MEMORY_MB = 2048


def _memory_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    """Memory limits OpenWhisk refuses (below its minimum) or can never place (above an
    invoker's container pool). Kubernetes takes any limit a node can hold; the local target
    enforces none (`feasibility_warnings`)."""
    if outputs.framework != "openwhisk" or outputs.openwhisk is None:
        return []
    capacity = outputs.openwhisk.capacity
    problems = []
    for index, experiment in enumerate(config.experiments):
        for position, memory in enumerate(experiment.memory_mb):
            where = f"experiments.{index}.memory_mb.{position}"
            if memory < OPENWHISK_MIN_MEMORY_MB:
                problems.append(
                    f"{where}: {memory} MiB < OpenWhisk's minimum action memory "
                    f"{OPENWHISK_MIN_MEMORY_MB} MiB"
                )
            elif capacity is not None and memory > capacity.user_memory_mb:
                problems.append(
                    f"{where}: {memory} MiB > an invoker's container pool "
                    f"({capacity.user_memory_mb} MiB, openwhisk.capacity.user_memory_mb): "
                    "no invoker could run the action"
                )
    return problems


def is_closed_loop(experiment: Experiment) -> bool:
    """Whether the experiment's cells run closed loops (users each with one call outstanding:
    with invocation async, one job each)."""
    return isinstance(experiment, ClosedSweep | ReplicaSweep | Autoscaling)


def async_job_experiments(config: ExperimentConfig) -> list[int]:
    """Indexes of the experiments whose cells run closed-loop asynchronous jobs."""
    return [
        index
        for index, experiment in enumerate(config.experiments)
        if experiment.invocation == "async" and is_closed_loop(experiment)
    ]


def feasibility_warnings(
    config: ExperimentConfig, outputs: StackOutputs | None, base: Path | None = None
) -> list[str]:
    """What the campaign can do but should know: the queue its asynchronous calls wait in, and
    memory limits a stack may not honour (with `base`, the folder relative trace files are read
    from, those of multi-trace samples too)."""
    if outputs is None:
        return []
    warnings = _memory_warnings(config, outputs)
    if base is not None and outputs.framework == "openwhisk":
        warnings += _multi_trace_memory_warnings(config, base)
    _allowed, queue = invocations(outputs)
    asynchronous = [e.name for e in config.experiments if e.invocation == "async"]
    if queue is None or not asynchronous:
        return warnings
    return [f"experiments {', '.join(asynchronous)} (invocation: async): {queue}", *warnings]


def _memory_warnings(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    warnings = []
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}.memory_mb"
        if outputs.cloud == "local" and experiment.memory_mb != [DEFAULT_MEMORY_MB]:
            warnings.append(
                f"{where}: the local target enforces no memory limit: its cells differ only in "
                "the memory_mb they record"
            )
        if outputs.framework == "openwhisk":
            large = [m for m in experiment.memory_mb if m > OPENWHISK_DEFAULT_MAX_MEMORY_MB]
            if large:
                warnings.append(
                    f"{where}: {max(large)} MiB needs the stack's openwhiskActionMemoryMaxMb "
                    f"(default {OPENWHISK_DEFAULT_MAX_MEMORY_MB}) at least as large; the "
                    "outputs do not say what it is"
                )
    return warnings


def _multi_trace_memory_warnings(config: ExperimentConfig, base: Path) -> list[str]:
    """Sampled functions above OpenWhisk's default largest action memory (as `_memory_warnings`
    warns of a memory_mb above it); a sample that cannot be drawn is a problem, not a warning."""
    warnings = []
    for index, experiment in enumerate(config.experiments):
        if not isinstance(experiment, MultiTrace):
            continue
        try:
            sample = multi_trace_sample(experiment, config, base)
        except MultiTraceError:
            continue
        large = [f for f in sample if f.memory_mb > OPENWHISK_DEFAULT_MAX_MEMORY_MB]
        if large:
            largest = max(large, key=lambda function: function.memory_mb)
            warnings.append(
                f"experiments.{index}.memory: {len(large)} sampled function(s) need more than "
                f"{OPENWHISK_DEFAULT_MAX_MEMORY_MB} MiB ({largest.key}: {largest.memory_mb} "
                "MiB): the stack's openwhiskActionMemoryMaxMb must be at least as large (the "
                "outputs do not say what it is), or set max_memory_mb"
            )
    return warnings


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


def _language_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    """Languages the stack cannot deploy (`loadgen.platforms.languages.language_unavailable`)."""
    problems = []
    for index, experiment in enumerate(config.experiments):
        for position, language in enumerate(experiment.languages):
            reason = language_unavailable(outputs, language)
            if reason is not None:
                problems.append(f"experiments.{index}.languages.{position}: {language}: {reason}")
    return problems


def _input_sizes_problems(config: ExperimentConfig, seeded: Sequence[int]) -> list[str]:
    """An experiment's `input_sizes` the stack's object storage has no input of."""
    listed = ", ".join(str(size) for size in seeded)
    return [
        f"experiments.{index}.input_sizes.{position}: {size} is not seeded in the stack's "
        f"object storage (seeded: {listed})"
        for index, experiment in enumerate(config.experiments)
        if any(function == "thumbnail" for function in experiment.functions)
        for position, size in enumerate(experiment.input_sizes or [])
        if size not in seeded
    ]


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
        if limits.max_functions is not None and isinstance(experiment, MultiTrace):
            if experiment.sample > limits.max_functions:
                problems.append(
                    f"{where}.sample: {experiment.sample} functions deployed at once > "
                    f"max_functions {limits.max_functions} ({edition})"
                )
        elif limits.max_functions is not None:
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
