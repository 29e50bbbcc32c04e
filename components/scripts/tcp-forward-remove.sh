#!/usr/bin/env bash
# On the bastion: remove the forward made by tcp-forward.sh. Parameter: NAME.

systemctl disable --now "faasbench-${NAME}.socket" 2>/dev/null || true
systemctl stop "faasbench-${NAME}.service" 2>/dev/null || true
rm -f "/etc/systemd/system/faasbench-${NAME}.socket" "/etc/systemd/system/faasbench-${NAME}.service"
systemctl daemon-reload
