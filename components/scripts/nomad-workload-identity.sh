#!/usr/bin/env bash
# On the first server: let Nomad workloads authenticate to Consul (service registration with
# ACLs on) and Vault (function secrets) with workload identities (`nomad setup`); Nomad 1.10
# removed the token-based workflows. Idempotent: skipped where the auth method exists.
# Parameter: NODE_IP; secret: CONSUL_TOKEN (Consul management). Vault's root token is read
# from the file vault-server.sh keeps on this machine.

jwks="http://${NODE_IP}:4646/.well-known/jwks.json"
export CONSUL_HTTP_ADDR="http://${NODE_IP}:8500"
export VAULT_ADDR="http://${NODE_IP}:8200"
CONSUL_HTTP_TOKEN="$CONSUL_TOKEN"
export CONSUL_HTTP_TOKEN
if ! curl --fail --silent --header @<(printf 'X-Consul-Token: %s\n' "$CONSUL_TOKEN") \
  "${CONSUL_HTTP_ADDR}/v1/acl/auth-method/nomad-workloads" >/dev/null; then
  nomad setup consul -y -jwks-url "$jwks" >/dev/null
  log "Consul accepts Nomad workload identities"
fi
VAULT_TOKEN=$(jq -r .root_token /etc/vault.d/faasbench-init.json)
export VAULT_TOKEN
if ! vault auth list -format=json | jq -e 'has("jwt-nomad/")' >/dev/null; then
  nomad setup vault -y -jwks-url "$jwks" >/dev/null
  log "Vault accepts Nomad workload identities"
fi
