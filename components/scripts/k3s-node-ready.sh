#!/usr/bin/env bash
# include: k3s-lib
# On the server: wait until node NODE_NAME, registered as NODE_UID (what its agent reported),
# is Ready (READY_TIMEOUT_S). A node of that name with another uid is not this machine's.

node_ready_as() {
  local found uid status
  found=$(kubectl get node "$NODE_NAME" \
    -o 'jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}') || {
    echo "node ${NODE_NAME} is absent"
    return 1
  }
  read -r uid status <<<"$found"
  [[ "$uid" == "$NODE_UID" ]] || {
    echo "node ${NODE_NAME} is ${uid:-absent}, not ${NODE_UID}"
    return 1
  }
  [[ "$status" == "True" ]] || {
    echo "node ${NODE_NAME} Ready=${status:-absent}"
    return 1
  }
}
[[ -n "$NODE_UID" ]] || die "no uid for node ${NODE_NAME}: its agent step reported none"
wait_until "$READY_TIMEOUT_S" 5 "node ${NODE_NAME} (${NODE_UID}) to join and be Ready" node_ready_as
log "node ${NODE_NAME} (${NODE_UID}) is Ready"
