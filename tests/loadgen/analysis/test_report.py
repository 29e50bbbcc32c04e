"""The HTML report: self-contained, every figure present and captioned, nothing secret."""

import base64
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from support.synthetic_results import CampaignSpec, CellSpec, write_campaign
from typer.testing import CliRunner

from loadgen.analysis.aggregate import Settings, aggregate
from loadgen.analysis.cold_starts import COLD_START_COMPONENTS
from loadgen.cli import app
from loadgen.report.build import build_report, figures_dir
from loadgen.report.figures import FIGURES
from loadgen.report.figures.cold_starts import _cold_components, cold_breakdown
from loadgen.report.html_format import REDACTED, redact, significant
from loadgen.results import open_results

FAST = Settings()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collects the tags and attributes that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.captions = 0
        self.figure_ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            if values.get(name) is not None:
                self.urls.append((tag, name, values[name] or ""))
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "figcaption":
            self.captions += 1
        if tag == "figure":
            self.figure_ids.append(values.get("id") or "")


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text()
    page = _Page()
    page.feed(text)
    assert "script" not in page.tags
    assert "link" not in page.tags
    assert not re.search(r"url\(\s*['\"]?(?!data:)", text)  # no CSS fetches
    for tag, attribute, value in page.urls:
        assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), (tag, attribute, value)
    assert not re.search(r"(src|href)\s*=\s*['\"]?\s*https?://", text, re.IGNORECASE)


def test_every_figure_with_data_is_embedded_and_captioned(report: Path) -> None:
    """The fixture's records have data for every figure but the replica, enqueue and memory
    sweeps: those are drawn, in order; the others are a line naming why, not an empty box, and
    have no file."""
    text = report.read_text()
    page = _Page()
    page.feed(text)
    drawn = [
        "latency-cdf",
        "box-users",
        "medians-ci",
        "throughput-users",
        "latency-time",
        "cold-breakdown",
        "error-rates",
        "resources",
    ]
    assert page.figure_ids == drawn
    assert len(page.images) == page.captions == len(drawn) == len(FIGURES) - 5
    assert "No data" not in text
    listed = _between(text, '<div class="not-drawn">', "</div>")
    assert "<li><b>Latency distribution per replicas</b>: no cell swept replicas.</li>" in listed
    assert "<b>Backlog, replicas and completion latency over time</b>: no enqueue cell" in listed
    assert "<b>Latency against the memory limit</b>: no group was measured at more" in listed
    assert not (figures_dir(report) / "box-replicas.png").exists()
    for src in page.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix) :]).startswith(PNG_SIGNATURE)
    for figure_id in page.figure_ids:
        assert (figures_dir(report) / f"{figure_id}.png").read_bytes().startswith(PNG_SIGNATURE)
        assert b"<svg" in (figures_dir(report) / f"{figure_id}.svg").read_bytes()


def test_report_holds_tables_warnings_and_manifests(report: Path) -> None:
    text = report.read_text()
    assert "<li>echo-closed-users200-r0: invalid: client CPU 95%</li>" in text
    assert "<li>echo-closed-users100-r0: failed: gateway timeout</li>" in text
    assert "client-bottlenecked" in text
    assert "differs from k8s in node roles" not in text
    assert "openfaas/nomad/openstack" in text  # second platform's manifest
    assert "Baseline <b>k8s</b>" in text
    assert "p50 ms [95% CI]" in text
    # 4 runs a group: medians without intervals, and the page says why.
    note = "A median over runs shown without an interval comes from fewer than 6 runs"
    results = _between(text, "<h2>Results</h2>", "<h2>Comparison</h2>")
    assert note in results
    assert note in _between(text, "<h2>Comparison</h2>", "<h2>Figures</h2>")


def test_figures_without_data_say_so(report: Path, tmp_path: Path) -> None:
    """No campaign sweeps replicas; a campaign without cold-start cells has no breakdown."""
    bare = write_campaign(
        tmp_path / "bare",
        CampaignSpec(name="bare", cells=(CellSpec(platform=None, metrics=False),)),
    )
    _, figures, comparison = build_report(
        [aggregate(open_results(bare), FAST, keep_requests=True)], tmp_path / "bare.html"
    )
    empty = {f.id for f in figures if f.empty}
    assert {"box-replicas", "cold-breakdown", "resources"} <= empty
    assert "latency-cdf" not in empty
    assert comparison is None
    listed = _between((tmp_path / "bare.html").read_text(), '<div class="not-drawn">', "</div>")
    assert "<li><b>Cold-start cost by component</b>: no cold-start components recorded" in listed
    assert '<figure id="cold-breakdown">' not in (tmp_path / "bare.html").read_text()


def test_secrets_are_redacted(tmp_path: Path) -> None:
    assert redact({"db_password": "x", "nested": [{"apiKey": "y", "url": "z"}]}) == {
        "db_password": REDACTED,
        "nested": [{"apiKey": REDACTED, "url": "z"}],
    }
    root = write_campaign(tmp_path / "c", CampaignSpec(name="c", cells=(CellSpec(requests=20),)))
    manifest = (root / "manifest.json").read_text()
    (root / "manifest.json").write_text(
        manifest.replace('"outputs": {', '"outputs": {"admin_password": "hunter2", ')
    )
    build_report([aggregate(open_results(root), FAST, keep_requests=True)], tmp_path / "r.html")
    assert "hunter2" not in (tmp_path / "r.html").read_text()


def test_cli(campaign: Path, second: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.html"
    outcome = CliRunner().invoke(app, ["report", str(campaign), str(second), "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert out.is_file()
    (tmp_path / "a-file").write_text("")
    blocked = tmp_path / "a-file" / "x.html"
    outcome = CliRunner().invoke(app, ["report", str(campaign), "-o", str(blocked)])
    assert outcome.exit_code == 2
    assert "'--output'" in outcome.output
    assert "cannot create directory" in outcome.output


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_results_lead_and_warnings_follow_collapsed_each_once(report: Path) -> None:
    """Groups, comparison and figures come first; the warnings after them, in a closed
    <details>, each message once with its groups listed under it; a line at the top says how
    many there are and links to them."""
    text = report.read_text()
    results, figures = text.index("<h2>Results</h2>"), text.index("<h2>Figures</h2>")
    warnings = text.index('<h2 id="warnings">Warnings</h2>')
    assert results < text.index("p50 ms [95% CI]") < figures < warnings
    assert text.index('<figure id="latency-cdf">') < warnings
    head = text[:results]
    assert '<a href="#warnings">Warnings</a>, after the results' in head
    assert "client-bottlenecked" not in head
    section = _between(text, '<h2 id="warnings">', "<h2>Campaigns</h2>")
    assert section.count('<details class="warnings">') == 1
    assert '<details class="warnings" open' not in section
    few = "k8s: too few runs for a 95% interval: none reported"
    assert text.count(few) == 1
    listed = _between(section, few, "</ul>")
    assert "<li>echo closed users=1: 4 run(s), 6 needed</li>" in listed
    assert "<li>echo closed users=10: 4 run(s), 6 needed</li>" in listed
    assert text.count("nomad: too few runs for a 95% interval") == 1
    count = int(re.search(r"<summary>(\d+) warnings", section).group(1))
    assert count == section.count("<li>k8s: ") + section.count("<li>nomad: ") + section.count(
        "<li>compare: "
    )
    assert f"<p>{count} warnings about this study" in head


def test_a_report_without_warnings_says_none(tmp_path: Path) -> None:
    root = write_campaign(
        tmp_path / "c",
        CampaignSpec(
            name="c",
            cells=tuple(
                CellSpec(run=run, requests=1000, run_factor=1.0, seed=run) for run in range(8)
            ),
        ),
    )
    path, _, _ = build_report(
        [aggregate(open_results(root), FAST, keep_requests=True)], tmp_path / "r.html"
    )
    text = path.read_text()
    assert '<h2 id="warnings">Warnings</h2><p>None.</p>' in text
    assert 'href="#warnings"' not in text
    # 8 runs: every median has its interval, each within ±10% (with 6, the p99's interval
    # reaches out to the extreme runs and is ±11%: a warning).
    assert "shown without an interval" not in text


def test_report_progress_names_each_figure(campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "dirs" / "r.html"
    outcome = CliRunner().invoke(app, ["report", str(campaign), "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert out.is_file()  # -o creates missing parent directories
    lines = outcome.output.splitlines()
    figures = [line for line in lines if line.startswith("report: figure ")]
    assert figures == [
        f"report: figure {i}/{len(FIGURES)}: {make.__name__}" for i, make in enumerate(FIGURES, 1)
    ]
    assert any(line.startswith("report: group 1/") for line in lines)


def test_the_font_cache_is_built_ahead_and_its_scan_is_announced(tmp_path: Path) -> None:
    """In a fresh matplotlib cache directory the first call scans the fonts and says so while
    it runs; the second finds the cache and has nothing to announce about a scan."""
    probe = (
        "from loadgen.report.fonts import build_font_cache; build_font_cache(print, every_s=0.01)"
    )
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path)}

    def run() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout

    first = run()
    assert list(tmp_path.glob("fontlist-v*.json"))
    assert "building matplotlib's font cache, first use only" in first
    assert "building matplotlib's font cache" not in run()


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _shown(value: object) -> str:
    assert isinstance(value, float)
    return significant(value)


def test_headline_shows_warm_and_cold_requests_apart(campaign: Path, report: Path) -> None:
    """A group with cold starts gets a warm row and a cold row, each with its own requests'
    median over runs; a cold-start group a cold row only; no row pools the two."""
    page = _Tables()
    page.feed(report.read_text())
    table = page.tables[0]
    header = table[0]
    kind = header.index("kind")
    p50, p99 = header.index("p50 ms [95% CI]"), header.index("p99 ms [95% CI]")
    start = next(i for i, row in enumerate(table) if row[0] == "echo closed users=10")
    warm, cold = table[start], table[start + 1]
    assert (warm[kind], cold[kind]) == ("warm", "cold")
    assert cold[0] == ""  # the group's own columns once, on its first row
    result = aggregate(open_results(campaign), FAST)
    group = {"level": "group", "mode": "closed", "sweep_value": 10.0}

    def run_median(stat: str, subset: str) -> object:
        rows = [
            r
            for r in result.rows
            if all(r[k] == v for k, v in group.items())
            and r["metric"] == "latency_ms"
            and r["stat"] == f"run_median_{stat}"
            and r["subset"] == subset
        ]
        assert len(rows) == 1
        return rows[0]["value"]

    # 4 runs a group: each median alone, too few runs for an interval (a note says so).
    assert warm[p50] == _shown(run_median("p50", "warm"))
    assert cold[p50] == _shown(run_median("p50", "cold"))
    assert warm[p99] == _shown(run_median("p99", "warm"))
    assert cold[p99] == "–"
    # Every ok request said whether it was cold: no group has a pooled row.
    assert {row[kind] for row in table[1:]} == {"warm", "cold"}
    (cold_group,) = [row for row in table if row[0] == "echo cold (scale-to-zero)"]
    assert cold_group[kind] == "cold"


def test_cold_start_figure_draws_the_components(campaign: Path, second: Path) -> None:
    """The figure's bars are the tidy table's group means of each component, one panel each;
    its caption names where the boot is. Without cold-start components it is empty and says
    why."""
    results = [aggregate(open_results(root), FAST) for root in (campaign, second)]
    entries = _cold_components(results)
    assert [(campaign_name, label) for campaign_name, label, _, _ in entries] == [
        ("k8s", "echo cold (scale-to-zero)"),
        ("nomad", "echo cold (action-update)"),
    ]
    for result, (_, _, _, values) in zip(results, entries, strict=True):
        for name, _ in COLD_START_COMPONENTS:
            rows = [
                r
                for r in result.rows
                if r["level"] == "group" and r["metric"] == f"cold_start_{name}_ms"
            ]
            means = {r["stat"]: r["value"] for r in rows}
            assert values.get(f"{name}_count") == means["count"]
            assert values.get(name) == means.get("mean")
    assert entries[0][3]["init_count"] == 0  # Kubernetes reports no init per request
    assert entries[1][3]["init_count"] == entries[1][3]["first_latency_count"] == 12
    figure = cold_breakdown(results)
    assert not figure.empty
    assert figure.png.startswith(PNG_SIGNATURE)
    assert "redeploy's contains the boot" in figure.caption
    assert "never added up" in figure.caption
    warm_only = [aggregate(open_results(second), FAST)]
    warm_only[0].rows[:] = [
        r for r in warm_only[0].rows if not str(r["metric"]).startswith("cold_start_")
    ]
    empty = cold_breakdown(warm_only)
    assert empty.empty
    assert empty.caption.startswith("No data: no cold-start components recorded")
