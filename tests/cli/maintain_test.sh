#!/usr/bin/env bash
# rill maintain runs retention and compaction in the foreground and says
# what it removed; --topic limits it to one topic; rill stats shows what the
# topics take on disk and their quotas.
. "$(dirname "$0")/lib.sh"

# A compacted topic: ten keys written a hundred times each. segment.ms=1
# rolls a segment per batch, so the pass has sealed segments to clean.
expect_exit 0 "$RILL" topics create kv --config cleanup.policy=compact --config segment.ms=1 \
  --config quota.bytes=100000000 --config quota.policy=drop-oldest
for r in $(seq 1 100); do for k in $(seq 1 10); do echo "k$k:v$r"; done; done >kv.txt
expect_exit 0 "$RILL" produce kv --key-separator : <kv.txt
# A topic whose records expire 300 ms after they are written.
expect_exit 0 "$RILL" topics create old --config retention.ms=300
seq 1 1000 >old.txt
expect_exit 0 "$RILL" produce old <old.txt

# --topic kv: compaction, and nothing of "old" is touched, though it expired.
sleep 0.5
expect_exit 0 "$RILL" maintain --topic kv
expect_in out "^expired \(retention.ms, retention.bytes\): 0 segments, 0 records"
expect_in out "^compacted: [1-9][0-9]* segments rewritten, 990 records and "
expect_exit 0 "$RILL" consume kv --format '%k=%s\n'
[ "$(cat out)" = "$(for k in $(seq 1 10); do echo "k$k=v100"; done)" ] ||
  fail "compaction kept: $(head -20 out)"
expect_exit 0 "$RILL" topics describe old
expect_in out "^ +0 +0 +1000 +1 "

# The whole log: the expired segment of "old" goes.
expect_exit 0 "$RILL" maintain
expect_in out "^expired \(retention.ms, retention.bytes\): 1 segments, 1000 records"
expect_in out "^compacted: 0 segments rewritten, 0 records"
expect_in out "^on disk: "
expect_exit 0 "$RILL" topics describe old
expect_in out "^ +0 +1000 +1000 +1 +0$"

# Stats: bytes on the device per topic, the quota where there is one.
expect_exit 0 "$RILL" stats
expect_in out '^rill_log_disk_bytes [1-9][0-9]*$'
expect_in out '^rill_topic_disk_bytes\{topic="kv"\} [1-9][0-9]*$'
expect_in out '^rill_topic_quota_bytes\{topic="kv"\} 100000000$'
if grep -q '^rill_topic_quota_bytes{topic="old"}' out; then fail "old has no quota"; fi
expect_in out '^rill_topic_removed_records_total\{topic="kv",cause="quota"\} 0$'

# Bad input: an unknown topic is an error, and nothing changes.
before=$(snapshot "$RILL_DIR")
expect_exit 1 "$RILL" maintain --topic nope
expect_in err "^rill: topic nope does not exist"
[ "$before" = "$(snapshot "$RILL_DIR")" ] || fail "maintain --topic nope changed the log"
expect_exit 0 "$RILL" maintain --help
expect_in out "^Usage: "
echo "PASS"
