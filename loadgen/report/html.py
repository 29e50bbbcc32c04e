"""One self-contained HTML report: figures as data URIs, tables, manifests and warnings.

The page leads with results (groups, comparison, figures); the warnings follow, each once with
the cells or groups it concerns, collapsed; then what was run (facts and manifests). It loads
nothing from anywhere (no scripts, no external stylesheets, fonts or images), so it opens
offline and can be archived with the results it describes.
"""

import base64
import html
import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from loadgen.analysis.aggregate import Aggregate, group_label
from loadgen.analysis.caveats import GroupedWarning
from loadgen.analysis.cold_starts import BOOT_IN, COLD_START_COMPONENTS
from loadgen.analysis.compare import Comparison, row_key
from loadgen.analysis.compare_files import test_rows, verdict_table
from loadgen.analysis.stats import min_runs
from loadgen.analysis.table import Row
from loadgen.report.figures.common import Figure
from loadgen.results.models import CampaignManifest

SECRET_KEY = re.compile(
    r"secret|password|passwd|token|private|credential|kubeconfig|api[_-]?key|access[_-]?key",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
THROUGHPUT_NOTE = (
    "Throughput is ok responses per second of active time: the time the load generator's "
    "engine runs were sending or awaiting answers, each from its first intended send to its "
    "last completion. Idle trace minutes, idle waits and forced cold starts between a cell's "
    "segments are not counted; for a cell of one segment it is <code>loadgen hit</code>'s rps. "
    "The wall span (<code>duration_s</code>) and the active time (<code>active_s</code>) are "
    "rows of stats.csv."
)
"""Under the results heading: what the throughput column divides by."""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222;
       padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f0f0f0; }
td.text, th.text { text-align: left; }
.warnings { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.5rem 1rem; }
.warnings summary { cursor: pointer; }
.verdict-plus { background: #d9f2d9; } .verdict-minus { background: #f8d7d7; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.3rem; }
.not-drawn { font-size: 0.9rem; color: #444; } .not-drawn ul { margin-top: 0.2rem; }
pre { background: #f7f7f7; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
"""


def redact(value: object) -> object:
    """The value with every entry whose key looks like a secret replaced (defence in depth)."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def significant(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant digits, trailing zeros kept (12.0, 0.450, 3.14): every
    measured number of the page reads alike. Large numbers keep every integer digit, with
    thousands separators (1,234); tiny ones (under 0.0001) go to exponent notation."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.{digits}g}")
    magnitude = math.floor(math.log10(abs(rounded)))
    if magnitude >= digits - 1:
        return f"{value:,.0f}"
    if magnitude < -4:
        return f"{rounded:.{digits - 1}e}"
    return f"{rounded:,.{digits - 1 - magnitude}f}"


def _number(value: object, digits: int = 3) -> str:
    """A measured number (float) to `digits` significant digits; an int as it is."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return significant(value, digits)
    if isinstance(value, int):
        return f"{value:,}"
    return _e(value)


def _count(value: object) -> str:
    """A count (the tidy table stores some as floats): a whole number."""
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return _number(value)


def _table(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], text_columns: int = 1
) -> str:
    """`rows` hold already-escaped HTML; no header row when `header` is None."""
    if header is None:
        head_html = ""
    else:
        head_html = "<thead><tr>" + _header_cells(header, text_columns) + "</tr></thead>"
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="text">{cell}</td>' if i < text_columns else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{head_html}<tbody>{body}</tbody></table>"


def _header_cells(header: Sequence[str], text_columns: int) -> str:
    return "".join(
        f'<th class="text">{_e(h)}</th>' if i < text_columns else f"<th>{_e(h)}</th>"
        for i, h in enumerate(header)
    )


def _with_ci(row: Row | None) -> str:
    if row is None or row["value"] is None:
        return "–"
    text = _number(row["value"])
    if row["ci_low"] is not None and row["ci_high"] is not None:
        text += f" [{_number(row['ci_low'])}, {_number(row['ci_high'])}]"
    return text


def _estimate(value: object, low: object, high: object) -> str:
    """A median and its interval; the median alone where too few runs allow no interval."""
    if low is None or high is None:
        return _number(value)
    return f"{_number(value)} [{_number(low)}, {_number(high)}]"


def _level(result: Aggregate) -> str:
    return f"{result.settings.level * 100:g}%"


def _no_interval_note(level: float) -> str:
    """Said under a table where some median over runs has no interval."""
    return (
        f"<p>A median over runs shown without an interval comes from fewer than "
        f"{min_runs(level)} runs: too few for a {level * 100:g}% interval.</p>"
    )


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
        chosen.append(("all", f"all, pooled ({_number(int(silent))} not reported)"))
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
            _e(group_label(key)),
            _e(any_row["runs"]),
            _count(found.get(("all", "requests", "count"), {}).get("value")),
            _number(None if error_rate is None else 100 * float(error_rate["value"] or 0), 2),
            _with_ci(found.get(("all", "throughput_rps", "run_median"))),
            _count(found.get(("all", "cold_start", "cold"), {}).get("value")),
        ]
        for index, (subset, label) in enumerate(_headline_subsets(found)):
            rows.append(
                (group_cells if index == 0 else [""] * len(group_cells))
                + [
                    _e(label),
                    _count(found.get((subset, "requests", "ok"), {}).get("value")),
                    _with_ci(found.get((subset, "latency_ms", "run_median_p50"))),
                    _with_ci(found.get((subset, "latency_ms", "run_median_p99"))),
                    _number(found.get((subset, "latency_ms", "run_cv_p50"), {}).get("value")),
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
    table = _table(
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
    return table + (_no_interval_note(result.settings.level) if lacking else "")


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
                    _e(group_label(key)) if index == 0 else "",
                    _e(label) + (" <b>(contains the boot)</b>" if name == boot else ""),
                    _count(count["value"]),
                    *(
                        _number(found.get((name, stat), {}).get("value"))
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
        + _table(["group", "component", "count", "mean ms", "p50 ms", "max ms"], rows, 2)
    )


def _results_section(result: Aggregate) -> str:
    return (
        f"<h3>{_e(result.tree.manifest.campaign)}</h3>"
        + _group_table(result)
        + _cold_start_table(result)
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
        rows.append([_e(role), _e(manifest.instance_types.get(role, "–")), _e(count), _e(names)])
    return "<h4>Machines</h4>" + _table(["role", "instance type", "nodes", "names"], rows, 2)


def _versions_table(manifest: CampaignManifest) -> str:
    """The platform's and the load generator's versions, then the measurement path's packages."""
    versions = manifest.platform.versions
    rows = [
        ("gateway", versions.gateway or "–"),
        ("provider", versions.provider or "–"),
        ("loadgen", manifest.tool_version),
        *sorted(manifest.packages.items()),
    ]
    return "<h4>Versions</h4>" + _table(
        ["component", "version"], [[_e(k), _e(v)] for k, v in rows], text_columns=2
    )


def _setup_section(result: Aggregate) -> str:
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
        f"<h3>{_e(manifest.campaign)}</h3>"
        + _table(None, [[_e(k), _e(v)] for k, v in facts], text_columns=2)
        + _machines_table(manifest)
        + _versions_table(manifest)
        + f"<details><summary>Manifest</summary><pre>{_e(document)}</pre></details>"
    )


def _comparison_section(comparison: Comparison | None) -> str:
    if comparison is None:
        return "<p>One campaign: nothing to compare.</p>"
    header, body = verdict_table(comparison)
    classes = {"+": "verdict-plus", "-": "verdict-minus"}
    rows = [
        [_e(c) for c in row[:4]]
        + [f'<span class="{classes.get(c, "")}">{_e(c or "–")}</span>' for c in row[4:]]
        for row in body
    ]
    tests = [
        [
            _e(r["campaign"]),
            _e(group_label(row_key(r))),
            _e(r["subset"]),
            _e(r["metric"]),
            _estimate(r["median_baseline"], r["ci_low_baseline"], r["ci_high_baseline"]),
            _estimate(r["median"], r["ci_low"], r["ci_high"]),
            _number(r["p_value"]),
            _number(r["p_holm"]),
            f"{_number(r['cliffs_delta'])} ({_e(r['magnitude'])})",
            _e(r["verdict"]),
        ]
        for r in test_rows(comparison)
    ]
    return (
        f"<p>Baseline <b>{_e(comparison.baseline)}</b>. + better, o no significant difference, "
        f"− worse: Mann–Whitney U on per-run values, Holm-adjusted, α = {comparison.alpha:g}."
        "</p>"
        + (_table(header, rows, text_columns=4) if rows else "<p>No group could be tested.</p>")
        + "<details><summary>Every test</summary>"
        + _table(
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
            _no_interval_note(comparison.level)
            if any(t.ci is None or t.baseline_ci is None for t in comparison.tests)
            else ""
        )
        + "</details>"
    )


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="{_e(figure.id)}"><img alt="{_e(figure.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption><b>{_e(figure.title)}.</b> '
        f"{_e(figure.caption)}</figcaption></figure>"
    )


def _figures_section(figures: Sequence[Figure]) -> str:
    """The drawn figures, then one line per figure without data, naming why: no empty boxes."""
    drawn = "".join(_figure(f) for f in figures if not f.empty)
    missing = [f for f in figures if f.empty]
    if not missing:
        return drawn
    items = "".join(
        f"<li><b>{_e(f.title)}</b>: {_e(f.caption.removeprefix('No data: '))}</li>" for f in missing
    )
    return (
        drawn + f'<div class="not-drawn"><p>Not drawn, for want of data:</p><ul>{items}</ul></div>'
    )


def _warning(warning: GroupedWarning, prefix: str) -> str:
    subjects = "".join(
        f"<li>{_e(subject)}" + (f": {_e(detail)}" if detail else "") + "</li>"
        for subject, detail in warning.subjects
    )
    return f"<li>{_e(prefix + warning.message)}<ul>{subjects}</ul></li>"


def _warnings_section(
    results: Sequence[Aggregate], comparison: Comparison | None
) -> tuple[int, str]:
    """How many warnings there are, and the section: collapsed, each warning once."""
    prefix = len(results) > 1
    items = [
        _warning(w, f"{r.tree.manifest.campaign}: " if prefix else "")
        for r in results
        for w in r.warnings
    ]
    if comparison is not None:
        items.extend(f"<li>compare: {_e(w)}</li>" for w in comparison.warnings)
    if not items:
        return 0, '<h2 id="warnings">Warnings</h2><p>None.</p>'
    count = len(items)
    summary = f"{count} warning{'s' if count != 1 else ''}"
    return count, (
        f'<h2 id="warnings">Warnings</h2><details class="warnings"><summary>{summary}'
        f"</summary><ul>{''.join(items)}</ul></details>"
    )


def render_report(
    results: Sequence[Aggregate], comparison: Comparison | None, figures: Sequence[Figure]
) -> str:
    count, warning_html = _warnings_section(results, comparison)
    pointer = (
        f"<p>{count} warning{'s' if count != 1 else ''} about this study: see "
        '<a href="#warnings">Warnings</a>, after the results.</p>'
        if count
        else ""
    )
    generated = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    names = ", ".join(r.tree.manifest.campaign for r in results)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>faasbench report: {_e(names)}</title><style>{STYLE}</style></head><body>"
        f"<h1>faasbench report</h1><p>{_e(names)} — generated {_e(generated)}</p>{pointer}"
        f'<h2>Results</h2><p class="note">{THROUGHPUT_NOTE}</p>'
        + "".join(_results_section(r) for r in results)
        + f"<h2>Comparison</h2>{_comparison_section(comparison)}"
        + "<h2>Figures</h2>"
        + _figures_section(figures)
        + warning_html
        + "<h2>Campaigns</h2>"
        + "".join(_setup_section(r) for r in results)
        + "</body></html>\n"
    )
