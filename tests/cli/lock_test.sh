#!/usr/bin/env bash
# While another process holds the log (here `rill consume --follow`), commands
# that open it fail naming that process's pid; verify and dump still work,
# read-only. The follower stops cleanly on SIGTERM and prints what it read.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$RILL" topics create t --partitions 1
seq 1 1000 | "$RILL" produce t || fail "produce"

"$RILL" consume t --follow --from 990 >follow.out 2>follow.err &
holder=$!
trap 'kill "$holder" 2>/dev/null || true' EXIT
# Wait until it holds the lock -- without opening the log, which would keep
# it from doing so: the holder writes its pid into the lock file.
for _ in $(seq 1 200); do
  [ "$(cat "$RILL_DIR/.lock" 2>/dev/null)" = "$holder" ] && break
  kill -0 "$holder" 2>/dev/null || fail "the follower exited: $(cat follow.err)"
  sleep 0.025
done
[ "$(cat "$RILL_DIR/.lock")" = "$holder" ] || fail "the follower never held the log"

expect_exit 1 "$RILL" topics list
expect_in err "locked by process $holder"

expect_exit 1 "$RILL" produce t <<<"x"
expect_in err "^rill: .*/log/\.lock is locked by process $holder: the log is open"
expect_exit 1 "$RILL" topics create u
expect_in err "locked by process $holder"
expect_exit 1 "$RILL" stats
expect_in err "locked by process $holder"

# Reading the files needs no lock.
expect_exit 0 "$RILL" verify
expect_in out ": OK"
expect_exit 0 "$RILL" dump "$RILL_DIR/t-0" --records
expect_in out '^\| offset: 999 .* value: "1000"'

kill -TERM "$holder"
wait "$holder" || fail "the follower exited with $? on SIGTERM"
trap - EXIT
[ "$(cat follow.out)" = "$(seq 991 1000)" ] || fail "the follower printed: $(cat follow.out)"
# It closed the log cleanly: nothing to recover, and the lock is free.
expect_exit 0 "$RILL" topics describe t
expect_not_in err "recover"
echo "PASS"
