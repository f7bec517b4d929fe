#!/usr/bin/env bash
# rill verify: exit 0 on a healthy log; exit 1 naming the file and byte when a
# byte of a sealed segment is flipped or an index points inside a batch; a
# torn tail in the newest segment is reported but is no error, and the next
# open cuts it.
. "$(dirname "$0")/lib.sh"

# flip FILE POSITION: inverts the bits of one byte in place.
flip() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\x$(printf %02x $((b ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

expect_exit 0 "$RILL" topics create v --partitions 1 --config segment.bytes=200000
seq 1 60000 | "$RILL" produce v || fail "produce"
dir=$RILL_DIR/v-0
first=$dir/00000000000000000000.log
newest=$(ls "$dir"/*.log | tail -n 1)
[ "$newest" != "$first" ] || fail "expected several segments"

expect_exit 0 "$RILL" verify
expect_in out "^verified 1 topics, 1 partitions, [0-9]+ segments, [0-9]+ batches, [0-9]+ bytes: OK$"
expect_not_in out "^(error|torn tail|note)"

# A flipped byte inside the first batch of a sealed segment.
flip "$first" 100
expect_exit 1 "$RILL" verify
expect_in out "^error: .*/v-0/00000000000000000000\.log at byte 0: batch CRC-32C mismatch"
expect_in out ": 1 error$"
flip "$first" 100
expect_exit 0 "$RILL" verify

# An offset index entry that points inside a batch.
index=$dir/00000000000000000000.index
[ "$(stat -c %s "$index")" -ge 8 ] || fail "expected an index entry"
flip "$index" 7
expect_exit 1 "$RILL" verify
expect_in out "^error: .*/v-0/00000000000000000000\.index: entry 0 points at byte [0-9]+, which is not where a batch starts"
flip "$index" 7

# A torn tail: half a batch, then zeros, after the newest segment's last batch.
size=$(stat -c %s "$newest")
head -c 100 "$first" >>"$newest"
truncate -s +4096 "$newest"
expect_exit 0 "$RILL" verify
expect_in out "^torn tail: .*$(basename "$newest") at byte $size: batch truncated"
expect_in out ": OK, 1 torn tail \(not an error\)$"

# The next open cuts it, and nothing else.
expect_exit 0 "$RILL" topics describe v
expect_in out "^ +0 +0 +60000 "
[ "$(stat -c %s "$newest")" -eq "$size" ] || fail "the torn tail was not cut"
expect_exit 0 "$RILL" verify
expect_not_in out "torn tail"

# Zeros after the last batch are space allocated ahead of a writer: a note.
truncate -s +8192 "$newest"
expect_exit 0 "$RILL" verify
expect_in out "^note: .*$(basename "$newest") at byte $size: 8192 bytes of zeros"
truncate -s "$size" "$newest"

# Damage in the middle of a segment's trusted bytes is an error even in the
# newest segment.
flip "$newest" 70
expect_exit 1 "$RILL" verify
expect_in out "^error: .*$(basename "$newest") at byte 0: batch CRC-32C mismatch"
flip "$newest" 70

expect_exit 1 "$RILL" verify --dir "$WORK/nowhere"
expect_in err "no log at"
echo "PASS"
