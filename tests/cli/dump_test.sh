#!/usr/bin/env bash
# rill dump prints the fields of a known batch and its records, the indexes
# with --indexes, and exits 1 naming the position of a damaged batch.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$RILL" topics create known --partitions 1
# One produce call of three lines: one batch (they are sent together).
printf 'k1:v1\nk2:hello world\n:empty key\n' |
  "$RILL" produce known --key-separator : --header trace=abc --header bin=x || fail "produce"
seg=$RILL_DIR/known-0/00000000000000000000.log

expect_exit 0 "$RILL" dump "$seg" --records
expect_in out "^Dumping .*known-0/00000000000000000000\.log$"
expect_in out "^baseOffset: 0 lastOffset: 2 count: 3 position: 0 size: [0-9]+ batchLength: [0-9]+ magic: 2 .*compression: none crc: 0x[0-9a-f]{8} crcValid: true .*timestampType: CreateTime .*producerId: -1 producerEpoch: -1 baseSequence: -1$"
expect_in out '^\| offset: 0 timestamp: [0-9]+ keySize: 2 valueSize: 2 key: "k1" value: "v1" headers: \["trace"="abc", "bin"="x"\]$'
expect_in out '^\| offset: 1 timestamp: [0-9]+ keySize: 2 valueSize: 11 key: "k2" value: "hello world" '
expect_in out '^\| offset: 2 timestamp: [0-9]+ keySize: 0 valueSize: 9 key: "" value: "empty key" '

# Bytes that are not printable ASCII are escaped; a null key prints as null.
printf 'caf\xc3\xa9\t"q"\n' | "$RILL" produce known || fail "produce 2"
expect_exit 0 "$RILL" dump "$RILL_DIR/known-0" --records
expect_in out '^baseOffset: 3 lastOffset: 3 count: 1 position: [1-9][0-9]* '
expect_in out '^\| offset: 3 .* key: null value: "caf\\xc3\\xa9\\t\\"q\\"" headers: \[\]$'

# A whole log directory, with the indexes of every segment.
expect_exit 0 "$RILL" topics create other --partitions 2
expect_exit 0 "$RILL" dump "$RILL_DIR" --indexes
expect_in out "^Dumping .*known-0/00000000000000000000\.index$"
expect_in out "^Dumping .*known-0/00000000000000000000\.timeindex$"
expect_in out "^timestamp: [0-9]+ offset: 3$"
expect_in out "^Dumping .*other-1/00000000000000000000\.log$"

# A damaged batch: reported with its position and reason, exit 1.
printf 'Z' | dd of="$seg" bs=1 seek=80 conv=notrunc status=none
expect_exit 1 "$RILL" dump "$seg"
expect_in out "crcValid: false"
expect_in out "^error at byte 0: batch CRC-32C mismatch"
printf '\x07' | dd of="$seg" bs=1 seek=16 conv=notrunc status=none  # magic 7
expect_exit 1 "$RILL" dump "$seg"
expect_in out "^error at byte 0: batch magic is 7, expected 2"

expect_exit 1 "$RILL" dump "$WORK/input-that-is-not-there"
expect_exit 1 "$RILL" dump "$RILL_DIR/meta.properties"
expect_in err "is not a segment"
echo "PASS"
