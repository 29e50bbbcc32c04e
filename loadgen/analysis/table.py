"""The tidy table of `loadgen aggregate`: its schema, the builder that appends its rows, and the
group a row belongs to."""

import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from loadgen.analysis.stats import DISTRIBUTION_KEYS, distribution

SCHEMA = pa.schema(
    [
        pa.field("campaign", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("level", pa.string()),
        pa.field("function", pa.string()),
        pa.field("mode", pa.string()),
        pa.field("sweep_name", pa.string()),
        pa.field("sweep_value", pa.float64()),
        pa.field("cold_method", pa.string()),
        pa.field("invocation", pa.string()),
        pa.field("language", pa.string()),
        pa.field("memory_mb", pa.int64()),
        pa.field("input_size", pa.int64()),
        pa.field("cell_id", pa.string()),
        pa.field("run", pa.int64()),
        pa.field("runs", pa.int64()),
        pa.field("subset", pa.string()),
        pa.field("metric", pa.string()),
        pa.field("stat", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        pa.field("ci_method", pa.string()),
    ]
)
"""One row per statistic: `level` is cell or group; `subset` is all, cold or warm."""

Row = dict[str, object]

GroupKey = tuple[str, str, str, float | None, str | None, str, str, int, int | None]
"""function, mode, sweep name, sweep value, cold-start method, invocation, language, memory
limit (MiB), input size (bytes; None: not a dimension)."""

#: What a row without the cell dimensions (a table written before them) was measured with.
DEFAULT_LANGUAGE = "python"
DEFAULT_MEMORY_MB = 256


def row_key(row: Row) -> GroupKey:
    """The group a row of the tidy table belongs to."""
    value = row["sweep_value"]
    method = row["cold_method"]
    memory = row.get("memory_mb")
    size = row.get("input_size")
    assert value is None or isinstance(value, int | float)
    assert memory is None or isinstance(memory, int)
    assert size is None or isinstance(size, int)
    return (
        str(row["function"]),
        str(row["mode"]),
        str(row["sweep_name"]),
        None if value is None else float(value),
        None if method is None else str(method),
        str(row.get("invocation") or "sync"),
        str(row.get("language") or DEFAULT_LANGUAGE),
        DEFAULT_MEMORY_MB if memory is None else memory,
        size,
    )


class Rows:
    """Appends rows that share the identifying columns of one cell or group."""

    def __init__(self, out: list[Row], base: Row) -> None:
        self._out = out
        self._base = base

    def add(
        self,
        metric: str,
        stat: str,
        value: float | None,
        unit: str,
        *,
        subset: str = "all",
        ci: tuple[float, float] | None = None,
        ci_method: str | None = None,
    ) -> None:
        row = dict(self._base)
        row.update(
            subset=subset,
            metric=metric,
            stat=stat,
            unit=unit,
            value=None if value is None or not math.isfinite(value) else float(value),
            ci_low=None if ci is None else ci[0],
            ci_high=None if ci is None else ci[1],
            ci_method=ci_method,
        )
        self._out.append(row)

    def distribution(self, metric: str, values: npt.NDArray[np.float64], subset: str) -> None:
        stats = distribution(values)
        for key in DISTRIBUTION_KEYS:
            self.add(metric, key, stats[key], "ms", subset=subset)
