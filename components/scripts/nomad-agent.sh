#!/usr/bin/env bash
# A Nomad agent (server or client). Parameters: NODE_IP, READY_TIMEOUT_S; secret: CONFIG, the
# rendered nomad.hcl (gossip key, Consul token).

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
log "Nomad agent on ${NODE_IP} is up"
