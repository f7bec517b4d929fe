#include "workloads.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "baselines.h"
#include "drivers.h"
#include "peers/peers.h"
#include "rill_subjects.h"
#include "stats.h"

namespace rill::bench {

Scale Scale::Short() {
  Scale s;
  s.append_records = 200'000;
  s.durable_records = 100'000;
  s.sync_each_records = 200;
  s.sync_each_per_thread = 50;
  s.latency_messages = 20'000;
  s.kib_records = 20'000;
  s.big_records = 400;
  s.telemetry_records = 100'000;
  s.futex_round_trips = 2'000;
  s.lifetimes = 50;
  return s;
}

namespace {

// Peers that may not be built: a null factory or function means "not built".
StoreFactory Lmdb([[maybe_unused]] const LmdbConfig& c) {
#ifdef RILL_BENCH_HAVE_LMDB
  return LmdbStore(c);
#else
  return nullptr;
#endif
}
StoreFactory RocksDb([[maybe_unused]] const RocksDbConfig& c) {
#ifdef RILL_BENCH_HAVE_ROCKSDB
  return RocksDbStore(c);
#else
  return nullptr;
#endif
}
StoreFactory Sqlite([[maybe_unused]] const SqliteConfig& c) {
#ifdef RILL_BENCH_HAVE_SQLITE
  return SqliteStore(c);
#else
  return nullptr;
#endif
}
StoreFactory Redis([[maybe_unused]] const RedisConfig& c) {
#ifdef RILL_BENCH_HAVE_REDIS
  static const bool installed = !RedisVersion().empty();
  if (installed) return RedisStore(c);
#endif
  return nullptr;
}
constexpr bool kHaveZmq =
#ifdef RILL_BENCH_HAVE_ZMQ
    true;
#else
    false;
#endif

constexpr char kLmdb[] = "LMDB";
constexpr char kRocksDb[] = "RocksDB";
constexpr char kSqlite[] = "SQLite";
constexpr char kRedis[] = "Redis";
constexpr char kZmq[] = "ZeroMQ";

Subject Unavailable(Subject s, std::string why) {
  s.unavailable = std::move(why);
  s.run = nullptr;
  return s;
}

// StoreSubject: a subject that runs RunWrites over `factory` (null: the
// peer is not built).
Subject StoreSubject(Subject s, const StoreFactory& factory, const WritePlan& plan) {
  if (factory == nullptr) return Unavailable(std::move(s), "not built");
  s.run = [factory, plan](const RunEnv& env) { return RunWrites(factory, env, plan); };
  return s;
}

std::string Count(uint64_t n) {
  if (n >= 1'000'000 && n % 1'000'000 == 0) return absl::StrCat(n / 1'000'000, "M");
  if (n >= 1'000 && n % 1'000 == 0) return absl::StrCat(n / 1'000, "k");
  return absl::StrCat(n);
}

std::string Bytes(uint64_t n) {
  if (n >= (1u << 20))
    return absl::StrCat(FormatNumber(static_cast<double>(n) / (1 << 20)), " MiB");
  if (n >= 1024 && n % 1024 == 0) return absl::StrCat(n / 1024, " KiB");
  return absl::StrCat(n, " B");
}

// Records per commit for values of `value_size`: 1000 for 100-byte values,
// about 100 KiB for larger ones, at least one.
int ChunkFor(size_t value_size) {
  return std::max(1, static_cast<int>(108'000 / (kKeySize + value_size)));
}

MetricSpec AppendRate(const char* unit = "M rec/s", double scale = 1e-6) {
  return {.key = kRate,
          .label = "append",
          .unit = unit,
          .scale = scale,
          .limit = LimitRule::kBytes,
          .limit_key = kWriteBytesRate};
}
MetricSpec TouchRate(bool summary = true) {
  return {.key = kTouchRate,
          .label = "replay, touch",
          .unit = "M rec/s",
          .scale = 1e-6,
          .summary = summary};
}
MetricSpec ReplayRate(bool summary = true) {
  return {.key = kReplayRate,
          .label = "replay, read all",
          .unit = "M rec/s",
          .scale = 1e-6,
          .summary = summary,
          .limit = LimitRule::kBytes,
          .limit_key = kReadBytesRate};
}
MetricSpec DiskPerRecord(bool summary = false) {
  return {.key = kBytesPerRecord,
          .label = "on disk",
          .unit = "B/rec",
          .higher_is_better = false,
          .summary = summary};
}
MetricSpec Latency(const char* key, const char* label, bool summary,
                   LimitRule limit = LimitRule::kNone) {
  return {.key = key,
          .label = label,
          .unit = "µs",
          .higher_is_better = false,
          .summary = summary,
          .limit = limit,
          .limit_key = key};
}

constexpr char kCrashPromise[] =
    "survives a crash of the process (data in the page cache); read back in write order";

// How the "by write" subjects differ from the rill subject before them.
constexpr char kByWriteSettings[] =
    "as above, LogOptions{.append_by_write = true}: batches written with pwritev, segments "
    "mapped read-only, nothing prefaulted";

// The append-and-replay subjects shared by the no-sync workloads of every
// value size.
std::vector<Subject> NoSyncStoreSubjects(const WritePlan& plan, bool with_sqlite_normal) {
  std::vector<Subject> s;
  const std::string txn = absl::StrCat("txn of ", plan.chunk);
  s.push_back(StoreSubject(
      {.column = kRill,
       .name = "rill",
       .settings = "Producer{kProcessCrash}, SendAsync (batch_bytes 64 KiB, linger 5 ms), "
                   "Flush; Consumer (max_poll_records 500)",
       .promises = "process crash; offset order per partition"},
      RillStore({}), plan));
  s.push_back(StoreSubject({.column = kRill,
                            .name = "rill by write",
                            .settings = kByWriteSettings,
                            .promises = "process crash; offset order per partition"},
                           RillStore({.log = {.append_by_write = true}}), plan));
  s.push_back(StoreSubject({.column = kLmdb,
                            .name = "LMDB NOSYNC",
                            .settings = absl::StrCat("MDB_NOSYNC, MDB_APPEND, ", txn),
                            .promises = "process crash; key order"},
                           Lmdb({.no_sync = true}), plan));
  s.push_back(StoreSubject(
      {.column = kRocksDb,
       .name = "RocksDB",
       .settings = absl::StrCat("WriteBatch of ", plan.chunk, ", WAL, sync=false, defaults"),
       .promises = "process crash; key order"},
      RocksDb({}), plan));
  s.push_back(StoreSubject({.column = kSqlite,
                            .name = "SQLite OFF",
                            .settings = absl::StrCat("WAL, synchronous=OFF, ", txn),
                            .promises = "process crash; rowid order"},
                           Sqlite({.synchronous = "OFF"}), plan));
  if (with_sqlite_normal) {
    s.push_back(StoreSubject({.column = kSqlite,
                              .name = "SQLite NORMAL",
                              .settings = absl::StrCat("WAL, synchronous=NORMAL, ", txn),
                              .promises = "process crash; power loss may lose the last commits "
                                          "(WAL synced at checkpoints); rowid order"},
                             Sqlite({.synchronous = "NORMAL"}), plan));
  }
  s.push_back(StoreSubject(
      {.column = kRedis,
       .name = "Redis everysec",
       .settings = absl::StrCat("Streams, XADD pipelined ", plan.chunk,
                                " per round trip (2 in flight), AOF appendfsync everysec"),
       .promises = "crash of redis-server; power loss loses up to 1 s; stream order; "
                   "out of process (TCP loopback)"},
      Redis({.appendfsync = "everysec"}), plan));
  return s;
}

// The limits of an append into the page cache: memcpy into new pages of a
// mapping (faulted in by the copy, or by a second thread ahead of it, as
// rill's segments are), and write() into a new file.
std::vector<Subject> PageCacheLimits(uint64_t bytes) {
  std::vector<Subject> s;
  const std::string size = Bytes(bytes);
  for (FreshMapping how :
       {FreshMapping::kFallocate, FreshMapping::kFtruncate, FreshMapping::kPrefaultThread}) {
    const char* name = how == FreshMapping::kFallocate   ? "memcpy to new mapping (fallocate)"
                       : how == FreshMapping::kFtruncate ? "memcpy to new mapping (ftruncate)"
                                                         : "memcpy to new mapping, prefaulted";
    const char* sizing = how == FreshMapping::kFtruncate ? "ftruncate" : "fallocate";
    std::string settings = absl::StrCat(sizing, " + mmap + memcpy in 1 MiB steps, ", size);
    if (how == FreshMapping::kPrefaultThread) {
      absl::StrAppend(&settings, "; a second thread faults pages in (MADV_POPULATE_WRITE) ahead");
    }
    absl::StrAppend(&settings, "; then one pass summing its words");
    s.push_back(
        {.column = kLimit,
         .name = name,
         .settings = settings,
         .promises = "-",
         .run = [bytes, how](const RunEnv& env) { return RunFreshMappingCopy(env, bytes, how); }});
  }
  s.push_back({.column = kLimit,
               .name = "write() to new file",
               .settings = absl::StrCat("write() 1 MiB at a time, ", size, ", no sync"),
               .promises = "-",
               .run = [bytes](const RunEnv& env) { return RunFreshFileWrites(env, bytes); }});
  return s;
}

Workload AppendWorkload(const Scale& scale) {
  const WritePlan plan = MakeWritePlan(1, scale.append_records, 1000, RandomValues(100));
  Workload w{.id = "append",
             .title = absl::StrCat("Append ", Count(scale.append_records),
                                   " records (8 B key, 100 B random value), no sync; replay"),
             .promise = absl::StrCat(
                 "Each record ", kCrashPromise,
                 ". Replay reads every record back in order twice: touching it (its key and "
                 "the first 8 bytes of its value), then hashing every byte of key and value."),
             .metrics = {AppendRate(), TouchRate(), ReplayRate(), DiskPerRecord()}};
  w.subjects = NoSyncStoreSubjects(plan, /*with_sqlite_normal=*/true);
  for (ZmqPattern pattern : {ZmqPattern::kPushPull, ZmqPattern::kPubSub}) {
    const bool push = pattern == ZmqPattern::kPushPull;
    Subject s{.column = kZmq,
              .name = push ? "ZeroMQ PUSH/PULL" : "ZeroMQ XPUB/SUB",
              .settings = push ? "inproc, default HWM (1000), one message per record"
                               : "inproc, ZMQ_XPUB_NODROP, default HWM, one message per record",
              .promises = "none: not stored, cannot replay; FIFO to one live receiver"};
    if (!kHaveZmq) {
      w.subjects.push_back(Unavailable(std::move(s), "not built"));
      continue;
    }
    s.run = [pattern, plan](const RunEnv&) { return RunZmqTransfer(pattern, plan); };
    w.subjects.push_back(std::move(s));
  }
  for (Subject& s : PageCacheLimits(uint64_t{scale.append_records} * 108)) {
    w.subjects.push_back(std::move(s));
  }
  w.settle = true;
  return w;
}

Workload DurableWorkload(const Scale& scale) {
  WritePlan plan = MakeWritePlan(1, scale.durable_records, 1000, RandomValues(100));
  plan.time_replay = false;
  Workload w{.id = "durable",
             .title = absl::StrCat("Durable append of ", Count(scale.durable_records),
                                   " records (8 + 100 B), synced every ~100 KiB"),
             .promise =
                 "Each record survives a loss of power once its write (or Flush) returns; "
                 "each subject in its strongest batched setting. Read back and checked "
                 "(not timed).",
             .metrics = {AppendRate(), DiskPerRecord()}};
  w.subjects.push_back(StoreSubject(
      {.column = kRill,
       .name = "rill",
       .settings = "Producer{kPowerLoss, batch_bytes 100 KiB}, SendAsync, the syncer thread "
                   "syncs behind the appender (group commit), Flush",
       .promises = "power loss; offset order"},
      RillStore({.producer = {.durability = Durability::kPowerLoss, .batch_bytes = 100 << 10}}),
      plan));
  w.subjects.push_back(
      StoreSubject({.column = kLmdb,
                    .name = "LMDB",
                    .settings = "default flags (fdatasync at each commit), MDB_APPEND, txn of 1000",
                    .promises = "power loss; key order"},
                   Lmdb({}), plan));
  w.subjects.push_back(StoreSubject({.column = kRocksDb,
                                     .name = "RocksDB sync",
                                     .settings = "WriteBatch of 1000, WAL, sync=true",
                                     .promises = "power loss; key order"},
                                    RocksDb({.sync = true}), plan));
  w.subjects.push_back(StoreSubject({.column = kSqlite,
                                     .name = "SQLite FULL",
                                     .settings = "WAL, synchronous=FULL, txn of 1000",
                                     .promises = "power loss; rowid order"},
                                    Sqlite({.synchronous = "FULL"}), plan));
  w.subjects.push_back(StoreSubject(
      {.column = kRedis,
       .name = "Redis always",
       .settings = "Streams, XADD pipelined 1000 per round trip (2 in flight), AOF appendfsync "
                   "always (one fsync per event-loop pass)",
       .promises = "power loss; stream order; out of process"},
      Redis({.appendfsync = "always"}), plan));
  const uint64_t bytes = uint64_t{scale.durable_records} * 108;
  w.subjects.push_back({.column = kLimit,
                        .name = "write 1 MiB + fdatasync",
                        .settings = absl::StrCat("write() 1 MiB then fdatasync, repeated, ",
                                                 Bytes((bytes >> 20) << 20), " in all"),
                        .promises = "power loss",
                        .run = [bytes](const RunEnv& env) {
                          absl::StatusOr<Metrics> m =
                              RunSyncedWrites(env, std::max<int64_t>(1, bytes >> 20), 1 << 20);
                          if (m.ok()) m->erase(kRate);  // Writes of 1 MiB, not records.
                          return m;
                        }});
  w.settle = true;
  return w;
}

Workload SyncEachWorkload(const Scale& scale) {
  Workload w{.id = "sync-each",
             .title = "One record (8 + 100 B) per sync: one thread, then 8 threads",
             .promise =
                 "Each write returns only once its record survives a loss of power. "
                 "With several threads, a store may share one sync among them (group "
                 "commit).",
             .metrics = {{.key = kRate, .label = "rate", .unit = "k rec/s", .scale = 1e-3},
                         Latency(kP50, "p50", true, LimitRule::kSame),
                         Latency(kP99, "p99", true, LimitRule::kSame),
                         Latency(kP999, "p99.9", false),
                         Latency(kMax, "max", false),
                         DiskPerRecord()}};
  const int n = scale.sync_threads;
  for (int threads : {1, n}) {
    const bool one = threads == 1;
    WritePlan plan = MakeWritePlan(
        threads, one ? scale.sync_each_records : scale.sync_each_per_thread, 1, RandomValues(100));
    plan.time_writes = true;
    plan.time_replay = false;
    const std::string group = one ? "1 thread" : absl::StrCat(n, " threads");
    const std::string x = one ? "" : absl::StrCat(" x", n);
    const std::string each =
        one ? "" : absl::StrCat(", ", n, " threads each ", Count(plan.per_writer));
    w.subjects.push_back(StoreSubject(
        {.column = kRill,
         .name = "rill" + x,
         .group = group,
         .settings = absl::StrCat("Producer{kPowerLoss} per thread, Send", each,
                                  one ? "" : " to one partition"),
         .promises = "power loss; offset order"},
        RillStore({.producer = {.durability = Durability::kPowerLoss}, .send_sync = true}), plan));
    w.subjects.push_back(StoreSubject({.column = kLmdb,
                                       .name = "LMDB" + x,
                                       .group = group,
                                       .settings = "default flags, one record per txn" + each,
                                       .promises = "power loss; key order"},
                                      Lmdb({}), plan));
    w.subjects.push_back(StoreSubject({.column = kRocksDb,
                                       .name = "RocksDB sync" + x,
                                       .group = group,
                                       .settings = "Put, sync=true" + each,
                                       .promises = "power loss; key order"},
                                      RocksDb({.sync = true}), plan));
    w.subjects.push_back(StoreSubject(
        {.column = kSqlite,
         .name = "SQLite FULL" + x,
         .group = group,
         .settings = "WAL, synchronous=FULL, one row per txn" +
                     (one ? std::string() : absl::StrCat(", a connection per thread", each)),
         .promises = "power loss; rowid order"},
        Sqlite({.synchronous = "FULL"}), plan));
    w.subjects.push_back(StoreSubject(
        {.column = kRedis,
         .name = "Redis always" + x,
         .group = group,
         .settings = "XADD, waiting for each reply, AOF appendfsync always" +
                     (one ? std::string() : absl::StrCat(", a connection per thread", each)),
         .promises = "power loss; stream order; out of process"},
        Redis({.appendfsync = "always", .pipeline_depth = 1}), plan));
    if (one) {
      const int64_t count = scale.sync_each_records;
      w.subjects.push_back(
          {.column = kLimit,
           .name = "write 4 KiB + fdatasync",
           .group = group,
           .settings = "append 4 KiB with write(), then fdatasync",
           .promises = "power loss",
           .run = [count](const RunEnv& env) { return RunSyncedWrites(env, count, 4096); }});
    }
  }
  return w;
}

Workload PartitionsWorkload(const Scale& scale) {
  const int n = scale.partitions;
  const WritePlan plan =
      MakeWritePlan(n, scale.append_records / static_cast<uint32_t>(n), 1000, RandomValues(100));
  Workload w{.id = "partitions",
             .title = absl::StrCat(n, " writer threads, ", Count(scale.append_records),
                                   " records in all (8 + 100 B), no sync"),
             .promise = absl::StrCat("As the single-writer append; each thread's records come "
                                     "back in its order. rill: each thread a Producer on its "
                                     "own partition; the peers have one keyspace or table."),
             .metrics = {AppendRate(), TouchRate(/*summary=*/false), ReplayRate(/*summary=*/false),
                         DiskPerRecord()}};
  const std::string x = absl::StrCat(" x", n);
  w.subjects.push_back(StoreSubject(
      {.column = kRill,
       .name = "rill" + x,
       .settings = absl::StrCat(n,
                                " Producers{kProcessCrash}, SendAsync, one partition each; "
                                "one Consumer of all"),
       .promises = "process crash; offset order per partition"},
      RillStore({.partitions = n}), plan));
  w.subjects.push_back(StoreSubject({.column = kRill,
                                     .name = "rill by write" + x,
                                     .settings = kByWriteSettings,
                                     .promises = "process crash; offset order per partition"},
                                    RillStore({.log = {.append_by_write = true}, .partitions = n}),
                                    plan));
  w.subjects.push_back(
      StoreSubject({.column = kLmdb,
                    .name = "LMDB NOSYNC" + x,
                    .settings = "MDB_NOSYNC, txn of 1000 per thread (one writer at a time)",
                    .promises = "process crash; key order"},
                   Lmdb({.no_sync = true}), plan));
  w.subjects.push_back(StoreSubject({.column = kRocksDb,
                                     .name = "RocksDB" + x,
                                     .settings = "WriteBatch of 1000 per thread, WAL, sync=false",
                                     .promises = "process crash; key order"},
                                    RocksDb({}), plan));
  w.subjects.push_back(StoreSubject(
      {.column = kSqlite,
       .name = "SQLite OFF" + x,
       .settings = "WAL, synchronous=OFF, txn of 1000, a connection per thread (one writer at "
                   "a time)",
       .promises = "process crash; rowid order"},
      Sqlite({.synchronous = "OFF"}), plan));
  w.subjects.push_back(StoreSubject(
      {.column = kRedis,
       .name = "Redis everysec" + x,
       .settings = "XADD pipelined 1000 (2 in flight), a connection per thread, appendfsync "
                   "everysec",
       .promises = "crash of redis-server; stream order; out of process"},
      Redis({.appendfsync = "everysec"}), plan));
  w.settle = true;
  return w;
}

Workload LatencyWorkload(const Scale& scale) {
  const LatencyPlan plan{.messages = scale.latency_messages};
  Workload w{
      .id = "latency",
      .title = "Producer thread to consumer thread, 100-byte messages at 100k/s",
      .promise =
          "Each message delivered once, in order, to a consumer on another thread; "
          "latency from just before the send (time stamp in the message) to the "
          "consumer's hands. rill's messages are also in the log (process-crash "
          "durable); the others' are not stored.",
      .metrics = {
          Latency(kP50, "p50", true, LimitRule::kSame),
          Latency(kP99, "p99", true, LimitRule::kSame),
          Latency(kP999, "p99.9", true),
          Latency(kMax, "max", false),
          {.key = kRate, .label = "sent", .unit = "k msg/s", .scale = 1e-3, .summary = false}}};
  for (bool busy : {true, false}) {
    const std::string group = busy ? "consumer spins" : "consumer sleeps";
    const absl::Duration poll = busy ? absl::InfiniteDuration() : absl::ZeroDuration();
    w.subjects.push_back(
        {.column = kRill,
         .name = busy ? "rill busy-poll" : "rill blocking",
         .group = group,
         .settings = absl::StrCat("Producer{kProcessCrash}.Send; Consumer{busy_poll = ",
                                  busy ? "InfiniteDuration" : "0", "}.Poll"),
         .promises = "process crash; order",
         .run = [plan, poll](const RunEnv& env) { return RunRillLatency(env, plan, poll); }});
    w.subjects.push_back(
        {.column = kRill,
         .name = busy ? "rill busy-poll kWriter" : "rill blocking kWriter",
         .group = group,
         .settings = absl::StrCat("as above, LogOptions{.prefault = kWriter}: no background "
                                  "thread faults pages in ahead of the producer"),
         .promises = "process crash; order",
         .run = [plan, poll](const RunEnv& env) {
           return RunRillLatency(env, plan, poll, {.prefault = Prefault::kWriter});
         }});
    w.subjects.push_back({.column = kRill,
                          .name = busy ? "rill busy-poll by write" : "rill blocking by write",
                          .group = group,
                          .settings = kByWriteSettings,
                          .promises = "process crash; order",
                          .run = [plan, poll](const RunEnv& env) {
                            return RunRillLatency(env, plan, poll, {.append_by_write = true});
                          }});
    Subject zmq{.column = kZmq,
                .name = busy ? "ZeroMQ spinning" : "ZeroMQ blocking",
                .group = group,
                .settings = busy ? "inproc PUSH/PULL, receiver polls with ZMQ_DONTWAIT"
                                 : "inproc PUSH/PULL, blocking zmq_msg_recv",
                .promises = "none: not stored; order"};
    if (kHaveZmq) {
      zmq.run = [plan, busy](const RunEnv&) { return RunZmqLatency(plan, busy); };
      w.subjects.push_back(std::move(zmq));
    } else {
      w.subjects.push_back(Unavailable(std::move(zmq), "not built"));
    }
    if (busy) {
      w.subjects.push_back({.column = kLimit,
                            .name = "SPSC ring",
                            .group = group,
                            .settings = "bare lock-free single-producer ring, consumer spins",
                            .promises = "none",
                            .run = [plan](const RunEnv&) { return RunSpscLatency(plan); }});
    } else {
      const int64_t n = scale.futex_round_trips;
      w.subjects.push_back({.column = kLimit,
                            .name = "futex round trip",
                            .group = group,
                            .settings = "two threads wake each other through futexes (a round "
                                        "trip: two wake-ups)",
                            .promises = "none",
                            .run = [n](const RunEnv&) { return RunFutexRoundTrip(n); }});
    }
  }
  return w;
}

Workload ValueSizeWorkload(size_t value_size, uint32_t records) {
  const WritePlan plan = MakeWritePlan(1, records, ChunkFor(value_size), RandomValues(value_size));
  Workload w{
      .id = absl::StrCat("values-", value_size / 1024, "k"),
      .title = absl::StrCat("Append ", Count(records), " records of 8 B key + ", Bytes(value_size),
                            " random value, no sync; replay"),
      .promise = absl::StrCat("As the 100-byte append; peers commit every ", plan.chunk,
                              plan.chunk == 1 ? " record" : " records", " (~100 KiB)."),
      .metrics = {AppendRate(), TouchRate(/*summary=*/false), ReplayRate(), DiskPerRecord()}};
  w.subjects = NoSyncStoreSubjects(plan, /*with_sqlite_normal=*/false);
  for (Subject& s : PageCacheLimits(uint64_t{records} * (kKeySize + value_size))) {
    if (s.name.find("ftruncate") == std::string::npos) w.subjects.push_back(std::move(s));
  }
  w.settle = true;
  return w;
}

Workload CompressionWorkload(const Scale& scale) {
  const WritePlan plan =
      MakeWritePlan(1, scale.telemetry_records, 1000,
                    TelemetryValues(std::min<uint32_t>(scale.telemetry_records, 1'000'000)));
  Workload w{.id = "compression",
             .title = absl::StrCat("Append ", Count(scale.telemetry_records),
                                   " JSON telemetry lines (~190 B: device, time, readings), no "
                                   "sync; replay"),
             .promise = absl::StrCat("As the 100-byte append. Bytes on disk after close."),
             .metrics = {AppendRate(), TouchRate(/*summary=*/false), ReplayRate(),
                         DiskPerRecord(/*summary=*/true)}};
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    const std::string codec(CompressionName(c));
    w.subjects.push_back(
        StoreSubject({.column = kRill,
                      .name = "rill " + codec,
                      .settings = absl::StrCat("Producer{compression = ", codec,
                                               "}, SendAsync (batch_bytes 64 KiB), Flush"),
                      .promises = "process crash; offset order"},
                     RillStore({.producer = {.compression = c}}), plan));
  }
  w.subjects.push_back(StoreSubject({.column = kLmdb,
                                     .name = "LMDB NOSYNC",
                                     .settings = "MDB_NOSYNC, MDB_APPEND, txn of 1000 (no "
                                                 "compression)",
                                     .promises = "process crash; key order"},
                                    Lmdb({.no_sync = true}), plan));
  w.subjects.push_back(
      StoreSubject({.column = kRocksDb,
                    .name = "RocksDB",
                    .settings = "WriteBatch of 1000, WAL, defaults (its default block compression)",
                    .promises = "process crash; key order"},
                   RocksDb({}), plan));
  w.settle = true;
  return w;
}

// LifetimeSubject: a subject that runs RunLifetimes over `factory`.
Subject LifetimeSubject(Subject s, const StoreFactory& factory, const WritePlan& plan, int lives) {
  if (factory == nullptr) return Unavailable(std::move(s), "not built");
  s.run = [factory, plan, lives](const RunEnv& env) {
    return RunLifetimes(factory, env, plan, lives);
  };
  return s;
}

Workload LifetimeWorkload(const Scale& scale) {
  const WritePlan plan = MakeWritePlan(1, 1, 1, RandomValues(100));
  const int n = scale.lifetimes;
  Workload w{
      .id = "lifetime",
      .title = absl::StrCat("A store's life, ", Count(static_cast<uint64_t>(n)),
                            " times: open a new one, write a record (8 + 100 B), read it back, "
                            "close"),
      .promise =
          "What a test pays for a store of its own. Each store is new and empty; the "
          "record is read back and checked (after the clock stops); on disk, each "
          "keeps its append workload's promise, and its directory is removed after the "
          "clock stops.",
      .metrics = {
          Latency(kP50, "p50 per life", true),
          Latency(kP99, "p99 per life", false),
          {.key = kRate, .label = "lives", .unit = "k/s", .scale = 1e-3, .summary = false}}};
  constexpr char kInMemory[] = "in memory";
  constexpr char kOnDisk[] = "on disk";
  constexpr char kRillLife[] =
      "CreateTopic, a Producer (SendAsync, Flush), a Consumer reading it back, Close";
  w.subjects.push_back(LifetimeSubject(
      {.column = kRill,
       .name = "rill in memory",
       .group = kInMemory,
       .settings = absl::StrCat("Log::OpenInMemory() (default options), ", kRillLife),
       .promises = "none beyond the store's life"},
      RillStore({.in_memory = true}), plan, n));
  w.subjects.push_back(LifetimeSubject(
      {.column = kRill,
       .name = "rill in memory, no threads",
       .group = kInMemory,
       .settings = absl::StrCat("Log::OpenInMemory({.background_threads = 0}), ", kRillLife),
       .promises = "none beyond the store's life"},
      RillStore({.log = {.background_threads = 0}, .in_memory = true}), plan, n));
  w.subjects.push_back(LifetimeSubject(
      {.column = kSqlite,
       .name = "SQLite in memory",
       .group = kInMemory,
       .settings = "shared-cache in-memory database (mode=memory), CREATE TABLE, a second "
                   "connection INSERTs in a transaction, SELECT, close both",
       .promises = "none beyond the store's life"},
      Sqlite({.in_memory = true}), plan, n));
  w.subjects.push_back(
      LifetimeSubject({.column = kRill,
                       .name = "rill",
                       .group = kOnDisk,
                       .settings = absl::StrCat("Log::Open(dir) (default options), ", kRillLife),
                       .promises = "the record: a crash of the process, and a power loss once "
                                   "closed; the log and its topic: a power loss (10 syncs in "
                                   "all, see RESULTS.md)"},
                      RillStore({}), plan, n));
  w.subjects.push_back(LifetimeSubject({.column = kLmdb,
                                        .name = "LMDB NOSYNC",
                                        .group = kOnDisk,
                                        .settings = "mdb_env_open(MDB_NOSYNC), a write txn, a "
                                                    "read txn, mdb_env_close",
                                        .promises = kCrashPromise},
                                       Lmdb({.no_sync = true}), plan, n));
  w.subjects.push_back(LifetimeSubject({.column = kRocksDb,
                                        .name = "RocksDB",
                                        .group = kOnDisk,
                                        .settings = "DB::Open (defaults, WAL, sync=false), a "
                                                    "WriteBatch, an iterator, close",
                                        .promises = kCrashPromise},
                                       RocksDb({}), plan, n));
  w.subjects.push_back(LifetimeSubject({.column = kSqlite,
                                        .name = "SQLite OFF",
                                        .group = kOnDisk,
                                        .settings = "WAL, synchronous=OFF, CREATE TABLE, a "
                                                    "second connection INSERTs in a "
                                                    "transaction, SELECT, close both",
                                        .promises = kCrashPromise},
                                       Sqlite({.synchronous = "OFF"}), plan, n));
  return w;
}

}  // namespace

std::vector<Workload> MakeWorkloads(const Scale& scale) {
  std::vector<Workload> w;
  w.push_back(AppendWorkload(scale));
  w.push_back(DurableWorkload(scale));
  w.push_back(SyncEachWorkload(scale));
  w.push_back(PartitionsWorkload(scale));
  w.push_back(LatencyWorkload(scale));
  w.push_back(ValueSizeWorkload(1024, scale.kib_records));
  w.push_back(ValueSizeWorkload(64 << 10, scale.big_records));
  w.push_back(CompressionWorkload(scale));
  w.push_back(LifetimeWorkload(scale));
  return w;
}

namespace {

TargetOutcome Outcome(std::optional<double> value, bool met, const std::string& text) {
  if (!value) return {TargetOutcome::kNotMeasured, "not measured"};
  return {met ? TargetOutcome::kMet : TargetOutcome::kMissed, text};
}

// AtLeast(workload, subject, metric, min, scale, unit): the median >= min.
Target AtLeast(std::string text, std::string workload, std::string subject, std::string metric,
               double min, double scale, std::string unit) {
  return {std::move(text), [=](const Results& r) {
            std::optional<double> v = r.Median(workload, subject, metric);
            return Outcome(v, v && *v >= min,
                           absl::StrCat(FormatNumber(v.value_or(0) * scale), " ", unit));
          }};
}

// AtMost(...): the median <= max.
Target AtMost(std::string text, std::string workload, std::string subject, std::string metric,
              double max, std::string unit) {
  return {std::move(text), [=](const Results& r) {
            std::optional<double> v = r.Median(workload, subject, metric);
            return Outcome(v, v && *v <= max, absl::StrCat(FormatNumber(v.value_or(0)), " ", unit));
          }};
}

// Ratio(...): median(a) / median(b) >= min (or <= max when `at_most`).
Target Ratio(std::string text, std::string wa, std::string a, std::string wb, std::string b,
             std::string metric, double bound, bool at_most, std::string of) {
  return {std::move(text), [=](const Results& r) {
            std::optional<double> x = r.Median(wa, a, metric), y = r.Median(wb, b, metric);
            std::optional<double> ratio;
            if (x && y && *y > 0) ratio = *x / *y;
            const bool met = ratio && (at_most ? *ratio <= bound : *ratio >= bound);
            return Outcome(ratio, met, absl::StrCat(FormatNumber(ratio.value_or(0)), "x ", of));
          }};
}

}  // namespace

std::vector<Target> MakeTargets() {
  return {
      AtLeast("Append, no sync: >= 5 M rec/s", "append", "rill", kRate, 5e6, 1e-6, "M rec/s"),
      Ratio("Append, no sync: ahead of LMDB MDB_NOSYNC in the same run", "append", "rill", "append",
            "LMDB NOSYNC", kRate, 1.0, false, "LMDB NOSYNC"),
      Ratio("Durable, synced every ~100 KiB: >= 2x LMDB default", "durable", "rill", "durable",
            "LMDB", kRate, 2.0, false, "LMDB"),
      Ratio("One record per sync: p50 <= 1.5x bare write+fdatasync", "sync-each", "rill",
            "sync-each", "write 4 KiB + fdatasync", kP50, 1.5, true, "bare"),
      Ratio("8 threads, one record per sync: >= 5x one thread (group commit)", "sync-each",
            "rill x8", "sync-each", "rill", kRate, 5.0, false, "one thread"),
      Ratio("4 producers on 4 partitions: >= 1.5x one producer", "partitions", "rill x4", "append",
            "rill", kRate, 1.5, false, "one producer"),
      Ratio("4 producers on 4 partitions: >= 1.5x one producer (append_by_write)", "partitions",
            "rill by write x4", "append", "rill by write", kRate, 1.5, false, "one producer"),
      Ratio("Append, no sync, append_by_write: ahead of LMDB MDB_NOSYNC", "append", "rill by write",
            "append", "LMDB NOSYNC", kRate, 1.0, false, "LMDB NOSYNC"),
      AtLeast("Replay, touching key and value: >= 50 M rec/s", "append", "rill", kTouchRate, 50e6,
              1e-6, "M rec/s"),
      AtMost("Thread to thread, busy-poll: p50 <= 1 µs", "latency", "rill busy-poll", kP50, 1,
             "µs"),
      AtMost("Thread to thread, busy-poll: p99 <= 5 µs (default options)", "latency",
             "rill busy-poll", kP99, 5, "µs"),
      AtMost("Thread to thread, busy-poll: p99 <= 5 µs (Prefault::kWriter)", "latency",
             "rill busy-poll kWriter", kP99, 5, "µs"),
      AtMost("Thread to thread, busy-poll: p99 <= 5 µs (append_by_write)", "latency",
             "rill busy-poll by write", kP99, 5, "µs"),
      Ratio("Thread to thread, blocking: p50 <= 1.5x futex wake round trip", "latency",
            "rill blocking", "latency", "futex round trip", kP50, 1.5, true, "futex round trip"),
  };
}

std::string PeerVersions() {
  std::vector<std::string> v;
#ifdef RILL_BENCH_HAVE_LMDB
  v.push_back("LMDB " + LmdbVersion());
#endif
#ifdef RILL_BENCH_HAVE_ROCKSDB
  v.push_back("RocksDB " + RocksDbVersion());
#endif
#ifdef RILL_BENCH_HAVE_SQLITE
  v.push_back("SQLite " + SqliteVersion());
#endif
#ifdef RILL_BENCH_HAVE_ZMQ
  v.push_back("ZeroMQ " + ZmqVersion());
#endif
#ifdef RILL_BENCH_HAVE_REDIS
  const std::string redis = RedisVersion();
  v.push_back(redis.empty() ? "Redis: redis-server not installed" : "Redis " + redis);
#endif
  std::string out;
  for (const std::string& s : v) absl::StrAppend(&out, out.empty() ? "" : ", ", s);
  return out.empty() ? "none built" : out;
}

}  // namespace rill::bench
