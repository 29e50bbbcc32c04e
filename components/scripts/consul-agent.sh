#!/usr/bin/env bash
# A Consul agent (server or client). Parameters: NODE_IP, READY_TIMEOUT_S; secret: CONFIG,
# the rendered consul.hcl (it holds the gossip key and ACL tokens).

install -d -m 0750 -o consul -g consul /etc/consul.d /opt/consul
rm -f /etc/consul.d/consul.env.sample
changed=false
if printf '%s' "$CONFIG" | write_if_changed /etc/consul.d/consul.hcl 0640; then
  changed=true
fi
chown root:consul /etc/consul.d/consul.hcl
systemctl enable consul.service >/dev/null
if [[ "$changed" == true ]]; then
  systemctl restart consul.service
else
  systemctl start consul.service
fi
leader() {
  local found
  found=$(curl --fail --silent --show-error "http://${NODE_IP}:8500/v1/status/leader")
  [[ "$found" == \"*:*\" ]] || {
    echo "no Consul leader yet (${found:-no answer})"
    return 1
  }
}
wait_until "$READY_TIMEOUT_S" 3 "Consul on ${NODE_IP} to see a leader" leader
log "Consul agent on ${NODE_IP} is up"
