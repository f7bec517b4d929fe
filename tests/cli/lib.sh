# Helpers sourced by the rill command's tests. Each test runs the installed
# binary ($RILL) in a scratch directory ($WORK) of its own.
set -euo pipefail
: "${RILL:?set RILL to the rill binary}" "${WORK:?set WORK to a scratch directory}"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
export RILL_DIR="$WORK/log"

fail() {
  echo "FAIL: $*" >&2
  for f in out err; do
    if [ -s "$WORK/$f" ]; then
      echo "--- std$f of the last command:" >&2
      head -n 30 "$WORK/$f" >&2
    fi
  done
  exit 1
}

# run CMD...: runs CMD with its stdout in $WORK/out, stderr in $WORK/err, and
# its exit code in $status.
run() {
  set +e
  "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  set -e
}

# expect_exit CODE CMD...: runs CMD and fails unless it exits with CODE.
expect_exit() {
  local code=$1
  shift
  run "$@"
  [ "$status" -eq "$code" ] || fail "expected exit $code, got $status: $*"
}

# expect_in out|err REGEX: fails unless the last command's output matches.
expect_in() {
  grep -Eq -- "$2" "$WORK/$1" || fail "std$1 does not match /$2/"
}
expect_not_in() {
  if grep -Eq -- "$2" "$WORK/$1"; then fail "std$1 matches /$2/"; fi
}

# snapshot DIR: every entry under DIR with its type, size and checksum -- all
# that a command that fails must not change. The lock file's content (the pid
# of the last process that opened the log) is left out.
snapshot() {
  [ -e "$1" ] || { echo "absent"; return; }
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r path; do
    if [ -d "$path" ]; then
      echo "$path dir"
    elif [ "$(basename "$path")" = .lock ]; then
      echo "$path lock"
    else
      echo "$path $(stat -c %s "$path") $(md5sum <"$path" | cut -d' ' -f1)"
    fi
  done)
}
