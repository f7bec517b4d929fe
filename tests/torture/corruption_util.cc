#include "torture/corruption_util.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/core_util.h"
#include "format/batch_format.h"
#include "format/batch_header.h"
#include "storage/file_system.h"
#include "testutil/batch_util.h"
#include "torture/torture_util.h"

namespace rill::testing {

namespace fs = std::filesystem;

LogLayout LogLayout::Make() {
  LogLayout layout;
  layout.tmp_ = std::make_shared<TempDir>();
  layout.dir_ = layout.tmp_->Join("pristine");
  {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(layout.dir_, {.background_threads = 0});
    REQUIRE_OK(log);
    REQUIRE_OK((*log)->CreateTopic(
        "t", {.partitions = 1, .retention = {.ms = -1}, .segment_bytes = 32 << 10, .index_interval_bytes = 1024}));
    SendResults results(2400);
    std::vector<OwnedRecord> records;
    for (size_t i = 0; i < results.size(); ++i) records.push_back(SeqRecord(i));
    for (size_t c = 0; c < std::size(kWrittenCodecs); ++c) {
      Producer producer(**log, {.compression = kWrittenCodecs[c], .batch_bytes = 3000});
      for (size_t i = c * 800; i < (c + 1) * 800; ++i) {
        if (i % 7 == 0) {
          absl::StatusOr<RecordPosition> pos = producer.Send("t", records[i].view());
          REQUIRE_OK(pos);
          layout.seq_at_[pos->offset] = i;
        } else {
          REQUIRE_OK(producer.SendAsync("t", records[i].view(), results.Callback(i)));
        }
      }
      REQUIRE_OK(producer.Flush());
    }
    for (size_t i = 0; i < results.size(); ++i) {
      if (results.calls(i) > 0) layout.seq_at_[results.result(i)->offset] = i;
    }
    REQUIRE(layout.seq_at_.size() == results.size());
    REQUIRE_OK((*log)->Close());
  }
  // Where each batch lies, read from the files.
  const std::string partition = JoinPath(layout.dir_, "t-0");
  std::vector<std::string> logs;
  for (const auto& entry : fs::directory_iterator(partition)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".log")) logs.push_back(name);
    if (name.ends_with(".index") || name.ends_with(".timeindex")) {
      layout.targets_[name] = entry.file_size();
    }
  }
  std::sort(logs.begin(), logs.end());
  REQUIRE(logs.size() >= 5);
  for (size_t i = 0; i < logs.size(); ++i) {
    const std::string data =
        *ReadFileToString(*FileSystem::Default(), JoinPath(partition, logs[i]));
    if (i + 1 < logs.size()) layout.targets_[logs[i]] = data.size();
    for (uint64_t p = 0; p < data.size();) {
      BatchHeader h;
      REQUIRE_OK(CheckBatch({data.data() + p, data.size() - p}, &h));
      layout.batches_.push_back({logs[i], p, h.size(), h.base_offset, h.last_offset()});
      p += h.size();
    }
  }
  return layout;
}

const BatchPlace* LogLayout::BatchAt(const std::string& file, uint64_t byte) const {
  for (const BatchPlace& b : batches_) {
    if (b.file == file && b.position <= byte && byte < b.position + b.size) return &b;
  }
  return nullptr;
}

const BatchPlace* LogLayout::BatchHolding(int64_t offset) const {
  for (const BatchPlace& b : batches_) {
    if (b.base_offset <= offset && offset <= b.last_offset) return &b;
  }
  return nullptr;
}

std::string Flip::file_name() const { return fs::path(path).filename().string(); }

bool Flip::InLeaderEpoch() const {
  if (batch == nullptr) return false;
  const uint64_t at = byte - batch->position;
  return at >= batch::kPartitionLeaderEpochPos && at < batch::kMagicPos;
}

std::string Flip::Describe() const {
  std::string text = absl::StrFormat("byte %d of %s flipped by 0x%02x", byte, file_name(), mask);
  if (batch != nullptr) {
    absl::StrAppend(&text, absl::StrFormat(" (byte %d of the batch at %d, offsets %d-%d)",
                                           byte - batch->position, batch->position,
                                           batch->base_offset, batch->last_offset));
  }
  return text;
}

CorruptLog::CorruptLog(const LogLayout& pristine, int trial) : pristine_(pristine) {
  dir_ = JoinPath(pristine.scratch(), absl::StrCat("trial-", trial % 2));
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::copy(pristine.dir(), dir_, fs::copy_options::recursive);
}

Flip CorruptLog::FlipRandomByte(std::mt19937_64& rng) {
  // Batches, seven times in ten; indexes otherwise.
  const bool in_log = rng() % 10 < 7;
  uint64_t total = 0;
  for (const auto& [name, size] : pristine_.targets()) {
    if (name.ends_with(".log") == in_log) total += size;
  }
  REQUIRE(total > 0);
  uint64_t pick = rng() % total;
  Flip flip;
  for (const auto& [name, size] : pristine_.targets()) {
    if (name.ends_with(".log") != in_log) continue;
    if (pick < size) {
      flip.path = JoinPath(JoinPath(dir_, "t-0"), name);
      flip.byte = pick;
      if (in_log) flip.batch = pristine_.BatchAt(name, pick);
      break;
    }
    pick -= size;
  }
  flip.mask = static_cast<uint8_t>(1 + rng() % 255);
  std::unique_ptr<File> file = *FileSystem::Default()->OpenFile(flip.path, OpenMode::kReadWrite);
  char byte = 0;
  REQUIRE(*file->ReadAt(flip.byte, 1, &byte) == 1);
  byte = static_cast<char>(byte ^ flip.mask);
  REQUIRE_OK(file->WriteAt(flip.byte, std::string_view(&byte, 1)));
  return flip;
}

int64_t CorruptLog::End() const {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir_, {.background_threads = 0});
  if (!log.ok()) return -1;
  absl::StatusOr<int64_t> end = (*log)->EndOffset({"t", 0});
  return end.ok() ? *end : -1;
}

bool CorruptLog::Append() const {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir_, {.background_threads = 0});
  if (!log.ok()) return false;
  const int64_t end = *(*log)->EndOffset({"t", 0});
  Producer producer(**log);
  absl::StatusOr<RecordPosition> pos = producer.Send("t", {.value = "after"});
  return pos.ok() && pos->offset == end && (*log)->Close().ok();
}

ReadOutcome CorruptLog::ReadAll(const std::set<int64_t>& gaps) const {
  ReadOutcome out;
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir_, {.background_threads = 0});
  if (!log.ok()) {
    ++out.wrong;
    out.problems.push_back("opening: " + log.status().ToString());
    return out;
  }
  const TopicPartition tp{"t", 0};
  Consumer consumer(**log, {.auto_offset_reset = OffsetReset::kNone, .max_poll_records = 1000});
  REQUIRE_OK(consumer.Assign({tp}));
  const int64_t start = *(*log)->StartOffset(tp);
  const int64_t end = *(*log)->EndOffset(tp);
  REQUIRE_OK(consumer.Seek(tp, start));
  int64_t expected = start;
  while (expected < end) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::ZeroDuration());
    if (absl::IsDataLoss(records.status())) {
      // Go on after the batch that holds the position (as written).
      ++out.errors;
      const BatchPlace* b = pristine_.BatchHolding(expected);
      expected = b != nullptr ? b->last_offset + 1 : expected + 1;
      REQUIRE_OK(consumer.Seek(tp, expected));
      continue;
    }
    if (!records.ok() || records->empty()) {
      ++out.wrong;
      out.problems.push_back(absl::StrCat("a poll at offset ", expected, " returned ",
                                          records.ok() ? "nothing" : records.status().ToString()));
      break;
    }
    for (const RecordView& r : *records) {
      bool announced = true;
      for (int64_t o = expected; o < r.offset() && announced; ++o) announced = gaps.count(o) > 0;
      if (r.offset() < expected || !announced) {
        ++out.wrong;
        out.problems.push_back(absl::StrCat("offsets ", expected, " to ", r.offset() - 1,
                                            " were skipped without an error"));
      }
      auto it = pristine_.seq_at().find(r.offset());
      if (it == pristine_.seq_at().end() || !Matches(r, SeqRecord(it->second))) {
        ++out.wrong;
        out.problems.push_back(absl::StrCat("offset ", r.offset(), " returned a wrong record"));
      } else {
        ++out.returned;
      }
      expected = r.offset() + 1;
    }
  }
  return out;
}

ReadOutcome CorruptLog::LookUpTimes(std::mt19937_64& rng, int n) const {
  ReadOutcome out;
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir_, {.background_threads = 0});
  if (!log.ok()) {
    ++out.wrong;
    out.problems.push_back("opening: " + log.status().ToString());
    return out;
  }
  std::vector<int64_t> timestamps;  // By offset.
  for (const auto& [offset, seq] : pristine_.seq_at())
    timestamps.push_back(SeqRecord(seq).timestamp);
  for (int i = 0; i < n; ++i) {
    const int64_t ts = timestamps[rng() % timestamps.size()] + static_cast<int64_t>(rng() % 3) - 1;
    int64_t expected = static_cast<int64_t>(timestamps.size());
    for (size_t o = 0; o < timestamps.size(); ++o) {
      if (timestamps[o] >= ts) {
        expected = static_cast<int64_t>(o);
        break;
      }
    }
    absl::StatusOr<int64_t> got = (*log)->OffsetForTime({"t", 0}, ts);
    if (absl::IsDataLoss(got.status())) {
      ++out.errors;
    } else if (!got.ok() || *got != expected) {
      ++out.wrong;
      out.problems.push_back(absl::StrCat("OffsetForTime(", ts, ") returned ",
                                          got.ok() ? absl::StrCat(*got) : got.status().ToString(),
                                          ", not ", expected));
    } else {
      ++out.returned;
    }
  }
  return out;
}

CommandResult CorruptLog::Rill(const std::vector<std::string>& args) const {
  CommandResult result;
  // The rill command built with this test; $RILL_BINARY may name another.
  const char* binary = std::getenv("RILL_BINARY");
  if (binary == nullptr || *binary == '\0') binary = RILL_CLI_BINARY;
  std::string command = absl::StrCat("'", binary, "' --dir '", dir_, "'");
  for (const std::string& a : args) absl::StrAppend(&command, " '", a, "'");
  absl::StrAppend(&command, " 2>&1");
  std::fflush(nullptr);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace rill::testing
