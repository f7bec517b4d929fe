#!/usr/bin/env bash
# consume --from @UNIX_MS starts at the first record whose timestamp is at or
# after that time; --from OFFSET and the edges behave.
. "$(dirname "$0")/lib.sh"

now_ms() { date +%s%3N; }

expect_exit 0 "$RILL" topics create timed --partitions 1
seq 1 500 | "$RILL" produce timed || fail "produce 1"
sleep 0.05
t1=$(now_ms)
sleep 0.05
seq 501 1000 | "$RILL" produce timed || fail "produce 2"
sleep 0.05
t2=$(now_ms)
sleep 0.05
seq 1001 1200 | "$RILL" produce timed || fail "produce 3"

expect_exit 0 "$RILL" consume timed --from "@$t1" --format '%o %s %T\n'
[ "$(head -n 1 out | cut -d' ' -f1,2)" = "500 501" ] || fail "--from @t1 starts at $(head -n 1 out)"
[ "$(wc -l <out)" -eq 700 ] || fail "--from @t1 gave $(wc -l <out) records"
awk -v t="$t1" '$3 < t { exit 1 }' out || fail "a record before @t1 was printed"

expect_exit 0 "$RILL" consume timed --from "@$t2" --max 1 --format '%o %s\n'
[ "$(cat out)" = "1000 1001" ] || fail "--from @t2 starts at $(cat out)"

expect_exit 0 "$RILL" consume timed --from @0 --max 1
[ "$(cat out)" = "1" ] || fail "--from @0 does not start at the beginning"
expect_exit 0 "$RILL" consume timed --from "@$(($(now_ms) + 3600000))"
[ ! -s out ] || fail "--from a future time printed records"

# An offset past the end starts at the end; --from beginning is the default.
expect_exit 0 "$RILL" consume timed --from 5000
[ ! -s out ] || fail "--from past the end printed records"
expect_exit 0 "$RILL" consume timed
[ "$(wc -l <out)" -eq 1200 ] || fail "default --from is not the beginning"
echo "PASS"
