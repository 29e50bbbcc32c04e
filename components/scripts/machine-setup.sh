#!/bin/bash
# shellcheck disable=SC2154  # PACKAGES, CONTAINER_KERNEL: the header cloud_init.py renders
# A machine's first-boot setup, written by cloud-init (write_files) and run as its only runcmd.
# Strict: the first failing command stops it. Each step is named in the log; a failure leaves
# the failure marker naming the step (and no "done" sentinel), which the remote steps'
# wait_for_cloud_init (lib.sh) turns into an error with the log's last lines.
# Parameters (rendered above this body): PACKAGES (space-separated), CONTAINER_KERNEL.

set -euo pipefail
umask 022

STATE_DIR=/var/lib/faasbench
DONE="${STATE_DIR}/cloud-init.done"
FAILED="${STATE_DIR}/cloud-init.failed"
LOG=/var/log/faasbench-setup.log
STEP=start

install -d -m 0755 "$STATE_DIR"
rm -f "$DONE" "$FAILED"
# Everything goes to the log; fd 3 keeps cloud-init's own output for the summary lines.
exec 3>&2 >>"$LOG" 2>&1

say() {
  printf '%s faasbench-setup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
  printf 'faasbench-setup: %s\n' "$*" >&3
}

on_exit() {
  local status=$?
  if ((status != 0)); then
    printf 'step=%s\nexit=%s\nlog=%s\n' "$STEP" "$status" "$LOG" >"${FAILED}.tmp"
    mv -f "${FAILED}.tmp" "$FAILED"
    say "FAILED at step ${STEP} (exit ${status}); see ${LOG}"
  fi
}
trap on_exit EXIT

step() {
  STEP=$1
  say "step ${STEP}"
}

# apt-get that waits for the dpkg lock and retries: a fresh network's NAT and the mirrors
# are not always ready at first boot.
apt_retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
      -o Acquire::Retries=3 -y -q "$@"; then
      return 0
    fi
    say "apt-get $1 failed (attempt ${attempt} of 5)"
    ((attempt < 5)) && sleep $((attempt * 10))
  done
  return 1
}

step sshd
systemctl try-reload-or-restart ssh.service

step packages
apt_retry update
# shellcheck disable=SC2086  # a word list on purpose
apt_retry install --no-install-recommends $PACKAGES

step chrony
systemctl enable --now chrony.service

if [[ "$CONTAINER_KERNEL" == true ]]; then
  step kernel-modules
  modprobe overlay
  modprobe br_netfilter
  step sysctls
  sysctl -p /etc/sysctl.d/90-faasbench.conf
fi

step finish
touch "$DONE"
say "setup complete"
