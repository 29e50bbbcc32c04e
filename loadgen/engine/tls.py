"""TLS client contexts; verification can be switched off for self-signed endpoints."""

import ssl


def client_context(verify: bool) -> ssl.SSLContext:
    """A client context; with `verify=False` any certificate and host name are accepted."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context
