// How long a consumer group's rebalance takes: 8 members over a topic of 64
// partitions, each member on its own thread waiting in Poll. Timed from the
// membership change (the 8th member's Subscribe, or its Close) to the
// moment the last member has acquired its new partitions (its on_assigned
// returned), as the members' own threads see it. Eager (range: everybody
// revokes everything, auto-committing, then takes its share) and
// cooperative sticky (only the moved partitions change hands).
//
//   build/bench/group_bench --benchmark_counters_tabular=true
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "rill/rill.h"
#include "util/mutex.h"

namespace rill {
namespace {

constexpr int kMembers = 8;  // After the join; before the leave.
constexpr int32_t kPartitions = 64;

int64_t NowNanos() { return absl::GetCurrentTimeNanos(); }

// One member on a thread of its own, polling until stopped.
class BenchMember {
 public:
  BenchMember(Log& log, Assignor assignor, Mutex* mu, CondVar* changed)
      : log_(log), assignor_(assignor), mu_(mu), changed_(changed) {}
  ~BenchMember() { Stop(); }

  // Start(): joins the group from the member's thread; joined_at() is when
  // it called Subscribe.
  void Start() {
    stopping_.store(false);
    thread_ = std::thread([this] { Run(); });
  }
  // Stop(): makes the member leave (close) from its thread; left_at() is
  // when it began closing.
  void Stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    while (consumer_.load() == nullptr) std::this_thread::yield();
    consumer_.load()->Wakeup();
    thread_.join();
    consumer_.store(nullptr);
  }
  int owned() const { return owned_.load(); }
  int64_t assigned_at() const { return assigned_at_.load(); }
  int64_t joined_at() const { return joined_at_.load(); }
  int64_t left_at() const { return left_at_.load(); }

 private:
  void Run() {
    ConsumerOptions options{.group = "bench", .assignor = assignor_};
    options.on_assigned = [this](const std::vector<TopicPartition>& partitions) {
      owned_.fetch_add(static_cast<int>(partitions.size()));
      assigned_at_.store(NowNanos());
      Notify();
    };
    options.on_revoked = [this](const std::vector<TopicPartition>& partitions) {
      owned_.fetch_sub(static_cast<int>(partitions.size()));
      Notify();
    };
    auto consumer = std::make_unique<Consumer>(log_, options);
    joined_at_.store(NowNanos());
    (void)consumer->Subscribe({"t"});
    consumer_.store(consumer.get());
    while (!stopping_.load()) (void)consumer->Poll(absl::Milliseconds(100));
    left_at_.store(NowNanos());
    consumer.reset();  // Leaves: on_revoked, auto-commit, then the others rebalance.
  }
  void Notify() {
    MutexLock lock(mu_);
    changed_->SignalAll();
  }

  Log& log_;
  const Assignor assignor_;
  Mutex* const mu_;
  CondVar* const changed_;
  std::thread thread_;
  std::atomic<Consumer*> consumer_{nullptr};
  std::atomic<bool> stopping_{false};
  std::atomic<int> owned_{0};
  std::atomic<int64_t> assigned_at_{0}, joined_at_{0}, left_at_{0};
};

class Group {
 public:
  explicit Group(Assignor assignor) {
    log_ = *Log::OpenInMemory();
    (void)log_->CreateTopic("t", {.partitions = kPartitions});
    for (int i = 0; i < kMembers; ++i) {
      members_.push_back(std::make_unique<BenchMember>(*log_, assignor, &mu_, &changed_));
    }
    for (int i = 0; i < kMembers - 1; ++i) members_[static_cast<size_t>(i)]->Start();
    WaitBalanced(kMembers - 1);
  }
  ~Group() {
    for (auto& m : members_) m->Stop();
  }

  // Join(): the 8th member joins; returns ns until all 8 had acquired.
  int64_t Join() {
    BenchMember& last = *members_.back();
    last.Start();
    WaitBalanced(kMembers);
    return LastAssigned(kMembers) - last.joined_at();
  }
  // Leave(): the 8th member leaves; returns ns until the 7 had acquired.
  int64_t Leave() {
    BenchMember& last = *members_.back();
    last.Stop();
    WaitBalanced(kMembers - 1);
    return LastAssigned(kMembers - 1) - last.left_at();
  }

 private:
  // WaitBalanced(n): until the first n members hold every partition, none
  // fewer than 64 / n.
  void WaitBalanced(int n) {
    MutexLock lock(&mu_);
    for (;;) {
      int sum = 0, least = kPartitions;
      for (int i = 0; i < n; ++i) {
        const int owned = members_[static_cast<size_t>(i)]->owned();
        sum += owned;
        least = std::min(least, owned);
      }
      if (sum == kPartitions && least >= kPartitions / n) return;
      changed_.WaitFor(&mu_, absl::Milliseconds(10));
    }
  }
  int64_t LastAssigned(int n) const {
    int64_t last = 0;
    for (int i = 0; i < n; ++i)
      last = std::max(last, members_[static_cast<size_t>(i)]->assigned_at());
    return last;
  }

  std::unique_ptr<Log> log_;
  Mutex mu_;
  CondVar changed_;
  std::vector<std::unique_ptr<BenchMember>> members_;
};

void Report(benchmark::State& state, std::vector<int64_t> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return static_cast<double>(samples[static_cast<size_t>(q * (samples.size() - 1))]) / 1e3;
  };
  state.counters["p50_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = at(1.0);
}

// BM_Rebalance/assignor/join: time the join (7 -> 8 members) or the leave
// (8 -> 7).
void BM_Rebalance(benchmark::State& state) {
  const auto assignor = static_cast<Assignor>(state.range(0));
  const bool join = state.range(1) == 1;
  state.SetLabel(std::string(AssignorName(assignor)) + (join ? " join 7->8" : " leave 8->7"));
  Group group(assignor);
  std::vector<int64_t> samples;
  for (auto _ : state) {
    int64_t ns;
    if (join) {
      ns = group.Join();
      (void)group.Leave();
    } else {
      (void)group.Join();
      ns = group.Leave();
    }
    samples.push_back(ns);
    state.SetIterationTime(static_cast<double>(ns) / 1e9);
  }
  Report(state, std::move(samples));
}

BENCHMARK(BM_Rebalance)
    ->ArgsProduct({{static_cast<int>(Assignor::kRange),
                    static_cast<int>(Assignor::kCooperativeSticky)},
                   {1, 0}})
    ->UseManualTime()
    ->Iterations(200)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rill

BENCHMARK_MAIN();
