// Churn: for a few seconds, members join and leave at random -- consumers
// created and destroyed on three threads -- while two producers write.
// Each member checks, on every record, that a shared ownership table says
// the record's partition is its own; it takes a partition in on_assigned
// only if nobody holds it, and in on_revoked commits, then hands it back.
// So no partition is ever read by two members at once; and at the end
// every record was processed exactly once across the whole run: none lost
// at a hand-over, none repeated. Once for each assignor.
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "group/group_util.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::Partitions;
using testing::TestLog;

constexpr int32_t kPartitions = 8;
constexpr int kChurners = 3;
constexpr absl::Duration kChurn = absl::Milliseconds(testing::kSanitized ? 1500 : 2500);

// What the members did, checked by the test thread afterwards (Catch2's
// assertions are for the test thread only).
class Ledger {
 public:
  // Take(token, tp): `token` takes `tp`; false if someone holds it.
  bool Take(int token, const TopicPartition& tp) {
    int free = 0;
    return owner_[Index(tp)].compare_exchange_strong(free, token);
  }
  // Give(token, tp): `token` hands `tp` back; false if it did not hold it.
  bool Give(int token, const TopicPartition& tp) {
    int mine = token;
    return owner_[Index(tp)].compare_exchange_strong(mine, 0);
  }
  bool Holds(int token, int32_t partition) const { return owner_[partition].load() == token; }

  void Processed(int32_t partition, int64_t offset) {
    MutexLock lock(&mu_);
    std::vector<int>& counts = counts_[partition];
    if (counts.size() <= static_cast<size_t>(offset)) counts.resize(offset + 1);
    ++counts[offset];
    ++total_;
  }
  int64_t total() const {
    MutexLock lock(&mu_);
    return total_;
  }
  std::vector<int> counts(int32_t partition) const {
    MutexLock lock(&mu_);
    return counts_[partition];
  }
  void Fail(const std::string& what) {
    MutexLock lock(&mu_);
    if (failures_.size() < 20) failures_.push_back(what);
  }
  std::vector<std::string> failures() const {
    MutexLock lock(&mu_);
    return failures_;
  }

 private:
  static size_t Index(const TopicPartition& tp) { return static_cast<size_t>(tp.partition); }

  std::array<std::atomic<int>, kPartitions> owner_{};
  mutable Mutex mu_;
  std::array<std::vector<int>, kPartitions> counts_ ABSL_GUARDED_BY(mu_);
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
};

// RunMember(log, ledger, token, assignor, stop_after): one member's life:
// joins, polls until `done()` says stop, and leaves (destroyed).
void RunMember(Log& log, Ledger& ledger, int token, Assignor assignor,
               const std::function<bool()>& done) {
  Consumer* self = nullptr;
  ConsumerOptions options{.group = "churn",
                          .client_id = "m" + std::to_string(token),
                          .assignor = assignor,
                          .auto_offset_reset = OffsetReset::kEarliest,
                          .max_poll_records = 50};
  options.on_assigned = [&](const Partitions& partitions) {
    for (const TopicPartition& tp : partitions) {
      if (!ledger.Take(token, tp)) {
        ledger.Fail("member " + std::to_string(token) + " was given partition " +
                    std::to_string(tp.partition) + " while another member held it");
      }
    }
  };
  options.on_revoked = [&](const Partitions& partitions) {
    if (absl::Status s = self->Commit(); !s.ok()) ledger.Fail("commit: " + s.ToString());
    for (const TopicPartition& tp : partitions) {
      if (!ledger.Give(token, tp)) {
        ledger.Fail("member " + std::to_string(token) + " revoked partition " +
                    std::to_string(tp.partition) + " it did not hold");
      }
    }
  };
  Consumer consumer(log, options);
  self = &consumer;
  if (absl::Status s = consumer.Subscribe({"t"}); !s.ok()) ledger.Fail(s.ToString());
  while (!done()) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(5));
    if (!records.ok()) {
      ledger.Fail("poll: " + records.status().ToString());
      return;
    }
    for (const RecordView& r : *records) {
      if (!ledger.Holds(token, r.partition())) {
        ledger.Fail("member " + std::to_string(token) + " read partition " +
                    std::to_string(r.partition()) + " it does not hold");
      }
      ledger.Processed(r.partition(), r.offset());
    }
  }
}

TEST_CASE("under churn every record is processed exactly once, by its owner", "[group][churn]") {
  const Assignor assignor =
      GENERATE(Assignor::kRange, Assignor::kRoundRobin, Assignor::kCooperativeSticky);
  INFO(AssignorName(assignor));
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = kPartitions}));
  Ledger ledger;
  std::atomic<bool> stop{false};
  std::atomic<int> next_token{1};
  std::atomic<int64_t> produced{0};
  std::atomic<int> members_run{0};

  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      Producer producer(*log);
      for (int64_t i = 0; !stop.load(); ++i) {
        const std::string value = std::to_string(p) + "/" + std::to_string(i);
        absl::Status s =
            producer.Send("t", {.value = value, .partition = static_cast<int32_t>(i % kPartitions)})
                .status();
        if (!s.ok()) ledger.Fail("send: " + s.ToString());
        produced.fetch_add(1);
        if (i % 16 == 15) absl::SleepFor(absl::Milliseconds(1));
      }
    });
  }
  for (int c = 0; c < kChurners; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(static_cast<uint32_t>(c) * 7919u + static_cast<uint32_t>(assignor));
      while (!stop.load()) {
        const absl::Time leave_at = absl::Now() + absl::Milliseconds(5 + rng() % 150);
        RunMember(*log, ledger, next_token.fetch_add(1), assignor,
                  [&] { return stop.load() || absl::Now() >= leave_at; });
        members_run.fetch_add(1);
      }
    });
  }
  absl::SleepFor(kChurn);
  stop.store(true);
  for (std::thread& t : threads) t.join();

  // A last member reads what is left.
  const int64_t total = produced.load();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  RunMember(*log, ledger, next_token.fetch_add(1), assignor,
            [&] { return ledger.total() >= total || absl::Now() > deadline; });

  for (const std::string& failure : ledger.failures()) FAIL_CHECK(failure);
  CHECK(members_run.load() > 10);
  INFO(members_run.load() << " members came and went; " << total << " records");
  int64_t end_sum = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    const int64_t end = *log->EndOffset({"t", p});
    end_sum += end;
    const std::vector<int> counts = ledger.counts(p);
    REQUIRE(counts.size() == static_cast<size_t>(end));
    for (int64_t offset = 0; offset < end; ++offset) {
      if (counts[offset] != 1) {
        FAIL("partition " << p << " offset " << offset << " was processed " << counts[offset]
                          << " times");
      }
    }
  }
  CHECK(end_sum == total);
  CHECK(ledger.total() == total);
}

}  // namespace
}  // namespace rill
