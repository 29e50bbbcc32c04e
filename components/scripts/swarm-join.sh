#!/usr/bin/env bash
# include: docker-lib
# A worker joins the swarm. Parameters: NODE_IP, MANAGER_IP; secret: SWARM_TOKEN, sent to the
# Engine API on stdin (the CLI would put it on the command line).

state=$(swarm_state)
if [[ "$state" == active ]]; then
  log "already in the swarm"
  exit 0
fi
printf '{"ListenAddr": "%s:2377", "AdvertiseAddr": "%s", "RemoteAddrs": ["%s:2377"], "JoinToken": "%s"}' \
  "$NODE_IP" "$NODE_IP" "$MANAGER_IP" "$SWARM_TOKEN" | docker_api POST /swarm/join >/dev/null ||
  die "could not join the swarm at ${MANAGER_IP}:2377"
wait_until 120 2 "this node to be active in the swarm" test "$(swarm_state)" = active
log "joined the swarm at ${MANAGER_IP}"
