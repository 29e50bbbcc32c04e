"""The benchmark function suite: one stdlib-only module per function, each exposing
`main(params) -> dict` (OpenWhisk's convention), plus the adapters that run them as an
OpenFaaS HTTP server (`functions.serve`) and as OpenWhisk zip actions (`functions.package`).

Stdlib only, because the same sources run in OpenWhisk's stock python:3 runtime and in a slim
image without installing anything.
"""
