#include "drivers.h"

#include <atomic>
#include <filesystem>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "env.h"
#include "stats.h"

namespace rill::bench {

WritePlan MakeWritePlan(int writers, uint32_t per_writer, int chunk,
                        std::shared_ptr<const ValueSource> values) {
  WritePlan plan;
  plan.writers = writers;
  plan.per_writer = per_writer;
  plan.chunk = chunk;
  plan.expected =
      std::make_shared<SharedExpected>(values.get(), static_cast<uint32_t>(writers), per_writer);
  plan.values = std::move(values);
  return plan;
}

namespace {

// One writer thread's records, generated chunk by chunk into buffers that
// are allocated (and touched) before timing starts.
class ChunkMaker {
 public:
  ChunkMaker(const ValueSource& values, uint32_t stream, int chunk)
      : values_(values),
        stream_(stream),
        buffer_(static_cast<size_t>(chunk) * (kKeySize + values.max_size()), 1),
        records_(static_cast<size_t>(chunk)) {}

  // Make(first, n): records first .. first+n-1 of the stream, each value
  // laid right after its key.
  std::span<const KV> Make(uint32_t first, size_t n) {
    char* p = buffer_.data();
    for (size_t i = 0; i < n; ++i) {
      const uint64_t id = RecordId(stream_, first + static_cast<uint32_t>(i));
      EncodeKey(id, p);
      const size_t size = values_.Fill(id, p + kKeySize);
      records_[i] = {{p, kKeySize}, {p + kKeySize, size}};
      p += kKeySize + size;
    }
    return {records_.data(), n};
  }

 private:
  const ValueSource& values_;
  const uint32_t stream_;
  std::vector<char> buffer_;
  std::vector<KV> records_;
};

struct WriterResult {
  absl::Status status;
  std::vector<int64_t> latencies;
};

void WriteStream(StoreWriter& writer, const WritePlan& plan, uint32_t stream,
                 const std::atomic<bool>& go, WriterResult* out) {
  ChunkMaker maker(*plan.values, stream, plan.chunk);
  if (plan.time_writes) out->latencies.reserve(plan.per_writer / plan.chunk + 1);
  go.wait(false, std::memory_order_acquire);  // Sleeping: there may be more writers than CPUs.
  for (uint32_t first = 0; first < plan.per_writer;) {
    const size_t n = std::min<size_t>(static_cast<size_t>(plan.chunk), plan.per_writer - first);
    std::span<const KV> records = maker.Make(first, n);
    const int64_t start = plan.time_writes ? NowNs() : 0;
    if (absl::Status s = writer.Write(records); !s.ok()) {
      out->status = s;
      return;
    }
    if (plan.time_writes) out->latencies.push_back(NowNs() - start);
    first += static_cast<uint32_t>(n);
  }
  out->status = writer.Finish();
}

}  // namespace

absl::StatusOr<Metrics> RunWrites(const StoreFactory& factory, const RunEnv& env,
                                  const WritePlan& plan) {
  const Expected& expected = plan.expected->Get();
  absl::StatusOr<std::unique_ptr<Store>> store = factory(env.dir, plan.writers);
  if (!store.ok()) return store.status();
  std::vector<std::unique_ptr<StoreWriter>> writers;
  for (int i = 0; i < plan.writers; ++i) {
    absl::StatusOr<std::unique_ptr<StoreWriter>> w = (*store)->NewWriter();
    if (!w.ok()) return w.status();
    writers.push_back(*std::move(w));
  }

  std::vector<WriterResult> results(static_cast<size_t>(plan.writers));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 1; i < plan.writers; ++i) {
    threads.emplace_back(WriteStream, std::ref(*writers[static_cast<size_t>(i)]), std::cref(plan),
                         static_cast<uint32_t>(i), std::cref(go), &results[static_cast<size_t>(i)]);
  }
  const int64_t start = NowNs();
  go.store(true, std::memory_order_release);
  go.notify_all();
  WriteStream(*writers[0], plan, 0, go, &results[0]);
  for (std::thread& t : threads) t.join();
  const int64_t end = NowNs();
  writers.clear();
  for (const WriterResult& r : results) {
    if (!r.status.ok()) return r.status;
  }

  Metrics m;
  m[kRate] = static_cast<double>(expected.records()) * 1e9 / static_cast<double>(end - start);
  if (plan.time_writes) {
    std::vector<int64_t> all;
    for (WriterResult& r : results) all.insert(all.end(), r.latencies.begin(), r.latencies.end());
    for (const auto& [key, value] : LatencyMetrics(all)) m[key] = value;
  }

  if (plan.time_replay) {
    Verifier toucher(expected, Verifier::kTouch);
    const int64_t start_touch = NowNs();
    if (absl::Status s = (*store)->ReadAll(toucher); !s.ok()) return s;
    const int64_t end_touch = NowNs();
    if (absl::Status s = toucher.Finish(); !s.ok()) return s;
    if (toucher.touched() == 0) return absl::DataLossError("every value read back as zeros");
    m[kTouchRate] =
        static_cast<double>(toucher.count()) * 1e9 / static_cast<double>(end_touch - start_touch);
  }
  Verifier verifier(expected, Verifier::kFull);
  const int64_t read_start = NowNs();
  if (absl::Status s = (*store)->ReadAll(verifier); !s.ok()) return s;
  const int64_t read_end = NowNs();
  if (absl::Status s = verifier.Finish(); !s.ok()) return s;
  if (plan.time_replay) {
    m[kReplayRate] =
        static_cast<double>(verifier.count()) * 1e9 / static_cast<double>(read_end - read_start);
  }
  if (absl::Status s = (*store)->Close(); !s.ok()) return s;
  store->reset();
  absl::StatusOr<uint64_t> bytes = DiskBytes(env.dir);
  if (!bytes.ok()) return bytes.status();
  m[kBytesPerRecord] = static_cast<double>(*bytes) / static_cast<double>(expected.records());
  return m;
}

absl::StatusOr<Metrics> RunLifetimes(const StoreFactory& factory, const RunEnv& env,
                                     const WritePlan& plan, int lives) {
  if (plan.writers != 1) return absl::InvalidArgumentError("RunLifetimes: one writer");
  const Expected& expected = plan.expected->Get();
  ChunkMaker maker(*plan.values, 0, static_cast<int>(plan.per_writer));
  const std::span<const KV> records = maker.Make(0, plan.per_writer);
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(lives));
  int64_t total_ns = 0;
  for (int i = 0; i < lives; ++i) {
    const std::filesystem::path dir = std::filesystem::path(env.dir) / absl::StrCat("life-", i);
    std::error_code error;
    if (!std::filesystem::create_directory(dir, error)) {
      return absl::InternalError(absl::StrCat("mkdir ", dir.string(), ": ", error.message()));
    }
    Verifier verifier(expected, Verifier::kFull);
    const int64_t start = NowNs();
    {
      absl::StatusOr<std::unique_ptr<Store>> store = factory(dir.string(), 1);
      if (!store.ok()) return store.status();
      absl::StatusOr<std::unique_ptr<StoreWriter>> writer = (*store)->NewWriter();
      if (!writer.ok()) return writer.status();
      if (absl::Status s = (*writer)->Write(records); !s.ok()) return s;
      if (absl::Status s = (*writer)->Finish(); !s.ok()) return s;
      writer->reset();
      if (absl::Status s = (*store)->ReadAll(verifier); !s.ok()) return s;
      if (absl::Status s = (*store)->Close(); !s.ok()) return s;
    }
    const int64_t ns = NowNs() - start;
    if (absl::Status s = verifier.Finish(); !s.ok()) return s;
    latencies.push_back(ns);
    total_ns += ns;
    std::filesystem::remove_all(dir, error);
    if (error) {
      return absl::InternalError(absl::StrCat("remove ", dir.string(), ": ", error.message()));
    }
  }
  Metrics m = LatencyMetrics(latencies);
  m[kRate] = static_cast<double>(lives) * 1e9 / static_cast<double>(std::max<int64_t>(1, total_ns));
  return m;
}

absl::StatusOr<Metrics> RunTransfer(Queue& queue, const WritePlan& plan) {
  const Expected& expected = plan.expected->Get();
  const int64_t total = static_cast<int64_t>(expected.records());
  // The receiver only touches each message (as an append reads nothing back).
  Verifier verifier(expected, Verifier::kTouch);
  absl::Status receive_status;
  int64_t last_receive = 0;
  std::atomic<bool> go{false};
  std::thread receiver([&] {
    while (!go.load(std::memory_order_acquire)) CpuRelax();
    while (static_cast<int64_t>(verifier.count()) < total) {
      absl::Status s = queue.Receive([&](std::string_view message) {
        if (message.size() < kKeySize) {
          verifier.Add(message, {});
        } else {
          verifier.Add(message.substr(0, kKeySize), message.substr(kKeySize));
        }
      });
      if (!s.ok()) {
        receive_status = absl::DataLossError(
            absl::StrCat("received ", verifier.count(), " of ", total, " messages: ", s.message()));
        return;
      }
    }
    last_receive = NowNs();
  });

  ChunkMaker maker(*plan.values, 0, plan.chunk);
  absl::Status send_status;
  const int64_t start = NowNs();
  go.store(true, std::memory_order_release);
  for (uint32_t first = 0; first < plan.per_writer && send_status.ok();) {
    const size_t n = std::min<size_t>(static_cast<size_t>(plan.chunk), plan.per_writer - first);
    for (const KV& r : maker.Make(first, n)) {
      // ChunkMaker lays each value right after its key: one message, no copy.
      send_status = queue.Send(std::string_view(r.key.data(), r.key.size() + r.value.size()));
      if (!send_status.ok()) break;
    }
    first += static_cast<uint32_t>(n);
  }
  receiver.join();
  if (!send_status.ok()) return send_status;
  if (!receive_status.ok()) return receive_status;
  if (absl::Status s = verifier.Finish(); !s.ok()) return s;
  return Metrics{
      {kRate, static_cast<double>(total) * 1e9 / static_cast<double>(last_receive - start)}};
}

absl::StatusOr<Metrics> RunLatency(Queue& queue, const LatencyPlan& plan) {
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(plan.messages));
  absl::Status receive_status;
  std::atomic<bool> ready{false};
  std::thread receiver([&] {
    int64_t expected_seq = 0;
    ready.store(true, std::memory_order_release);
    while (expected_seq < plan.messages) {
      absl::Status s = queue.Receive([&](std::string_view message) {
        const int64_t now = NowNs();
        int64_t sent = 0, seq = -1;
        if (message.size() >= 16) {
          std::memcpy(&sent, message.data(), 8);
          std::memcpy(&seq, message.data() + 8, 8);
        }
        if (seq != expected_seq) {
          if (receive_status.ok()) {
            receive_status =
                absl::DataLossError(absl::StrCat("expected message ", expected_seq, ", got ", seq));
          }
        }
        expected_seq = seq + 1;
        if (seq >= plan.warmup) latencies.push_back(now - sent);
      });
      if (!s.ok()) {
        receive_status = absl::DataLossError(absl::StrCat(
            "received ", expected_seq, " of ", plan.messages, " messages: ", s.message()));
      }
      if (!receive_status.ok()) return;
    }
  });
  while (!ready.load(std::memory_order_acquire)) CpuRelax();

  std::string message(std::max<size_t>(plan.message_size, 16), 'x');
  const int64_t period = 1'000'000'000 / plan.rate_per_s;
  absl::Status send_status;
  const int64_t start = NowNs();
  for (int64_t i = 0; i < plan.messages; ++i) {
    const int64_t due = start + i * period;
    int64_t now = NowNs();
    while (now < due) {
      CpuRelax();
      now = NowNs();
    }
    std::memcpy(message.data(), &now, 8);
    std::memcpy(message.data() + 8, &i, 8);
    send_status = queue.Send(message);
    if (!send_status.ok()) break;
  }
  const int64_t end = NowNs();
  receiver.join();
  if (!send_status.ok()) return send_status;
  if (!receive_status.ok()) return receive_status;
  Metrics m = LatencyMetrics(latencies);
  m[kRate] = static_cast<double>(plan.messages) * 1e9 / static_cast<double>(end - start);
  return m;
}

}  // namespace rill::bench
