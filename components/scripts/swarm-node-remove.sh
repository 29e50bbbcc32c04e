#!/usr/bin/env bash
# On the manager, when a worker leaves the stack: remove it from the node list.

if command -v docker >/dev/null && docker node inspect "$NODE_NAME" >/dev/null 2>&1; then
  docker node rm --force "$NODE_NAME" >/dev/null
fi
