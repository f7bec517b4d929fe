#!/usr/bin/env bash
# rill stats speaks Prometheus' text format; rill perf produce, consume and
# latency report their figures, as JSON with --json; every command has --help.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$RILL" perf produce --topic p --records 20000 --record-size 50 --producers 2 --json
expect_in out '^\{"command":"perf produce","records":20000,"bytes":1000000,"seconds":[0-9.]+,"records_per_sec":[0-9.]+,"mb_per_sec":[0-9.]+\}$'
expect_exit 0 "$RILL" topics describe p
expect_in out "^partitions: 2$"
expect_exit 0 "$RILL" perf produce --topic p --records 1000 --key-size 8 --compression zstd --compressible
expect_in out "^perf produce: 1000 records, .* records/s"

expect_exit 0 "$RILL" perf consume --topic p --json
expect_in out '"records":21000,"bytes":1108000,'
expect_exit 0 "$RILL" perf consume --topic p --records 500
expect_in out "^perf consume: 500 records"

expect_exit 0 "$RILL" perf latency --records 2000 --rate 20000 --json
expect_in out '^\{"command":"perf latency","records":2000,.*"latency_us":\{"p50":[0-9.]+,"p99":[0-9.]+,"p999":[0-9.]+,"max":[0-9.]+\}\}$'
expect_exit 0 "$RILL" topics list
[ "$(cat out)" = "p" ] || fail "perf latency left its topic behind: $(cat out)"

expect_exit 0 "$RILL" stats
expect_in out "^# HELP rill_partition_end_offset "
expect_in out "^# TYPE rill_partition_end_offset gauge$"
expect_in out '^rill_topic_partitions\{topic="p"\} 2$'
end0=$(grep -E '^rill_partition_end_offset\{topic="p",partition="0"\}' out | cut -d' ' -f2)
end1=$(grep -E '^rill_partition_end_offset\{topic="p",partition="1"\}' out | cut -d' ' -f2)
[ $((end0 + end1)) -eq 21000 ] || fail "end offsets $end0 + $end1"
for metric in rill_partition_start_offset rill_partition_bytes rill_partition_segments; do
  expect_in out "^$metric\{topic=\"p\",partition=\"1\"\} [0-9]+$"
done
# Every sample line is "name{labels} value" or a comment.
if grep -Evq '^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? -?[0-9]+)$' out; then fail "not the text format"; fi

for cmd in "" "topics" "topics list" "topics create" "topics describe" "topics delete" "produce" \
  "consume" "dump" "verify" "stats" "perf" "perf produce" "perf consume" "perf latency"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$RILL" $cmd --help
  expect_in out "^Usage: "
done
echo "PASS"
