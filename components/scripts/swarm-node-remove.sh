#!/usr/bin/env bash
# On the manager, when a worker's machine is replaced or removed: remove exactly the node that
# machine joined as (NODE_ID; the name is reused by a replacement). Parameters: NODE_ID,
# NODE_NAME, REQUEST_TIMEOUT_S, ATTEMPTS. Bounded: when Docker does not answer, it warns and
# exits 0 (the machine is going away; a destroy must finish).

if ! command -v docker >/dev/null; then
  warn "Docker is not installed here: node ${NODE_NAME} has nothing to be removed from"
  exit 0
fi
if [[ -z "$NODE_ID" ]]; then
  warn "no recorded swarm ID for node ${NODE_NAME}: left as it is (docker node rm it by hand)"
  exit 0
fi
if ! listed=$(with_retries docker node ls --quiet); then
  warn "Docker did not answer: swarm node ${NODE_NAME} (${NODE_ID}) was not removed"
  exit 0
fi
if ! grep -qx "$NODE_ID" <<<"$listed"; then
  log "swarm node ${NODE_NAME} (${NODE_ID}) is already gone"
  exit 0
fi
if ! with_retries docker node rm --force "$NODE_ID" >/dev/null; then
  warn "Docker did not remove swarm node ${NODE_NAME} (${NODE_ID})"
  exit 0
fi
log "swarm node ${NODE_NAME} (${NODE_ID}) removed"
