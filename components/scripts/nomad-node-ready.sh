#!/usr/bin/env bash
# On a server: wait until client node NODE_ID (what NODE_NAME's agent reported) is registered,
# ready and eligible. By ID: an earlier machine of the same name may still be listed (down).
# Parameters: SERVER_IP, NODE_ID, NODE_NAME, READY_TIMEOUT_S; secret: NOMAD_TOKEN.

node_ready() {
  local node status
  node=$(curl --fail --silent --show-error --max-time 10 \
    --header @<(printf 'X-Nomad-Token: %s\n' "$NOMAD_TOKEN") \
    "http://${SERVER_IP}:4646/v1/node/${NODE_ID}" 2>&1) || {
    echo "Nomad client ${NODE_NAME} (${NODE_ID}) is not registered (${node})"
    return 1
  }
  status=$(jq -r '.Status + "/" + .SchedulingEligibility' <<<"$node")
  [[ "$status" == "ready/eligible" ]] || {
    echo "Nomad client ${NODE_NAME} (${NODE_ID}) is ${status}"
    return 1
  }
}
[[ -n "$NODE_ID" ]] || die "no Nomad node ID for ${NODE_NAME}: its agent step reported none"
wait_until "$READY_TIMEOUT_S" 5 "Nomad client ${NODE_NAME} (${NODE_ID}) to be ready" node_ready
log "Nomad client ${NODE_NAME} (${NODE_ID}) is ready"
