"""What a campaign may ask of a `framework: keda` stack, checked by `loadgen validate` and
before a campaign starts (`feasibility.feasibility_problems`).

- queue mode: functions take jobs from the queue, not requests, so only `enqueue`
  experiments run; http mode: requests through the interceptor, so no `enqueue`;
- replicas asked for at deploy (an experiment's `replicas`) must fit the file's
  `keda.max_replicas` (KEDA would scale them back); a replica sweep pins each value itself;
- `keda:` applies to framework keda only, and enqueue experiments to it only.
"""

from __future__ import annotations

from contract.keda_objects import Scaling
from contract.outputs import StackOutputs
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.kinds import Enqueue, ReplicaSweep


def keda_problems(config: ExperimentConfig, outputs: StackOutputs) -> list[str]:
    """Every reason the campaign cannot run on this stack (empty: it can)."""
    if outputs.framework != "keda":
        problems = [
            f"experiments.{index}: enqueue experiments need framework keda (kedaMode queue), "
            f"the stack runs {outputs.framework}"
            for index, experiment in enumerate(config.experiments)
            if isinstance(experiment, Enqueue)
        ]
        if config.keda is not None:
            problems.append(f"keda: applies to framework keda only, the stack runs "
                            f"{outputs.framework}")  # fmt: skip
        return problems
    if outputs.keda is None:
        return ["framework keda, but the stack exports no keda section"]
    mode = outputs.keda.mode
    scaling = config.keda or Scaling()
    problems = []
    for index, experiment in enumerate(config.experiments):
        where = f"experiments.{index}"
        if mode == "queue" and not isinstance(experiment, Enqueue):
            problems.append(
                f"{where}: kedaMode queue runs functions that take jobs from the queue; "
                f"kind {experiment.kind} sends requests: use kind enqueue"
            )
        if mode == "http" and isinstance(experiment, Enqueue):
            problems.append(
                f"{where}: kind enqueue needs kedaMode queue; this stack's KEDA is in http mode"
            )
        if not isinstance(experiment, ReplicaSweep) and experiment.replicas > scaling.max_replicas:
            problems.append(
                f"{where}.replicas: {experiment.replicas} > keda.max_replicas "
                f"{scaling.max_replicas} (KEDA would scale them back)"
            )
    return problems
