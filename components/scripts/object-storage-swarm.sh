#!/usr/bin/env bash
# On the Swarm manager: the object storage for `thumbnail` (objectStorage: true) as the stack
# faasbench-storage on OpenFaaS's functions overlay, then its seeding. Parameters: COMPOSE,
# NETWORK (the overlay it joins), ENDPOINT, BUCKET, ACCESS_KEY, REGION, SEED_IMAGE, SEED_INIT_PY,
# SEED_PARAMS_PY, SEED_S3_PY, SEED_THUMBNAIL_PY (the suite's modules the seeding runs),
# READY_TIMEOUT_S; secret: SECRET_KEY, given to `docker secret create` on stdin and to the
# seeding container through its environment (`-e NAME`, never a value on a command line).

dir=/opt/faasbench/object-storage
stack=faasbench-storage
secret=object-storage-secret-key
install -d -m 0750 "$dir" "${dir}/functions"
changed=false
write_if_changed "${dir}/docker-compose.yml" 0640 <<<"$COMPOSE" && changed=true

stack_exists() {
  docker stack ls --format '{{.Name}}' | grep -x "$stack" >/dev/null
}

digest=$(printf '%s' "$SECRET_KEY" | sha256sum | cut -d ' ' -f 1)
recorded="${FAASBENCH_STATE}/object-storage-secret.sha256"
if [[ "$(cat "$recorded" 2>/dev/null)" != "$digest" ]] ||
  ! docker secret inspect "$secret" >/dev/null 2>&1; then
  if stack_exists; then
    docker stack rm "$stack" >/dev/null
    wait_until "$READY_TIMEOUT_S" 2 "the old object storage stack to go" bash -c "! docker service ls -q --filter label=com.docker.stack.namespace=${stack} | grep . >/dev/null"
  fi
  docker secret rm "$secret" >/dev/null 2>&1 || true
  printf '%s' "$SECRET_KEY" | docker secret create "$secret" - >/dev/null
  printf '%s\n' "$digest" >"$recorded"
  changed=true
  log "created the object storage's secret"
fi
# OpenFaaS's stack makes the overlay; the two stacks are deployed side by side.
wait_until "$READY_TIMEOUT_S" 5 "the ${NETWORK} network" docker network inspect "$NETWORK"
if [[ "$changed" == true ]] || ! stack_exists; then
  (cd "$dir" && docker stack deploy --compose-file docker-compose.yml --prune "$stack" >/dev/null)
  log "deployed the object storage stack"
fi

sources_changed=false
write_if_changed "${dir}/functions/__init__.py" 0644 <<<"$SEED_INIT_PY" && sources_changed=true
write_if_changed "${dir}/functions/_params.py" 0644 <<<"$SEED_PARAMS_PY" && sources_changed=true
write_if_changed "${dir}/functions/_s3.py" 0644 <<<"$SEED_S3_PY" && sources_changed=true
write_if_changed "${dir}/functions/thumbnail.py" 0644 <<<"$SEED_THUMBNAIL_PY" && sources_changed=true
seeded="${FAASBENCH_STATE}/object-storage.seeded"
if [[ "$changed" == true || "$sources_changed" == true || ! -f "$seeded" ]]; then
  rm -f "$seeded"
  export S3_ENDPOINT="$ENDPOINT" S3_BUCKET="$BUCKET" S3_ACCESS_KEY="$ACCESS_KEY" S3_REGION="$REGION"
  export S3_SECRET_KEY="$SECRET_KEY"
  # Retried until the server answers (its image pulled, its task started).
  wait_until "$READY_TIMEOUT_S" 5 "the object storage to be seeded" \
    docker run --rm --network "$NETWORK" \
    --volume "${dir}/functions:/opt/faasbench/functions:ro" --workdir /opt/faasbench \
    -e S3_ENDPOINT -e S3_BUCKET -e S3_ACCESS_KEY -e S3_SECRET_KEY -e S3_REGION \
    "$SEED_IMAGE" python -m functions.thumbnail seed
  unset S3_SECRET_KEY
  touch "$seeded"
  log "seeded the object storage"
fi
