#!/usr/bin/env bash
# Vault on the first Nomad server, for function secrets (jsiebens/faas-nomad reads them from
# Vault). Initialised once with a single unseal key kept in a root-only file on this machine
# and unsealed at every boot by a unit of ours. Parameters: NODE_IP, READY_TIMEOUT_S; secrets:
# CONFIG (vault.hcl), OPENFAAS_TOKEN (a UUID: the token the OpenFaaS provider will use),
# POLICY (its policy).

init_file=/etc/vault.d/faasbench-init.json
export VAULT_ADDR="http://${NODE_IP}:8200"
install -d -m 0750 -o vault -g vault /etc/vault.d /opt/vault/data
changed=false
if printf '%s' "$CONFIG" | write_if_changed /etc/vault.d/vault.hcl 0640; then
  changed=true
fi
chown root:vault /etc/vault.d/vault.hcl
write_if_changed /usr/local/sbin/faasbench-vault-unseal 0700 <<'UNSEAL' || true
#!/usr/bin/env bash
# Unseal Vault with the key faasbench stored at initialisation.
set -euo pipefail
export VAULT_ADDR="$1"
for _ in $(seq 60); do
  code=0
  vault status >/dev/null 2>&1 || code=$?
  if [[ $code == 0 ]]; then exit 0; fi
  if [[ $code == 2 ]]; then
    jq '{key: .unseal_keys_b64[0]}' /etc/vault.d/faasbench-init.json |
      curl --fail --silent --show-error --request PUT --data-binary @- "$1/v1/sys/unseal" >/dev/null
    exit 0
  fi
  sleep 2
done
echo "Vault at $1 did not answer" >&2
exit 1
UNSEAL
write_if_changed /etc/systemd/system/faasbench-vault-unseal.service 0644 <<UNIT || true
[Unit]
Description=Unseal Vault (faasbench)
After=vault.service
Requires=vault.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/faasbench-vault-unseal ${VAULT_ADDR}

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable vault.service faasbench-vault-unseal.service >/dev/null
if [[ "$changed" == true ]]; then
  systemctl restart vault.service
else
  systemctl start vault.service
fi

# `vault status` exits 0 when unsealed, 2 when sealed, 1 on error.
answers() {
  local code=0
  vault status >/dev/null 2>&1 || code=$?
  [[ $code == 0 || $code == 2 ]]
}
wait_until "$READY_TIMEOUT_S" 2 "Vault on ${NODE_IP}" answers
# `vault status` exits 2 while sealed (so also before initialisation): read its JSON anyway.
status_json=$(vault status -format=json || true)
if [[ "$(jq -r .initialized <<<"$status_json")" != true ]]; then
  umask 077
  vault operator init -key-shares=1 -key-threshold=1 -format=json >"${init_file}.new"
  mv -f "${init_file}.new" "$init_file"
  umask 022
  log "Vault initialised"
fi
systemctl start faasbench-vault-unseal.service
VAULT_TOKEN=$(jq -r .root_token "$init_file")
export VAULT_TOKEN
if ! vault secrets list -format=json | jq -e 'has("openfaas-fn/")' >/dev/null; then
  vault secrets enable -path=openfaas-fn -version=1 kv >/dev/null
  log "enabled the openfaas-fn secrets engine"
fi
printf '%s' "$POLICY" | vault policy write faasbench-openfaas - >/dev/null
if ! printf '{"token": "%s"}' "$OPENFAAS_TOKEN" |
  curl --fail --silent --request POST --data-binary @- \
    --header @<(printf 'X-Vault-Token: %s\n' "$VAULT_TOKEN") \
    "${VAULT_ADDR}/v1/auth/token/lookup" >/dev/null; then
  printf '{"id": "%s", "policies": ["faasbench-openfaas"], "no_parent": true, "period": "768h", "display_name": "faasbench-openfaas"}' \
    "$OPENFAAS_TOKEN" | vault write -format=json auth/token/create - >/dev/null
  log "created the OpenFaaS provider's Vault token"
fi
