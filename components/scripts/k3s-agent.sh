#!/usr/bin/env bash
# include: k3s-lib
# A k3s agent joining the server. Parameters: K3S_VERSION, K3S_SHA256, SERVER_URL, NODE_NAME,
# NODE_IP, NODE_LABELS, NODE_TAINTS, REGISTRIES_YAML (optional); secret: K3S_TOKEN. Readiness
# is checked from the server.

wait_for_cloud_init
install_k3s
changed=false
write_token && changed=true
write_registries && changed=true
iface=$(interface_of "$NODE_IP")
[[ -n "$iface" ]] || die "no network interface carries ${NODE_IP}"
# shellcheck disable=SC2086  # word lists on purpose
if {
  printf 'server: "%s"\n' "$SERVER_URL"
  printf 'token-file: %s\n' "${K3S_CONFIG_DIR}/token"
  printf 'node-name: "%s"\n' "$NODE_NAME"
  printf 'node-ip: "%s"\n' "$NODE_IP"
  printf 'flannel-iface: "%s"\n' "$iface"
  yaml_list node-label $NODE_LABELS
  yaml_list node-taint $NODE_TAINTS
} | write_if_changed "${K3S_CONFIG_DIR}/config.yaml" 0600; then
  changed=true
fi
install_k3s_unit k3s-agent agent "$changed"
log "k3s agent ${NODE_NAME} started; it retries until the server accepts it"
