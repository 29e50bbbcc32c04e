"""`compare` against scipy and the definitions of Holm's method and Cliff's delta."""

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats
from support.synthetic_results import CampaignSpec, grid, write_campaign
from typer.testing import CliRunner

from loadgen.analysis.aggregate import Aggregate, Settings, aggregate
from loadgen.analysis.compare import METRICS, compare, run_values
from loadgen.analysis.compare_files import latex_escape, verdict_table, write_comparison
from loadgen.analysis.stats import holm, median_interval
from loadgen.cli import app
from loadgen.results import open_results

FAST = Settings()


def _campaign(root: Path, name: str, p50: float, seed: int, **extra: object) -> Aggregate:
    cells = grid(
        functions=("image_resize",),
        users=(1, 10),
        runs=8,
        requests=60,
        p50_ms=p50,
        p99_ms=4 * p50,
        run_cv=0.05,
        seed=seed,
    )
    spec = CampaignSpec(name=name, cells=cells, **extra)
    return aggregate(open_results(write_campaign(root / name, spec)), FAST)


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Aggregate]:
    root = tmp_path_factory.mktemp("compare")
    return {
        "fast": _campaign(root, "fast", 20.0, 1),
        "slow": _campaign(root, "slow", 40.0, 2, gateway="9.9.9", instance_types={"worker": "big"}),
        "same": _campaign(root, "same", 20.0, 3),
    }


def test_tests_match_scipy_and_holm(campaigns: dict[str, Aggregate]) -> None:
    result = compare([campaigns["fast"], campaigns["slow"], campaigns["same"]])
    assert len(result.tests) == 2 * 2 * len(METRICS)  # campaigns × sweep points × metrics
    for test in result.tests:
        # Continuous run values, no ties: scipy's exact test is the reference.
        reference = scipy_stats.mannwhitneyu(test.values, test.baseline_values, method="exact")
        assert test.u == reference.statistic
        assert test.p_value == pytest.approx(reference.pvalue)
        assert test.median == np.median(test.values)
        assert test.ci == median_interval(test.values, 0.95)
        assert test.baseline_ci == median_interval(test.baseline_values, 0.95)
        assert test.ci is not None
        assert test.ci[0] <= test.median <= test.ci[1]
    assert [t.p_holm for t in result.tests] == pytest.approx(
        holm([t.p_value for t in result.tests]).tolist()
    )


def test_run_values_are_each_runs_statistic(campaigns: dict[str, Aggregate]) -> None:
    spec = METRICS[1]  # p99
    values = run_values(campaigns["fast"], spec)
    key = ("image_resize", "closed", "users", 10.0, None, "sync", "python", 256, None)
    expected = [
        row["value"]
        for row in sorted(campaigns["fast"].rows, key=lambda r: r["run"] or 0)
        if row["level"] == "cell"
        and row["sweep_value"] == 10.0
        and row["subset"] == "all"
        and row["metric"] == "latency_ms"
        and row["stat"] == "p99"
    ]
    assert values[key] == expected
    assert len(expected) == 8


def test_verdicts(campaigns: dict[str, Aggregate]) -> None:
    slower = compare([campaigns["fast"], campaigns["slow"]])
    by_metric = {(t.metric, t.key[3]): t for t in slower.tests}
    assert by_metric[("p50", 1.0)].verdict == "-"
    assert by_metric[("p50", 1.0)].delta == 1.0  # every slow run above every fast run
    assert by_metric[("p99", 10.0)].verdict == "-"
    assert by_metric[("throughput", 1.0)].verdict == "-"
    faster = compare([campaigns["slow"], campaigns["fast"]])
    assert {t.verdict for t in faster.tests if t.metric == "p50"} == {"+"}
    assert {t.delta for t in faster.tests if t.metric == "p50"} == {-1.0}
    same = compare([campaigns["fast"], campaigns["same"]])
    assert {t.verdict for t in same.tests if t.metric == "p50"} == {"o"}


def test_manifest_differences_are_warned(campaigns: dict[str, Aggregate]) -> None:
    warnings = compare([campaigns["fast"], campaigns["slow"]]).warnings
    assert any("gateway version" in w and "9.9.9" in w for w in warnings)
    assert any("instance types" in w for w in warnings)
    assert not any("provider version" in w for w in warnings)
    assert compare([campaigns["fast"], campaigns["same"]]).warnings == []


def test_outputs(campaigns: dict[str, Aggregate], tmp_path: Path) -> None:
    result = compare([campaigns["fast"], campaigns["slow"]])
    tests_csv, table_csv, tex, document = write_comparison(result, tmp_path)
    rows = list(csv.DictReader(tests_csv.open()))
    assert len(rows) == len(result.tests)
    assert {r["magnitude"] for r in rows if r["metric"] == "p50"} == {"large"}
    assert {r["subset"] for r in rows} == {"all"}  # no cold starts: nothing to split
    table = list(csv.reader(table_csv.open()))
    header = ["function", "mode", "sweep", "requests", "slow p50", "slow p99", "slow throughput"]
    assert table[0] == header
    assert table[1] == ["image_resize", "closed", "users=1", "all", "-", "-", "-"]
    latex = tex.read_text()
    assert "image\\_resize" in latex
    assert "\\begin{tabular}{llllccc}" in latex
    assert latex.count("\\\\") == 3  # header and two sweep points
    assert json.loads(document.read_text())["baseline"] == "fast"


def test_latex_escape() -> None:
    assert latex_escape("a_b & 50% #1 {x} $y ~^\\") == (
        "a\\_b \\& 50\\% \\#1 \\{x\\} \\$y \\textasciitilde{}\\textasciicircum{}\\textbackslash{}"
    )


def test_too_few_runs_are_not_tested(tmp_path: Path) -> None:
    one = [
        aggregate(
            open_results(
                write_campaign(tmp_path / n, CampaignSpec(name=n, cells=grid(runs=1, users=(1,))))
            ),
            FAST,
        )
        for n in ("a", "b")
    ]
    result = compare(one)
    assert result.tests == []
    assert any("1 vs 1 run(s); not tested" in w for w in result.warnings)


def test_warns_when_significance_is_out_of_reach(tmp_path: Path) -> None:
    """3 vs 3 runs: the exact two-sided p-value is at least 2/20 = 0.1 > 0.05."""
    few = [
        aggregate(
            open_results(
                write_campaign(
                    tmp_path / n,
                    CampaignSpec(name=n, cells=grid(runs=3, users=(1,), p50_ms=p50, seed=s)),
                )
            ),
            FAST,
        )
        for n, p50, s in (("a", 10.0, 1), ("b", 50.0, 2))
    ]
    result = compare(few)
    assert {t.verdict for t in result.tests} == {"o"}
    assert any("smallest two-sided p-value is 0.1" in w for w in result.warnings)


def _keep(result: Aggregate, users: float, runs: int, p50: float | None = None) -> Aggregate:
    """The same campaign with only the first `runs` runs at one sweep point (and, if given,
    every one of their p50s set to one value: tied runs)."""
    rows = []
    for row in result.rows:
        if row["level"] == "cell" and row["sweep_value"] == users:
            if _run(row) >= runs:
                continue
            if p50 is not None and (row["metric"], row["stat"]) == ("latency_ms", "p50"):
                row = {**row, "value": p50}
        rows.append(row)
    return dataclasses.replace(result, rows=rows)


def _run(row: dict[str, object]) -> int:
    run = row["run"]
    assert isinstance(run, int)
    return run


def test_tied_runs_get_the_exact_p_value_not_one_below_the_attainable(
    campaigns: dict[str, Aggregate],
) -> None:
    """The issue's case: 3 runs against 3, each side's p50s tied. Exactly 2 of the 20 splits
    are as extreme, p = 0.1; scipy's default said 0.0469."""
    tied = compare(
        [_keep(campaigns["fast"], 1.0, 3, p50=10.0), _keep(campaigns["slow"], 1.0, 3, p50=20.0)],
        metrics=[METRICS[0]],
    )
    test = next(t for t in tied.tests if t.key[3] == 1.0)
    assert test.values == (20.0, 20.0, 20.0)
    assert scipy_stats.mannwhitneyu(test.values, test.baseline_values).pvalue < 0.05
    assert test.p_value == pytest.approx(0.1)
    assert test.verdict == "o"
    assert test.ci is None  # 3 runs: too few for a 95% interval
    assert test.baseline_ci is None


def test_a_test_that_can_never_be_significant_is_named(campaigns: dict[str, Aggregate]) -> None:
    """8 vs 8 runs at users=1 can be significant; 2 vs 2 at users=10 cannot (p ≥ 1/3)."""
    result = compare(
        [_keep(campaigns["fast"], 10.0, 2), _keep(campaigns["slow"], 10.0, 2)],
        metrics=[METRICS[0]],
    )
    assert len(result.tests) == 2
    warned = [w for w in result.warnings if "cannot be significant" in w]
    assert warned == [
        "image_resize closed users=10 p50: with 2 vs 2 runs the smallest two-sided p-value "
        "these values allow is 0.33: this test cannot be significant at 0.05"
    ]
    assert not any("no difference can be significant" in w for w in result.warnings)


def test_cli(campaigns: dict[str, Aggregate], tmp_path: Path) -> None:
    roots = [str(campaigns[name].tree.root) for name in ("fast", "slow")]
    out = tmp_path / "new" / "cmp"
    outcome = CliRunner().invoke(app, ["compare", *roots, "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert (out / "verdicts.tex").is_file()
    assert "image_resize" in outcome.stdout
    outcome = CliRunner().invoke(app, ["compare", roots[0]])
    assert outcome.exit_code == 2
    assert "at least two" in outcome.output
    outcome = CliRunner().invoke(app, ["compare", roots[0], roots[0]])
    assert outcome.exit_code == 2
    assert "campaign names must differ" in outcome.output
    outcome = CliRunner().invoke(app, ["compare", roots[0], str(tmp_path / "missing")])
    assert outcome.exit_code == 2
    assert "missing: not a directory" in outcome.output


def _cold_campaign(root: Path, name: str, cold_starts: int, seed: int) -> Aggregate:
    """Warm requests alike in every campaign; cold ones 10× slower, `cold_starts` per run."""
    cells = grid(
        functions=("echo",),
        users=(1,),
        runs=6,
        requests=40,
        run_cv=0.05,
        seed=seed,
        cold_starts=cold_starts,
        cold_factor=10.0,
    )
    spec = CampaignSpec(name=name, cells=cells)
    return aggregate(open_results(write_campaign(root / name, spec)), FAST)


def test_warm_and_cold_are_compared_apart(tmp_path: Path) -> None:
    """A platform with more cold starts has a slower pooled p50, but its warm requests are as
    fast as the baseline's and so are its cold ones: compared apart, nothing differs."""
    few = _cold_campaign(tmp_path, "few", 1, 1)
    many = _cold_campaign(tmp_path, "many", 16, 2)
    key = ("echo", "closed", "users", 1.0, None, "sync", "python", 256, None)
    p50 = METRICS[0]
    pooled = scipy_stats.mannwhitneyu(run_values(many, p50)[key], run_values(few, p50)[key])
    assert pooled.pvalue < 0.05  # pooled, `many` would look slower
    result = compare([few, many])
    tests = {(t.metric, t.subset): t for t in result.tests}
    assert set(tests) == {("p50", "warm"), ("p50", "cold"), ("p99", "warm"), ("throughput", "all")}
    assert tests[("p50", "warm")].values == tuple(run_values(many, p50, "warm")[key])
    assert tests[("p50", "cold")].baseline_values == tuple(run_values(few, p50, "cold")[key])
    assert tests[("p50", "warm")].verdict == "o"
    assert tests[("p50", "cold")].verdict == "o"
    header, body = verdict_table(result)
    assert header[:4] == ["function", "mode", "sweep", "requests"]
    assert [row[3] for row in body] == ["all", "warm", "cold"]
    assert body[2] == ["echo", "closed", "users=1", "cold", "o", "", ""]
