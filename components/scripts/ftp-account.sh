# shellcheck shell=bash
# Fragment (included by the FTP steps): ftp_account sets up the FTP user, its chroot and the
# seeded test file. Needs FTP_USER, FTP_PASSWORD (secret), FTP_HOME, TEST_FILE, TEST_FILE_BYTES,
# TEST_FILE_KEY (hex) and TEST_FILE_SHA256; vsftpd and openssl installed.

ftp_account() {
  local target
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
  install -d -m 0755 /var/run/vsftpd/empty
}
