#!/usr/bin/env bash
# CNI reference plugins for Nomad's bridge networking, pinned and checksummed.
# Parameters: CNI_VERSION (e.g. v1.8.0), CNI_SHA256.

archive="/var/lib/faasbench/cni-plugins-linux-amd64-${CNI_VERSION}.tgz"
download_verified \
  "https://github.com/containernetworking/plugins/releases/download/${CNI_VERSION}/cni-plugins-linux-amd64-${CNI_VERSION}.tgz" \
  "$CNI_SHA256" "$archive"
marker=/opt/cni/bin/.faasbench-version
if [[ "$(cat "$marker" 2>/dev/null)" != "$CNI_VERSION" ]]; then
  install -d -m 0755 /opt/cni/bin
  tar -xzf "$archive" -C /opt/cni/bin
  printf '%s' "$CNI_VERSION" >"$marker"
  log "CNI plugins ${CNI_VERSION} in /opt/cni/bin"
fi
