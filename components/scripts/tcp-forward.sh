#!/usr/bin/env bash
# On the bastion: forward LISTEN_PORT to TARGET (host:port) with systemd-socket-proxyd, so the
# user's machine reaches a private service (the Kubernetes API) through the bastion's address.
# Parameters: NAME, LISTEN_PORT, TARGET.

wait_for_cloud_init
proxyd=/usr/lib/systemd/systemd-socket-proxyd
[[ -x "$proxyd" ]] || die "${proxyd} is missing (systemd too old?)"
changed=false
if write_if_changed "/etc/systemd/system/faasbench-${NAME}.socket" 0644 <<UNIT; then
[Unit]
Description=faasbench forward of port ${LISTEN_PORT} to ${TARGET}

[Socket]
ListenStream=${LISTEN_PORT}
NoDelay=true

[Install]
WantedBy=sockets.target
UNIT
  changed=true
fi
if write_if_changed "/etc/systemd/system/faasbench-${NAME}.service" 0644 <<UNIT; then
[Unit]
Description=faasbench forward of port ${LISTEN_PORT} to ${TARGET}
Requires=faasbench-${NAME}.socket
After=faasbench-${NAME}.socket

[Service]
ExecStart=${proxyd} --connections-max=1024 ${TARGET}
DynamicUser=yes
PrivateTmp=yes
UNIT
  changed=true
fi
systemctl daemon-reload
systemctl enable "faasbench-${NAME}.socket" >/dev/null
if [[ "$changed" == true ]]; then
  systemctl stop "faasbench-${NAME}.service" 2>/dev/null || true
  systemctl restart "faasbench-${NAME}.socket"
else
  systemctl start "faasbench-${NAME}.socket"
fi
log "port ${LISTEN_PORT} forwards to ${TARGET}"
