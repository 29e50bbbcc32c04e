#!/usr/bin/env bash
# HAProxy in front of the platform: the distribution's package (HAPROXY_VERSION, a release line
# such as 2.8.*), our configuration (CONFIG), checked with `haproxy -c` before it replaces the
# running one, and a file-descriptor limit that fits its maxconn.

wait_for_cloud_init
apt_install_pinned "haproxy=${HAPROXY_VERSION}"
install -d -m 0755 /etc/systemd/system/haproxy.service.d
unit_changed=false
if write_if_changed /etc/systemd/system/haproxy.service.d/faasbench.conf 0644 <<'UNIT'; then
[Service]
LimitNOFILE=262144
UNIT
  unit_changed=true
  systemctl daemon-reload
fi
candidate=$(mktemp /etc/haproxy/haproxy.cfg.XXXXXX)
printf '%s' "$CONFIG" >"$candidate"
haproxy -c -q -f "$candidate" || {
  rm -f "$candidate"
  die "haproxy rejected the rendered configuration"
}
if write_if_changed /etc/haproxy/haproxy.cfg 0644 <"$candidate"; then
  changed=true
else
  changed=$unit_changed
fi
rm -f "$candidate"
systemctl enable haproxy.service >/dev/null
if [[ "$changed" == true ]]; then
  systemctl restart haproxy.service
else
  systemctl start haproxy.service
fi
log "haproxy $(haproxy -v | head -n 1 | awk '{print $3}') serves the gateway"
