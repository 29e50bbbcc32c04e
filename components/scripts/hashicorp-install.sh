#!/usr/bin/env bash
# HashiCorp tools from HashiCorp's apt repository, pinned. Parameters: PACKAGES, words such as
# nomad=1.11.3 consul=1.22.6 (upstream versions; the apt revision -1 is added here). The
# services are configured and started by later steps.

# HashiCorp's release signing key (https://apt.releases.hashicorp.com/gpg).
HASHICORP_KEY_FINGERPRINT=798AEC654E5C15428C8E42EEAA16FCBCA621E701

wait_for_cloud_init
codename=$(os_release_field VERSION_CODENAME)
apt_repository hashicorp "https://apt.releases.hashicorp.com/gpg" "$HASHICORP_KEY_FINGERPRINT" \
  "https://apt.releases.hashicorp.com ${codename} main"
specs=()
for package in $PACKAGES; do
  specs+=("${package}-1")
done
apt_install_pinned "${specs[@]}"
for service in nomad consul vault; do
  # The packages ship units that would start with their sample configuration; later steps
  # write ours first.
  if [[ " $PACKAGES" == *" ${service}="* ]]; then
    systemctl disable --now "${service}.service" >/dev/null 2>&1 || true
  fi
done
log "installed ${PACKAGES}"
