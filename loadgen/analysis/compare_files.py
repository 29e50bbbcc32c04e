"""The files of `loadgen compare`: each test as CSV and JSON, and the verdict table as CSV and
LaTeX (booktabs)."""

import csv
import json
import os
from pathlib import Path

from loadgen.analysis.aggregate import group_sort_key
from loadgen.analysis.compare import Comparison
from loadgen.analysis.stats import cliffs_magnitude
from loadgen.analysis.table import DEFAULT_LANGUAGE, DEFAULT_MEMORY_MB, GroupKey

COMPARISON_CSV = "comparison.csv"
COMPARISON_JSON = "comparison.json"
TABLE_CSV = "verdicts.csv"
TABLE_TEX = "verdicts.tex"


COLUMNS = [
    "baseline",
    "campaign",
    "function",
    "mode",
    "sweep_name",
    "sweep_value",
    "cold_method",
    "invocation",
    "language",
    "memory_mb",
    "input_size",
    "subset",
    "metric",
    "runs_baseline",
    "runs",
    "median_baseline",
    "ci_low_baseline",
    "ci_high_baseline",
    "median",
    "ci_low",
    "ci_high",
    "u",
    "p_value",
    "p_holm",
    "cliffs_delta",
    "magnitude",
    "verdict",
]


def test_rows(comparison: Comparison) -> list[dict[str, object]]:
    rows = []
    for t in comparison.tests:
        function, mode, sweep, value, method, invocation, language, memory, size = t.key
        rows.append(
            {
                "baseline": t.baseline,
                "campaign": t.campaign,
                "function": function,
                "mode": mode,
                "sweep_name": sweep,
                "sweep_value": value,
                "cold_method": method,
                "invocation": invocation,
                "language": language,
                "memory_mb": memory,
                "input_size": size,
                "subset": t.subset,
                "metric": t.metric,
                "runs_baseline": len(t.baseline_values),
                "runs": len(t.values),
                "median_baseline": t.baseline_median,
                "ci_low_baseline": t.baseline_ci[0] if t.baseline_ci else None,
                "ci_high_baseline": t.baseline_ci[1] if t.baseline_ci else None,
                "median": t.median,
                "ci_low": t.ci[0] if t.ci else None,
                "ci_high": t.ci[1] if t.ci else None,
                "u": t.u,
                "p_value": t.p_value,
                "p_holm": t.p_holm,
                "cliffs_delta": t.delta,
                "magnitude": cliffs_magnitude(t.delta),
                "verdict": t.verdict,
            }
        )
    return rows


SUBSET_ORDER = {"all": 0, "warm": 1, "cold": 2}


def verdict_table(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """+/o/- per group and subset of requests (rows) and campaign × metric (columns)."""
    columns = [
        f"{campaign} {metric}"
        for campaign in comparison.campaigns
        for metric in dict.fromkeys(t.metric for t in comparison.tests)
    ]
    cells: dict[tuple[GroupKey, str], dict[str, str]] = {}
    for t in comparison.tests:
        cells.setdefault((t.key, t.subset), {})[f"{t.campaign} {t.metric}"] = t.verdict
    header = ["function", "mode", "sweep", "requests", *columns]
    body = []
    for key, subset in sorted(cells, key=lambda k: (group_sort_key(k[0]), SUBSET_ORDER[k[1]])):
        function, mode, sweep, value, method, invocation, language, memory, size = key
        point = "–" if sweep == "none" else f"{sweep}={value:g}"
        if method:
            point += f" ({method})"
        if invocation != "sync":
            point += f" {invocation}"
        if language != DEFAULT_LANGUAGE:
            point += f" {language}"
        if memory != DEFAULT_MEMORY_MB:
            point += f" {memory} MiB"
        if size is not None:
            point += f" input {size} B"
        verdicts = cells[(key, subset)]
        body.append([function, mode, point, subset, *(verdicts.get(c, "") for c in columns)])
    return header, body


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_VERDICTS = {"+": "$+$", "o": "$\\circ$", "-": "$-$", "": ""}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(char, char) for char in text)


def latex_table(comparison: Comparison) -> str:
    """A booktabs tabular of the verdicts, with the baseline and test named in the caption."""
    header, body = verdict_table(comparison)
    fixed = 4
    lines = [
        "\\begin{table}",
        "\\centering",
        f"\\begin{{tabular}}{{{'l' * fixed}{'c' * (len(header) - fixed)}}}",
        "\\toprule",
        " & ".join(latex_escape(h) for h in header) + " \\\\",
        "\\midrule",
    ]
    for row in body:
        cells = [latex_escape(c) for c in row[:fixed]] + [_LATEX_VERDICTS[c] for c in row[fixed:]]
        lines.append(" & ".join(cells) + " \\\\")
    lines += [
        "\\bottomrule",
        "\\end{tabular}",
        "\\caption{Against "
        + latex_escape(comparison.baseline)
        + f": $+$ better, $\\circ$ no significant difference, $-$ worse (Mann--Whitney U on "
        f"per-run values, Holm-adjusted, $\\alpha = {comparison.alpha:g}$).}}",
        "\\end{table}",
    ]
    return "\n".join(lines) + "\n"


def write_comparison(comparison: Comparison, directory: str | os.PathLike[str]) -> list[Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rows = test_rows(comparison)
    tests = out / COMPARISON_CSV
    with tests.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    header, body = verdict_table(comparison)
    table = out / TABLE_CSV
    with table.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *body])
    tex = out / TABLE_TEX
    tex.write_text(latex_table(comparison), encoding="utf-8")
    document = out / COMPARISON_JSON
    document.write_text(
        json.dumps(
            {
                "baseline": comparison.baseline,
                "campaigns": comparison.campaigns,
                "alpha": comparison.alpha,
                "tests": rows,
                "warnings": comparison.warnings,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return [tests, table, tex, document]
