"""The campaign loop: every cell of an experiment file against one stack, into a results tree.

Per cell: the platform is reset (functions of earlier cells removed, so no dependency leaks into
a later one; the cell's function and its dependencies deployed fresh with the cell's replicas;
ready by the platform's own readiness, never by an invocation), then each segment runs (a forced
cold start or an idle wait first where the cell asks), then the platform's records and the
resource metrics of the cell's window are saved.

A cell is written in `.incomplete/<id>/` and moved into `cells/<id>/` only when done
(`loadgen.experiments.results_dir`), so a crash loses at most the cell in progress and
`--resume` redoes exactly that one. Ctrl-C stops
the engine (it flushes its records), leaves the interrupted cell incomplete and exits.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from contract.outputs import StackOutputs
from loadgen.completions.summary import ACCEPTED
from loadgen.engine import RequestSpec
from loadgen.engine.options import EngineOptions
from loadgen.experiments import queue_cells
from loadgen.experiments.async_segment import CallbackSettings, run_async_segment
from loadgen.experiments.cell_files import save_metrics
from loadgen.experiments.cells import CellPlan, Segment, expand
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.group_run import run_group
from loadgen.experiments.inputs import input_digests, input_files
from loadgen.experiments.loads import loader_clocks, partial_reason, run_load
from loadgen.experiments.outcomes import (
    CampaignError,
    CampaignReport,
    CellListener,
    CellOutcome,
    outcome_of,
)
from loadgen.experiments.priming import prime
from loadgen.experiments.results_dir import ResultsDir, now_iso, write_json
from loadgen.platforms import make_platform
from loadgen.platforms.base import FunctionSpec, Invocation, InvokeTarget, Platform, PlatformError
from loadgen.platforms.env import function_env
from loadgen.processes.coordinator import RunError, RunResult, default_processes
from loadgen.record.format import RECORD_FILE_SUFFIX
from loadgen.results.completions import COMPLETIONS_FILE
from loadgen.results.first_request import first_request
from loadgen.results.manifest import build_manifest
from loadgen.results.models import CampaignManifest, CellInfo, LoaderClock, LoadersInfo
from loadgen.results.tree import CELL_INFO
from loadgen.workload.enqueue import EnqueueLoop
from loadgen.workload.jobs import JobWait

if TYPE_CHECKING:
    from loadgen.loaders.pool import LoaderPool

T = TypeVar("T")
#: Natural cold starts wait this much past the platform's idle timeout.
IDLE_MARGIN_S = 30.0
#: Requests sent to each replica before a measured cell, so it does not start cold.
#: A campaign whose cells keep failing stops: the stack is likely down.
MAX_CONSECUTIVE_FAILURES = 3


class Campaign:
    """One campaign: an experiment file, a stack, a results directory."""

    def __init__(
        self,
        config: ExperimentConfig,
        outputs: StackOutputs,
        results_dir: Path,
        *,
        base: Path,
        image: str | None = None,
        resume: bool = False,
        listener: CellListener | None = None,
        platform_factory: Callable[[StackOutputs, str | None], Platform] = make_platform,
        callback: CallbackSettings | None = None,
        loaders: LoaderPool | None = None,
    ) -> None:
        self.config = config
        self.outputs = outputs
        self.results_dir = results_dir
        self._results = ResultsDir(results_dir)
        self.cells = expand(config, base)
        self.resume = resume
        #: The trace files and their digests: a resumed campaign must have the same.
        self._input_files = input_files(config, base)
        self._inputs = input_digests(config, base)
        if resume:
            self._results.check_inputs(self._inputs, self._input_files)
        self.listener = listener or CellListener()
        self._loop = asyncio.new_event_loop()
        self.platform = platform_factory(outputs, image)
        queue_cells.configure(self.platform, config)
        self._deployed: dict[str, FunctionSpec] = {}
        """What this campaign has deployed, by deployed name."""
        self.callback = callback or CallbackSettings()
        #: Functions some experiment calls through OpenWhisk's web-action path: exported as such.
        self._web = {f for e in config.experiments if e.invocation == "web" for f in e.functions}
        self.loaders = loaders
        """The loader pool each segment runs on (`--loaders`); None: this machine."""
        self._loader_clocks: list[LoaderClock] = []

    # --- control plane ---------------------------------------------------------------------
    def _await(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self._await(self.platform.aclose())
        finally:
            self._loop.close()

    def _spec(
        self, function: str, *, autoscaling: bool = True, cell: CellPlan | None = None
    ) -> FunctionSpec:
        """`function` as deployed; the cell's own function in the cell's language and memory
        limit (its dependencies as always). The deployed name stays the function's: every cell
        removes the functions of the cell before it, so variants never meet."""
        knobs = getattr(self.config.functions.get(function), "knative", None)
        variant: dict[str, Any] = {}
        if cell is not None and function == cell.function:
            variant = {"language": cell.language, "memory_mb": cell.memory_mb}
        return FunctionSpec(
            function=function,
            timeout_s=self.config.timeouts.request_s,
            autoscaling=autoscaling,
            web=function in self._web,
            knative=knobs,
            **variant,
        )

    def _cell_spec(self, cell: CellPlan) -> FunctionSpec:
        """The cell's function as deployed: in the cell's language and memory limit, under its
        own name where it has one (a multi-trace sample's)."""
        spec = self._spec(cell.function, cell=cell)
        if cell.deployed is None:
            return spec
        return FunctionSpec.model_validate({**spec.model_dump(), "name": cell.deployed})

    def _remove_deployed(self, also: Iterable[str] = ()) -> None:
        """Remove every function this campaign deployed, and the suite functions `also`."""
        every = {name: self._spec(name) for name in also}
        every.update(self._deployed)
        for name, spec in sorted(every.items()):
            self._await(self.platform.remove(spec))
            self._deployed.pop(name, None)

    def _env(self, function: str) -> dict[str, str]:
        configured = self.config.functions.get(function)
        return function_env(function, self.outputs, configured.env if configured else {})

    def _reset(self, cell: CellPlan) -> None:
        """Only the cell's function and its dependencies, deployed fresh, ready and warm."""
        wanted = [cell.function, *self.config.dependencies(cell.function)]
        self._remove_deployed(wanted)
        timeouts = self.config.timeouts
        sequence = self.config.functions[cell.function].sequence
        for name in reversed(wanted) if sequence else wanted:
            replicas = cell.replicas if name == cell.function else 1
            spec = self._spec(
                name, autoscaling=cell.autoscaling or name != cell.function, cell=cell
            )
            if sequence and name == cell.function:
                # Refused by platforms without native sequences (feasibility checks it first).
                components = [self._spec(d) for d in self.config.dependencies(name)]
                self._await(self.platform.deploy_sequence(spec, components))
            else:
                self._await(self.platform.deploy(spec, replicas, self._env(name)))
            self._deployed[spec.deployed_name] = spec
            self._await(self.platform.wait_ready(spec, timeouts.ready_s))
        if cell.mode != "cold" and not queue_cells.is_enqueue(cell):
            self._prime(cell)

    def _prime(self, cell: CellPlan) -> None:
        """Warm every replica (and dependency) so a warm cell does not open with cold starts;
        these requests are not recorded."""
        # Asynchronous calls would complete after the cell began: prime with blocking calls.
        target = self._target(cell, "sync" if cell.invocation == "async" else cell.invocation)
        verify = not (self.outputs.openwhisk is not None and self.outputs.openwhisk.insecure_tls)
        self._await(prime(target, cell.replicas, verify, self.config.timeouts.request_s))

    def _target(self, cell: CellPlan, invocation: Invocation | None = None) -> InvokeTarget:
        """The platform's request for the cell's params, or the file's raw body instead."""
        how = invocation or cell.invocation
        target = self.platform.invoke_target(self._cell_spec(cell), cell.params, how)
        if self.config.functions[cell.function].body is not None:
            target = target.model_copy(update={"body": cell.body})
        return target

    # --- cells ---------------------------------------------------------------------------------
    def _engine_options(self, cell: CellPlan) -> EngineOptions:
        openwhisk = self.outputs.openwhisk
        ok = EngineOptions().ok_statuses
        if cell.invocation == "async":
            ok = frozenset({ACCEPTED})  # a submission is done when the platform queued it
        elif openwhisk is not None:
            ok = frozenset({200})  # OpenWhisk answers 202 when a blocking wait runs out
        return EngineOptions(
            timeout_s=self.config.timeouts.request_s,
            capture_headers=(self.platform.capture_header,),
            verify_tls=not (openwhisk is not None and openwhisk.insecure_tls),
            ok_statuses=ok,
        )

    def _run_segment(
        self, cell: CellPlan, segment: Segment, index: int, records: Path
    ) -> dict[str, Any]:
        if isinstance(segment.workload, EnqueueLoop):
            args = (self.platform, self.outputs, cell, segment, index, records, self._await)
            return queue_cells.run_segment(*args)
        spec = self._cell_spec(cell)
        event: dict[str, Any] = {"segment": index}
        if segment.before == "force_cold":
            cold = self._await(self.platform.force_cold(spec))
            event["cold_start"] = cold.model_dump(exclude_none=True)
        elif segment.before == "idle":
            platform_idle = self.platform.limits().natural_cold_start_idle_s or 0.0
            idle = segment.idle_s or platform_idle + IDLE_MARGIN_S
            self.listener.note(f"{cell.id}: idle {idle:.0f} s for a natural cold start")
            time.sleep(idle)
            event["idle_s"] = idle
        if segment.workload is None:
            time.sleep(segment.duration_s)
            event["idle_s"] = segment.duration_s
            return event
        target = self._target(cell)
        out = records / f".segment-{index:03d}"
        workload = segment.workload
        local = self.loaders is None

        def run(request: RequestSpec, directory: Path, jobs: JobWait | None = None) -> RunResult:
            return run_load(
                self.loaders,
                request,
                workload,
                options=self._engine_options(cell),
                processes=self.config.processes or (default_processes() if local else None),
                out_dir=directory,
                on_progress=self.listener.engine_progress,
                jobs=jobs,
            )

        if cell.invocation == "async":

            def note(text: str) -> None:
                self.listener.note(f"{cell.id}: {text}")

            measured = run_async_segment(
                self.platform, spec, target.request_spec(), out, cell.completion_deadline_s,
                cell.mode == "closed", run, self._await, self.callback, note,
            )  # fmt: skip
            result = measured.result
            event["completions"] = measured.completions.model_dump(mode="json")
            if measured.listing is not None:
                event["listing"] = measured.listing
            (out / COMPLETIONS_FILE).replace(records / f"s{index:03d}-{COMPLETIONS_FILE}")
        else:
            result = run(target.request_spec(), out)
        self._loader_clocks.extend(loader_clocks(cell.id, index, result))
        paths = sorted(out.glob(f"*{RECORD_FILE_SUFFIX}"))
        if segment.before != "none":
            # What the cold start led to: the analysis puts it beside the cold start's cost.
            first = first_request(paths)
            if first is not None:
                event["first_request"] = first.model_dump()
        for path in paths:
            path.replace(records / f"s{index:03d}-{path.name}")
        shutil.rmtree(out, ignore_errors=True)
        event["summary"] = result.summary.model_dump(mode="json")
        partial = partial_reason(result)
        if partial is not None:
            event["partial"] = partial
        if any(report.reason == "interrupted" for report in result.reports):
            # Ctrl-C: the engine stopped and flushed its records; the cell stays incomplete.
            raise KeyboardInterrupt
        return event

    def _measure(self, cell: CellPlan, work: Path) -> CellOutcome:
        records = work / "records"
        records.mkdir(parents=True)
        self._reset(cell)
        start_ns = time.time_ns()
        events = [
            self._run_segment(cell, segment, index, records)
            for index, segment in enumerate(cell.segments)
        ]
        end_ns = time.time_ns()
        spec = self._cell_spec(cell)
        platform_rows = self._await(self.platform.records(spec, start_ns, end_ns))
        with (work / "platform.jsonl").open("w", encoding="utf-8") as handle:
            for row in platform_rows:
                handle.write(row.model_dump_json() + "\n")
        self._save_metrics(cell, work, start_ns, end_ns)
        write_json(work / "summary.json", {"segments": events})
        return outcome_of(cell, events)

    def _save_metrics(self, cell: CellPlan, work: Path, start_ns: int, end_ns: int) -> None:
        def note(text: str) -> None:
            self.listener.note(f"{cell.id}: {text}")

        save_metrics(self.outputs, cell.function, work, (start_ns, end_ns), self._await, note)

    # --- the campaign ---------------------------------------------------------------------------
    def _prepare_results(self, started: str) -> CampaignManifest:
        config = self.config.model_dump(mode="json", by_alias=True)
        manifest = build_manifest(
            campaign=self.config.name,
            config=config,
            seed=self.config.seed,
            outputs=self.outputs,
            cold_start_method=self.platform.limits().cold_start_method,
            started=started,
            inputs=self._inputs,
        )
        manifest = self._results.prepare(manifest, resume=self.resume, files=self._input_files)
        if self.loaders is not None and manifest.loaders is None:
            manifest = manifest.model_copy(
                update={"loaders": LoadersInfo(spec=self.loaders.spec.text)}
            )
            self._results.write_manifest(manifest)
        return manifest

    def run(self) -> CampaignReport:
        if self.loaders is not None and any(cell.group is not None for cell in self.cells):
            raise CampaignError(
                "multi-trace experiments replay their functions from this machine only: "
                "run without --loaders"
            )
        started = now_iso()
        manifest = self._prepare_results(started)
        report = CampaignReport(self.results_dir)
        failures = 0
        previous_run: int | None = None
        groups_seen: set[str] = set()
        try:
            for index, cell in enumerate(self.cells):
                if cell.group in groups_seen:
                    continue  # measured with the first cell of its group
                members = self._members(cell)
                if cell.group is not None:
                    groups_seen.add(cell.group)
                if all(self._results.done(member.id) for member in members):
                    report.skipped += len(members)
                    continue
                if previous_run is not None and cell.run != previous_run:
                    time.sleep(self.config.delay_between_runs_s)
                previous_run = cell.run
                self.listener.cell_started(cell, index, len(self.cells))
                outcomes = run_group(self, members) if cell.group else [self._run_cell(cell)]
                for outcome in outcomes:
                    report.outcomes.append(outcome)
                    self.listener.cell_finished(outcome)
                failed = all(outcome.status == "failed" for outcome in outcomes)
                failures = failures + 1 if failed else 0
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    raise CampaignError(
                        f"{failures} cells failed in a row (last: {outcome.reason}); stopping "
                        "the campaign: check the stack (`loadgen doctor`) and --resume"
                    )
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            self._cleanup()
            ended = None if report.interrupted else now_iso()
            update: dict[str, Any] = {"ended": ended}
            if manifest.loaders is not None:
                runs = [*manifest.loaders.runs, *self._loader_clocks]
                update["loaders"] = manifest.loaders.model_copy(update={"runs": runs})
            self._results.write_manifest(manifest.model_copy(update=update))
        return report

    def _members(self, cell: CellPlan) -> list[CellPlan]:
        """The cells measured with `cell`: its group's, or itself alone."""
        if cell.group is None:
            return [cell]
        return [member for member in self.cells if member.group == cell.group]

    def _run_cell(self, cell: CellPlan) -> CellOutcome:
        work = self._results.new_cell(cell.id)
        started = now_iso()
        try:
            outcome = self._measure(cell, work)
        except (PlatformError, RunError, OSError) as exc:
            outcome = CellOutcome(cell, "failed", reason=str(exc))
        info = CellInfo(
            id=cell.id,
            function=cell.function,
            mode=cell.mode,
            sweep=cell.sweep,
            run=cell.run,
            cold_method=self._cold_method(cell),
            invocation=cell.invocation,
            language=cell.language,
            memory_mb=cell.memory_mb,
            input_size=cell.input_size,
            status=outcome.status if outcome.status in {"complete", "partial"} else "failed",
            reason=outcome.reason,
            started=started,
            ended=now_iso(),
        )
        write_json(work / CELL_INFO, info.model_dump(mode="json"))
        self._results.publish(cell.id, work)
        return outcome

    def _cold_method(self, cell: CellPlan) -> str | None:
        """How the cell's cold starts came about: the adapter's method, or `natural`."""
        if cell.cold_method == "forced":
            return self.platform.limits().cold_start_method
        return cell.cold_method

    def _cleanup(self) -> None:
        """Remove what the campaign deployed; a stack is left as the campaign found it."""
        for name, spec in sorted(self._deployed.items()):
            try:
                self._await(self.platform.remove(spec))
            except PlatformError as exc:
                self.listener.note(f"could not remove {name}: {exc}")
        self._deployed.clear()
