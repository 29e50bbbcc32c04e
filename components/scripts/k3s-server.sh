#!/usr/bin/env bash
# include: k3s-lib
# The k3s server: API, scheduler, the local-path storage class. Parameters: K3S_VERSION,
# K3S_SHA256, NODE_NAME, NODE_IP, TLS_SANS, NODE_LABELS, NODE_TAINTS, READY_TIMEOUT_S;
# REGISTRIES_YAML (optional); secret: K3S_TOKEN.

wait_for_cloud_init
install_k3s
changed=false
write_token && changed=true
write_registries && changed=true
iface=$(interface_of "$NODE_IP")
[[ -n "$iface" ]] || die "no network interface carries ${NODE_IP}"
# shellcheck disable=SC2086  # word lists on purpose
if {
  printf 'token-file: %s\n' "${K3S_CONFIG_DIR}/token"
  printf 'node-name: "%s"\n' "$NODE_NAME"
  printf 'node-ip: "%s"\n' "$NODE_IP"
  printf 'advertise-address: "%s"\n' "$NODE_IP"
  printf 'flannel-iface: "%s"\n' "$iface"
  printf 'write-kubeconfig-mode: "0600"\n'
  yaml_list tls-san $TLS_SANS
  yaml_list node-label $NODE_LABELS
  yaml_list node-taint $NODE_TAINTS
  yaml_list disable traefik servicelb
} | write_if_changed "${K3S_CONFIG_DIR}/config.yaml" 0600; then
  changed=true
fi
install_k3s_unit k3s server "$changed"
wait_until "$READY_TIMEOUT_S" 5 "the k3s API on ${NODE_NAME}" kubectl get --raw /readyz
wait_until "$READY_TIMEOUT_S" 5 "node ${NODE_NAME} to be Ready" node_ready "$NODE_NAME"
log "k3s server ${NODE_NAME} is Ready"
