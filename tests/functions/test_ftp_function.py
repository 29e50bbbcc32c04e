"""`ftp` against a real FTP server on 127.0.0.1: downloads, verification, settings from the
environment, failures as error results, and no descriptor left open on any path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.descriptors import Call, descriptors_changed
from support.function_servers import FtpServer
from support.servers import free_port

from functions import ftp
from functions._params import FunctionError, ParamError
from functions._registry import load
from functions._runtime import invoke

ROOT = Path(__file__).resolve().parents[2]


def test_downloads_and_verifies_the_seeded_file(ftp_server: FtpServer) -> None:
    result = ftp.main(ftp_server.params())
    assert result["bytes"] == len(ftp_server.content)
    assert result["sha256"] == hashlib.sha256(ftp_server.content).hexdigest()
    assert result["verified_bytes"] is True
    assert result["verified_sha256"] is True
    assert result["file"] == "testfile.bin"
    assert result["connect_ms"] > 0
    assert result["transfer_ms"] > 0


def test_without_expectations_it_reports_what_it_downloaded(ftp_server: FtpServer) -> None:
    result = ftp.main(ftp_server.params(expected_bytes=None, expected_sha256=None))
    assert result["bytes"] == len(ftp_server.content)
    assert result["verified_bytes"] is False
    assert result["verified_sha256"] is False


def test_settings_come_from_the_environment_and_params_override_them(
    ftp_server: FtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ftp_server.params().items():
        monkeypatch.setenv(ftp.ENVIRONMENT[name], str(value))
    assert ftp.main({})["bytes"] == len(ftp_server.content)
    monkeypatch.setenv("FTP_PASSWORD", "wrong")
    with pytest.raises(FunctionError, match="login"):
        ftp.main({})
    assert ftp.main({"password": ftp_server.password})["verified_sha256"] is True


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"expected_bytes": 1024}, r"has 1052675 bytes, expected 1024"),
        ({"expected_sha256": "0" * 64}, r"has sha256 [0-9a-f]{64}, expected 0{64}"),
        ({"password": "wrong"}, r"ftp login at 127\.0\.0\.1:\d+ failed: 530"),
        ({"file": "missing.bin"}, r"ftp download of 'missing.bin' at .* failed: 550"),
    ],
)
def test_failures_are_500_results_with_meta(
    ftp_server: FtpServer, override: dict[str, object], message: str
) -> None:
    with pytest.raises(FunctionError, match=message):
        ftp.main(ftp_server.params(**override))
    outcome = invoke("ftp", load("ftp"), ftp_server.params(**override), "direct")
    assert outcome.status == 500
    assert outcome.document["meta"]["function"] == "ftp"


def test_an_unreachable_server_is_a_failure() -> None:
    params = {"host": "127.0.0.1", "port": free_port(), "file": "x", "timeout_s": 2}
    with pytest.raises(FunctionError, match=r"ftp connect at 127\.0\.0\.1:\d+ failed"):
        ftp.main(params)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"file": "x"}, "missing parameter 'host' or environment variable FTP_HOST"),
        ({"host": "h"}, "missing parameter 'file' or environment variable FTP_TEST_FILE"),
        ({"host": "h", "file": "x", "port": 0}, "port must be between 1 and 65535"),
        ({"host": "h", "file": "x\r\nDELE y"}, "file must not contain control characters"),
        ({"host": "h", "file": "x", "expected_sha256": "abc"}, "64 hexadecimal digits"),
        ({"host": "h", "file": "x", "expected_bytes": "many"}, "expected_bytes must be"),
    ],
)
def test_bad_settings_are_param_errors(
    params: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env in ftp.ENVIRONMENT.values():
        monkeypatch.delenv(env, raising=False)
    with pytest.raises(ParamError, match=message):
        ftp.main(params)


def test_no_descriptor_or_socket_is_left_open(ftp_server: FtpServer) -> None:
    good = ftp_server.params()
    bad_cases = [
        {"expected_sha256": "0" * 64},
        {"password": "wrong"},
        {"file": "missing.bin"},
        {"port": free_port()},
    ]
    calls = [
        Call(good, returns={"verified_sha256": True}),
        *(Call({**good, "timeout_s": 5, **case}, raises="") for case in bad_cases),
    ]
    assert descriptors_changed("ftp", calls) == []
