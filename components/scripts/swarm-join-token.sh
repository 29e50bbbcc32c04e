#!/usr/bin/env bash
# On the manager: print the worker join token (the step's output is secret and not logged).

docker swarm join-token --quiet worker
