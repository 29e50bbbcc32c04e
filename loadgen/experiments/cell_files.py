"""`metrics.json`: the resource usage the stack's Prometheus kept while a cell ran."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from contract.outputs import StackOutputs
from loadgen.experiments.results_dir import write_json
from loadgen.platforms.base import PlatformError
from loadgen.platforms.prometheus import PrometheusMetrics


def save_metrics(
    outputs: StackOutputs,
    function: str,
    work: Path,
    window_ns: tuple[int, int],
    wait: Callable[[Coroutine[Any, Any, Any]], Any],
    note: Callable[[str], None],
) -> None:
    """`metrics.json` of the window from the stack's Prometheus (none without one); a query
    that fails is noted, not fatal."""
    prometheus = outputs.prometheus
    if prometheus is None:
        return
    namespace = None
    section = outputs.openfaas or outputs.keda or outputs.knative
    if section is not None:
        namespace = section.namespace
    metrics = PrometheusMetrics(prometheus, outputs.orchestrator, namespace)
    start_ns, end_ns = window_ns
    try:
        document = wait(
            metrics.fetch(function, start_ns / 1e9, max(end_ns / 1e9, start_ns / 1e9 + 1))
        )
    except (PlatformError, OSError) as exc:
        note(f"no resource metrics ({exc})")
        return
    finally:
        wait(metrics.aclose())
    write_json(work / "metrics.json", document.model_dump(mode="json"))
