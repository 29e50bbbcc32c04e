"""One self-contained HTML report: figures as data URIs, tables, manifests and warnings.

The page leads with results (groups, comparison, figures); the warnings follow, each once with
the cells or groups it concerns, collapsed; then what was run (facts and manifests). It loads
nothing from anywhere (no scripts, no external stylesheets, fonts or images), so it opens
offline and can be archived with the results it describes.

This module assembles the page; `html_tables` renders its tables and `html_format` the cells.
"""

import base64
from collections.abc import Sequence
from datetime import UTC, datetime

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.caveats import GroupedWarning
from loadgen.analysis.compare import Comparison
from loadgen.report.figures.common import Figure
from loadgen.report.html_format import (
    escape,
)
from loadgen.report.html_tables import comparison_section, results_section, setup_section

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


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="{escape(figure.id)}"><img alt="{escape(figure.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption><b>{escape(figure.title)}.</b> '
        f"{escape(figure.caption)}</figcaption></figure>"
    )


def _figures_section(figures: Sequence[Figure]) -> str:
    """The drawn figures, then one line per figure without data, naming why: no empty boxes."""
    drawn = "".join(_figure(f) for f in figures if not f.empty)
    missing = [f for f in figures if f.empty]
    if not missing:
        return drawn
    items = "".join(
        f"<li><b>{escape(f.title)}</b>: {escape(f.caption.removeprefix('No data: '))}</li>"
        for f in missing
    )
    return (
        drawn + f'<div class="not-drawn"><p>Not drawn, for want of data:</p><ul>{items}</ul></div>'
    )


def _warning(warning: GroupedWarning, prefix: str) -> str:
    subjects = "".join(
        f"<li>{escape(subject)}" + (f": {escape(detail)}" if detail else "") + "</li>"
        for subject, detail in warning.subjects
    )
    return f"<li>{escape(prefix + warning.message)}<ul>{subjects}</ul></li>"


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
        items.extend(f"<li>compare: {escape(w)}</li>" for w in comparison.warnings)
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
        f"<title>faasbench report: {escape(names)}</title><style>{STYLE}</style></head><body>"
        f"<h1>faasbench report</h1><p>{escape(names)} — generated {escape(generated)}</p>{pointer}"
        f'<h2>Results</h2><p class="note">{THROUGHPUT_NOTE}</p>'
        + "".join(results_section(r) for r in results)
        + f"<h2>Comparison</h2>{comparison_section(comparison)}"
        + "<h2>Figures</h2>"
        + _figures_section(figures)
        + warning_html
        + "<h2>Campaigns</h2>"
        + "".join(setup_section(r) for r in results)
        + "</body></html>\n"
    )
