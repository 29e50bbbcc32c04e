"""The files of `loadgen aggregate`: stats.parquet, stats.csv and summary.json."""

import json
import os
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.cold_starts import BOOT_IN, COLD_START_COMPONENTS
from loadgen.analysis.run_level import CI_METHOD
from loadgen.analysis.table import DEFAULT_LANGUAGE, DEFAULT_MEMORY_MB

STATS_PARQUET = "stats.parquet"
STATS_CSV = "stats.csv"
SUMMARY_JSON = "summary.json"


def _section(entry: dict[str, object], key: str) -> dict[str, object]:
    part = entry.setdefault(key, {})
    assert isinstance(part, dict)
    return part


def summary_document(result: Aggregate) -> dict[str, object]:
    """`summary.json`: settings, skipped cells, warnings and each group's headline figures."""
    manifest = result.tree.manifest
    statuses: dict[str, int] = {}
    for cell in result.tree.cells:
        statuses[cell.info.status] = statuses.get(cell.info.status, 0) + 1
    groups: dict[tuple[object, ...], dict[str, object]] = {}
    headline = {
        ("requests", "count"): "requests",
        ("requests", "ok"): "ok",
        ("error_rate", "value"): "error_rate",
        ("throughput_rps", "run_median"): "throughput_rps",
        ("latency_ms", "run_median_p50"): "latency_p50_ms",
        ("latency_ms", "run_median_p99"): "latency_p99_ms",
        ("cold_start", "cold"): "cold_starts",
    }
    components = {f"cold_start_{name}_ms": f"{name}_ms" for name, _ in COLD_START_COMPONENTS}
    for row in result.rows:
        if row["level"] != "group":
            continue
        metric, stat, subset = str(row["metric"]), str(row["stat"]), str(row["subset"])
        ident = (
            row["function"],
            row["mode"],
            row["sweep_name"],
            row["sweep_value"],
            row["cold_method"],
            row.get("invocation") or "sync",
            row.get("language") or DEFAULT_LANGUAGE,
            row.get("memory_mb") or DEFAULT_MEMORY_MB,
            row.get("input_size"),
        )
        entry = groups.setdefault(
            ident,
            {
                "function": row["function"],
                "mode": row["mode"],
                "sweep": {"name": row["sweep_name"], "value": row["sweep_value"]},
                "cold_method": row["cold_method"],
                "invocation": row.get("invocation") or "sync",
                "language": row.get("language") or DEFAULT_LANGUAGE,
                "memory_mb": row.get("memory_mb") or DEFAULT_MEMORY_MB,
                "input_size": row.get("input_size"),
                "runs": row["runs"],
            },
        )
        if metric in components or metric == "cold_start_first":
            cost = _section(entry, "cold_start_cost")
            cost.setdefault("boot_in", BOOT_IN.get(str(row["cold_method"])))
            _section(cost, components.get(metric, "first_request"))[stat] = row["value"]
            continue
        name = headline.get((metric, stat))
        if name is None:
            continue
        # The pooled figures at the top; the warm and the cold requests' own beside them.
        target = entry if subset == "all" else _section(entry, subset)
        if name in {"requests", "ok", "error_rate", "cold_starts"}:
            target[name] = row["value"]
        else:
            target[name] = {
                "value": row["value"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
            }
    return {
        "campaign": manifest.campaign,
        "platform": manifest.platform.label,
        "manifest": manifest.model_dump(mode="json"),
        "settings": {
            "level": result.settings.level,
            "precision": result.settings.precision,
            "percentiles": "exact, nearest rank (numpy inverted_cdf)",
            "intervals": f"{CI_METHOD}: median over runs, distribution-free",
        },
        "cells": {
            "total": len(result.tree.cells),
            "by_status": statuses,
            "aggregated": len({r["cell_id"] for r in result.rows if r["level"] == "cell"}),
            "skipped": [
                {"id": s.id, "status": s.status, "reason": s.reason} for s in result.skipped
            ],
        },
        "warnings": [warning.document() for warning in result.warnings],
        "groups": list(groups.values()),
    }


def write_outputs(result: Aggregate, directory: str | os.PathLike[str]) -> list[Path]:
    """stats.parquet, stats.csv and summary.json in `directory`; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table = result.table()
    parquet = out / STATS_PARQUET
    csv = out / STATS_CSV
    summary = out / SUMMARY_JSON
    pq.write_table(table, parquet)
    pa_csv.write_csv(table, csv)
    summary.write_text(json.dumps(summary_document(result), indent=2) + "\n", encoding="utf-8")
    return [parquet, csv, summary]
