#!/usr/bin/env bash
# include: docker-lib
# On the manager: wait until NODE_NAME is Ready in `docker node ls`, then label it a worker,
# the label function placement constraints use. Parameters: NODE_NAME, READY_TIMEOUT_S.

node_ready() {
  local status
  status=$(docker node inspect "$NODE_NAME" --format '{{.Status.State}}') || return 1
  [[ "$status" == ready ]] || {
    echo "node ${NODE_NAME} is ${status}"
    return 1
  }
}
wait_until "$READY_TIMEOUT_S" 5 "swarm node ${NODE_NAME} to be Ready" node_ready
docker node update --label-add faasbench.role=worker "$NODE_NAME" >/dev/null
log "swarm node ${NODE_NAME} is Ready"
