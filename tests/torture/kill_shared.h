// The memory the crash torture test (kill_test.cc) shares with the child
// processes it kills: what each child acknowledged, what its consumer read,
// and whether it failed -- written by the child, read by the parent once
// the child is dead.
//
// Also the hooks where consumers committing offsets join the test
// (OnPolled, CheckConsumer): see kill_shared.cc.
#ifndef RILL_TESTS_TORTURE_KILL_SHARED_H_
#define RILL_TESTS_TORTURE_KILL_SHARED_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rill/rill.h"
#include "torture/torture_util.h"

namespace rill {

constexpr int32_t kPartitions = 3;
constexpr int kProducers = 3;          // Producer threads in each child.
constexpr int kParentProducer = 15;    // The parent's own appends.
constexpr int64_t kMaxAcks = 1 << 20;  // Per child.
constexpr Durability kDurabilities[] = {Durability::kMemory, Durability::kProcessCrash,
                                        Durability::kPowerLoss};

// Seq(cycle, producer, counter): the number of a record, which says who
// built it. SeqRecord(Seq(...)) is the record.
inline uint64_t Seq(int cycle, int producer, uint64_t counter) {
  return static_cast<uint64_t>(cycle) << 40 | static_cast<uint64_t>(producer) << 36 | counter;
}

// What a consumer has read, per partition: from `start` to `position`, and
// a hash of every (offset, seq, checksum) it met.
struct ConsumerProgress {
  int64_t start[kPartitions] = {};
  int64_t position[kPartitions] = {};
  uint64_t hash[kPartitions] = {};

  void Add(int32_t p, int64_t offset, uint64_t seq, uint32_t checksum);
};

// States of a child.
constexpr int kStarting = 0;
constexpr int kRunning = 1;
constexpr int kFailed = 2;

struct Shared {
  std::atomic<int> state;
  char error[512];
  // Per producer thread, the counter of the last record it handed to the
  // producer: no record numbered past it can be in the log.
  std::atomic<int64_t> attempted[kProducers];
  // The consumer's progress, in two slots so that a kill never leaves the
  // current one half written: slots[generation % 2] is current.
  ConsumerProgress slots[2];
  std::atomic<uint64_t> generation;
  std::atomic<int64_t> reserved;
  struct Entry {
    std::atomic<int> valid;
    int32_t partition;
    int64_t offset;
    uint64_t seq;
    uint32_t checksum;
  } acks[kMaxAcks];

  // In the parent, before each child.
  void Reset();
  // In the child.
  [[noreturn]] void Fail(const std::string& what);
  void AddAck(int32_t partition, int64_t offset, uint64_t seq, uint32_t checksum);
  void Publish(const ConsumerProgress& progress);
  // In the parent, once the child is dead.
  void Collect(std::vector<testing::Ack>* acks, std::vector<uint32_t>* checksums);
  std::optional<ConsumerProgress> Progress() const;
  std::vector<int64_t> Attempted() const;
};

// SharedMemory: a Shared in anonymous memory that forked children share.
class SharedMemory {
 public:
  SharedMemory();
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  // get(): null if the memory could not be mapped.
  Shared* get() const { return shared_; }

 private:
  Shared* shared_ = nullptr;
};

// --- Consumers committing ------------------------------------------------------
// The place where consumer groups join the torture test (see kill_shared.cc).

// OnPolled(consumer, progress, shared): in the child, after each poll.
void OnPolled(Consumer& consumer, const ConsumerProgress& progress, Shared* shared);

// CheckConsumer(progress, found, ends, cycle, ...): in the parent, after a
// reopen, for each consumer of the children since the last check. `found`
// holds every record read back past the part checked before. Adds to *lost
// and *wrong, describes problems, and returns the records the consumer read.
int64_t CheckConsumer(const ConsumerProgress& progress,
                      const std::map<std::pair<int32_t, int64_t>, testing::ReadBack>& found,
                      const std::map<int32_t, int64_t>& ends, int cycle, int64_t* lost,
                      int64_t* wrong, std::vector<std::string>* problems);

}  // namespace rill

#endif  // RILL_TESTS_TORTURE_KILL_SHARED_H_
