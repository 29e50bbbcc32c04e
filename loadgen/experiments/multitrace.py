"""Many functions of the Azure Functions 2019 trace at once (`kind: multi-trace`).

Three files of the dataset's layout (AzureFunctionsDataset2019.md in Azure/AzurePublicDataset;
docs/experiments.md records the columns relied on):

- invocations (`invocations_per_function_md.anon.d<NN>.csv`): HashOwner, HashApp,
  HashFunction, Trigger, `1` .. `1440`, as the single-function `trace` kind reads;
- durations (`function_durations_percentiles.anon.d<NN>.csv`): per function, the weighted
  percentiles of its execution time in ms, `percentile_Average_{0,1,25,50,75,99,100}`;
- memory (`app_memory_percentiles.anon.d<NN>.csv`): per application (the unit Azure allocates
  memory to), `AverageAllocatedMb_pct50` among others.

A function is keyed by (HashOwner, HashApp, HashFunction), its application by the first two.
The sample is stratified: the functions with at least one invocation in the window are ranked
by their invocations there and cut into `strata` groups of (nearly) equal size, from the
quietest to the busiest; the sample size is split evenly between the strata and each stratum
draws its share without replacement from a `random.Random` seeded with (seed, stratum). The
same files, window and seed give the same sample; every stratum is represented.

Files are streamed (a day of the real trace holds ~46,000 functions): a first pass keeps only
each function's key and window total, a second the sampled rows.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import math
import random
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from functions.synthetic import MAX_MEMORY_MB, MAX_MS, PERCENTILE_NAMES
from loadgen.experiments.trace import KEY_COLUMNS, MAX_COUNT, MINUTES, TraceError
from loadgen.userfiles import TRACE_LIMIT, TRACE_LINE_LIMIT, UserFileError, shorten, text_lines

Key = tuple[str, str, str]
"""(HashOwner, HashApp, HashFunction)."""

DURATION_COLUMNS = tuple(f"percentile_Average_{name}" for name in PERCENTILE_NAMES)
MEMORY_COLUMN = "AverageAllocatedMb_pct50"
#: Deployed memory: the application's median allocation plus the runtime's own (the Python
#: interpreter and the function server), rounded up to a step every platform accepts.
RUNTIME_MB = 64
MEMORY_STEP_MB = 64
MIN_MEMORY_MB = 128
#: Functions deployed and replayed at once; each replays in its own worker process.
MAX_SAMPLE = 200


class MultiTraceError(TraceError):
    """A trace file cannot be used; `field` is the experiment's key naming that file."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SampledFunction(BaseModel):
    """One sampled trace function, as the campaign deploys and replays it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str
    app: str
    function: str
    trigger: str
    stratum: int
    """0: the quietest functions of the window; strata - 1: the busiest."""
    name: str
    """Deployed name: `syn-` and 8 hex digits of the key's SHA-256 (a DNS label)."""
    counts: tuple[int, ...]
    """Invocations in each minute of the window."""
    durations_ms: tuple[float, ...]
    """p0, p1, p25, p50, p75, p99, p100 of its execution time (clamped to the function's
    limit, `functions.synthetic.MAX_MS`)."""
    allocated_mb: int
    """What each call allocates: the application's median, rounded up (at most memory_mb -
    RUNTIME_MB, so a call fits a capped memory_mb)."""
    trace_memory_mb: int
    """What the trace asks for: the median + RUNTIME_MB, rounded up to MEMORY_STEP_MB."""
    memory_mb: int
    """What the platform gives it: trace_memory_mb, at most the experiment's max_memory_mb."""

    @property
    def key(self) -> str:
        """owner/app/function, as problems name it."""
        return f"{self.owner}/{self.app}/{self.function}"

    def params(self, seed: int) -> dict[str, object]:
        """The body of its calls (`functions/synthetic.py`)."""
        points = {
            f"p{name}_ms": value
            for name, value in zip(PERCENTILE_NAMES, self.durations_ms, strict=True)
        }
        return {**points, "memory_mb": self.allocated_mb, "seed": seed}


def deployed_name(key: Key) -> str:
    return "syn-" + hashlib.sha256("/".join(key).encode()).hexdigest()[:8]


def deployed_memory(allocated_mb: int) -> int:
    needed = allocated_mb + RUNTIME_MB
    return max(MIN_MEMORY_MB, math.ceil(needed / MEMORY_STEP_MB) * MEMORY_STEP_MB)


def _reader(path: Path, field: str, kind: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of a CSV file streamed through `loadgen.userfiles`, the header first as
    line 0; errors name `field`. Plain lists, not dicts: a trace row has 1444 cells."""
    try:
        lines = text_lines(path, kind=kind, limit=TRACE_LIMIT, line_limit=TRACE_LINE_LIMIT)
        reader = csv.reader(lines)
        header = next(reader, [])
        yield 0, header
        for row in reader:
            if len(row) != len(header):
                raise MultiTraceError(
                    field,
                    f"{path}:{reader.line_num}: {len(row)} columns, the header has {len(header)}",
                )
            yield reader.line_num, row
    except UserFileError as exc:
        raise MultiTraceError(field, str(exc)) from None
    except csv.Error as exc:
        raise MultiTraceError(field, f"{path}: not CSV ({shorten(str(exc))})") from None


def _columns(path: Path, field: str, header: list[str], columns: tuple[str, ...]) -> list[int]:
    """The position of each of `columns` in the header (each must be there)."""
    missing = [column for column in columns if column not in header]
    if missing:
        raise MultiTraceError(
            field,
            f"{path}: not the Azure Functions 2019 layout: no column {shorten(', '.join(missing))}",
        )
    return [header.index(column) for column in columns]


def _invocation_rows(
    path: Path, start_minute: int, minutes: int
) -> Iterator[tuple[int, Key, str, tuple[int, ...]]]:
    """(line, key, trigger, the window's counts) of every row; only the window's counts are
    parsed (a day has 1440)."""
    rows = _reader(path, "invocations", "a trace file")
    _, header = next(rows)
    every = _columns(path, "invocations", header, (*KEY_COLUMNS, *map(str, range(1, MINUTES + 1))))
    first = len(KEY_COLUMNS) + start_minute - 1
    positions = every[: len(KEY_COLUMNS)] + every[first : first + minutes]
    for line, row in rows:
        owner, app, function, trigger, *window = [row[i] for i in positions]
        try:
            counts = tuple(int(cell) for cell in window)
        except ValueError:
            raise MultiTraceError(
                "invocations", f"{path}:{line}: counts must be whole numbers (1440 of them)"
            ) from None
        if counts and (min(counts) < 0 or max(counts) > MAX_COUNT):
            raise MultiTraceError(
                "invocations", f"{path}:{line}: counts must be from 0 to {MAX_COUNT:,}"
            )
        yield line, (owner, app, function), trigger, counts


def _totals(path: Path, start_minute: int, minutes: int) -> dict[Key, int]:
    """Each function's invocations in the window, for those with any."""
    totals: dict[Key, int] = {}
    seen: set[Key] = set()
    for line, key, _trigger, counts in _invocation_rows(path, start_minute, minutes):
        if key in seen:
            raise MultiTraceError(
                "invocations", f"{path}:{line}: function {shorten('/'.join(key))} appears twice"
            )
        seen.add(key)
        total = sum(counts)
        if total > 0:
            totals[key] = total
    return totals


def stratified_sample(totals: dict[Key, int], size: int, strata: int, seed: int) -> dict[Key, int]:
    """`size` keys drawn evenly from `strata` equal-size groups of keys ranked by total
    (ties broken by key): key -> its stratum. Callers ensure strata <= size <= len(totals)."""
    ranked = sorted(totals, key=lambda key: (totals[key], key))
    bounds = [round(index * len(ranked) / strata) for index in range(strata + 1)]
    groups = [ranked[bounds[i] : bounds[i + 1]] for i in range(strata)]
    base, extra = divmod(size, strata)
    shares = [min(len(group), base + (1 if i < extra else 0)) for i, group in enumerate(groups)]
    # A stratum too small for its share passes the rest to the next ones with room.
    missing = size - sum(shares)
    for index, group in enumerate(groups):
        room = len(group) - shares[index]
        taken = min(room, missing)
        shares[index] += taken
        missing -= taken
    sample: dict[Key, int] = {}
    for index, (group, share) in enumerate(zip(groups, shares, strict=True)):
        chooser = random.Random(f"faasbench/multi-trace/{seed}/{index}")
        for key in sorted(chooser.sample(group, share)):
            sample[key] = index
    return sample


def _sampled_rows(
    path: Path, keys: set[Key], start_minute: int, minutes: int
) -> dict[Key, tuple[str, tuple[int, ...]]]:
    found: dict[Key, tuple[str, tuple[int, ...]]] = {}
    for _line, key, trigger, counts in _invocation_rows(path, start_minute, minutes):
        if key in keys:
            found[key] = (trigger, counts)
    return found


def _number(path: Path, field: str, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MultiTraceError(
            field, f"{path}:{line}: {column} must be a number, got {shorten(repr(text))}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise MultiTraceError(field, f"{path}:{line}: {column} must be a number >= 0")
    return value


def read_durations(path: Path, keys: set[Key]) -> dict[Key, tuple[float, ...]]:
    """The seven duration percentiles of each key (each must have a row)."""
    rows = _reader(path, "durations", "a durations file")
    _, header = next(rows)
    positions = _columns(path, "durations", header, (*KEY_COLUMNS[:3], *DURATION_COLUMNS))
    found: dict[Key, tuple[float, ...]] = {}
    for line, row in rows:
        owner, app, function, *texts = [row[i] for i in positions]
        key = (owner, app, function)
        if key not in keys:
            continue
        if key in found:
            raise MultiTraceError(
                "durations", f"{path}:{line}: function {shorten('/'.join(key))} appears twice"
            )
        values = [
            min(_number(path, "durations", line, column, text), MAX_MS)
            for column, text in zip(DURATION_COLUMNS, texts, strict=True)
        ]
        # Percentiles never decrease; a row that does is not a distribution.
        for low, high in itertools.pairwise(values):
            if high < low:
                raise MultiTraceError(
                    "durations", f"{path}:{line}: the percentiles decrease ({low:g} > {high:g})"
                )
        found[key] = tuple(values)
    missing = sorted(keys - set(found))
    if missing:
        raise MultiTraceError(
            "durations",
            f"{path}: no durations for sampled function "
            f"{shorten(', '.join('/'.join(key) for key in missing))}",
        )
    return found


def read_memory(path: Path, apps: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """The median allocated memory (MB) of each application (each must have a row)."""
    rows = _reader(path, "memory", "a memory file")
    _, header = next(rows)
    positions = _columns(path, "memory", header, ("HashOwner", "HashApp", MEMORY_COLUMN))
    found: dict[tuple[str, str], float] = {}
    for line, row in rows:
        owner, name, text = [row[i] for i in positions]
        app = (owner, name)
        if app not in apps:
            continue
        if app in found:
            raise MultiTraceError(
                "memory", f"{path}:{line}: application {shorten('/'.join(app))} appears twice"
            )
        found[app] = _number(path, "memory", line, MEMORY_COLUMN, text)
    missing = sorted(apps - set(found))
    if missing:
        raise MultiTraceError(
            "memory",
            f"{path}: no memory row for the application of sampled function(s) "
            f"{shorten(', '.join('/'.join(app) for app in missing))}",
        )
    return found


#: Samples already drawn, by their files' identity (path, inode, size, modification time) and
#: the sampling's parameters: `validate` and `run` check the files, then expand the cells, and a
#: day of the real trace takes seconds to read.
_SAMPLES: dict[tuple[object, ...], list[SampledFunction]] = {}
_SAMPLES_KEPT = 4


def _identity(path: Path) -> tuple[object, ...] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), status.st_ino, status.st_size, status.st_mtime_ns)


def sample_functions(
    *,
    invocations: Path,
    durations: Path,
    memory: Path,
    size: int,
    strata: int,
    seed: int,
    start_minute: int,
    minutes: int,
    max_memory_mb: int | None = None,
) -> list[SampledFunction]:
    """The sampled functions, quietest stratum first, each with its window's counts, its
    duration percentiles and its memory, capped at `max_memory_mb` if given (read again only
    when a file or a parameter changed)."""
    files = [_identity(path) for path in (invocations, durations, memory)]
    key = (*files, size, strata, seed, start_minute, minutes)
    if None not in files and key in _SAMPLES:
        functions = _SAMPLES[key]
    else:
        functions = _sample(
            invocations, durations, memory, size, strata, seed, start_minute, minutes
        )
        if None not in files:
            while len(_SAMPLES) >= _SAMPLES_KEPT:
                del _SAMPLES[next(iter(_SAMPLES))]
            _SAMPLES[key] = functions
    return [capped(function, max_memory_mb) for function in functions]


def capped(function: SampledFunction, max_memory_mb: int | None) -> SampledFunction:
    """`function` deployed with at most `max_memory_mb` (None: as the trace asks), each call
    allocating at most what that leaves beside the runtime."""
    if max_memory_mb is None or function.trace_memory_mb <= max_memory_mb:
        return function
    allocated = min(function.allocated_mb, max(0, max_memory_mb - RUNTIME_MB))
    return function.model_copy(update={"memory_mb": max_memory_mb, "allocated_mb": allocated})


def _sample(
    invocations: Path,
    durations: Path,
    memory: Path,
    size: int,
    strata: int,
    seed: int,
    start_minute: int,
    minutes: int,
) -> list[SampledFunction]:
    totals = _totals(invocations, start_minute, minutes)
    if len(totals) < size:
        window = f"minutes {start_minute}..{start_minute + minutes - 1}"
        raise MultiTraceError(
            "invocations",
            f"{invocations}: {len(totals)} function(s) have invocations in {window}, fewer than "
            f"sample {size}",
        )
    sample = stratified_sample(totals, size, strata, seed)
    rows = _sampled_rows(invocations, set(sample), start_minute, minutes)
    percentiles = read_durations(durations, set(sample))
    medians = read_memory(memory, {(owner, app) for owner, app, _ in sample})
    functions = []
    names: dict[str, Key] = {}
    for key, stratum in sorted(sample.items(), key=lambda item: (item[1], totals[item[0]])):
        name = deployed_name(key)
        if name in names:
            raise MultiTraceError(
                "invocations",
                f"{invocations}: functions {'/'.join(names[name])} and {'/'.join(key)} share "
                f"the deployed name {name}; choose another seed",
            )
        names[name] = key
        allocated = min(MAX_MEMORY_MB, max(0, math.ceil(medians[key[:2]])))
        trigger, counts = rows[key]
        functions.append(
            SampledFunction(
                owner=key[0],
                app=key[1],
                function=key[2],
                trigger=trigger,
                stratum=stratum,
                name=name,
                counts=counts,
                durations_ms=percentiles[key],
                allocated_mb=allocated,
                trace_memory_mb=deployed_memory(allocated),
                memory_mb=deployed_memory(allocated),
            )
        )
    return functions
