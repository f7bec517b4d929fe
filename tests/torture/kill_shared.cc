#include "torture/kill_shared.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace rill {

void ConsumerProgress::Add(int32_t p, int64_t offset, uint64_t seq, uint32_t checksum) {
  position[p] = offset + 1;
  for (const uint64_t v : {static_cast<uint64_t>(offset), seq, uint64_t{checksum}}) {
    hash[p] = (hash[p] ^ v) * 0x100000001b3u + 0x9e3779b97f4a7c15u;
  }
}

void Shared::Reset() {
  const int64_t used = std::min(reserved.load(), kMaxAcks);
  for (int64_t i = 0; i < used; ++i) acks[i].valid.store(0);
  reserved.store(0);
  state.store(kStarting);
  error[0] = '\0';
  for (auto& a : attempted) a.store(-1);
  generation.store(0);
}

void Shared::Fail(const std::string& what) {
  int expected = kRunning;
  if (state.compare_exchange_strong(expected, kFailed) ||
      (expected = kStarting, state.compare_exchange_strong(expected, kFailed))) {
    std::strncpy(error, what.c_str(), sizeof(error) - 1);
    error[sizeof(error) - 1] = '\0';
  }
  _exit(1);
}

void Shared::AddAck(int32_t partition, int64_t offset, uint64_t seq, uint32_t checksum) {
  const int64_t i = reserved.fetch_add(1);
  if (i >= kMaxAcks) Fail("more acknowledgements than the shared memory holds");
  acks[i].partition = partition;
  acks[i].offset = offset;
  acks[i].seq = seq;
  acks[i].checksum = checksum;
  acks[i].valid.store(1, std::memory_order_release);
}

void Shared::Publish(const ConsumerProgress& progress) {
  const uint64_t g = generation.load(std::memory_order_relaxed);
  slots[(g + 1) % 2] = progress;
  generation.store(g + 1, std::memory_order_release);
}

void Shared::Collect(std::vector<testing::Ack>* out, std::vector<uint32_t>* checksums) {
  const int64_t used = std::min(reserved.load(), kMaxAcks);
  for (int64_t i = 0; i < used; ++i) {
    // An entry reserved but not yet filled when the kill came: never
    // acknowledged.
    if (acks[i].valid.load(std::memory_order_acquire) == 0) continue;
    out->push_back({acks[i].partition, acks[i].offset, acks[i].seq});
    checksums->push_back(acks[i].checksum);
  }
}

std::optional<ConsumerProgress> Shared::Progress() const {
  const uint64_t g = generation.load(std::memory_order_acquire);
  if (g == 0) return std::nullopt;
  return slots[g % 2];
}

std::vector<int64_t> Shared::Attempted() const {
  std::vector<int64_t> out;
  for (const auto& a : attempted) out.push_back(a.load());
  return out;
}

SharedMemory::SharedMemory() {
  void* memory = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory != MAP_FAILED) shared_ = new (memory) Shared();
}

SharedMemory::~SharedMemory() {
  if (shared_ == nullptr) return;
  shared_->~Shared();
  munmap(shared_, sizeof(Shared));
}

// --- Consumers committing ------------------------------------------------------
//
// Today a consumer's position lives only in its memory, so what the torture
// test can check of consumers is that what one read is still in the log,
// unchanged, after the crash: the child publishes its progress after each
// poll (OnPolled), and the parent recomputes it from the log (CheckConsumer).
//
// Consumer groups extend these two functions: OnPolled also commits the
// position (synchronously or not, as the group's API offers) and records in
// `shared` each commit that was acknowledged; CheckConsumer then also checks,
// for a consumer of the same group opened on the reopened log, that its
// committed offset per partition is at least the last acknowledged commit,
// at most the consumer's position, and within [start, end] of the log.

void OnPolled(Consumer& consumer, const ConsumerProgress& progress, Shared* shared) {
  (void)consumer;  // Groups: commit here.
  shared->Publish(progress);
}

int64_t CheckConsumer(const ConsumerProgress& progress,
                      const std::map<std::pair<int32_t, int64_t>, testing::ReadBack>& found,
                      const std::map<int32_t, int64_t>& ends, int cycle, int64_t* lost,
                      int64_t* wrong, std::vector<std::string>* problems) {
  int64_t consumed = 0;
  auto problem = [&](std::string text) {
    if (problems->size() < 20) problems->push_back(absl::StrCat("cycle ", cycle, ": ", text));
  };
  for (int32_t p = 0; p < kPartitions; ++p) {
    if (progress.position[p] < progress.start[p]) {
      ++*wrong;
      problem(absl::StrCat("a consumer's position in partition ", p, " went back"));
      continue;
    }
    if (progress.position[p] > ends.at(p)) {
      ++*lost;
      problem(absl::StrCat("a consumer read partition ", p, " up to ", progress.position[p],
                           ", past its end ", ends.at(p), " after the crash"));
      continue;
    }
    ConsumerProgress again;
    again.position[p] = progress.start[p];
    for (int64_t o = progress.start[p]; o < progress.position[p]; ++o) {
      auto it = found.find({p, o});
      if (it == found.end()) {
        ++*lost;
        problem(absl::StrCat("a consumer read ", p, "/", o, ", which is gone"));
        break;
      }
      again.Add(p, o, it->second.seq, it->second.checksum);
    }
    if (again.hash[p] != progress.hash[p]) {
      ++*wrong;
      problem(absl::StrCat("what a consumer read of partition ", p, " is not what is there"));
    }
    consumed += progress.position[p] - progress.start[p];
  }
  return consumed;
}

}  // namespace rill
