#!/usr/bin/env bash
# On the first server: the agents' ACL policy and token, with pre-generated ids, so the same
# token can be written into every agent's config before it exists. Idempotent.
# Parameters: NODE_IP, POLICY_RULES, READY_TIMEOUT_S; secrets: MANAGEMENT_TOKEN,
# AGENT_ACCESSOR, AGENT_SECRET (all UUIDs). Secrets go in headers and bodies read from file
# descriptors, never in arguments.

consul_get() {
  curl --fail --silent --show-error \
    --header @<(printf 'X-Consul-Token: %s\n' "$MANAGEMENT_TOKEN") \
    "http://${NODE_IP}:8500/v1$1"
}

consul_put() {
  curl --fail-with-body --silent --show-error --request PUT \
    --header @<(printf 'X-Consul-Token: %s\n' "$MANAGEMENT_TOKEN") \
    --data-binary @- "http://${NODE_IP}:8500/v1$1"
}

management_token_works() {
  consul_get /acl/token/self >/dev/null
}

wait_until "$READY_TIMEOUT_S" 3 "Consul to accept the management token" management_token_works
if ! consul_get /acl/policy/name/faasbench-agents >/dev/null 2>&1; then
  jq -n --arg rules "$POLICY_RULES" '{Name: "faasbench-agents", Rules: $rules}' |
    consul_put /acl/policy >/dev/null
  log "created ACL policy faasbench-agents"
fi
if ! consul_get "/acl/token/${AGENT_ACCESSOR}" >/dev/null 2>&1; then
  printf '{"AccessorID": "%s", "SecretID": "%s", "Description": "faasbench agents", "Policies": [{"Name": "faasbench-agents"}]}' \
    "$AGENT_ACCESSOR" "$AGENT_SECRET" | consul_put /acl/token >/dev/null
  log "created the agents' ACL token"
fi
