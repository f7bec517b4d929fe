#!/usr/bin/env bash
# rill repair: --skip keeps every intact batch at its offsets and drops the
# damaged one (damage in the records, in a baseOffset, in a batchLength);
# --truncate cuts the partition at the first damaged batch; a damaged
# partitionLeaderEpoch is restored, a damaged index removed (the next open
# rebuilds it). After each, verify exits 0 and consume reads what was kept.
# A topic whose settings cannot be read is named and left alone. Refused
# while the log is open; --dry-run changes nothing.
. "$(dirname "$0")/lib.sh"

# flip FILE POSITION: inverts the bits of one byte in place.
flip() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\x$(printf %02x $((b ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# setbase FILE POSITION OFFSET: writes a batch's baseOffset (8 bytes, big-endian).
setbase() {
  local bytes="" i
  for i in 7 6 5 4 3 2 1 0; do bytes+=$(printf '\\x%02x' $((($3 >> (8 * i)) & 255))); done
  printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# batch FILE N: "position baseOffset lastOffset" of the file's Nth batch (from 0).
batch() {
  "$RILL" dump "$1" | grep '^baseOffset' | sed -n "$(($2 + 1))p" |
    sed -E 's/^baseOffset: ([0-9]+) lastOffset: ([0-9]+) .* position: ([0-9]+) .*/\3 \1 \2/'
}
# fresh: a log of 40 batches of 50 records ("1" to "2000") in several
# segments, made once and copied.
fresh() {
  if [ ! -d "$WORK/pristine" ]; then
    expect_exit 0 "$RILL" topics create r --partitions 1 --config segment.bytes=4000 \
      --config index.interval.bytes=512
    for i in $(seq 0 39); do seq $((i * 50 + 1)) $((i * 50 + 50)) | "$RILL" produce r || fail "produce"; done
    cp -a "$RILL_DIR" "$WORK/pristine"
  fi
  rm -rf "$RILL_DIR"
  cp -a "$WORK/pristine" "$RILL_DIR"
  seg=$RILL_DIR/r-0/00000000000000000000.log
  [ "$(ls "$RILL_DIR"/r-0/*.log | wc -l)" -ge 4 ] || fail "expected several segments"
}
# expect_records EXPECTED: consume reads exactly these values, in order.
expect_records() {
  expect_exit 0 "$RILL" consume r --from beginning
  [ "$(cat "$WORK/out")" = "$1" ] || fail "consumed $(wc -l <"$WORK/out") records, not as expected"
}
# without FIRST LAST: the values 1..2000 but those at offsets FIRST..LAST.
without() { seq 1 2000 | sed "$(($1 + 1)),$(($2 + 1))d"; }

fresh
expect_exit 2 "$RILL" repair
expect_in err "repair needs one of --truncate and --skip"
expect_exit 2 "$RILL" repair --skip --truncate
expect_exit 0 "$RILL" repair --skip
expect_in out "^repaired 0 of 1 partitions"

# Damage in a batch's records; --dry-run first.
read -r pos base last <<<"$(batch "$seg" 2)"
flip "$seg" $((pos + 100))
expect_exit 1 "$RILL" verify
expect_in out "00000000000000000000\.log at byte $pos: batch CRC-32C mismatch"
before=$(snapshot "$RILL_DIR")
expect_exit 0 "$RILL" repair --skip --dry-run
expect_in out "^would repair: .*00000000000000000000\.log: dropped the batch at byte $pos "
[ "$(snapshot "$RILL_DIR")" = "$before" ] || fail "--dry-run changed the log"
expect_exit 0 "$RILL" repair --skip
expect_in out "^repair: .*00000000000000000000\.log: dropped the batch at byte $pos "
expect_in out "^repaired 1 of 1 partitions: 1 damaged"
expect_exit 0 "$RILL" verify
expect_records "$(without "$base" "$last")"

# A baseOffset moved up a little (it is outside the CRC): verify names that
# batch, not the neighbour it now overlaps, and --skip drops it alone.
fresh
seg2=$(ls "$RILL_DIR"/r-0/*.log | sed -n 2p)
read -r pos base last <<<"$(batch "$seg2" 1)"
setbase "$seg2" "$pos" $((base + 10))
expect_exit 1 "$RILL" verify
expect_in out "$(basename "$seg2") at byte $pos: batch baseOffset [0-9]+ is damaged"
expect_exit 0 "$RILL" repair --skip
expect_exit 0 "$RILL" verify
expect_records "$(without "$base" "$last")"

# A damaged batchLength: the scan finds the next intact batch past it. The
# batch was its segment's last: an empty batch keeps its offsets.
fresh
n=$("$RILL" dump "$seg" | grep -c '^baseOffset')
read -r pos base last <<<"$(batch "$seg" $((n - 1)))"
flip "$seg" $((pos + 10))
expect_exit 0 "$RILL" repair --skip
expect_in out "an empty batch holds offsets $base-$last"
expect_exit 0 "$RILL" verify
expect_records "$(without "$base" "$last")"
expect_exit 0 "$RILL" topics describe r
expect_in out "^ +0 +0 +2000 "

# A damaged partitionLeaderEpoch: restored; nothing is dropped.
fresh
read -r pos base last <<<"$(batch "$seg" 1)"
flip "$seg" $((pos + 13))
expect_exit 1 "$RILL" verify
expect_in out "at byte $pos: batch partitionLeaderEpoch is"
expect_exit 0 "$RILL" repair --truncate
expect_in out "restored partitionLeaderEpoch"
expect_exit 0 "$RILL" verify
expect_records "$(seq 1 2000)"

# A damaged index: removed, and rebuilt by the next open.
fresh
index=$RILL_DIR/r-0/00000000000000000000.index
[ -s "$index" ] || fail "expected an index entry"
flip "$index" 7
expect_exit 1 "$RILL" verify
expect_exit 0 "$RILL" repair --skip
expect_in out "00000000000000000000\.index: removed, damaged"
expect_exit 0 "$RILL" verify
expect_records "$(seq 1 2000)"
[ -s "$index" ] || fail "the next open did not rebuild the index"

# --truncate: the partition ends before the damaged batch; later segments go.
fresh
read -r pos base last <<<"$(batch "$seg2" 1)"
flip "$seg2" $((pos + 70))
expect_exit 0 "$RILL" repair --truncate
expect_in out "$(basename "$seg2"): truncated at byte $pos"
expect_in out "deleted: it follows the truncated segment"
[ "$(ls "$RILL_DIR"/r-0/*.log | wc -l)" -eq 2 ] || fail "later segments were not deleted"
expect_exit 0 "$RILL" verify
expect_records "$(seq 1 "$base")"
echo after | "$RILL" produce r || fail "produce after the repair"
expect_exit 0 "$RILL" consume r --from "$base"
[ "$(cat "$WORK/out")" = "after" ] || fail "offsets do not go on from $base"

# A topic whose settings file cannot be read: repair names the file, leaves
# the topic's partitions as they are and fails until the file is mended.
fresh
cp "$RILL_DIR/topics/r" "$WORK/settings"
echo "garbled" >>"$RILL_DIR/topics/r"
read -r pos base last <<<"$(batch "$seg" 2)"
flip "$seg" $((pos + 100))
before=$(snapshot "$RILL_DIR/r-0")
expect_exit 1 "$RILL" repair --skip
expect_in err "topics/r: line [0-9]+ is not key=value: garbled"
expect_in err "mend the file by hand"
expect_in err "topics whose settings cannot be read: 1"
[ "$(snapshot "$RILL_DIR/r-0")" = "$before" ] || fail "repair changed a topic it could not read"
expect_exit 1 "$RILL" consume r --from beginning
expect_in err "topics/r: line [0-9]+ is not key=value"
cp "$WORK/settings" "$RILL_DIR/topics/r"
expect_exit 0 "$RILL" repair --skip
expect_in out "^repaired 1 of 1 partitions"
expect_exit 0 "$RILL" verify
expect_records "$(without "$base" "$last")"

# Not while the log is open.
"$RILL" consume r --follow >/dev/null 2>&1 &
holder=$!
trap 'kill "$holder" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  [ "$(cat "$RILL_DIR/.lock" 2>/dev/null)" = "$holder" ] && break
  sleep 0.025
done
expect_exit 1 "$RILL" repair --skip
expect_in err "locked by process $holder.*close it before repairing"
kill -TERM "$holder"
wait "$holder" || true
trap - EXIT
echo "PASS"
