#!/usr/bin/env bash
# include: k3s-lib
# On the server, when a node leaves the stack: remove its Node object (a replaced machine
# would otherwise linger as NotReady and keep its pods bound).

if [[ -x "$K3S_BIN" ]]; then
  kubectl delete node "$NODE_NAME" --ignore-not-found --wait=false
fi
