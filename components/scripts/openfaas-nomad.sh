#!/usr/bin/env bash
# On the first Nomad server: the function namespace, the job's Nomad Variable (credentials the
# OpenFaaS tasks read through templates) and the OpenFaaS job, then wait for the gateway.
# Parameters: NODE_IP, WORKER_IPS, JOB (the POST /v1/jobs body), READY_TIMEOUT_S; secrets:
# NOMAD_TOKEN, VARIABLE (the PUT /v1/var body). Bodies go to Nomad's API on stdin; re-sent
# only when they change.

nomad_get() {
  curl --fail --silent --show-error \
    --header @<(printf 'X-Nomad-Token: %s\n' "$NOMAD_TOKEN") "http://${NODE_IP}:4646/v1$1"
}

nomad_send() {
  curl --fail-with-body --silent --show-error --request "$1" --data-binary @- \
    --header @<(printf 'X-Nomad-Token: %s\n' "$NOMAD_TOKEN") "http://${NODE_IP}:4646/v1$2"
}

# send_if_changed NAME METHOD PATH BODY: send BODY unless the same one was sent last time.
send_if_changed() {
  local name=$1 method=$2 path=$3 body=$4 digest recorded
  digest=$(printf '%s' "$body" | sha256sum | cut -d ' ' -f 1)
  recorded="${FAASBENCH_STATE}/openfaas-${name}.sha256"
  if [[ "$(cat "$recorded" 2>/dev/null)" == "$digest" ]] && nomad_get "$5" >/dev/null 2>&1; then
    return 0
  fi
  printf '%s' "$body" | nomad_send "$method" "$path" >/dev/null
  printf '%s\n' "$digest" >"$recorded"
  log "sent the ${name} to Nomad"
}

if ! nomad_get /namespace/openfaas-fn >/dev/null 2>&1; then
  printf '{"Name": "openfaas-fn", "Description": "OpenFaaS functions (faasbench)"}' |
    nomad_send POST /namespace/openfaas-fn >/dev/null
  log "created the openfaas-fn namespace"
fi
send_if_changed variable PUT /var/nomad/jobs/openfaas "$VARIABLE" /var/nomad/jobs/openfaas
send_if_changed job POST /jobs "$JOB" /job/openfaas

gateway_answers() {
  local ip
  for ip in $WORKER_IPS; do
    if curl --fail --silent --max-time 3 "http://${ip}:8080/healthz" >/dev/null; then
      return 0
    fi
  done
  echo "no worker answers on :8080/healthz yet"
  return 1
}
wait_until "$READY_TIMEOUT_S" 5 "the OpenFaaS gateway on a worker" gateway_answers
log "OpenFaaS answers"
