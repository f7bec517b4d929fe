#!/usr/bin/env bash
# Bad input gives a clear message on stderr, a non-zero exit (2 for a wrong
# command line, 1 for a failure) and changes nothing on disk.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$RILL" topics create t --partitions 2
echo hello | "$RILL" produce t || fail "produce"
before=$(snapshot "$RILL_DIR")

# expect_refused CODE REGEX ARGS...: `rill ARGS` (stdin: one line) exits
# with CODE, says REGEX on stderr, and leaves the log as it was.
expect_refused() {
  local code=$1 regex=$2
  shift 2
  set +e
  echo line | "$RILL" "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  set -e
  [ "$status" -eq "$code" ] || fail "expected exit $code, got $status: rill $*"
  expect_in err "$regex"
  [ "$(snapshot "$RILL_DIR")" = "$before" ] || fail "rill $* changed the log:
$(diff <(echo "$before") <(snapshot "$RILL_DIR"))"
}

# Unknown topic.
expect_refused 1 "^rill: topic nope does not exist$" consume nope
expect_refused 1 "^rill: topic nope does not exist$" produce nope
expect_refused 1 "^rill: topic nope does not exist$" topics describe nope
expect_refused 1 "^rill: topic nope does not exist$" topics delete nope
expect_refused 1 "^rill: topic nope does not exist$" perf consume --topic nope
# Bad partition.
expect_refused 1 "^rill: topic t has no partition 2 \(it has 2\)$" consume t --partition 2
expect_refused 1 "^rill: topic t has no partition 7 \(it has 2\)$" produce t --partition 7
expect_refused 2 "^rill: --partition: Value -1 not in range" consume t --partition -1
# Malformed --config.
expect_refused 2 "^rill: --config retention.ms: expected KEY=VALUE" topics create u --config retention.ms
expect_refused 2 "^rill: --config colour=red: unknown topic setting \"colour\"" topics create u --config colour=red
expect_refused 2 "^rill: --config retention.ms=soon: invalid value \"soon\" for retention.ms" topics create u -c retention.ms=soon
expect_refused 2 "^rill: --partitions: invalid value \"0\"" topics create u --partitions 0
expect_refused 2 "topic name has character 0x2f" topics create a/b
expect_refused 1 "^rill: topic t already exists$" topics create t
# Other malformed options.
expect_refused 2 "^rill: --from soon: expected beginning, end, an offset" consume t --from soon
expect_refused 2 "^rill: --format has an unknown placeholder %q" consume t --format '%q'
expect_refused 2 "^rill: --compression: gzip not in \{lz4,none,zstd\}" produce t --compression gzip
expect_refused 2 "^rill: --header novalue: expected KEY=VALUE" produce t --header novalue
expect_refused 2 "^rill: A subcommand is required" topics
expect_refused 2 "^rill: unknown command \"frobnicate\"; the commands are topics, groups, produce" frobnicate
expect_refused 2 "^rill: topic is required" consume
expect_refused 2 "^rill: The following argument was not expected: extra" topics list extra

# A --dir that is not a log: nothing is created in it, or made of it.
mkdir -p "$WORK/notalog" "$WORK/empty"
echo "precious" >"$WORK/notalog/data.txt"
for dir in "$WORK/notalog" "$WORK/empty"; do
  was=$(snapshot "$dir")
  for args in "consume t" "topics describe t" "topics list" "stats" "produce t" "verify" \
    "repair --skip" "maintain"; do
    # shellcheck disable=SC2086
    expect_refused 1 "^rill: $dir is not a rill log" --dir "$dir" $args
    [ "$(snapshot "$dir")" = "$was" ] || fail "rill --dir $dir $args changed it"
  done
done
# Only commands that create a log write into an empty directory; a
# non-empty one that is not a log is refused by them too.
expect_refused 1 "^rill: $WORK/notalog is not a rill log: it has no meta.properties and is not empty" \
  --dir "$WORK/notalog" topics create t
[ "$(ls -A "$WORK/notalog")" = "data.txt" ] || fail "topics create left files in a directory that is not a log"
expect_refused 1 "^rill: no log at $WORK/missing: the directory does not exist" --dir "$WORK/missing" consume t
expect_refused 1 "^rill: no log at $WORK/missing" --dir "$WORK/missing" stats
[ ! -e "$WORK/missing" ] || fail "a read command created the log's directory"
echo "PASS"
