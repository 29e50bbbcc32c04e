#!/usr/bin/env bash
# On a loader of the loader pool: wait for its first-boot setup (chrony, Python 3, venv), then
# check what `loadgen --loaders stack` needs there: python3 of at least MIN_PYTHON (major.minor)
# with the venv module and ensurepip, and chrony running. Changes nothing; re-running is a
# no-op. Parameters: MIN_PYTHON.

wait_for_cloud_init
command -v python3 >/dev/null || die "no python3 on PATH: the setup should have installed it"
version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if ! python3 -c 'import sys; want = tuple(map(int, sys.argv[1].split("."))); sys.exit(sys.version_info[:2] < want)' "$MIN_PYTHON"; then
  die "python3 is ${version}; faasbench needs ${MIN_PYTHON} or later"
fi
python3 -c 'import ensurepip, venv' 2>/dev/null ||
  die "python3 ${version} lacks venv/ensurepip (package python3-venv)"
systemctl is-active --quiet chrony.service || die "chrony is not running"
log "loader ready: python3 ${version} with venv, chrony running"
