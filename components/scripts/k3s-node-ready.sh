#!/usr/bin/env bash
# include: k3s-lib
# On the server: wait until node NODE_NAME has joined and is Ready (READY_TIMEOUT_S).

wait_until "$READY_TIMEOUT_S" 5 "node ${NODE_NAME} to join and be Ready" node_ready "$NODE_NAME"
log "node ${NODE_NAME} is Ready"
