"""A campaign expanded into cells: function × language × memory limit × input size ×
experiment sweep value × run.

A cell is the unit the campaign loop resets the platform for, measures, and can redo on resume; its
id is stable, so a resumed campaign recognises the cells it has. The order is deterministic:
runs one after another (the delay between runs goes there), and within a run either the file's
order or a shuffle seeded from the campaign's seed.

Poisson arrivals of each engine run come from `arrival_seed`: one seed per experiment,
function, run and segment (a stage, a trace minute), so no two minutes of a trace or stages of
a ramp replay the same arrivals, while the same campaign seed gives the same schedules again.
The rate points of a `rates` sweep share their seed on purpose (common random numbers).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from functions._registry import Language
from loadgen.bounds import MAX_RATE
from loadgen.experiments.config import INPUT_SIZE_PARAM, ExperimentConfig, RandomInt
from loadgen.experiments.kinds import (
    DEFAULT_LANGUAGE,
    DEFAULT_MEMORY_MB,
    Autoscaling,
    ClosedSweep,
    ColdStarts,
    Enqueue,
    Experiment,
    MultiTrace,
    OpenRates,
    ReplicaSweep,
    Stages,
    Trace,
)
from loadgen.experiments.multitrace import SampledFunction, sample_functions
from loadgen.experiments.trace import TraceError, read_trace
from loadgen.results.models import Mode, Sweep
from loadgen.workload.enqueue import EnqueueLoop
from loadgen.workload.spec import ClosedLoop, OpenLoop


@dataclass(frozen=True)
class Segment:
    """One engine run inside a cell, and what happens just before it."""

    workload: ClosedLoop | OpenLoop | EnqueueLoop | None
    """None: nothing is sent (an idle trace minute); EnqueueLoop: jobs into the queue."""
    before: Literal["none", "force_cold", "idle"] = "none"
    idle_s: float = 0.0
    duration_s: float = 0.0
    """For an idle segment: how long nothing is sent."""


@dataclass(frozen=True)
class CellPlan:
    id: str
    experiment: str
    function: str
    mode: Mode
    sweep: Sweep
    run: int
    replicas: int
    autoscaling: bool
    """False pins the function's replicas: the platform's autoscaler may not change them."""
    params: dict[str, object]
    body: bytes
    segments: tuple[Segment, ...]
    cold_method: Literal["forced", "natural"] | None = None
    invocation: Literal["sync", "async", "web"] = "sync"
    completion_deadline_s: float = 60.0
    language: Language = DEFAULT_LANGUAGE
    """The implementation deployed (the experiment's `languages`)."""
    memory_mb: int = DEFAULT_MEMORY_MB
    """The function's memory limit (the experiment's `memory_mb`, a multi-trace sample's own)."""
    input_size: int | None = None
    """Bytes sent as the `input_size` parameter (the experiment's `input_sizes`); None: none."""
    deployed: str | None = None
    """The function's deployed name where it is not `function` (a multi-trace sample's)."""
    group: str | None = None
    """Cells measured together (one multi-trace experiment's run): deployed at once, their
    segments run concurrently, index by index."""
    trace: SampledFunction | None = None
    """The trace function a multi-trace cell stands in for."""

    @property
    def name(self) -> str:
        """The function as deployed, and as results name it."""
        return self.deployed or self.function


def _seed_for(*parts: object) -> int:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def arrival_seed(campaign_seed: int, experiment: str, function: str, run: int, segment: int) -> int:
    """The Poisson seed of one engine run of a cell: a 64-bit hash of the campaign's seed, the
    experiment, the function, the run and the segment's index (a stage's, a trace minute's).

    Equal inputs give equal seeds (a campaign is reproduced by its seed); any other input gives
    an unrelated seed. The sweep value is deliberately not an input: the rate points of a
    `rates` sweep share their uniforms (common random numbers, docs/statistics.md)."""
    return _seed_for(campaign_seed, "arrivals", experiment, function, run, segment)


def resolve_params(
    config: ExperimentConfig, function: str, experiment: str, sweep: Sweep
) -> dict[str, object]:
    """Fixed params as given; random ranges drawn once per cell (same value in every run)."""
    chooser = random.Random(_seed_for(config.seed, experiment, function, sweep.value))
    resolved: dict[str, object] = {}
    for name, value in sorted(config.functions[function].params.items()):
        if isinstance(value, RandomInt):
            resolved[name] = chooser.randint(value.min, value.max)
        else:
            resolved[name] = value
    return resolved


def sweep_text(value: float) -> str:
    """A sweep value as ids spell it: `:g` where that is exact (10, 2.5, 1e+06, as ids always
    were), else the shortest text that reads back as the same number, so two values never share
    an id (10 and 10.0000001 did under `:g`)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def cell_id(
    experiment: str,
    function: str,
    sweep: Sweep,
    run: int,
    *,
    language: Language = DEFAULT_LANGUAGE,
    memory_mb: int = DEFAULT_MEMORY_MB,
    input_size: int | None = None,
) -> str:
    """`experiment--function--sweep[-value]--runNNN`, with a part before the run for each cell
    dimension away from its default: `--<language>` (not python), `--m<MiB>` (not 256) and
    `--in<bytes>` (whenever the experiment has `input_sizes`). A file without those keys, or
    with their defaults, keeps the ids it always had."""
    value = "" if sweep.value is None else f"-{sweep_text(sweep.value)}"
    parts = [experiment, function, f"{sweep.name}{value}"]
    if language != DEFAULT_LANGUAGE:
        parts.append(language)
    if memory_mb != DEFAULT_MEMORY_MB:
        parts.append(f"m{memory_mb}")
    if input_size is not None:
        parts.append(f"in{input_size}")
    parts.append(f"run{run:03d}")
    return "--".join(parts)


def _sweeps(experiment: Experiment, function: str, config: ExperimentConfig, run: int, base: Path):
    """(mode, sweep, replicas, autoscaling, segments, cold method) for each sweep value."""

    def seed(segment: int) -> int:
        return arrival_seed(config.seed, experiment.name, function, run, segment)

    if isinstance(experiment, ClosedSweep):
        for users in experiment.users:
            workload = ClosedLoop(
                users=users, total=experiment.requests, warmup_s=experiment.warmup_s
            )
            yield (
                "closed",
                Sweep(name="users", value=users),
                experiment.replicas,
                False,
                (Segment(workload),),
                None,
            )
    elif isinstance(experiment, ReplicaSweep):
        for replicas in experiment.replicas:
            workload = ClosedLoop(users=experiment.users, total=experiment.requests)
            yield (
                "closed",
                Sweep(name="replicas", value=replicas),
                replicas,
                False,
                (Segment(workload),),
                None,
            )
    elif isinstance(experiment, Autoscaling):
        workload = ClosedLoop(users=experiment.users, duration_s=experiment.duration_s)
        yield (
            "closed",
            Sweep(name="users", value=experiment.users),
            experiment.replicas,
            True,
            (Segment(workload),),
            None,
        )
    elif isinstance(experiment, OpenRates):
        for rate in experiment.rates:
            workload = OpenLoop(
                rate=rate,
                duration_s=experiment.duration_s,
                arrival=experiment.arrival,
                # Every rate point uses segment 0's seed: common random numbers across rates.
                seed=seed(0),
            )
            yield (
                "open",
                Sweep(name="rate", value=rate),
                experiment.replicas,
                False,
                (Segment(workload),),
                None,
            )
    elif isinstance(experiment, Stages):
        for index, stage in enumerate(experiment.stages):
            workload = OpenLoop(
                rate=stage.rate,
                duration_s=stage.duration_s,
                arrival=experiment.arrival,
                seed=seed(index),
            )
            yield (
                "open",
                Sweep(name="stage", value=index),
                experiment.replicas,
                False,
                (Segment(workload),),
                None,
            )
    elif isinstance(experiment, Trace):
        yield (
            "trace",
            Sweep(name="none"),
            experiment.replicas,
            True,
            tuple(_trace_segments(experiment, function, base, seed)),
            None,
        )
    elif isinstance(experiment, Enqueue):
        for rate in experiment.rates:
            jobs = EnqueueLoop(
                rate=rate,
                duration_s=experiment.duration_s,
                arrival=experiment.arrival,
                seed=seed(0),
                drain_s=experiment.drain_s,
                sample_interval_s=experiment.sample_interval_s,
            )
            yield (
                "open",
                Sweep(name="rate", value=rate),
                experiment.replicas,
                True,
                (Segment(jobs),),
                None,
            )
    elif isinstance(experiment, ColdStarts):
        single = ClosedLoop(users=experiment.chunk_requests, total=experiment.chunk_requests)
        if experiment.method == "forced":
            segments = tuple(
                Segment(ClosedLoop(users=1, total=1), before="force_cold")
                for _ in range(experiment.count)
            )
        else:
            segments = tuple(
                Segment(single, before="idle", idle_s=experiment.inactivity_s or 0.0)
                for _ in range(experiment.chunks)
            )
        yield "cold", Sweep(name="none"), experiment.replicas, False, segments, experiment.method


def _trace_segments(
    experiment: Trace, function: str, base: Path, seed: Callable[[int], int]
) -> list[Segment]:
    """One segment per minute of the window; minute i's arrivals come from `seed(i)`."""
    path = experiment.file if experiment.file.is_absolute() else base / experiment.file
    hash_function = experiment.mapping[function]
    row = read_trace(path, {hash_function})[hash_function]
    first = experiment.start_minute - 1
    return _minute_segments(
        row.counts[first : first + experiment.minutes],
        scale=experiment.scale,
        minute_s=experiment.minute_s,
        start_minute=experiment.start_minute,
        label=hash_function,
        path=path,
        seed=seed,
    )


def _minute_segments(
    counts: tuple[int, ...],
    *,
    scale: float,
    minute_s: float,
    start_minute: int,
    label: str,
    path: Path,
    seed: Callable[[int], int],
) -> list[Segment]:
    """One segment per minute of the window: an open loop at count × scale per minute_s, or
    an idle minute where that is less than one request; minute i's arrivals from `seed(i)`."""
    segments = []
    for count in counts:
        rate = count * scale / minute_s
        if rate > MAX_RATE:
            minute = start_minute + len(segments)
            raise TraceError(
                f"{path}: minute {minute} of {label} scaled by {scale:g} is "
                f"{rate:,.0f} requests/s, more than {MAX_RATE:,.0f}: lower scale or raise minute_s"
            )
        if rate * minute_s < 1:
            segments.append(Segment(None, duration_s=minute_s))
        else:
            workload = OpenLoop(
                rate=rate, duration_s=minute_s, arrival="poisson", seed=seed(len(segments))
            )
            segments.append(Segment(workload))
    return segments


def _dimensions(experiment: Experiment) -> list[tuple[Language, int, int | None]]:
    """(language, memory limit, input size) of each variant of an experiment's functions, in
    the file's order: languages outermost, then memory limits, then input sizes."""
    sizes: list[int | None] = list(experiment.input_sizes or [None])
    return [
        (language, memory_mb, size)
        for language in experiment.languages
        for memory_mb in experiment.memory_mb
        for size in sizes
    ]


def _cells(
    config: ExperimentConfig,
    experiment: Experiment,
    function: str,
    run: int,
    base: Path,
    language: Language,
    memory_mb: int,
    input_size: int | None,
) -> list[CellPlan]:
    """One variant's cells: one per sweep value. Variants share their params' random draws and
    their arrival seeds (common random numbers across languages, memory limits and sizes)."""
    spec = config.functions[function]
    cells = []
    for mode, sweep, replicas, autoscaling, segments, cold in _sweeps(
        experiment, function, config, run, base
    ):
        params = resolve_params(config, function, experiment.name, sweep)
        if input_size is not None:
            params = dict(sorted({**params, INPUT_SIZE_PARAM: input_size}.items()))
        body = (
            spec.body.encode()
            if spec.body is not None
            else json.dumps(params, sort_keys=True).encode()
        )
        cells.append(
            CellPlan(
                id=cell_id(
                    experiment.name,
                    function,
                    sweep,
                    run,
                    language=language,
                    memory_mb=memory_mb,
                    input_size=input_size,
                ),
                experiment=experiment.name,
                function=function,
                mode=mode,
                sweep=sweep,
                run=run,
                replicas=replicas,
                autoscaling=autoscaling,
                params=params,
                body=body,
                segments=segments,
                cold_method=cold,
                invocation=experiment.invocation,
                completion_deadline_s=experiment.completion_deadline_s,
                language=language,
                memory_mb=memory_mb,
                input_size=input_size,
            )
        )
    return cells


def multi_trace_sample(
    experiment: MultiTrace, config: ExperimentConfig, base: Path
) -> list[SampledFunction]:
    """The experiment's sampled functions (files relative to `base`)."""

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    return sample_functions(
        invocations=resolve(experiment.invocations),
        durations=resolve(experiment.durations),
        memory=resolve(experiment.memory),
        size=experiment.sample,
        strata=experiment.strata,
        seed=config.seed if experiment.seed is None else experiment.seed,
        start_minute=experiment.start_minute,
        minutes=experiment.minutes,
        max_memory_mb=experiment.max_memory_mb,
    )


def _multi_trace_cells(
    experiment: MultiTrace,
    config: ExperimentConfig,
    run: int,
    sample: list[SampledFunction],
    base: Path,
) -> list[CellPlan]:
    """One cell per sampled function, all in one group: measured together."""
    # Only `mode` comes from the file (feasibility refuses the rest): the trace gives the others.
    configured = {k: v for k, v in config.functions["synthetic"].params.items() if k == "mode"}
    cells = []
    path = (
        experiment.invocations
        if experiment.invocations.is_absolute()
        else base / experiment.invocations
    )
    for function in sample:

        def seed(minute: int, name: str = function.name) -> int:
            return arrival_seed(config.seed, experiment.name, name, run, minute)

        segments = _minute_segments(
            function.counts,
            scale=experiment.scale,
            minute_s=experiment.minute_s,
            start_minute=experiment.start_minute,
            label=function.name,
            path=path,
            seed=seed,
        )
        params = {
            **configured,
            **function.params(_seed_for(config.seed, "synthetic", function.name) >> 1),
        }
        sweep = Sweep(name="none")
        cells.append(
            CellPlan(
                id=cell_id(experiment.name, function.name, sweep, run),
                experiment=experiment.name,
                function="synthetic",
                mode="trace",
                sweep=sweep,
                run=run,
                replicas=experiment.replicas,
                autoscaling=True,
                params=params,
                body=json.dumps(params, sort_keys=True).encode(),
                segments=tuple(segments),
                invocation=experiment.invocation,
                deployed=function.name,
                memory_mb=function.memory_mb,
                group=f"{experiment.name}--run{run:03d}",
                trace=function,
            )
        )
    return cells


def expand(config: ExperimentConfig, base: Path) -> list[CellPlan]:
    """Every cell of the campaign, in the order they run. `base` resolves relative paths
    (trace files) against the experiment file's folder."""
    cells: list[CellPlan] = []
    samples = {
        experiment.name: multi_trace_sample(experiment, config, base)
        for experiment in config.experiments
        if isinstance(experiment, MultiTrace)
    }
    for run in range(config.runs):
        in_run: list[CellPlan] = []
        for experiment in config.experiments:
            if isinstance(experiment, MultiTrace):
                in_run += _multi_trace_cells(
                    experiment, config, run, samples[experiment.name], base
                )
                continue
            for function in experiment.functions:
                for language, memory_mb, input_size in _dimensions(experiment):
                    in_run.extend(
                        _cells(config, experiment, function, run, base, language, memory_mb,
                               input_size)
                    )  # fmt: skip
        if config.order == "shuffled":
            random.Random(_seed_for(config.seed, "order", run)).shuffle(in_run)
        cells.extend(in_run)
    return cells
