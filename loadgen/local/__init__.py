"""The local target: the same pipeline as a cloud stack (HAProxy, an OpenFaaS-style gateway, the
suite's functions, an FTP server, Prometheus) as processes on loopback, for `loadgen local up`."""
