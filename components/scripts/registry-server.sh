#!/usr/bin/env bash
# The stack's private registry on the bastion: distribution's registry (REGISTRY_IMAGE, an
# exact tag) as a Docker container, published on the bastion's private address only
# (LISTEN_ADDRESS:PORT), plain HTTP, no credentials (OpenFaaS CE pulls anonymously). Images live
# in ${FAASBENCH_STATE}/registry, so a re-created container keeps them. READY_TIMEOUT_S bounds
# the wait for its API.

wait_for_cloud_init
name=faasbench-registry
data="${FAASBENCH_STATE}/registry"
install -d -m 0755 "$data"
# The container's settings, as a label: a changed image or address re-creates it, nothing else.
spec="${REGISTRY_IMAGE} ${LISTEN_ADDRESS}:${PORT}"
current=$(docker container inspect --format '{{index .Config.Labels "faasbench.spec"}}' "$name" \
  2>/dev/null || true)
if [[ "$current" != "$spec" ]]; then
  if [[ -n "$current" ]]; then
    log "re-creating the registry container (was: ${current})"
    docker container rm --force "$name" >/dev/null
  fi
  docker container run --detach --name "$name" --restart always \
    --label "faasbench.spec=${spec}" \
    --publish "${LISTEN_ADDRESS}:${PORT}:5000" \
    --volume "${data}:/var/lib/registry" \
    "$REGISTRY_IMAGE" >/dev/null
elif [[ "$(docker container inspect --format '{{.State.Running}}' "$name")" != true ]]; then
  docker container start "$name" >/dev/null
fi
wait_until "$READY_TIMEOUT_S" 2 "the registry at ${LISTEN_ADDRESS}:${PORT}" \
  curl --fail --silent --show-error "http://${LISTEN_ADDRESS}:${PORT}/v2/"
log "registry ${REGISTRY_IMAGE} serves http://${LISTEN_ADDRESS}:${PORT}"
