#!/usr/bin/env bash
# include: docker-lib
# A worker leaves the swarm (when it is removed from the stack).

if command -v docker >/dev/null && [[ "$(swarm_state)" == active ]]; then
  docker swarm leave --force >/dev/null
fi
