#!/usr/bin/env bash
# On a server, when a client leaves the stack: purge it from the node list.
# Parameters: NODE_IP, NODE_NAME, TOKEN_FILE (written by nomad-token.sh; no stdin on delete).

[[ -r "$TOKEN_FILE" ]] || exit 0
header=$(printf 'X-Nomad-Token: %s' "$(cat "$TOKEN_FILE")")
id=$(curl --fail --silent --header @<(printf '%s\n' "$header") "http://${NODE_IP}:4646/v1/nodes" |
  jq -r --arg name "$NODE_NAME" '.[] | select(.Name == $name) | .ID' | head -n 1) || exit 0
if [[ -n "$id" ]]; then
  curl --fail --silent --request PUT --header @<(printf '%s\n' "$header") \
    "http://${NODE_IP}:4646/v1/node/${id}/purge" >/dev/null
fi
