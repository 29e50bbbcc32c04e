"""The HTML report's sections of tables: each campaign's results (groups, cold-start
components), the comparison's verdicts and tests, and each campaign's setup."""

import json

from loadgen.analysis.aggregate import Aggregate, group_label
from loadgen.analysis.cold_starts import BOOT_IN, COLD_START_COMPONENTS
from loadgen.analysis.compare import Comparison
from loadgen.analysis.compare_files import test_rows, verdict_table
from loadgen.analysis.table import Row, row_key
from loadgen.report.html_costs import cost_section
from loadgen.report.html_format import (
    count_cell,
    escape,
    estimate,
    html_table,
    no_interval_note,
    number_cell,
    redact,
    with_ci,
)
from loadgen.results.models import CampaignManifest


def _level(result: Aggregate) -> str:
    return f"{result.settings.level * 100:g}%"


_GROUP_WANTED = {
    ("requests", "count"),
    ("requests", "ok"),
    ("error_rate", "value"),
    ("throughput_rps", "run_median"),
    ("latency_ms", "run_median_p50"),
    ("latency_ms", "run_median_p99"),
    ("latency_ms", "run_cv_p50"),
    ("cold_start", "cold"),
}


def _headline_subsets(found: dict[tuple[str, str, str], Row]) -> list[tuple[str, str]]:
    """(subset, label) rows of one group: warm and cold apart where the requests said which
    they were; the pooled figure only for ok requests that did not say (never instead of both).
    """

    def ok(subset: str) -> float:
        row = found.get((subset, "requests", "ok"))
        return 0.0 if row is None or row["value"] is None else _float(row["value"])

    chosen = [(s, s) for s in ("warm", "cold") if ok(s) > 0]
    silent = ok("all") - ok("warm") - ok("cold")
    if not chosen:
        chosen.append(("all", "all (cold or warm not reported)"))
    elif silent > 0:
        chosen.append(("all", f"all, pooled ({number_cell(int(silent))} not reported)"))
    return chosen


def _float(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _group_table(result: Aggregate) -> str:
    """One row per group and kind of request: warm and cold never share a percentile."""
    groups: dict[object, dict[tuple[str, str, str], Row]] = {}
    for row in result.rows:
        key = (str(row["metric"]), str(row["stat"]))
        if row["level"] == "group" and key in _GROUP_WANTED:
            groups.setdefault(row_key(row), {})[(str(row["subset"]), *key)] = row
    rows = []
    for key, found in groups.items():
        any_row = next(iter(found.values()))
        error_rate = found.get(("all", "error_rate", "value"))
        group_cells = [
            escape(group_label(key)),
            escape(any_row["runs"]),
            count_cell(found.get(("all", "requests", "count"), {}).get("value")),
            number_cell(None if error_rate is None else 100 * float(error_rate["value"] or 0), 2),
            with_ci(found.get(("all", "throughput_rps", "run_median"))),
            count_cell(found.get(("all", "cold_start", "cold"), {}).get("value")),
        ]
        for index, (subset, label) in enumerate(_headline_subsets(found)):
            rows.append(
                (group_cells if index == 0 else [""] * len(group_cells))
                + [
                    escape(label),
                    count_cell(found.get((subset, "requests", "ok"), {}).get("value")),
                    with_ci(found.get((subset, "latency_ms", "run_median_p50"))),
                    with_ci(found.get((subset, "latency_ms", "run_median_p99"))),
                    number_cell(found.get((subset, "latency_ms", "run_cv_p50"), {}).get("value")),
                ]
            )
    if not rows:
        return "<p>No group was aggregated.</p>"
    level = _level(result)
    lacking = any(
        row["value"] is not None and row["ci_low"] is None
        for found in groups.values()
        for (_, _, stat), row in found.items()
        if stat.startswith("run_median")
    )
    table = html_table(
        [
            "group",
            "runs",
            "requests",
            "errors %",
            f"throughput /s [{level} CI]",
            "cold starts",
            "kind",
            "ok",
            f"p50 ms [{level} CI]",
            f"p99 ms [{level} CI]",
            "CV of p50",
        ],
        rows,
    )
    return table + (no_interval_note(result.settings.level) if lacking else "")


def _cold_start_table(result: Aggregate) -> str:
    """Each cold-start component of each group on its own row; nothing summed."""
    names = dict(COLD_START_COMPONENTS)
    groups: dict[object, dict[tuple[str, str], Row]] = {}
    for row in result.rows:
        metric = str(row["metric"])
        if row["level"] == "group" and metric.startswith("cold_start_") and metric.endswith("_ms"):
            name = metric.removeprefix("cold_start_").removesuffix("_ms")
            if name in names:
                groups.setdefault(row_key(row), {})[(name, str(row["stat"]))] = row
    rows = []
    for key, found in groups.items():
        method = key[4]
        boot = BOOT_IN.get(str(method))
        for index, (name, label) in enumerate(COLD_START_COMPONENTS):
            count = found.get((name, "count"))
            if count is None:
                continue
            rows.append(
                [
                    escape(group_label(key)) if index == 0 else "",
                    escape(label) + (" <b>(contains the boot)</b>" if name == boot else ""),
                    count_cell(count["value"]),
                    *(
                        number_cell(found.get((name, stat), {}).get("value"))
                        for stat in ("mean", "p50", "max")
                    ),
                ]
            )
    if not rows:
        return ""
    return (
        "<h4>Cold-start cost, component by component</h4><p>Each part is measured on its own "
        "and never added to another: only the first response's latency and the init inside it "
        "happen within one request. docs/statistics.md says what each contains.</p>"
        + html_table(["group", "component", "count", "mean ms", "p50 ms", "max ms"], rows, 2)
    )


def results_section(result: Aggregate) -> str:
    return (
        f"<h3>{escape(result.tree.manifest.campaign)}</h3>"
        + _group_table(result)
        + _cold_start_table(result)
        + cost_section(result)
    )


def _nodes(value: object) -> tuple[str, str]:
    """A role's nodes as (count, names) from the manifest's `node_roles` entry."""
    if isinstance(value, list | tuple):
        return f"{len(value):,}", ", ".join(str(v) for v in value) or "–"
    if isinstance(value, int):
        return f"{value:,}", "–"
    if isinstance(value, dict):
        return "–", ", ".join(f"{k}: {v}" for k, v in value.items()) or "–"
    return "–", "–" if value is None else str(value)


def _machines_table(manifest: CampaignManifest) -> str:
    """One row per node role: how many nodes, which, and their instance type."""
    roles = list(dict.fromkeys([*manifest.node_roles, *manifest.instance_types]))
    if not roles:
        return "<p>Machines: the manifest records no node roles or instance types.</p>"
    rows = []
    for role in roles:
        count, names = _nodes(manifest.node_roles.get(role))
        rows.append(
            [
                escape(role),
                escape(manifest.instance_types.get(role, "–")),
                escape(count),
                escape(names),
            ]
        )
    return "<h4>Machines</h4>" + html_table(["role", "instance type", "nodes", "names"], rows, 2)


def _versions_table(manifest: CampaignManifest) -> str:
    """The platform's and the load generator's versions, then the measurement path's packages."""
    versions = manifest.platform.versions
    rows = [
        ("gateway", versions.gateway or "–"),
        ("provider", versions.provider or "–"),
        ("loadgen", manifest.tool_version),
        *sorted(manifest.packages.items()),
    ]
    return "<h4>Versions</h4>" + html_table(
        ["component", "version"], [[escape(k), escape(v)] for k, v in rows], text_columns=2
    )


def setup_section(result: Aggregate) -> str:
    manifest = result.tree.manifest
    clock = manifest.clock
    facts = [
        ("campaign", manifest.campaign),
        ("platform", manifest.platform.label),
        ("cold-start methods", ", ".join(manifest.cold_start_methods) or "–"),
        ("started / ended", f"{manifest.started} / {manifest.ended or '–'}"),
        ("loader host, clock", f"{manifest.host}, {clock.source} (synced: {clock.synced})"),
        ("config hash", manifest.config_hash),
        ("cells", f"{len(result.tree.cells)} ({len(result.skipped)} skipped)"),
    ]
    document = json.dumps(redact(manifest.model_dump(mode="json")), indent=2, sort_keys=True)
    return (
        f"<h3>{escape(manifest.campaign)}</h3>"
        + html_table(None, [[escape(k), escape(v)] for k, v in facts], text_columns=2)
        + _machines_table(manifest)
        + _versions_table(manifest)
        + f"<details><summary>Manifest</summary><pre>{escape(document)}</pre></details>"
    )


def comparison_section(comparison: Comparison | None) -> str:
    if comparison is None:
        return "<p>One campaign: nothing to compare.</p>"
    header, body = verdict_table(comparison)
    classes = {"+": "verdict-plus", "-": "verdict-minus"}
    rows = [
        [escape(c) for c in row[:4]]
        + [f'<span class="{classes.get(c, "")}">{escape(c or "–")}</span>' for c in row[4:]]
        for row in body
    ]
    tests = [
        [
            escape(r["campaign"]),
            escape(group_label(row_key(r))),
            escape(r["subset"]),
            escape(r["metric"]),
            estimate(r["median_baseline"], r["ci_low_baseline"], r["ci_high_baseline"]),
            estimate(r["median"], r["ci_low"], r["ci_high"]),
            number_cell(r["p_value"]),
            number_cell(r["p_holm"]),
            f"{number_cell(r['cliffs_delta'])} ({escape(r['magnitude'])})",
            escape(r["verdict"]),
        ]
        for r in test_rows(comparison)
    ]
    return (
        f"<p>Baseline <b>{escape(comparison.baseline)}</b>. + better, o no significant difference, "
        f"− worse: Mann–Whitney U on per-run values, Holm-adjusted, α = {comparison.alpha:g}."
        "</p>"
        + (html_table(header, rows, text_columns=4) if rows else "<p>No group could be tested.</p>")
        + "<details><summary>Every test</summary>"
        + html_table(
            [
                "campaign",
                "group",
                "requests",
                "statistic",
                "baseline median [CI]",
                "median [CI]",
                "p",
                "Holm p",
                "Cliff's delta",
                "verdict",
            ],
            tests,
            text_columns=4,
        )
        + (
            no_interval_note(comparison.level)
            if any(t.ci is None or t.baseline_ci is None for t in comparison.tests)
            else ""
        )
        + "</details>"
    )
