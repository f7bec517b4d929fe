#!/usr/bin/env bash
# rill consume --group resumes from the group's committed offsets and
# commits what it printed: two runs print every record once between them.
# rill groups describe shows committed offsets and an exact lag, as
# kafka-consumer-groups does; reset moves the offsets, delete removes them;
# rill stats has a lag gauge per group and partition.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$RILL" topics create t --partitions 2
printf 'a\nb\nc\nd\n' | "$RILL" produce t --partition 0 || fail "produce failed"
printf 'e\nf\n' | "$RILL" produce t --partition 1 || fail "produce failed"
expect_exit 0 "$RILL" groups list
[ ! -s out ] || fail "groups listed before any commit: $(cat out)"

expect_exit 0 "$RILL" consume t --group g --max 4 --format '%p/%o %s\n'
[ "$(wc -l <out)" -eq 4 ] || fail "--max 4 printed $(wc -l <out) records"
cp out first.txt
expect_exit 0 "$RILL" groups describe g
expect_in out '^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID$'
expect_in err "no active members"
# Partitions with a commit are listed: their offsets add up to what was
# printed, and each lag is the log-end offset minus the committed one.
committed=$(awk 'NR > 1 { sum += $4 } END { print sum }' out)
[ "$committed" -eq 4 ] || fail "committed offsets add up to $committed after printing 4"
awk 'NR > 1 && $6 != $5 - $4 { exit 1 }' out || fail "a lag is not end - committed"

# The next run prints exactly the rest.
expect_exit 0 "$RILL" consume t --group g --format '%p/%o %s\n'
cat first.txt out | LC_ALL=C sort >both.txt
printf '0/0 a\n0/1 b\n0/2 c\n0/3 d\n1/0 e\n1/1 f\n' >expected.txt
cmp -s both.txt expected.txt || fail "two runs did not print each record once: $(cat both.txt)"
expect_exit 0 "$RILL" consume t --group g
[ ! -s out ] || fail "a third run printed: $(cat out)"
expect_exit 0 "$RILL" groups describe g
expect_in out '^g +t +0 +4 +4 +0 +-$'
expect_in out '^g +t +1 +2 +2 +0 +-$'

# Lag is exact in rill stats too.
printf 'x\ny\nz\n' | "$RILL" produce t --partition 0 || fail "produce failed"
expect_exit 0 "$RILL" stats
expect_in out '^rill_groups 1$'
expect_in out '^rill_group_lag\{group="g",topic="t",partition="0"\} 3$'
expect_in out '^rill_group_lag\{group="g",topic="t",partition="1"\} 0$'
expect_in out '^rill_group_committed_offset\{group="g",topic="t",partition="0"\} 4$'
if grep -Evq '^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? -?[0-9]+)$' out; then fail "not the text format"; fi

# reset: to the start, to an offset (moved into range), of one topic.
expect_exit 0 "$RILL" groups reset g --to earliest
expect_in out '^GROUP +TOPIC +PARTITION +NEW-OFFSET$'
expect_in out '^g +t +0 +0$'
expect_exit 0 "$RILL" consume t --group g --format '%s\n'
[ "$(LC_ALL=C sort out | tr -d '\n')" = "abcdefxyz" ] || fail "after reset to earliest: $(cat out)"
expect_exit 0 "$RILL" groups reset g --to 5 --topic t
expect_in out '^g +t +0 +5$'
expect_in out '^g +t +1 +2$'
expect_exit 0 "$RILL" consume t --group g --format '%s'
[ "$(cat out)" = "yz" ] || fail "after reset to 5: $(cat out)"

# A second group, and internal topics stay hidden.
expect_exit 0 "$RILL" consume t --group h --from end
[ ! -s out ] || fail "--from end printed: $(cat out)"
expect_exit 0 "$RILL" groups list
[ "$(cat out)" = "$(printf 'g\nh')" ] || fail "groups list: $(cat out)"
expect_exit 0 "$RILL" topics list
[ "$(cat out)" = "t" ] || fail "topics list shows internal topics: $(cat out)"
expect_exit 0 "$RILL" topics list --internal
expect_in out '^__consumer_offsets$'

expect_exit 0 "$RILL" groups delete h
expect_exit 0 "$RILL" groups list
[ "$(cat out)" = "g" ] || fail "after delete: $(cat out)"
expect_exit 1 "$RILL" groups describe h
expect_in err "no members and no committed offsets"

# Usage errors change nothing.
before=$(snapshot "$RILL_DIR")
expect_exit 2 "$RILL" consume t --group g --from 3
expect_exit 2 "$RILL" consume t --group g --partition 0
expect_exit 2 "$RILL" groups reset g --to soon
expect_exit 2 "$RILL" groups reset g
[ "$(snapshot "$RILL_DIR")" = "$before" ] || fail "a refused command changed the log"
expect_exit 1 "$RILL" groups reset g --to earliest --topic missing
for cmd in "groups" "groups list" "groups describe" "groups reset" "groups delete"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$RILL" $cmd --help
  expect_in out "^Usage: "
done
echo "PASS"
