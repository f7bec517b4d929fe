#!/usr/bin/env bash
# 100,000 lines produced to one partition come back identical and in order,
# uncompressed and compressed; a line without a trailing newline and empty
# lines are records too.
. "$(dirname "$0")/lib.sh"

# Lines of varied length and content: digits, spaces, tabs, UTF-8, empty.
awk 'BEGIN {
  for (i = 1; i <= 100000; i++) {
    if (i % 1000 == 0) print "";
    else if (i % 7 == 0) printf "line %d\twith a tab and caf\xc3\xa9 %s\n", i, substr("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, i % 40);
    else print i;
  }
}' >input.txt
[ "$(wc -l <input.txt)" -eq 100000 ] || fail "input has the wrong line count"

expect_exit 0 "$RILL" topics create lines --partitions 1
expect_in out "created topic lines with 1 partition"
for codec in none zstd lz4; do
  topic=lines-$codec
  expect_exit 0 "$RILL" topics create "$topic"
  expect_exit 0 "$RILL" produce "$topic" --compression "$codec" <input.txt
  [ ! -s out ] || fail "produce printed something without --verbose"
  expect_exit 0 "$RILL" consume "$topic"
  cmp -s out input.txt || fail "consumed records differ from the input ($codec)"
done

# --verbose says what was done; the last line needs no newline.
printf 'a\nb\n\nlast' | "$RILL" produce lines --verbose 2>err || fail "produce failed"
expect_in err "produced 4 records"
expect_exit 0 "$RILL" consume lines --format '%o:%s|'
[ "$(cat out)" = "0:a|1:b|2:|3:last|" ] || fail "unexpected records: $(cat out)"

# --max stops early; offsets follow the order of the lines.
expect_exit 0 "$RILL" consume lines-none --from 99990 --max 3 --format '%o %s\n'
[ "$(cat out)" = "$(printf '99990 99991\n99991 99992\n99992 99993')" ] || fail "--from/--max: $(cat out)"
expect_exit 0 "$RILL" consume lines-none --from end
[ ! -s out ] || fail "--from end printed records"

# describe shows the partition's offsets.
expect_exit 0 "$RILL" topics describe lines-none
expect_in out "^ +0 +0 +100000 +1 +[0-9]+$"
echo "PASS"
