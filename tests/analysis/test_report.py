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
from loadgen.cli import app
from loadgen.report.build import build_report, figures_dir
from loadgen.report.figures import FIGURES
from loadgen.report.html import REDACTED, redact
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


def test_every_figure_is_embedded_and_captioned(report: Path) -> None:
    page = _Page()
    page.feed(report.read_text())
    assert len(page.images) == len(FIGURES)
    assert page.captions == len(FIGURES)
    assert len(set(page.figure_ids)) == len(FIGURES)
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
    """No campaign sweeps replicas; a campaign without platform records has no breakdown."""
    text = report.read_text()
    assert "No data: no cell swept replicas." in text
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
    assert "No data: no platform records for cold starts." in (tmp_path / "bare.html").read_text()


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
    outcome = CliRunner().invoke(app, ["report", str(campaign), "-o", str(tmp_path / "no" / "x")])
    assert outcome.exit_code == 2
    assert "directory does not exist" in outcome.output


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
    outcome = CliRunner().invoke(app, ["report", str(campaign), "-o", str(tmp_path / "r.html")])
    assert outcome.exit_code == 0, outcome.output
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
