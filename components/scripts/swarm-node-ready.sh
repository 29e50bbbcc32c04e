#!/usr/bin/env bash
# include: docker-lib
# On the manager: wait until node NODE_ID (what NODE_NAME's join reported) is Ready, then label
# it a worker, the label function placement constraints use. By ID: an earlier machine of the
# same name may still be listed. Parameters: NODE_ID, NODE_NAME, READY_TIMEOUT_S.

node_ready() {
  local status
  status=$(docker node inspect "$NODE_ID" --format '{{.Status.State}}') || return 1
  [[ "$status" == ready ]] || {
    echo "node ${NODE_NAME} (${NODE_ID}) is ${status}"
    return 1
  }
}
[[ -n "$NODE_ID" ]] || die "no swarm node ID for ${NODE_NAME}: its join step reported none"
wait_until "$READY_TIMEOUT_S" 5 "swarm node ${NODE_NAME} (${NODE_ID}) to be Ready" node_ready
docker node update --label-add faasbench.role=worker "$NODE_ID" >/dev/null
log "swarm node ${NODE_NAME} (${NODE_ID}) is Ready"
