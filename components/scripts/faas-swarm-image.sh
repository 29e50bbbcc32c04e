#!/usr/bin/env bash
# On the Swarm manager: build the faas-swarm provider image from its pinned source, once per
# IMAGE (whose tag hashes the Dockerfile). Parameters: IMAGE (faasbench.invalid/faas-swarm:...),
# SOURCE_URL (the git repository), SOURCE_COMMIT (the full 40-hex commit to build),
# DOCKERFILE (components/faas_swarm_image.py). The commit is fetched by its id and checked with
# `git rev-parse HEAD` before anything is built; the build context is that checkout, without
# its .git.

wait_for_cloud_init
if docker image inspect --format '{{.Id}}' "$IMAGE" >/dev/null 2>&1; then
  log "${IMAGE} is already built"
  exit 0
fi
[[ "$SOURCE_COMMIT" =~ ^[0-9a-f]{40}$ ]] || die "SOURCE_COMMIT must be a full 40-hex commit id, got '${SOURCE_COMMIT}'"
command -v git >/dev/null || die "git is missing on this machine (Ubuntu's server images ship it)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source="${work}/source"
git init --quiet "$source"
git -C "$source" fetch --quiet --depth 1 "$SOURCE_URL" "$SOURCE_COMMIT" ||
  die "could not fetch commit ${SOURCE_COMMIT} from ${SOURCE_URL}"
git -C "$source" -c advice.detachedHead=false checkout --quiet --detach FETCH_HEAD
head=$(git -C "$source" rev-parse HEAD)
[[ "$head" == "$SOURCE_COMMIT" ]] ||
  die "${SOURCE_URL} gave commit ${head}, not the pinned ${SOURCE_COMMIT}: nothing was built"
rm -rf "${source}/.git"
printf '%s\n' "$DOCKERFILE" >"${work}/Dockerfile"

log "building ${IMAGE} from ${SOURCE_URL} at ${SOURCE_COMMIT}"
docker build --pull --file "${work}/Dockerfile" --tag "$IMAGE" "$source" >&2 ||
  die "building ${IMAGE} failed (see the build output above)"
log "built ${IMAGE}"
