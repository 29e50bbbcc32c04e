#!/usr/bin/env bash
# include: k3s-lib
# On the server, when a worker's machine is replaced or removed: delete its Node object, only
# while it is still the one that machine registered (NODE_UID), and its node-password secret,
# so that a new machine of the same name can join (k3s refuses a name whose password it holds).
# Parameters: NODE_NAME, NODE_UID, REQUEST_TIMEOUT_S, ATTEMPTS. Bounded: when the API does not
# answer, it warns and exits 0 (the machine is going away; a destroy must finish).

if [[ ! -x "$K3S_BIN" ]]; then
  warn "k3s is not installed here: node ${NODE_NAME} has nothing to be removed from"
  exit 0
fi
if [[ -z "$NODE_UID" ]]; then
  warn "no recorded uid for node ${NODE_NAME}: left as it is (remove it by hand if it is stale)"
  exit 0
fi
if ! uid=$(with_retries kubectl get node "$NODE_NAME" --ignore-not-found \
  -o 'jsonpath={.metadata.uid}'); then
  warn "the Kubernetes API did not answer: node ${NODE_NAME} (${NODE_UID}) was not removed"
  exit 0
fi
if [[ -n "$uid" && "$uid" != "$NODE_UID" ]]; then
  warn "node ${NODE_NAME} is now ${uid}, not ${NODE_UID}: a newer machine owns the name; left as it is"
  exit 0
fi
if [[ -n "$uid" ]] && ! with_retries kubectl delete node "$NODE_NAME" --ignore-not-found \
  --wait=false >/dev/null; then
  warn "the Kubernetes API did not answer: node ${NODE_NAME} (${NODE_UID}) was not removed"
  exit 0
fi
if ! with_retries kubectl --namespace kube-system delete secret \
  "${NODE_NAME}.node-password.k3s" --ignore-not-found >/dev/null; then
  warn "could not delete secret ${NODE_NAME}.node-password.k3s: a new ${NODE_NAME} may be refused"
  exit 0
fi
log "node ${NODE_NAME} (${NODE_UID}) removed"
