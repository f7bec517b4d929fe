// Uses rill through its installed headers only: an in-memory log, one record
// sent and read back. Exits 0 when it comes back intact.
#include <rill/rill.h>

int main() {
  auto log = rill::Log::OpenInMemory();
  if (!log.ok() || !(*log)->CreateTopic("t").ok()) return 1;
  rill::Producer producer(**log);
  if (!producer.Send("t", {.key = "k", .value = "v"}).ok()) return 2;
  rill::Consumer consumer(**log, {.auto_offset_reset = rill::OffsetReset::kEarliest});
  if (!consumer.Subscribe({"t"}).ok()) return 3;
  auto records = consumer.Poll(absl::Seconds(1));
  if (!records.ok() || records->size() != 1) return 4;
  for (const rill::RecordView& r : *records) {
    if (r.key() != "k" || r.value() != "v") return 5;
  }
  return 0;
}
