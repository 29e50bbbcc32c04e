"""What a reader sees in the figures: data where the records have it, short legends, plain
tick labels, a unit on every axis, errors by class or a sentence saying there were none."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from support.figure_svg import read_svg
from support.synthetic_results import CampaignSpec, CellSpec, write_campaign

from loadgen.analysis.aggregate import Aggregate, Settings, aggregate
from loadgen.report.figures import all_figures
from loadgen.report.figures.common import plain_number
from loadgen.report.figures.errors import error_rates
from loadgen.report.figures.resources import (
    SHOWN_SERIES,
    resource_panel,
    resource_usage,
    short_label,
)
from loadgen.report.figures.timeline import bin_width_s, binned_percentiles, latency_over_time
from loadgen.report.html_format import significant
from loadgen.results import open_results

FAST = Settings()
PLAIN = re.compile(r"^−?\d{1,3}(,\d{3})*(\.\d+)?$")
"""A tick label in plain decimals (matplotlib writes a minus as U+2212)."""


@pytest.fixture(scope="module")
def results(campaign: Path, second: Path) -> list[Aggregate]:
    return [aggregate(open_results(root), FAST, keep_requests=True) for root in (campaign, second)]


def test_each_figure_has_data_where_the_records_do(results: list[Aggregate]) -> None:
    figures = {f.id: f for f in all_figures(results)}
    # Nothing swept replicas or memory, no cell enqueued jobs, no cell called asynchronously.
    empty = {i for i, f in figures.items() if f.empty}
    assert empty == {"box-replicas", "queue-time", "completions", "latency-memory", "cost-memory"}
    # The fixture's grid has 5% errors: drawn by class, not the no-error sentence.
    assert not figures["error-rates"].caption.startswith("0 errors")


def test_tick_labels_are_plain_numbers_and_legends_short(results: list[Aggregate]) -> None:
    for figure in all_figures(results):
        if figure.empty:
            continue
        svg = read_svg(figure.svg)
        assert svg.ticks, figure.id
        for tick in svg.ticks:
            assert not re.search(r"\d[eE][-+]?\d|×|\^", tick), (figure.id, tick)
            if not re.search(r"[A-Za-z]", tick):  # a number, not a group's name
                assert PLAIN.match(tick), (figure.id, tick)
        assert not any("mathdefault" in t or "10^" in t for t in svg.texts), figure.id
        for legend in svg.legends:
            assert len(legend.labels) <= SHOWN_SERIES + 1, (figure.id, legend.labels)
            assert all(len(label) <= 30 for label in legend.labels), (figure.id, legend.labels)
            assert legend.width < 0.4 * svg.width, (figure.id, legend.width, svg.width)


def test_every_axis_names_its_unit(results: list[Aggregate]) -> None:
    units = ("(ms", "/s)", "(closed-loop)", "(cores)", "(MiB)", "replicas", "seconds", "%")
    for figure in all_figures(results):
        if figure.empty:
            continue
        texts = read_svg(figure.svg).texts
        labels = [t for t in texts if t.startswith(("latency", "throughput", "rate", "users"))]
        for label in labels:
            if label.startswith(("latency (", "throughput (", "rate (", "users (")):
                assert any(u in label for u in units), (figure.id, label)
        assert not any(t in {"rate", "bytes", "count", "users"} for t in texts), figure.id


def test_plain_number_and_significant_digits() -> None:
    assert [plain_number(v) for v in (0, 0.5, 2, 30, 1500, 0.0001)] == [
        "0",
        "0.5",
        "2",
        "30",
        "1,500",
        "0.0001",
    ]
    assert [significant(v) for v in (12.0, 0.45, 3.14159, 1234.56, 99.96, 0.000012)] == [
        "12.0",
        "0.450",
        "3.14",
        "1,235",
        "100",
        "1.20e-05",
    ]
    assert significant(5.234, 2) == "5.2"


def test_latency_timeline_bins_per_second_or_finer() -> None:
    assert bin_width_s(2.4) == 0.05  # a short cell: about 60 bins
    assert bin_width_s(30.0) == 0.5
    assert bin_width_s(120.0) == 1.0
    assert bin_width_s(600.0) == 1.0
    assert bin_width_s(3600.0) == 10.0  # at most 600 bins
    t = np.array([0.1, 0.2, 0.3, 1.5, 1.6])
    latency = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    centre, count, _, p50, _ = binned_percentiles(t, latency, 1.0)
    assert centre.tolist() == [0.5, 1.5]
    assert count.tolist() == [3, 2]
    assert p50.tolist() == [2.0, 15.0]


def test_latency_timeline_shows_the_busiest_cell_binned(results: list[Aggregate]) -> None:
    figure = latency_over_time(results)
    assert "cell with the most requests" in figure.caption
    texts = read_svg(figure.svg).texts
    titles = [t for t in texts if "requests," in t and "bins)" in t]
    # k8s' busiest cell is its 300-request open loop; nomad's a 100-request grid cell.
    assert any("open" in t and "300 requests" in t for t in titles), titles
    legend = read_svg(figure.svg).legends[0].labels
    assert "p50" in legend
    assert any(label.startswith("p5–p95") for label in legend)


def test_no_errors_is_a_sentence_not_an_empty_plot(tmp_path: Path) -> None:
    root = write_campaign(
        tmp_path / "clean",
        CampaignSpec(name="clean", cells=(CellSpec(requests=120), CellSpec(requests=80, run=1))),
    )
    figure = error_rates([aggregate(open_results(root), FAST, keep_requests=True)])
    assert not figure.empty
    assert figure.caption.startswith("0 errors in 200 requests")
    assert read_svg(figure.svg).ticks == []  # no axes at all


def test_errors_are_drawn_by_class(tmp_path: Path) -> None:
    root = write_campaign(
        tmp_path / "failing",
        CampaignSpec(name="failing", cells=(CellSpec(requests=400, error_rate=0.2, seed=4),)),
    )
    result = aggregate(open_results(root), FAST, keep_requests=True)
    errors = sum(int((~q.ok).sum()) for q in result.requests.values())
    figure = error_rates([result])
    svg = read_svg(figure.svg)
    assert f"failing: {errors:,} errors in 400 requests" in svg.texts
    # The legend's title, then each class the records hold (the synthetic cell times some out).
    assert svg.legends[0].labels == ["error class", "http_500", "timeout"]


def _pod_series(pods: int) -> list[dict[str, object]]:
    labels = {
        "__name__": "container_memory_working_set_bytes",
        "container": "fn",
        "instance": "10.0.0.1:10250",
        "job": "kubelet",
        "namespace": "openfaas-fn",
    }
    return [
        {
            "name": "memory",
            "unit": "bytes",
            "labels": {**labels, "pod": f"fn-5d8f7c9b6d-{i:05d}"},
            "points": [[1000.0 + t, float((i + 1) * 2**20 + t)] for t in range(5)],
        }
        for i in range(pods)
    ]


def test_resource_legends_are_short_top_peaks_and_the_rest_summed(tmp_path: Path) -> None:
    root = write_campaign(tmp_path / "pods", CampaignSpec(name="pods", cells=(CellSpec(),)))
    (metrics,) = (root / "cells").glob("*/metrics.json")
    metrics.write_text(json.dumps({"series": _pod_series(20)}))
    figure = resource_usage([aggregate(open_results(root), FAST, keep_requests=True)])
    svg = read_svg(figure.svg)
    (legend,) = svg.legends
    assert legend.labels == [f"fn-5d8f7c9b6d-{i:05d}" for i in range(19, 11, -1)] + [
        "other (12 summed)"
    ]
    assert "memory (MiB)" in svg.texts
    # MiB, not bytes: the largest value is 20 MiB plus a few bytes.
    assert max(float(t.replace(",", "")) for t in svg.ticks if "." not in t) < 1000
    assert legend.width < 0.4 * svg.width


def test_resource_panel_sums_the_rest_per_instant() -> None:
    series = [(f"s{i}", np.array([[0.0, float(i)], [1.0, float(i) + 1]])) for i in range(1, 12)]
    drawn = resource_panel(series, limit=8)
    assert [name for name, _ in drawn[:8]] == [f"s{i}" for i in range(11, 3, -1)]
    name, other = drawn[-1]
    assert name == "other (3 summed)"
    assert other.tolist() == [[0.0, 6.0], [1.0, 9.0]]
    assert len(resource_panel(series[:9], limit=8)) == 9  # one more is drawn, not summed


def test_short_label_prefers_pod_then_container_then_node() -> None:
    assert short_label({"pod": "echo-1", "node": "n1", "job": "x"}, "cpu 1") == "echo-1"
    assert short_label({"node": "worker-1", "instance": "10.0.0.1:9100"}, "cpu 1") == "worker-1"
    assert short_label({"alloc_id": "0123456789abcdef"}, "cpu 1") == "01234567"
    assert short_label({"job": "gateway"}, "replicas") == "replicas"
    assert len(short_label({"pod": "x" * 60}, "")) == 24
