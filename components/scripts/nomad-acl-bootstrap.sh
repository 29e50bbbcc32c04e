#!/usr/bin/env bash
# On the first server: bootstrap Nomad's ACL system with a pre-generated management secret
# (BOOTSTRAP_SECRET, a UUID), so the token is known to Pulumi without reading it back.
# Idempotent: once bootstrapped, only checks that the secret works. Parameters: NODE_IP,
# READY_TIMEOUT_S. The token is also kept root-only in TOKEN_FILE for delete steps, which
# get no stdin.

TOKEN_FILE=/etc/nomad.d/faasbench-management.token
install -d -m 0700 /etc/nomad.d
printf '%s' "$BOOTSTRAP_SECRET" | write_if_changed "$TOKEN_FILE" 0600 || true

token_works() {
  curl --fail --silent --show-error \
    --header @<(printf 'X-Nomad-Token: %s\n' "$BOOTSTRAP_SECRET") \
    "http://${NODE_IP}:4646/v1/acl/token/self" >/dev/null
}

leader_elected() {
  local found
  found=$(curl --fail --silent --show-error "http://${NODE_IP}:4646/v1/status/leader")
  [[ "$found" == \"*:*\" ]] || {
    echo "no Nomad leader yet (${found:-no answer})"
    return 1
  }
}

wait_until "$READY_TIMEOUT_S" 3 "a Nomad leader" leader_elected
if token_works; then
  log "Nomad ACLs already bootstrapped"
  exit 0
fi
printf '{"BootstrapSecret": "%s"}' "$BOOTSTRAP_SECRET" |
  curl --fail-with-body --silent --show-error --request POST --data-binary @- \
    "http://${NODE_IP}:4646/v1/acl/bootstrap" >/dev/null ||
  die "Nomad ACL bootstrap failed and the expected management token does not work"
wait_until 60 2 "the Nomad management token" token_works
log "Nomad ACLs bootstrapped"
