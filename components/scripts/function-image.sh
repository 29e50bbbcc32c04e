#!/usr/bin/env bash
# The suite's function image: build it from the sources on stdin and push it, once per tag.
# Parameters: IMAGE (registry/namespace/repository:tag, the tag derived from the sources),
# REGISTRY_SERVER, REGISTRY_USERNAME (empty: the stack's own registry, which takes anonymous
# pushes), SOURCES (base64 of a tar.gz holding functions/), SOURCES_SHA256 (of the uncompressed
# tar); secret: REGISTRY_TOKEN (with REGISTRY_USERNAME), handed to docker login on its stdin.
# Docker's stored login is removed again before the step ends.

wait_for_cloud_init
pushed_dir="${FAASBENCH_STATE}/images"
install -d -m 0755 "$pushed_dir"
marker="${pushed_dir}/$(printf '%s' "$IMAGE" | sha256sum | cut -c1-32).pushed"
if [[ -f "$marker" && "$(cat "$marker")" == "$IMAGE" ]]; then
  log "${IMAGE} is already built and pushed"
  exit 0
fi

work=$(mktemp -d)
logged_in=false
cleanup() {
  if [[ "$logged_in" == true ]]; then
    docker logout "$REGISTRY_SERVER" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

printf '%s' "$SOURCES" | base64 --decode >"${work}/sources.tar.gz"
actual=$(gzip --decompress --stdout "${work}/sources.tar.gz" | sha256sum | cut -d' ' -f1)
[[ "$actual" == "$SOURCES_SHA256" ]] ||
  die "the sources arrived damaged (sha256 ${actual}, expected ${SOURCES_SHA256})"
install -d -m 0755 "${work}/context"
tar --extract --gzip --no-same-owner --file "${work}/sources.tar.gz" --directory "${work}/context"
[[ -f "${work}/context/functions/Dockerfile" ]] || die "the sources hold no functions/Dockerfile"

log "building ${IMAGE}"
docker build --pull --file "${work}/context/functions/Dockerfile" --tag "$IMAGE" \
  --label "faasbench.sources.sha256=${SOURCES_SHA256}" "${work}/context" >&2
if [[ -n "$REGISTRY_USERNAME" ]]; then
  : "${REGISTRY_TOKEN:?REGISTRY_TOKEN must come with REGISTRY_USERNAME}"
  logged_in=true
  printf '%s' "$REGISTRY_TOKEN" |
    docker login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY_SERVER" >/dev/null ||
    die "docker login to ${REGISTRY_SERVER} as ${REGISTRY_USERNAME} failed"
fi
docker push "$IMAGE" >&2 || die "pushing ${IMAGE} failed"
printf '%s\n' "$IMAGE" | write_if_changed "$marker" 0644 || true
log "pushed ${IMAGE}"
