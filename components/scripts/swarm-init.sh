#!/usr/bin/env bash
# include: docker-lib
# The Swarm manager. Parameters: NODE_NAME, NODE_IP, MTU. Idempotent: an active manager is
# left as it is (its ingress network is still brought to the network's MTU).

state=$(swarm_state)
if [[ "$state" != active ]]; then
  docker swarm init --advertise-addr "$NODE_IP" --listen-addr "${NODE_IP}:2377" >/dev/null
  log "initialised the swarm on ${NODE_IP}"
fi
if [[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != true ]]; then
  die "${NODE_NAME} is in a swarm but is not a manager"
fi
ingress_mtu=$(docker network inspect ingress --format '{{index .Options "com.docker.network.driver.mtu"}}')
if [[ "$ingress_mtu" != "$MTU" ]]; then
  # The ingress network is created at init with 1500; recreate it at the network's MTU.
  echo y | docker network rm ingress >/dev/null
  docker network create --driver overlay --ingress \
    --opt "com.docker.network.driver.mtu=${MTU}" ingress >/dev/null
  log "ingress network recreated with MTU ${MTU}"
fi
docker node update --label-add faasbench.role=manager "$NODE_NAME" >/dev/null
