# shellcheck shell=bash
# k3s installation shared by the server and agent steps: the pinned binary, verified, and a
# systemd unit of our own (no install script fetched at run time).

K3S_BIN=/usr/local/bin/k3s
K3S_CONFIG_DIR=/etc/rancher/k3s
# Written by the agent when it bootstraps (k3s-io/k3s pkg/agent/config: <data-dir>/agent/).
# shellcheck disable=SC2034  # used by the steps that include this file
KUBELET_KUBECONFIG=/var/lib/rancher/k3s/agent/kubelet.kubeconfig

# install_k3s: K3S_VERSION (e.g. v1.33.5+k3s1); K3S_SHA256 pins the binary, or, when empty,
# the release's own sha256sum-amd64.txt (fetched over HTTPS from the same tag) is used.
install_k3s() {
  local base="https://github.com/k3s-io/k3s/releases/download/${K3S_VERSION//+/%2B}"
  local sha256=${K3S_SHA256:-}
  if [[ -z "$sha256" ]]; then
    sha256=$(curl --fail --silent --show-error --location --retry 5 "${base}/sha256sum-amd64.txt" |
      awk '$2 == "k3s" {print $1}') || die "could not fetch the k3s ${K3S_VERSION} checksums"
    [[ -n "$sha256" ]] || die "the k3s ${K3S_VERSION} checksum file lists no k3s binary"
  fi
  download_verified "${base}/k3s" "$sha256" "$K3S_BIN"
  chmod 0755 "$K3S_BIN"
  local tool
  for tool in kubectl crictl ctr; do
    ln -sf "$K3S_BIN" "/usr/local/bin/${tool}"
  done
}

# interface_of IP: the network interface that carries IP (flannel must use the private one).
interface_of() {
  ip -o -4 addr show | awk -v ip="$1" '{split($4, a, "/"); if (a[1] == ip) {print $2; exit}}'
}

# yaml_list KEY WORDS...: a YAML list entry per word (empty list when there are none).
yaml_list() {
  local key=$1 word
  shift
  if (($# == 0)); then
    printf '%s: []\n' "$key"
    return
  fi
  printf '%s:\n' "$key"
  for word in "$@"; do
    printf '  - "%s"\n' "$word"
  done
}

# install_k3s_unit NAME ARGS: write and (re)start the systemd unit NAME running `k3s ARGS`.
install_k3s_unit() {
  local name=$1 args=$2 changed=$3
  if write_if_changed "/etc/systemd/system/${name}.service" 0644 <<UNIT; then
[Unit]
Description=k3s ${args} (faasbench)
Documentation=https://docs.k3s.io
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${K3S_BIN} ${args}
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
UNIT
    changed=true
  fi
  systemctl daemon-reload
  systemctl enable "${name}.service" >/dev/null
  if [[ "$changed" == true ]]; then
    systemctl restart "${name}.service"
  else
    systemctl start "${name}.service"
  fi
}

# write_token: the join token (a secret variable) to a root-only file, on stdin.
write_token() {
  install -d -m 0700 "$K3S_CONFIG_DIR"
  printf '%s' "$K3S_TOKEN" | write_if_changed "${K3S_CONFIG_DIR}/token" 0600
}

# write_registries: containerd's registry settings (REGISTRIES_YAML, rendered by the component:
# the stack's plain-HTTP registry) to registries.yaml, or no file when there are none. Returns 0
# when that changed (k3s reads the file on start only).
write_registries() {
  local path="${K3S_CONFIG_DIR}/registries.yaml"
  install -d -m 0755 "$K3S_CONFIG_DIR"
  if [[ -z "${REGISTRIES_YAML:-}" ]]; then
    [[ -f "$path" ]] || return 1
    rm -f "$path"
    return 0
  fi
  printf '%s' "$REGISTRIES_YAML" | write_if_changed "$path" 0644
}

# node_ready NAME: succeeds when the node's Ready condition is True.
node_ready() {
  local status
  status=$(kubectl get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
  [[ "$status" == "True" ]] || {
    echo "node $1 Ready=${status:-absent}"
    return 1
  }
}
