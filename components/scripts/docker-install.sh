#!/usr/bin/env bash
# include: docker-lib
# Docker CE, pinned (DOCKER_VERSION, CONTAINERD_VERSION), using the network's MTU.

wait_for_cloud_init
install_docker
configure_docker "$MTU"
log "Docker $(docker version --format '{{.Server.Version}}') is running"
