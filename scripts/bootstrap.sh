#!/usr/bin/env bash
# Installs what faasbench's tests and local demo need on a fresh Debian machine (run as root).
# Idempotent: packages already present are left alone.
set -euo pipefail

# Tests skip nothing for a missing tool: HAProxy, vsftpd, Prometheus and Chromium run for real;
# cloud-init and shellcheck check what machines would run; openssh-server/-client carry the
# remote campaign; python3-pip-whl is the pip wheel a Debian Python hands a loader without pip;
# redis-server is the queue KEDA's queue mode is tested against on loopback; nodejs, golang-go
# and default-jdk-headless build and run the suite's functions in Node.js, Go and Java
# (functions/node, functions/go, functions/java), and libgoogle-gson-java is the Gson jar the
# Java OpenWhisk action compiles against (functions/package.py); the one exception to the rule
# above, their tests skip a language whose toolchain is missing and name the package.
packages=(
  make git ca-certificates python3 python3-pip python3-pip-whl
  haproxy vsftpd wrk hey shellcheck cloud-init iproute2 openssh-server openssh-client jq
  chromium
  prometheus
  redis-server
  nodejs golang-go default-jdk-headless libgoogle-gson-java
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v uv >/dev/null 2>&1; then
  # Debian's python3 is "externally managed" (PEP 668); uv is a single static binary, so
  # installing it beside the system packages is harmless.
  python3 -m pip install --quiet uv 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages uv
fi
command -v uv >/dev/null 2>&1 || { echo "bootstrap: uv is not on PATH after installing it" >&2; exit 1; }
