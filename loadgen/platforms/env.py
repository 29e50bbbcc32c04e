"""A deployed function's environment: its configured variables plus what it needs from the stack."""

from __future__ import annotations

from contract.outputs import StackOutputs


def function_env(
    function: str, outputs: StackOutputs, configured: dict[str, str] | None = None
) -> dict[str, str]:
    """A function's configured environment plus what it needs from the stack: the FTP server
    for `ftp`, the object storage for `thumbnail`, the gateway (and OpenWhisk's key, or
    Knative's host suffix) for `chain`; no function gets credentials it does not use."""
    env = dict(configured or {})
    ftp = outputs.ftp
    if function == "ftp" and ftp is not None:
        env.setdefault("FTP_HOST", ftp.host)
        env.setdefault("FTP_PORT", str(ftp.port))
        env.setdefault("FTP_USER", ftp.user)
        env.setdefault("FTP_PASSWORD", ftp.password.get_secret_value())
        env.setdefault("FTP_TEST_FILE", ftp.test_file)
        env.setdefault("FTP_TEST_FILE_BYTES", str(ftp.test_file_bytes))
        env.setdefault("FTP_TEST_FILE_SHA256", ftp.test_file_sha256)
    storage = outputs.object_storage
    if function == "thumbnail" and storage is not None:
        env.setdefault("S3_ENDPOINT", storage.endpoint)
        env.setdefault("S3_BUCKET", storage.bucket)
        env.setdefault("S3_REGION", storage.region)
        env.setdefault("S3_ACCESS_KEY", storage.access_key)
        env.setdefault("S3_SECRET_KEY", storage.secret_key.get_secret_value())
    if function != "chain":
        return env
    openwhisk = outputs.openwhisk
    if openwhisk is not None:
        # chain calls its callee through OpenWhisk's API with the subject's key.
        env.setdefault("GATEWAY_URL", openwhisk.api_host)
        env.setdefault("CHAIN_API", "openwhisk")
        env.setdefault("OPENWHISK_AUTH", openwhisk.auth.get_secret_value())
        if openwhisk.insecure_tls:
            env.setdefault("OPENWHISK_INSECURE_TLS", "true")
    elif outputs.knative is not None:
        # chain calls its callee through Kourier's front, by the callee Service's Host header.
        env.setdefault("GATEWAY_URL", outputs.knative.url)
        env.setdefault("CHAIN_API", "knative")
        env.setdefault(
            "KNATIVE_HOST_SUFFIX", f"{outputs.knative.namespace}.{outputs.knative.domain}"
        )
    elif outputs.gateway_url and outputs.cloud != "local":
        env.setdefault("GATEWAY_URL", outputs.gateway_url)
    return env
