"""OpenFaaS Community Edition's caps on Kubernetes, as the local gateway emulates them (shared
with `loadgen local up`, which writes them into the outputs without importing the gateway)."""

CE_MAX_FUNCTIONS = 15
CE_MAX_REPLICAS = 5
