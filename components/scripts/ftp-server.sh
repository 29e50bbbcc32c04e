#!/usr/bin/env bash
# include: ftp-account
# The FTP server: vsftpd from the distribution (VSFTPD_VERSION, a release line such as
# 3.0.5-*), one local user with a generated password (FTP_PASSWORD, secret, set through
# chpasswd's stdin), read-only and chrooted in FTP_HOME, and the seeded test file made with
# openssl from TEST_FILE_KEY (hex) and TEST_FILE_BYTES. Parameters: FTP_USER, FTP_HOME,
# TEST_FILE, TEST_FILE_BYTES, TEST_FILE_KEY, TEST_FILE_SHA256; secret: FTP_PASSWORD; CONFIG is vsftpd.conf.

wait_for_cloud_init
apt_install_pinned "vsftpd=${VSFTPD_VERSION}"
ftp_account
changed=false
if printf '%s' "$CONFIG" | write_if_changed /etc/vsftpd.conf 0644; then
  changed=true
fi
systemctl enable vsftpd.service >/dev/null
if [[ "$changed" == true ]]; then
  systemctl restart vsftpd.service
else
  systemctl start vsftpd.service
fi
log "vsftpd serves ${FTP_HOME}/${TEST_FILE} to ${FTP_USER}"
