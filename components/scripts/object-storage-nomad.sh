#!/usr/bin/env bash
# On the first Nomad server: the object storage for `thumbnail` (objectStorage: true), the job
# `object-storage` on one worker with its Nomad Variable (the root secret key, read by the
# tasks' templates), then wait until the server answers on that worker. Parameters: NODE_IP,
# WORKER_IP, PORT, JOB (the POST /v1/jobs body), READY_TIMEOUT_S; secrets: NOMAD_TOKEN,
# VARIABLE (the PUT /v1/var body). Bodies go to Nomad's API on stdin; re-sent only when they
# change. The job's poststart task seeds the bucket, retried until the server answers.

nomad_get() {
  curl --fail --silent --show-error \
    --header @<(printf 'X-Nomad-Token: %s\n' "$NOMAD_TOKEN") "http://${NODE_IP}:4646/v1$1"
}

nomad_send() {
  curl --fail-with-body --silent --show-error --request "$1" --data-binary @- \
    --header @<(printf 'X-Nomad-Token: %s\n' "$NOMAD_TOKEN") "http://${NODE_IP}:4646/v1$2"
}

# send_if_changed NAME METHOD PATH BODY CHECK: send BODY unless the same one was sent last time
# and CHECK still finds it.
send_if_changed() {
  local name=$1 method=$2 path=$3 body=$4 digest recorded
  digest=$(printf '%s' "$body" | sha256sum | cut -d ' ' -f 1)
  recorded="${FAASBENCH_STATE}/object-storage-${name}.sha256"
  if [[ "$(cat "$recorded" 2>/dev/null)" == "$digest" ]] && nomad_get "$5" >/dev/null 2>&1; then
    return 0
  fi
  printf '%s' "$body" | nomad_send "$method" "$path" >/dev/null
  printf '%s\n' "$digest" >"$recorded"
  log "sent the object storage ${name} to Nomad"
}

send_if_changed variable PUT /var/nomad/jobs/object-storage "$VARIABLE" /var/nomad/jobs/object-storage
send_if_changed job POST /jobs "$JOB" /job/object-storage

# Any HTTP answer (an unsigned request gets 403) means the server listens.
wait_until "$READY_TIMEOUT_S" 5 "the object storage on ${WORKER_IP}:${PORT}" \
  curl --silent --show-error --max-time 3 "http://${WORKER_IP}:${PORT}/"
log "the object storage answers"
