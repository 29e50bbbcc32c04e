#!/usr/bin/env bash
# On a server: wait until client NODE_NAME is registered, ready and eligible.
# Parameters: NODE_IP (the server's), NODE_NAME, READY_TIMEOUT_S; secret: NOMAD_TOKEN.

node_ready() {
  local nodes status
  nodes=$(curl --fail --silent --show-error \
    --header @<(printf 'X-Nomad-Token: %s\n' "$NOMAD_TOKEN") \
    "http://${NODE_IP}:4646/v1/nodes") || return 1
  status=$(jq -r --arg name "$NODE_NAME" \
    '[.[] | select(.Name == $name)] | if length == 0 then "absent" else .[0].Status + "/" + .[0].SchedulingEligibility end' \
    <<<"$nodes")
  [[ "$status" == "ready/eligible" ]] || {
    echo "Nomad client ${NODE_NAME} is ${status}"
    return 1
  }
}
wait_until "$READY_TIMEOUT_S" 5 "Nomad client ${NODE_NAME} to be ready" node_ready
log "Nomad client ${NODE_NAME} is ready"
