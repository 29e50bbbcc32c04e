#!/usr/bin/env bash
# include: docker-lib
# A worker joins the swarm. Parameters: NODE_NAME, NODE_IP, MANAGER_IP, READY_TIMEOUT_S;
# secret: SWARM_TOKEN, sent to the Engine API on stdin (the CLI would put it on the command
# line). Prints the node's swarm ID: the manager waits for, labels and removes that ID, since a
# replaced machine's old node stays listed (Down) under the same name.

# `pending` is a join still under way (a previous run, or the daemon restoring its state):
# wait it out before deciding, or a second join would fail against the first.
settled_state() {
  local state
  state=$(swarm_state)
  [[ "$state" != pending ]] || {
    echo "this node's swarm state is pending"
    return 1
  }
}
wait_until "$READY_TIMEOUT_S" 2 "this node's swarm state to settle" settled_state
state=$(swarm_state)
case "$state" in
  active)
    log "${NODE_NAME} is already in the swarm"
    ;;
  inactive)
    printf '{"ListenAddr": "%s:2377", "AdvertiseAddr": "%s", "RemoteAddrs": ["%s:2377"], "JoinToken": "%s"}' \
      "$NODE_IP" "$NODE_IP" "$MANAGER_IP" "$SWARM_TOKEN" | docker_api POST /swarm/join >/dev/null ||
      die "could not join the swarm at ${MANAGER_IP}:2377"
    wait_until "$READY_TIMEOUT_S" 2 "this node to be active in the swarm" test "$(swarm_state)" = active
    log "${NODE_NAME} joined the swarm at ${MANAGER_IP}"
    ;;
  *)
    die "${NODE_NAME}'s swarm state is ${state}: expected inactive or active (docker info)"
    ;;
esac
node_id=$(docker info --format '{{.Swarm.NodeID}}')
log "${NODE_NAME} is swarm node ${node_id}"
print_node_id "$node_id"
