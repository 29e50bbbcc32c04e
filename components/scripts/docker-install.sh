#!/usr/bin/env bash
# include: docker-lib
# Docker CE, pinned (DOCKER_VERSION, CONTAINERD_VERSION), using the network's MTU (MTU).
# INSECURE_REGISTRIES (optional): host:port words of the stack's plain-HTTP registry.

wait_for_cloud_init
install_docker
# shellcheck disable=SC2086  # a word list on purpose
configure_docker "$MTU" ${INSECURE_REGISTRIES:-}
log "Docker $(docker version --format '{{.Server.Version}}') is running"
