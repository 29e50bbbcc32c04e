"""The POSIX sh scripts the stack's loader pool runs on each loader (probe, clear what an
earlier run left, unpack, start, wait, stop, remove), in the style of `loadgen.remote.scripts`:
each goes to `sh -c` with positional arguments, its first the remote directory (`~` expanded
there), so no path or name is interpolated into a command line.

Remote layout under the remote directory (default `~/faasbench`, shared with `run --remote`):

    venv-<hash>/                     faasbench of that content hash (`loadgen.remote.scripts`)
    dask/<session>/<slot>/           one pool's files for one loader (`loader-<index>`):
        ca.pem cert.pem key.pem      the run's CA and this loader's certificate and key (0600)
        scheduler.pid scheduler.log  the scheduler (first loader only)
        worker.pid worker.log work/  the worker
"""

from loadgen.remote.scripts import PRELUDE

#: python3 of 3.11 or later, the directory, and whether the venv of this content is there.
PROBE = (
    PRELUDE
    + """hash=$1
if ! command -v python3 >/dev/null 2>&1; then
  echo "no python3 on PATH" >&2; exit 3
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "python3 is $(python3 -V 2>&1), faasbench needs 3.11 or later" >&2; exit 3
fi
mkdir -p "$dir"
cd "$dir"
echo "dir=$(pwd)"
if [ -f "venv-$hash/.faasbench-installed" ]; then echo venv=ready; else echo venv=missing; fi
"""
)

#: Stop the processes of every other session (a pool an interrupted or killed run left
#: behind would hold the scheduler's port) and remove their files.
CLEAR_STALE = (
    PRELUDE
    + """session=$1
[ -d "$dir/dask" ] || exit 0
pids=
for pidfile in "$dir"/dask/*/*/*.pid; do
  [ -f "$pidfile" ] || continue
  case $pidfile in "$dir/dask/$session/"*) continue ;; esac
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    echo "stopped $(basename "$pidfile" .pid) (pid $pid) left by an earlier run"
    pids="$pids $pid"
  fi
done
for pid in $pids; do
  n=0
  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 20 ]; do sleep 0.5; n=$((n + 1)); done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
done
for old in "$dir"/dask/*; do
  if [ -d "$old" ] && [ "$old" != "$dir/dask/$session" ]; then rm -rf "$old"; fi
done
"""
)

#: A tar stream on stdin, unpacked under the directory with private permissions.
UNPACK = (
    PRELUDE
    + """umask 077
mkdir -p "$dir"
tar --no-same-owner -xf - -C "$dir"
"""
)

#: `python -m dask <role> ARGS...` in the slot's folder, in a session of its own (so the stop
#: reaches all of it), TLS required, detached from ssh: its pid in <role>.pid.
START = (
    PRELUDE
    + """session=$1; slot=$2; role=$3; hash=$4; shift 4
cd "$dir/dask/$session/$slot"
DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True
export DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION
setsid "$dir/venv-$hash/bin/python" -m dask "$role" "$@" >"$role.log" 2>&1 </dev/null &
echo $! >"$role.pid"
"""
)

#: Until <role>.log holds PATTERN: exit 0; the process gone or TIMEOUT seconds passed: exit 1
#: with the log's last lines.
WAIT_FOR_LOG = (
    PRELUDE
    + """session=$1; slot=$2; role=$3; pattern=$4; timeout=$5
cd "$dir/dask/$session/$slot"
pid=$(cat "$role.pid")
waited=0
while :; do
  if grep -q -- "$pattern" "$role.log" 2>/dev/null; then exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cause=$(grep -E '^[A-Za-z_.]*(Error|Exception)\b' "$role.log" | head -n 1)
    echo "the $role exited: $cause" >&2
    echo "last lines of its log:" >&2
    tail -n 20 "$role.log" >&2
    exit 1
  fi
  if [ "$waited" -ge "$((timeout * 2))" ]; then
    echo "the $role did not start in ${timeout} s; last lines of its log:" >&2
    tail -n 20 "$role.log" >&2
    exit 1
  fi
  sleep 0.5
  waited=$((waited + 1))
done
"""
)

#: The last lines of <role>.log (for an error message).
TAIL = (
    PRELUDE
    + """session=$1; slot=$2; role=$3
tail -n 20 "$dir/dask/$session/$slot/$role.log" 2>/dev/null || echo "(no $role log)"
"""
)

#: SIGTERM to the role's process group, SIGKILL after 10 s; then its log on stdout (the driver
#: keeps it). Stopping what is not running is no error.
STOP = (
    PRELUDE
    + """session=$1; slot=$2; role=$3
cd "$dir/dask/$session/$slot" 2>/dev/null || exit 0
if [ -s "$role.pid" ]; then
  pid=$(cat "$role.pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  n=0
  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 20 ]; do sleep 0.5; n=$((n + 1)); done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$role.pid"
fi
cat "$role.log" 2>/dev/null || true
"""
)

#: The slot's files (certificates and key, logs, the worker's folder) removed.
REMOVE = (
    PRELUDE
    + """session=$1; slot=$2
rm -rf "$dir/dask/$session/$slot"
rmdir "$dir/dask/$session" 2>/dev/null || true
"""
)
