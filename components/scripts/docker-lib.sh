# shellcheck shell=bash
# Docker CE from Docker's apt repository, pinned; and a small Engine API client that keeps
# secrets (join tokens) off command lines by sending request bodies on stdin.

# Docker's release signing key (https://download.docker.com/linux/ubuntu/gpg).
DOCKER_KEY_FINGERPRINT=9DC858229FC7DD38854AE2D88D81803C0EBFCD88

install_docker() {
  local codename distro
  codename=$(os_release_field VERSION_CODENAME)
  apt_repository docker "https://download.docker.com/linux/ubuntu/gpg" "$DOCKER_KEY_FINGERPRINT" \
    "https://download.docker.com/linux/ubuntu ${codename} stable"
  # Docker's packages carry the distribution in their version: 5:28.5.2-1~ubuntu.24.04~noble.
  distro="~ubuntu.$(os_release_field VERSION_ID)~${codename}"
  apt_install_pinned \
    "containerd.io=${CONTAINERD_VERSION}${distro}" \
    "docker-ce=5:${DOCKER_VERSION}-1${distro}" \
    "docker-ce-cli=5:${DOCKER_VERSION}-1${distro}"
}

# configure_docker MTU [REGISTRY...]: daemon.json with the network's MTU for bridges and
# overlays, bounded logs, and the plain-HTTP registries (host:port) Docker may pull from and push
# to; restarts Docker only when the file changed.
configure_docker() {
  local mtu=$1 insecure="" registry
  shift
  for registry in "$@"; do
    insecure+="${insecure:+, }\"${registry}\""
  done
  install -d -m 0755 /etc/docker
  if write_if_changed /etc/docker/daemon.json 0644 <<JSON; then
{
  "mtu": ${mtu},${insecure:+
  \"insecure-registries\": [${insecure}],}
  "default-network-opts": {
    "overlay": {"com.docker.network.driver.mtu": "${mtu}"},
    "bridge": {"com.docker.network.driver.mtu": "${mtu}"}
  },
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"}
}
JSON
    systemctl restart docker.service
  fi
  systemctl enable --now docker.service >/dev/null
  wait_until 120 2 "the Docker daemon" docker info --format '{{.ServerVersion}}'
}

# docker_api METHOD PATH: the request body comes from stdin.
docker_api() {
  curl --fail-with-body --silent --show-error --unix-socket /var/run/docker.sock \
    --request "$1" --header 'Content-Type: application/json' --data-binary @- \
    "http://localhost/v1.47$2"
}

swarm_state() {
  docker info --format '{{.Swarm.LocalNodeState}}'
}
