"""`loadgen estimate`: a campaign's duration from its cells, and its machines' cost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from support.cli import run_loadgen

from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.cells import expand
from loadgen.experiments.estimate import Assumptions, estimate

SMALL = {
    "name": "small",
    "number_of_runs": 2,
    "delay_between_runs_s": 10,
    "functions": {"echo": {}},
    "experiments": [
        {"name": "users", "kind": "users", "functions": ["echo"], "users": [1, 2],
         "requests": 10},
        {"name": "open", "kind": "rates", "functions": ["echo"], "rates": [5], "duration_s": 4},
        {"name": "forced", "kind": "cold", "functions": ["echo"], "method": "forced", "count": 2},
        {"name": "natural", "kind": "cold", "functions": ["echo"], "method": "natural",
         "chunks": 1, "inactivity_s": 20},
    ],
}  # fmt: skip
# By hand, with the defaults (30 s per cell to deploy, 0.1 s per request in a counted closed
# loop, 30 s per forced cold start), per run:
#   users 1: 30 + 10 / 1 x 0.1 = 31;  users 2: 30 + 10 / 2 x 0.1 = 30.5;  open: 30 + 4 = 34;
#   forced: 30 + 2 x (30 + 0.1) = 90.2;  natural: 30 + 20 + 0.1 = 50.1   -> 235.8
# two runs and one 10 s delay between them: 2 x 235.8 + 10 = 481.6 s.
SMALL_SECONDS = 481.6


def loadgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_loadgen(*args, cwd=cwd, timeout=60)


def write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_small_campaign_takes_what_its_cells_add_up_to(tmp_path: Path) -> None:
    path = write(tmp_path, "small.yaml", SMALL)
    config = load_experiment(path)
    result = estimate(config, expand(config, tmp_path), Assumptions())
    assert result.cells == 10
    assert result.total_s == pytest.approx(SMALL_SECONDS)
    assert result.by_experiment["forced"] == pytest.approx(2 * 90.2)

    done = loadgen("estimate", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "about 8 min 02 s (482 s) for 10 cells in 2 run(s) (an estimate)" in done.stdout
    assert "a forced cold start costs 30 s (unknown until measured)" in done.stdout


def test_assumptions_can_be_changed(tmp_path: Path) -> None:
    path = write(tmp_path, "small.yaml", SMALL)
    done = loadgen(
        "estimate", str(path), "--deploy", "0", "--cold-cost", "0", "--latency", "1s",
        cwd=tmp_path,
    )  # fmt: skip
    # per run: 10 + 5 + 4 + 2 x 1 + 20 + 1 = 42; 2 x 42 + 10 = 94
    assert "(94 s)" in done.stdout


def test_with_a_stack_config_the_machines_and_their_cost_are_shown(tmp_path: Path) -> None:
    path = write(tmp_path, "small.yaml", SMALL)
    stack = write(
        tmp_path,
        "Pulumi.aws.yaml",
        {"config": {"aws:region": "us-east-1", "faasbench:cloud": "aws",
                    "faasbench:workerCount": 3}},
    )  # fmt: skip
    done = loadgen("estimate", str(path), "--stack-config", str(stack), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 x worker   t3a.large" in done.stdout
    # 3 x t3a.medium (bastion, haproxy, ftp) + 4 x t3a.large (manager, workers)
    hourly = 3 * 0.0376 + 4 * 0.0752
    assert f"about ${hourly:.4f}/h, ${hourly * SMALL_SECONDS / 3600:.2f}" in done.stdout
    assert "prices of 2026-12-03" in done.stdout


def test_the_loader_pool_is_counted_when_the_stack_has_one(tmp_path: Path) -> None:
    path = write(tmp_path, "small.yaml", SMALL)
    config = {"aws:region": "us-east-1", "faasbench:cloud": "aws", "faasbench:loaderCount": 2}
    stack = write(tmp_path, "Pulumi.aws.yaml", {"config": config})
    done = loadgen("estimate", str(path), "--stack-config", str(stack), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 x loader   t3a.large" in done.stdout
    # 3 x t3a.medium (bastion, haproxy, ftp) + 5 x t3a.large (manager, 2 workers, 2 loaders)
    hourly = 3 * 0.0376 + 5 * 0.0752
    assert f"about ${hourly:.4f}/h" in done.stdout
    config["faasbench:loaderCount"] = 0
    stack = write(tmp_path, "Pulumi.aws.yaml", {"config": config})
    done = loadgen("estimate", str(path), "--stack-config", str(stack), cwd=tmp_path)
    assert " x loader " not in done.stdout


def test_openstack_needs_a_given_price(tmp_path: Path) -> None:
    path = write(tmp_path, "small.yaml", SMALL)
    stack = write(
        tmp_path,
        "Pulumi.os.yaml",
        {"config": {"faasbench:cloud": "openstack", "faasbench:openstackFlavor": "m1.large"}},
    )
    without = loadgen("estimate", str(path), "--stack-config", str(stack), cwd=tmp_path)
    assert "OpenStack has no public price" in without.stdout
    assert "no price for m1.large" in without.stdout
    given = loadgen(
        "estimate", str(path), "--stack-config", str(stack), "--price", "m1.large=0.1",
        cwd=tmp_path,
    )  # fmt: skip
    assert "about $0.6000/h" in given.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.yaml",), "missing.yaml"),
        (("bad.yaml",), "experiments.0.users"),
        (("small.yaml", "--latency", "soon"), "'--latency'"),
        (("small.yaml", "--price", "m1.large"), "'--price'"),
        (("small.yaml", "--stack-config", "stack.yaml"), "faasbench:workerCount"),
    ],
)
def test_a_bad_file_or_field_exits_2_naming_it(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    write(tmp_path, "small.yaml", SMALL)
    bad = {**SMALL, "experiments": [{**SMALL["experiments"][0], "users": "many"}]}  # type: ignore[dict-item]
    write(tmp_path, "bad.yaml", bad)
    write(tmp_path, "stack.yaml", {"config": {"faasbench:cloud": "aws",
                                              "faasbench:workerCount": 0}})  # fmt: skip
    done = loadgen("estimate", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
