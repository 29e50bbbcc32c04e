#!/usr/bin/env bash
# The FTP server: vsftpd from the distribution (VSFTPD_VERSION, a release line such as
# 3.0.5-*), one local user with a generated password (FTP_PASSWORD, secret, set through
# chpasswd's stdin), read-only and chrooted in FTP_HOME, and the seeded test file made with
# openssl from TEST_FILE_KEY (hex) and TEST_FILE_BYTES. Parameters: FTP_USER, FTP_HOME,
# TEST_FILE, TEST_FILE_BYTES, TEST_FILE_KEY, TEST_FILE_SHA256; secret: FTP_PASSWORD; CONFIG is vsftpd.conf.

wait_for_cloud_init
apt_install_pinned "vsftpd=${VSFTPD_VERSION}"
# Logins without a shell are refused by pam_shells unless nologin is a listed shell.
grep -qx /usr/sbin/nologin /etc/shells || echo /usr/sbin/nologin >>/etc/shells
if ! id -u "$FTP_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$FTP_HOME" --no-create-home --shell /usr/sbin/nologin "$FTP_USER"
fi
printf '%s:%s\n' "$FTP_USER" "$FTP_PASSWORD" | chpasswd
# The chroot must not be writable by the user (vsftpd refuses otherwise): root owns it.
install -d -m 0755 -o root -g root "$FTP_HOME"
target="${FTP_HOME}/${TEST_FILE}"
if ! echo "${TEST_FILE_SHA256}  ${target}" | sha256sum --check --status 2>/dev/null; then
  openssl enc -aes-128-ctr -K "$TEST_FILE_KEY" -iv 00000000000000000000000000000000 -nosalt \
    -in <(head -c "$TEST_FILE_BYTES" /dev/zero) -out "${target}.tmp"
  echo "${TEST_FILE_SHA256}  ${target}.tmp" | sha256sum --check --status ||
    die "the generated test file does not have the expected SHA-256"
  chmod 0644 "${target}.tmp"
  mv -f "${target}.tmp" "$target"
  log "seeded ${target} (${TEST_FILE_BYTES} bytes)"
fi
printf '%s\n' "$FTP_USER" | write_if_changed /etc/vsftpd.userlist 0644 || true
changed=false
if printf '%s' "$CONFIG" | write_if_changed /etc/vsftpd.conf 0644; then
  changed=true
fi
install -d -m 0755 /var/run/vsftpd/empty
systemctl enable vsftpd.service >/dev/null
if [[ "$changed" == true ]]; then
  systemctl restart vsftpd.service
else
  systemctl start vsftpd.service
fi
log "vsftpd serves ${target} to ${FTP_USER}"
