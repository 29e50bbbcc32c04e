#!/usr/bin/env bash
# include: docker-lib
# A worker leaves the swarm (its join is replaced: e.g. a new manager). Skipped when the
# machine itself is being deleted (deleted_with). Parameters: REQUEST_TIMEOUT_S, ATTEMPTS.
# Bounded: when Docker does not answer, it warns and exits 0.

if ! command -v docker >/dev/null; then
  exit 0
fi
if ! state=$(with_retries docker info --format '{{.Swarm.LocalNodeState}}'); then
  warn "Docker did not answer: this node did not leave the swarm"
  exit 0
fi
if [[ "$state" == active ]] && ! with_retries docker swarm leave --force >/dev/null; then
  warn "Docker did not answer: this node did not leave the swarm"
  exit 0
fi
