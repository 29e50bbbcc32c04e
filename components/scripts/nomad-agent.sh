#!/usr/bin/env bash
# A Nomad agent (server or client). Parameters: NODE_NAME, NODE_IP, READY_TIMEOUT_S,
# NODE_ID_FILE (clients: where the client keeps its node ID; empty for servers); secret: CONFIG,
# the rendered nomad.hcl (gossip key, Consul token). A client prints its node ID: the servers
# wait for, and purge, that ID, never the name a replacement machine reuses.

install -d -m 0700 /etc/nomad.d /opt/nomad/data
rm -f /etc/nomad.d/nomad.env.sample
changed=false
if printf '%s' "$CONFIG" | write_if_changed /etc/nomad.d/nomad.hcl 0600; then
  changed=true
fi
systemctl enable nomad.service >/dev/null
if [[ "$changed" == true ]]; then
  systemctl restart nomad.service
else
  systemctl start nomad.service
fi
agent_up() {
  curl --fail --silent --show-error "http://${NODE_IP}:4646/v1/status/leader" >/dev/null
}
wait_until "$READY_TIMEOUT_S" 3 "the Nomad agent on ${NODE_IP}" agent_up
log "Nomad agent ${NODE_NAME} on ${NODE_IP} is up"
if [[ -n "$NODE_ID_FILE" ]]; then
  # The client makes its ID once, at its first start (hashicorp/nomad client/client.go, nodeID:
  # <data_dir>/client/client-id), and keeps it across restarts.
  wait_until "$READY_TIMEOUT_S" 2 "the Nomad client's node ID in ${NODE_ID_FILE}" test -s "$NODE_ID_FILE"
  node_id=$(tr -d '[:space:]' <"$NODE_ID_FILE")
  log "Nomad client ${NODE_NAME} is node ${node_id}"
  print_node_id "$node_id"
fi
