#!/usr/bin/env bash
# On a server, when a client's machine is replaced or removed: purge exactly the node that
# machine registered (NODE_ID). Parameters: SERVER_IP, NODE_ID, NODE_NAME, TOKEN_FILE
# (written by nomad-acl-bootstrap.sh; no stdin on delete), REQUEST_TIMEOUT_S, ATTEMPTS.
# Bounded: when Nomad does not answer, it warns and exits 0 (the machine is going away; a
# destroy must finish).

if [[ -z "$NODE_ID" ]]; then
  warn "no recorded node ID for Nomad client ${NODE_NAME}: left as it is (nomad node purge it)"
  exit 0
fi
if [[ ! -r "$TOKEN_FILE" ]]; then
  warn "no Nomad token at ${TOKEN_FILE}: Nomad client ${NODE_NAME} (${NODE_ID}) was not purged"
  exit 0
fi
header=$(mktemp)
trap 'rm -f "$header"' EXIT
printf 'X-Nomad-Token: %s\n' "$(cat "$TOKEN_FILE")" >"$header"
if ! status=$(with_retries curl --silent --show-error --max-time "${REQUEST_TIMEOUT_S:-15}" \
  --output /dev/null --write-out '%{http_code}' --request PUT --header "@${header}" \
  "http://${SERVER_IP}:4646/v1/node/${NODE_ID}/purge"); then
  warn "Nomad did not answer: client ${NODE_NAME} (${NODE_ID}) was not purged"
  exit 0
fi
case "$status" in
  200) log "Nomad client ${NODE_NAME} (${NODE_ID}) purged" ;;
  404) log "Nomad client ${NODE_NAME} (${NODE_ID}) is already gone" ;;
  *) warn "Nomad answered HTTP ${status}: client ${NODE_NAME} (${NODE_ID}) was not purged" ;;
esac
