"""The POSIX sh scripts a remote campaign runs on the loader (probe, upload, install, run,
signal, fetch, clean up).

Each is given to `sh -c` with positional arguments, its first the remote directory (`~` is
expanded there), so paths and names are never interpolated into a command line.
"""

#: Remote exit status: no results tree there (yet).
NOTHING = 4

PRELUDE = """set -eu
dir=$1; shift
case $dir in "~") dir=$HOME ;; "~/"*) dir=$HOME/${dir#"~/"} ;; esac
"""

PROBE = (
    PRELUDE
    + """hash=$1; name=$2
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
if [ -f "campaigns/$name/results/manifest.json" ]; then echo results=yes; else echo results=no; fi
pgid_file=campaigns/$name/loadgen.pgid
if [ -s "$pgid_file" ] && kill -0 -- "-$(cat "$pgid_file")" 2>/dev/null; then
  echo running=yes
else
  echo running=no
fi
"""
)

UPLOAD = (
    PRELUDE
    + """name=$1; fresh=$2
umask 077
campaign=$dir/campaigns/$name
if [ "$fresh" = fresh ]; then rm -rf "$campaign/results"; fi
mkdir -p "$campaign"
rm -f "$campaign/loadgen.pgid"
tar --no-same-owner -xf - -C "$dir"
"""
)

INSTALL = (
    PRELUDE
    + """hash=$1; wheel=$dir/$2; mode=$3
venv=$dir/venv-$hash
rm -rf "$venv"
if [ "$mode" = offline ]; then set -- --no-index --find-links "$dir/wheelhouse"; else set --; fi
if [ "$mode" = online ] && command -v uv >/dev/null 2>&1; then
  echo "installing with uv"
  uv venv --quiet --python python3 "$venv"
  uv pip install --quiet --python "$venv/bin/python" "$wheel"
else
  if ! python3 -m venv "$venv" >"$dir/venv.log" 2>&1; then
    pip_wheel=$(ls "$dir"/bootstrap/pip-*.whl 2>/dev/null | tail -n 1)
    if [ -z "$pip_wheel" ]; then cat "$dir/venv.log" >&2; exit 1; fi
    echo "python3 -m venv has no ensurepip here: bootstrapping pip from $(basename "$pip_wheel")"
    rm -rf "$venv"
    python3 -m venv --without-pip "$venv"
    "$venv/bin/python" "$pip_wheel/pip" install --quiet --no-index "$pip_wheel"
  fi
  echo "installing with pip${1:+ from the wheelhouse}"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$@" "$wheel"
fi
"$venv/bin/loadgen" --help >/dev/null
touch "$venv/.faasbench-installed"
"""
)

RUN = (
    PRELUDE
    + """name=$1; hash=$2; shift 2
cd "$dir/campaigns/$name"
pgid=$(ps -o pgid= -p $$ 2>/dev/null | tr -d ' ' || true)
[ -n "$pgid" ] || pgid=$(cut -d ' ' -f 5 /proc/$$/stat)
echo "$pgid" > loadgen.pgid
exec env TERM=dumb COLUMNS=120 PYTHONUNBUFFERED=1 "$dir/venv-$hash/bin/loadgen" run "$@"
"""
)

SIGNAL = (
    PRELUDE
    + """name=$1; sig=$2
pgid_file=$dir/campaigns/$name/loadgen.pgid
[ -s "$pgid_file" ] || exit 4
kill -s "$sig" -- "-$(cat "$pgid_file")" 2>/dev/null || exit 4
"""
)

FETCH = (
    PRELUDE
    + """results=$dir/campaigns/$1/results
[ -d "$results" ] || exit 4
tar -C "$results" -cf - .
"""
)

CLEANUP = (
    PRELUDE
    + """rm -f "$dir/campaigns/$1/outputs.json" "$dir/campaigns/$1/loadgen.pgid"
"""
)
