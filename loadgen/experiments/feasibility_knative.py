"""What a campaign may ask of Knative Serving, checked against the stack's `knative` output
before anything is deployed: replica counts within the cluster's max-scale-limit and each
function's own max_scale, natural cold starts only where the function may scale to zero."""

from __future__ import annotations

from contract.knative import MAX_TIMEOUT_S
from contract.outputs import StackOutputs
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.kinds import ColdStarts, ReplicaSweep


def knative_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    if outputs.knative is None:
        return ["framework knative, but the stack exports no knative section"]
    if outputs.kubeconfig is None:
        return ["framework knative needs the stack's kubeconfig output to apply Services"]
    limit = outputs.knative.max_scale_limit
    problems: list[str] = []
    if config.timeouts.request_s > MAX_TIMEOUT_S:
        problems.append(
            f"timeouts.request_s: {config.timeouts.request_s:g} s > Knative's "
            f"max-revision-timeout-seconds {MAX_TIMEOUT_S} (each Service's request timeout)"
        )
    for name, function in config.functions.items():
        knobs = function.knative
        if knobs is not None and limit and knobs.max_scale == 0:
            problems.append(
                f"functions.{name}.knative.max_scale: 0 (unbounded) is refused under the "
                f"cluster's max-scale-limit {limit} (knativeMaxScaleLimit)"
            )
        if knobs is not None and limit and (knobs.max_scale or 0) > limit:
            problems.append(
                f"functions.{name}.knative.max_scale: {knobs.max_scale} > the cluster's "
                f"max-scale-limit {limit} (knativeMaxScaleLimit)"
            )
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}"
        sweep = isinstance(experiment, ReplicaSweep)
        replicas = list(experiment.replicas) if sweep else [experiment.replicas]
        for position, value in enumerate(replicas):
            field = f"{where}.replicas.{position}" if sweep else f"{where}.replicas"
            if limit and value > limit:
                problems.append(
                    f"{field}: {value} replicas > the cluster's max-scale-limit {limit} "
                    "(knativeMaxScaleLimit)"
                )
            for function in experiment.functions:
                knobs = config.functions[function].knative
                if knobs is not None and knobs.max_scale and value > knobs.max_scale:
                    problems.append(
                        f"{field}: {value} replicas > functions.{function}.knative.max_scale "
                        f"{knobs.max_scale}"
                    )
        if isinstance(experiment, ColdStarts) and experiment.method == "natural":
            for function in experiment.functions:
                knobs = config.functions[function].knative
                if knobs is not None and knobs.min_scale:
                    problems.append(
                        f"{where}.method: natural cold starts need {function} to scale to zero, "
                        f"and functions.{function}.knative.min_scale is {knobs.min_scale}"
                    )
    return problems
