#!/usr/bin/env bash
# include: ftp-account
# The FTP server inside a cluster (existing clusters have no machine of ours): run as the
# command of a pinned Debian image. Packages come from snapshot.debian.org at the image's own
# date (APT_SNAPSHOT, e.g. 20251229T000000Z), so the versions are the image's and never move:
# vsftpd=VSFTPD_VERSION and the snapshot's openssl 3 (for the seeded file). Then the account and
# test file as on a machine, and vsftpd in the foreground as the container's main process.
# Parameters: APT_SNAPSHOT, VSFTPD_VERSION, POLICY_RC_D (where invoke-rc.d looks), FTP_USER,
# FTP_HOME, TEST_FILE, TEST_FILE_BYTES, TEST_FILE_KEY, TEST_FILE_SHA256, CONFIG; FTP_PASSWORD
# comes from the pod's environment (a Kubernetes secret).

: "${FTP_PASSWORD:?FTP_PASSWORD must come from the pod secret}"
codename=$(os_release_field VERSION_CODENAME)
sources="deb [check-valid-until=no] http://snapshot.debian.org/archive/debian/${APT_SNAPSHOT} ${codename} main
deb [check-valid-until=no] http://snapshot.debian.org/archive/debian-security/${APT_SNAPSHOT} ${codename}-security main"
if printf '%s\n' "$sources" | write_if_changed /etc/apt/sources.list.d/snapshot.list 0644; then
  rm -f /etc/apt/sources.list /etc/apt/sources.list.d/debian.sources
  apt_get -o Acquire::Retries=5 update
fi
# No init system here: package scripts must not start a second vsftpd (policy-rc.d says no).
printf '#!/bin/sh\nexit 101\n' | write_if_changed "$POLICY_RC_D" 0755 || true
apt_install_pinned "vsftpd=${VSFTPD_VERSION}" "openssl=3.*"
ftp_account
printf '%s' "$CONFIG" | write_if_changed /etc/vsftpd.conf 0644 || true
log "vsftpd serves ${FTP_HOME}/${TEST_FILE} to ${FTP_USER}"
exec vsftpd /etc/vsftpd.conf
