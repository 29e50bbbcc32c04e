"""`--loaders` values: what parses, and what is refused with a one-line reason (exit 2)."""

import subprocess
import sys

import pytest

from loadgen.loaders.spec import MAX_LOCAL_LOADERS, LoadersSpecError, parse_loaders


@pytest.mark.parametrize(
    ("value", "kind", "workers", "address"),
    [
        ("local:2", "local", 2, None),
        (f"local:{MAX_LOCAL_LOADERS}", "local", MAX_LOCAL_LOADERS, None),
        ("stack", "stack", None, None),
        ("tls://10.0.0.5:8786", "address", None, "tls://10.0.0.5:8786"),
        ("tcp://scheduler.example:8786", "address", None, "tcp://scheduler.example:8786"),
        ("tls://[fd00::1]:8786", "address", None, "tls://[fd00::1]:8786"),
    ],
)
def test_good_values_parse(value: str, kind: str, workers: int | None, address: str | None) -> None:
    spec = parse_loaders(value)
    assert (spec.kind, spec.workers, spec.address) == (kind, workers, address)
    assert spec.text == value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("local", "expected local:N"),
        ("local:", "expected local:N"),
        ("local:two", "expected local:N"),
        ("local:-1", "expected local:N"),
        ("local:0", "must be 1 to"),
        (f"local:{MAX_LOCAL_LOADERS + 1}", "must be 1 to"),
        ("tls://host", "expected a scheduler address"),
        ("tls://:8786", "expected a scheduler address"),
        ("http://host:8786", "not a Dask scheduler protocol"),
        ("tcp://host:70000", "port 70000"),
        ("kubernetes", "expected local:N, stack or a scheduler address"),
        ("", "expected local:N, stack or a scheduler address"),
    ],
)
def test_bad_values_say_why(value: str, says: str) -> None:
    with pytest.raises(LoadersSpecError, match=says):
        parse_loaders(value)


def _hit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadgen", "hit", "http://127.0.0.1:9/", "-n", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["--loaders", "local:0"], "--loaders", "must be 1 to"),
        (["--loaders", "nowhere"], "--loaders", "expected local:N"),
        (["--loaders", "local:2", "--loaders-ca", "ca.pem"], "--loaders-ca", "tls://"),
        (
            ["--loaders", "tls://127.0.0.1:8786", "--loaders-cert", "c.pem"],
            "--loaders-ca",
            "needs both",
        ),
        (["--stack-outputs", "outputs.json"], "--stack-outputs", "--loaders stack"),
    ],
)
def test_the_cli_refuses_bad_loader_options_with_exit_2(
    args: list[str], option: str, says: str
) -> None:
    done = _hit(*args)
    assert done.returncode == 2, done.stderr
    assert option in done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
