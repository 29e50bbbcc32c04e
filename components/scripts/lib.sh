# shellcheck shell=bash
# Functions shared by every remote step. Prepended to each rendered step, never run alone.

FAASBENCH_STATE=/var/lib/faasbench

log() {
  printf 'faasbench[%s]: %s\n' "${FAASBENCH_STEP:-step}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

warn() {
  log "WARNING: $*"
}

# bounded COMMAND...: COMMAND (a program), killed when it runs longer than REQUEST_TIMEOUT_S
# (default 15) seconds: a delete must not hang on an API that never answers.
bounded() {
  timeout --kill-after=5 "${REQUEST_TIMEOUT_S:-15}" "$@"
}

# with_retries COMMAND...: `bounded COMMAND` up to ATTEMPTS (default 3) times, 2 s apart. Its
# standard output is the successful attempt's; when every attempt fails, the last one's error
# (or the timeout) is logged and its status returned.
with_retries() {
  local attempt=1 status errors
  errors=$(mktemp)
  while true; do
    if bounded "$@" 2>"$errors"; then
      rm -f "$errors"
      return 0
    else
      status=$?
    fi
    if ((attempt >= ${ATTEMPTS:-3})); then
      if ((status == 124 || status == 137)); then
        log "$1 did not answer within ${REQUEST_TIMEOUT_S:-15}s (${attempt} attempts)"
      else
        log "$1 failed (exit ${status}, ${attempt} attempts): $(tail -c 400 "$errors" | tr '\n' ' ')"
      fi
      rm -f "$errors"
      return "$status"
    fi
    attempt=$((attempt + 1))
    sleep 2
  done
}

# print_node_id ID: the node's ID as this step's result (on stdout, where the component reads
# it: later steps address the node by it, never by its reusable name).
print_node_id() {
  [[ -n "$1" ]] || die "no node ID to report"
  printf 'FAASBENCH_NODE_ID=%s\n' "$1"
}

# wait_until TIMEOUT_S INTERVAL_S DESCRIPTION COMMAND...
# Re-runs COMMAND until it succeeds; fails naming DESCRIPTION (and COMMAND's last output).
wait_until() {
  local timeout=$1 interval=$2 description=$3
  shift 3
  local deadline=$((SECONDS + timeout)) output=""
  while true; do
    if output=$("$@" 2>&1); then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      die "timed out after ${timeout}s waiting for ${description}: ${output}"
    fi
    sleep "$interval"
  done
}

# Cloud-init must be done before a step installs anything (apt locks, sshd, sysctls). The
# machine's setup script (machine-setup.sh, cloud-init's only runcmd) writes the sentinel only
# when every one of its steps succeeded, and a failure marker naming the failed step otherwise;
# `cloud-init status --wait` alone is no signal (newer releases exit 2 on recoverable errors).
# A failure stops the step with the setup step's name and its log's last lines, instead of
# leaving later steps to time out. CLOUD_INIT_TIMEOUT_S (default 1800) bounds the wait.
wait_for_cloud_init() {
  local done="${FAASBENCH_STATE}/cloud-init.done" failed="${FAASBENCH_STATE}/cloud-init.failed"
  if [[ -f "$done" ]]; then
    return 0
  fi
  local status=0
  timeout "${CLOUD_INIT_TIMEOUT_S:-1800}" cloud-init status --wait >/dev/null 2>&1 || status=$?
  if [[ -f "$done" ]]; then
    return 0
  fi
  if [[ -f "$failed" ]]; then
    local step setup_log
    step=$(sed -n 's/^step=//p' "$failed")
    setup_log=$(sed -n 's/^log=//p' "$failed")
    die "the machine's setup failed at step ${step:-unknown} ($(sed -n 's/^exit=/exit /p' "$failed")); last lines of ${setup_log:-its log}:
$(last_lines "${setup_log:-/var/log/faasbench-setup.log}")"
  fi
  if ((status == 124)); then
    die "cloud-init still running after ${CLOUD_INIT_TIMEOUT_S:-1800}s; last lines of /var/log/cloud-init-output.log:
$(last_lines /var/log/cloud-init-output.log)"
  fi
  die "cloud-init finished (exit ${status}) without the machine's setup completing (no ${done}): $(cloud-init status --long 2>&1 | tr '\n' ' ')
last lines of /var/log/cloud-init-output.log:
$(last_lines /var/log/cloud-init-output.log)"
}

# last_lines FILE: its last 20 lines, indented (for error messages), or why there are none.
last_lines() {
  if [[ -r "$1" ]]; then
    tail -n 20 "$1" | sed 's/^/  | /'
  else
    echo "  ($1 is missing)"
  fi
}

# write_if_changed PATH MODE: writes stdin to PATH (atomically) only if the content differs.
# Returns 0 when the file changed, 1 when it was already up to date.
write_if_changed() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp "${path}.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [[ -f "$path" ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$path"
  return 0
}

# download_verified URL SHA256 DEST: fetch to DEST unless it is already there with that hash.
download_verified() {
  local url=$1 sha256=$2 dest=$3 tmp
  if [[ -f "$dest" ]] && echo "${sha256}  ${dest}" | sha256sum --check --status; then
    return 0
  fi
  install -d -m 0755 "$(dirname "$dest")"
  tmp=$(mktemp "${dest}.XXXXXX")
  curl --fail --silent --show-error --location --retry 5 --retry-connrefused \
    --output "$tmp" "$url" || die "download failed: ${url}"
  if ! echo "${sha256}  ${tmp}" | sha256sum --check --status; then
    rm -f "$tmp"
    die "checksum mismatch for ${url} (expected ${sha256})"
  fi
  mv -f "$tmp" "$dest"
}

# apt_repository NAME KEY_URL FINGERPRINT SOURCE_LINE: add a signed apt repository whose key is
# checked against a pinned fingerprint (the key is fetched over HTTPS, then verified).
apt_repository() {
  local name=$1 key_url=$2 fingerprint=$3 source_line=$4
  local keyring="/etc/apt/keyrings/${name}.gpg" list="/etc/apt/sources.list.d/${name}.list"
  install -d -m 0755 /etc/apt/keyrings
  if [[ ! -f "$keyring" ]] || ! gpg --show-keys --with-colons "$keyring" 2>/dev/null |
    awk -F: '$1 == "fpr" {print $10}' | grep -x "$fingerprint" >/dev/null; then
    local armored
    armored=$(mktemp)
    curl --fail --silent --show-error --location --retry 5 --output "$armored" "$key_url" ||
      die "could not fetch the ${name} signing key from ${key_url}"
    if ! gpg --show-keys --with-colons "$armored" | awk -F: '$1 == "fpr" {print $10}' |
      grep -x "$fingerprint" >/dev/null; then
      rm -f "$armored"
      die "the ${name} signing key at ${key_url} does not have fingerprint ${fingerprint}"
    fi
    gpg --dearmor --yes --output "$keyring" "$armored"
    rm -f "$armored"
    chmod 0644 "$keyring"
  fi
  if printf '%s\n' "deb [signed-by=${keyring}] ${source_line}" | write_if_changed "$list" 0644; then
    apt_get update
  fi
}

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"
}

# apt_install_pinned PKG=VERSION...: install exact versions and hold them, so an unattended
# upgrade cannot change the platform under a running benchmark. VERSION may end in `*` to pin
# a release line of a distribution package (its archive keeps only the latest patch).
apt_install_pinned() {
  local missing=() spec name version installed
  for spec in "$@"; do
    name=${spec%%=*}
    version=${spec#*=}
    installed=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
    # shellcheck disable=SC2053  # the right side is a glob on purpose
    if [[ -z "$installed" || "$installed" != $version ]]; then
      missing+=("$spec")
    fi
  done
  if ((${#missing[@]} > 0)); then
    apt_get install --no-install-recommends --allow-downgrades --allow-change-held-packages "${missing[@]}"
  fi
  for spec in "$@"; do
    apt-mark hold "${spec%%=*}" >/dev/null
  done
}

# os_release_field NAME: a field of /etc/os-release (VERSION_ID, VERSION_CODENAME, ...).
os_release_field() {
  awk -F= -v key="$1" '$1 == key { gsub(/"/, "", $2); print $2 }' /etc/os-release
}
