#!/usr/bin/env bash
# Keyed records land in the partition Kafka's default partitioner would
# choose: murmur2(key) % partitions, as rill::KafkaPartition computes it and
# as docs/kafka.md's test vector says.
. "$(dirname "$0")/lib.sh"
: "${PARTITION_HELPER:?}"

expect_exit 0 "$RILL" topics create keyed --partitions 7
{ echo kafka; seq -f 'user-%g' 1 2000; } >keys.txt
sed 's/$/=value/' keys.txt | "$RILL" produce keyed --key-separator = || fail "produce failed"

expect_exit 0 "$RILL" consume keyed --format '%k %p\n'
LC_ALL=C sort out >placed.txt
"$PARTITION_HELPER" 7 <keys.txt | LC_ALL=C sort >expected.txt
diff -q placed.txt expected.txt >/dev/null || fail "keys are not where Kafka puts them:
$(diff placed.txt expected.txt | head)"

# murmur2("kafka") = 0xd067cf64, so "kafka" goes to (0x5067cf64 % 7).
grep -qx "kafka $((0x5067cf64 % 7))" placed.txt || fail "\"kafka\" is not in partition $((0x5067cf64 % 7))"

# Every partition got some of the 2001 keys, and each key's record kept its value.
for p in 0 1 2 3 4 5 6; do
  expect_exit 0 "$RILL" consume keyed --partition "$p" --format '%k=%s\n'
  [ -s out ] || fail "partition $p is empty"
  if grep -vqx '[^=]*=value' out; then fail "partition $p holds a record with another value"; fi
done

# --partition overrides the key.
echo "kafka=pinned" | "$RILL" produce keyed --key-separator = --partition 3 || fail "produce -p"
expect_exit 0 "$RILL" consume keyed --partition 3 --from @0 --format '%k=%s\n'
expect_in out "^kafka=pinned$"
echo "PASS"
