#include "torture/torture_util.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "format/batch_header.h"
#include "format/crc32c.h"
#include "storage/file_system.h"
#include "util/strings.h"

namespace rill::testing {

bool LongMode() {
  const char* mode = std::getenv("RILL_TEST_MODE");
  return mode != nullptr && std::string_view(mode) == "long";
}

int ByMode(int short_n, int long_n) { return LongMode() ? long_n : short_n; }

void PrintSummary(std::string_view test,
                  std::initializer_list<std::pair<std::string_view, int64_t>> fields) {
  std::string line = absl::StrCat("RELIABILITY ", ToAbsl(test));
  for (const auto& [name, value] : fields) absl::StrAppend(&line, " ", ToAbsl(name), "=", value);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

OwnedRecord SeqRecord(uint64_t seq) {
  std::mt19937_64 rng(seq * 0x9e3779b97f4a7c15u + 1);
  RandomRecordOptions options;
  // Now and then a record of a few KiB, so that batches vary in size.
  options.max_value_size = seq % 16 == 0 ? 4000 : 200;
  options.max_headers = 2;
  OwnedRecord r = RandomRecord(rng, options);
  r.headers.insert(r.headers.begin(), {"seq", std::to_string(seq)});
  return r;
}

std::optional<uint64_t> SeqOf(const RecordView& r) {
  for (const Header& h : r.headers()) {
    uint64_t seq = 0;
    if (h.key != "seq" || !h.value || !absl::SimpleAtoi(ToAbsl(*h.value), &seq)) break;
    return seq;
  }
  return std::nullopt;
}

namespace {

// Feeds each field with its length (or -1 for null), so that no two
// different records feed the same bytes.
class Summer {
 public:
  void Add(std::optional<std::string_view> bytes) {
    const int64_t n = bytes ? static_cast<int64_t>(bytes->size()) : -1;
    crc_ = crc32c::Extend(crc_, &n, sizeof(n));
    if (bytes) crc_ = crc32c::Extend(crc_, bytes->data(), bytes->size());
  }
  void Add(int64_t v) { crc_ = crc32c::Extend(crc_, &v, sizeof(v)); }
  uint32_t crc() const { return crc_; }

 private:
  uint32_t crc_ = 0;
};

}  // namespace

uint32_t Checksum(const RecordView& r) {
  Summer s;
  s.Add(r.has_key() ? std::optional(r.key()) : std::nullopt);
  s.Add(r.has_value() ? std::optional(r.value()) : std::nullopt);
  s.Add(static_cast<int64_t>(r.headers().size()));
  for (const Header& h : r.headers()) {
    s.Add(h.key);
    s.Add(h.value);
  }
  s.Add(r.timestamp());
  return s.crc();
}

uint32_t Checksum(const OwnedRecord& r) {
  Summer s;
  s.Add(r.key ? std::optional<std::string_view>(*r.key) : std::nullopt);
  s.Add(r.value ? std::optional<std::string_view>(*r.value) : std::nullopt);
  s.Add(static_cast<int64_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    s.Add(k);
    s.Add(v ? std::optional<std::string_view>(*v) : std::nullopt);
  }
  s.Add(r.timestamp);
  return s.crc();
}

PartitionRead ReadPartition(Log& log, const TopicPartition& tp, int64_t from) {
  PartitionRead out;
  absl::StatusOr<int64_t> end = log.EndOffset(tp);
  if (!end.ok()) {
    out.error = end.status().ToString();
    return out;
  }
  out.end = *end;
  Consumer consumer(log, {.auto_offset_reset = OffsetReset::kNone, .max_poll_records = 10000});
  absl::Status s = consumer.Assign({tp});
  if (s.ok()) s = consumer.Seek(tp, from);
  if (!s.ok()) {
    out.error = s.ToString();
    return out;
  }
  int64_t expected = from;
  while (expected < out.end) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::ZeroDuration());
    if (!records.ok()) {
      out.error = records.status().ToString();
      return out;
    }
    if (records->empty()) {
      out.error =
          absl::StrCat("a poll at offset ", expected, " returned nothing before the end ", out.end);
      return out;
    }
    for (const RecordView& r : *records) {
      const std::optional<uint64_t> seq = SeqOf(r);
      std::string problem;
      if (r.offset() != expected) {
        problem = absl::StrCat("offset ", r.offset(), " where ", expected, " was due");
      } else if (!seq) {
        problem = absl::StrCat("offset ", r.offset(), " holds no numbered record");
      } else if (!Matches(r, SeqRecord(*seq))) {
        problem = absl::StrCat("offset ", r.offset(), " holds record ", *seq, ", damaged");
      }
      if (!problem.empty()) {
        out.wrong.push_back(absl::StrCat(tp.topic, "-", tp.partition, ": ", problem));
      } else {
        out.records.push_back({r.offset(), *seq, Checksum(r)});
      }
      expected = r.offset() + 1;
    }
  }
  return out;
}

LogCheck CheckLog(Log& log, const std::string& topic, int32_t partitions,
                  const std::set<uint64_t>& sent, const std::vector<Ack>& acks,
                  const std::function<bool(size_t)>& durable) {
  LogCheck check;
  auto problem = [&check](std::string text) {
    if (check.problems.size() < 20) check.problems.push_back(std::move(text));
  };
  std::map<std::pair<int32_t, int64_t>, uint64_t> found;
  std::set<uint64_t> seen;
  for (int32_t p = 0; p < partitions; ++p) {
    const PartitionRead read = ReadPartition(log, {topic, p}, 0);
    check.ends[p] = read.end;
    for (const std::string& w : read.wrong) problem(w);
    check.wrong += static_cast<int64_t>(read.wrong.size());
    if (!read.error.empty()) {
      ++check.wrong;
      problem(absl::StrCat("partition ", p, ": ", read.error));
    }
    check.records += static_cast<int64_t>(read.records.size());
    for (const ReadBack& r : read.records) {
      if (sent.count(r.seq) == 0 || !seen.insert(r.seq).second) {
        ++check.wrong;
        problem(absl::StrCat("record ", r.seq, " at ", p, "/", r.offset,
                             " was never sent, or is there twice"));
      }
      found[{p, r.offset}] = r.seq;
    }
  }
  for (size_t i = 0; i < acks.size(); ++i) {
    const Ack& ack = acks[i];
    auto it = found.find({ack.partition, ack.offset});
    if (it == found.end()) {
      if (durable(i)) {
        ++check.lost;
        problem(absl::StrCat("record ", ack.seq, " acknowledged at ", ack.partition, "/",
                             ack.offset, " is gone"));
      } else {
        ++check.unsynced_lost;
      }
    } else if (it->second != ack.seq) {
      ++check.wrong;
      problem(absl::StrCat(ack.partition, "/", ack.offset, " holds record ", it->second,
                           ", not the acknowledged ", ack.seq));
    }
  }
  return check;
}

absl::StatusOr<std::vector<BatchId>> Batches(Log& log, const TopicPartition& tp, int64_t end) {
  absl::StatusOr<core::Partition*> partition = log.state()->FindPartition(tp);
  if (!partition.ok()) return partition.status();
  const PartitionLog& plog = (*partition)->log();
  std::vector<BatchId> batches;
  for (int64_t offset = plog.start_offset(); offset < end;) {
    absl::StatusOr<ReadResult> read = plog.Read(offset, 1 << 20);
    if (!read.ok()) return read.status();
    if (read->batches.empty()) {
      return absl::DataLossError(absl::StrCat("nothing to read at offset ", offset));
    }
    for (std::span<const char> bytes = read->batches; !bytes.empty() && offset < end;) {
      const BatchHeader h = DecodeBatchHeader(bytes.data());
      batches.push_back({h.base_offset, h.last_offset(), h.crc});
      offset = h.last_offset() + 1;
      bytes = bytes.subspan(h.size());
    }
  }
  return batches;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> entries;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {{"", "absent"}};
  if (!fs::is_directory(dir, ec)) return {{"", "file"}};
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string path = fs::relative(it->path(), dir).string();
    if (it->is_directory()) {
      entries[path] = "directory";
      continue;
    }
    if (it->path().filename() == ".lock") {
      entries[path] = "lock";
      continue;
    }
    absl::StatusOr<std::string> bytes =
        ReadFileToString(*FileSystem::Default(), it->path().string());
    entries[path] = bytes.ok() ? absl::StrCat("file of ", bytes->size(), " bytes, crc ",
                                              crc32c::Value(bytes->data(), bytes->size()))
                               : absl::StrCat("unreadable: ", bytes.status().message());
  }
  if (ec) entries["?"] = "cannot list: " + ec.message();
  return entries;
}

std::string Describe(const std::map<std::string, std::string>& a,
                     const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [path, what] : a) {
    auto it = b.find(path);
    if (it == b.end()) {
      absl::StrAppend(&out, path, ": ", what, ", then gone\n");
    } else if (it->second != what) {
      absl::StrAppend(&out, path, ": ", what, ", then ", it->second, "\n");
    }
  }
  for (const auto& [path, what] : b) {
    if (a.count(path) == 0) absl::StrAppend(&out, path, ": new, ", what, "\n");
  }
  return out;
}

}  // namespace rill::testing
