"""Where a campaign run on the loader (`run --remote`) receives asynchronous calls' results.

OpenFaaS's queue workers run in the cluster and POST each result to the call's callback URL, so
the remote campaign's receiver must listen on an address of the loader the cluster reaches, on a
port its security group opens to the private network: the stack exports both as `callback`
(`{host: the loader's private address, port: 8099}`). The remote `loadgen run` then gets
`--callback 0.0.0.0:<port> --callback-url http://<host>:<port>/callback`; a user's own
`--callback`/`--callback-url` win. A campaign with asynchronous cells that has neither, or names
a loopback address the cluster cannot reach, is refused before anything runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from contract.outputs import StackOutputs
from loadgen.completions.addresses import absolute_http_url, callback_url, is_loopback, parse_listen
from loadgen.experiments.config import ExperimentConfig

#: Every address of the loader: the cluster reaches the receiver by the loader's private one.
ANY_ADDRESS = "0.0.0.0"  # noqa: S104


class RemoteCallbackError(ValueError):
    """The remote campaign's asynchronous cells would have no reachable callback (the message
    names the experiment or option at fault)."""


def called_back(outputs: StackOutputs) -> bool:
    """Whether the stack's platform delivers asynchronous results by callback (OpenFaaS);
    OpenWhisk's are listed, and the other frameworks run no asynchronous calls."""
    return outputs.framework == "openfaas"


def remote_callback_args(
    config: ExperimentConfig, outputs: StackOutputs, listen: str | None, url: str | None
) -> list[str]:
    """`--callback` and `--callback-url` for the remote `loadgen run`: none for a campaign
    without asynchronous cells called back (a user's own are passed on all the same)."""
    asynchronous = [i for i, e in enumerate(config.experiments) if e.invocation == "async"]
    if not asynchronous or not called_back(outputs):
        return _given(listen, url)
    where = f"experiments.{asynchronous[0]}.invocation: async on --remote"
    if url is not None:
        try:
            parts = urlsplit(absolute_http_url(url))
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise RemoteCallbackError(f"--callback-url: {exc}") from None
        if is_loopback(parts.hostname or ""):
            raise RemoteCallbackError(
                f"--callback-url {url}: a loopback address, which the cluster's queue workers "
                "cannot reach on the loader; give the loader's private address"
            )
        return ["--callback", listen or f"{ANY_ADDRESS}:{port}", "--callback-url", url]
    port = None
    if listen is not None:
        try:
            host, port = parse_listen(listen)
        except ValueError as exc:
            raise RemoteCallbackError(f"--callback: {exc}") from None
        if is_loopback(host) or port == 0:
            raise RemoteCallbackError(
                f"--callback {listen}: {where} needs a fixed port on an address the cluster "
                "reaches (e.g. 0.0.0.0:8099, with --callback-url naming the loader's private "
                "address)"
            )
    if outputs.callback is None:
        raise RemoteCallbackError(
            f"{where}: the stack exports no callback address for the loader (stacks made "
            "before it: pulumi up); or pass --callback-url http://<loader's private address>:"
            "<port>/callback with a port the cluster reaches"
        )
    endpoint = outputs.callback
    port = port or endpoint.port  # the stack opens its own port; another one is the user's call
    return [
        "--callback",
        listen or f"{ANY_ADDRESS}:{port}",
        "--callback-url",
        callback_url(endpoint.host, port),
    ]


def _given(listen: str | None, url: str | None) -> list[str]:
    args = ["--callback", listen] if listen is not None else []
    return args + (["--callback-url", url] if url is not None else [])
