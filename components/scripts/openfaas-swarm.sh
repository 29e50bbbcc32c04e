#!/usr/bin/env bash
# include: docker-lib
# On the Swarm manager: deploy the OpenFaaS stack. Parameters: COMPOSE (docker-compose.yml),
# PROMETHEUS_YML, ALERT_RULES_YML, ALERTMANAGER_YML, READY_TIMEOUT_S; secret:
# BASIC_AUTH_PASSWORD, given to `docker secret create` on stdin. Swarm secrets are immutable:
# when the password changes, the stack is removed and the secrets made anew.

dir=/opt/faasbench/openfaas
stack=func
install -d -m 0750 "$dir"
changed=false
write_if_changed "${dir}/docker-compose.yml" 0640 <<<"$COMPOSE" && changed=true
write_if_changed "${dir}/prometheus.yml" 0640 <<<"$PROMETHEUS_YML" && changed=true
write_if_changed "${dir}/alert.rules.yml" 0640 <<<"$ALERT_RULES_YML" && changed=true
write_if_changed "${dir}/alertmanager.yml" 0640 <<<"$ALERTMANAGER_YML" && changed=true

stack_exists() {
  docker stack ls --format '{{.Name}}' | grep -x "$stack" >/dev/null
}

digest=$(printf '%s' "$BASIC_AUTH_PASSWORD" | sha256sum | cut -d ' ' -f 1)
recorded="${FAASBENCH_STATE}/openfaas-basic-auth.sha256"
if [[ "$(cat "$recorded" 2>/dev/null)" != "$digest" ]] ||
  ! docker secret inspect basic-auth-password >/dev/null 2>&1; then
  if stack_exists; then
    docker stack rm "$stack" >/dev/null
    wait_until "$READY_TIMEOUT_S" 2 "the old OpenFaaS stack to go" bash -c '! docker service ls -q --filter label=com.docker.stack.namespace=func | grep . >/dev/null'
  fi
  docker secret rm basic-auth-user basic-auth-password >/dev/null 2>&1 || true
  printf 'admin' | docker secret create basic-auth-user - >/dev/null
  printf '%s' "$BASIC_AUTH_PASSWORD" | docker secret create basic-auth-password - >/dev/null
  printf '%s\n' "$digest" >"$recorded"
  changed=true
  log "created the basic-auth secrets"
fi
if [[ "$changed" == true ]] || ! stack_exists; then
  (cd "$dir" && docker stack deploy --compose-file docker-compose.yml --prune "$stack" >/dev/null)
  log "deployed the OpenFaaS stack"
fi
wait_until "$READY_TIMEOUT_S" 5 "the OpenFaaS gateway on the manager" \
  curl --fail --silent --show-error http://127.0.0.1:8080/healthz
log "OpenFaaS answers on the manager"
