#!/usr/bin/env bash
# On the bastion: remove the forward made by tcp-forward.sh. Parameters: NAME,
# REQUEST_TIMEOUT_S, ATTEMPTS. Skipped when the bastion itself is being deleted (deleted_with);
# bounded: a systemd that does not answer leaves a warning, not a failed destroy.

unit="faasbench-${NAME}"
if [[ ! -f "/etc/systemd/system/${unit}.socket" && ! -f "/etc/systemd/system/${unit}.service" ]]; then
  log "no forward ${NAME} here"
  exit 0
fi
with_retries systemctl disable --now "${unit}.socket" >/dev/null ||
  warn "could not stop ${unit}.socket"
with_retries systemctl stop "${unit}.service" >/dev/null || warn "could not stop ${unit}.service"
rm -f "/etc/systemd/system/${unit}.socket" "/etc/systemd/system/${unit}.service"
with_retries systemctl daemon-reload || warn "systemctl daemon-reload failed"
log "forward ${NAME} removed"
