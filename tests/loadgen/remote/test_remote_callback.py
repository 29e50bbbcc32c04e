"""`run --remote` with asynchronous cells: the remote `loadgen run` listens for OpenFaaS's
results on the loader where the cluster reaches it (the stack's `callback` output, or the
user's `--callback`/`--callback-url`), and a campaign with no reachable callback is refused
before any SSH."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.sample_outputs import outputs_for
from typer.testing import CliRunner

from contract.outputs import CALLBACK_PORT, StackOutputs
from loadgen.cli import app
from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.config import ExperimentConfig
from loadgen.remote.callback import RemoteCallbackError, remote_callback_args
from loadgen.remote.campaign import RemoteOptions, remote_run_args

runner = CliRunner()

STACK: dict[str, Any] = {
    "cloud": "aws",
    "orchestrator": "k8s",
    "framework": "openfaas",
    "bastion": {"host": "203.0.113.7", "user": "ubuntu"},
    "loader": {"host": "203.0.113.7", "user": "ubuntu"},
    "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n",
    "gateway_url": "http://10.0.2.9:8080",
}
CALLBACK = {"callback": {"host": "10.0.1.5", "port": CALLBACK_PORT}}


def experiment(tmp_path: Path, invocation: str) -> Path:
    document = {
        "name": "remote-async",
        "functions": {"echo": {}},
        "experiments": [
            {"name": "sync", "kind": "rates", "functions": ["echo"], "rates": [5],
             "duration_s": 2},
            {"name": "calls", "kind": "rates", "functions": ["echo"], "rates": [5],
             "duration_s": 2, "invocation": invocation},
        ],
    }  # fmt: skip
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def config(tmp_path: Path, invocation: str = "async") -> ExperimentConfig:
    return load_experiment(experiment(tmp_path, invocation))


def outputs(**extra: Any) -> StackOutputs:
    return StackOutputs.model_validate({**STACK, **extra})


def test_the_remote_run_listens_where_the_stack_opens_its_callback_port(tmp_path: Path) -> None:
    args = remote_callback_args(config(tmp_path), outputs(**CALLBACK), None, None)
    assert args == [
        "--callback", f"0.0.0.0:{CALLBACK_PORT}",
        "--callback-url", f"http://10.0.1.5:{CALLBACK_PORT}/callback",
    ]  # fmt: skip
    line = remote_run_args(
        "~/faasbench/campaigns/remote-async",
        resume=False,
        image=None,
        options=RemoteOptions(callback=tuple(args)),
    )
    assert line[:5] == [
        "experiment.yaml", "--stack-outputs", "outputs.json",
        "--results", "~/faasbench/campaigns/remote-async/results",
    ]  # fmt: skip
    assert line[-4:] == args


def test_the_users_own_callback_wins(tmp_path: Path) -> None:
    url = "http://10.0.1.5:9000/callback"
    args = remote_callback_args(config(tmp_path), outputs(**CALLBACK), None, url)
    assert args == ["--callback", "0.0.0.0:9000", "--callback-url", url]
    args = remote_callback_args(config(tmp_path), outputs(**CALLBACK), "0.0.0.0:9001", None)
    assert args == ["--callback", "0.0.0.0:9001", "--callback-url", "http://10.0.1.5:9001/callback"]
    # A stack made before `callback` existed: the user's URL is enough.
    assert remote_callback_args(config(tmp_path), outputs(), None, url)[-1] == url


def test_nothing_to_listen_for_without_calls_called_back(tmp_path: Path) -> None:
    assert remote_callback_args(config(tmp_path, "sync"), outputs(**CALLBACK), None, None) == []
    openwhisk = outputs(framework="openwhisk")  # completions listed, not called back
    assert remote_callback_args(config(tmp_path), openwhisk, None, None) == []
    assert remote_run_args("c", resume=True, image="img", options=RemoteOptions())[-3:] == [
        "--resume", "--image", "img",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("listen", "url", "message"),
    [
        (None, None, "experiments.1.invocation: async on --remote: the stack exports no callback"),
        (None, "http://127.0.0.1:8099/callback", "--callback-url http://127.0.0.1:8099/callback"),
        ("127.0.0.1:8099", None, "--callback 127.0.0.1:8099"),
        (
            "0.0.0.0:0",
            None,
            "--callback 0.0.0.0:0: experiments.1.invocation: async on --remote needs a fixed port",
        ),
        ("nonsense", None, "--callback: 'nonsense' is not HOST:PORT"),
        (None, "ftp://10.0.1.5/", "--callback-url: 'ftp://10.0.1.5/' is not an absolute"),
    ],
)
def test_an_unreachable_callback_is_refused(
    tmp_path: Path, listen: str | None, url: str | None, message: str
) -> None:
    with pytest.raises(RemoteCallbackError, match="^" + _escaped(message)):
        remote_callback_args(config(tmp_path), outputs(), listen, url)


def test_run_remote_refuses_it_before_any_ssh(tmp_path: Path) -> None:
    stack = tmp_path / "outputs.json"
    stack.write_text(json.dumps({**outputs_for("openfaas", "k8s"), **STACK}))
    path = experiment(tmp_path, "async")
    result = runner.invoke(
        app,
        ["run", str(path), "--stack-outputs", str(stack), "--remote",
         "--results", str(tmp_path / "results")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "experiments.1.invocation: async on --remote: the stack exports no callback" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "results" / ".known_hosts").exists()


def _escaped(text: str) -> str:
    import re

    return re.escape(text)
