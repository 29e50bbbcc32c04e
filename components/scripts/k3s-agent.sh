#!/usr/bin/env bash
# include: k3s-lib
# A k3s agent joining the server. Parameters: K3S_VERSION, K3S_SHA256, SERVER_URL, NODE_NAME,
# NODE_IP, NODE_LABELS, NODE_TAINTS, READY_TIMEOUT_S, REGISTRIES_YAML (optional); secret:
# K3S_TOKEN. Prints the uid of the Node object it registered (the server's readiness check and
# the node's removal address that uid, never the name a replacement machine reuses).

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
log "k3s agent ${NODE_NAME} started; waiting for the server to register it"
# The kubelet's own credentials may read Node objects (Kubernetes' Node authorizer). A node of
# this name left by an earlier machine makes the server refuse this one (node password).
own_uid() {
  kubectl --kubeconfig "$KUBELET_KUBECONFIG" get node "$NODE_NAME" -o 'jsonpath={.metadata.uid}'
}
wait_until "$READY_TIMEOUT_S" 5 \
  "node ${NODE_NAME} to register with ${SERVER_URL} (if an earlier machine of this name is still listed, remove it on the server: kubectl delete node ${NODE_NAME}; kubectl -n kube-system delete secret ${NODE_NAME}.node-password.k3s)" \
  own_uid
uid=$(own_uid)
log "node ${NODE_NAME} registered as ${uid}"
print_node_id "$uid"
