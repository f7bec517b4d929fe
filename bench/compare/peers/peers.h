// The peers: the libraries a C++ program would embed instead of rill, each
// behind the Store or Queue interface, used only through their public APIs.
// Each is compiled only when its Debian package was found (the
// RILL_BENCH_HAVE_* macros); the workloads list a peer that was not built
// as "not built".
//
// Thread-safety: as Store and Queue.
#ifndef RILL_BENCH_COMPARE_PEERS_PEERS_H_
#define RILL_BENCH_COMPARE_PEERS_PEERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "drivers.h"
#include "store.h"

namespace rill::bench {

// LMDB: records in one B-tree keyed by id, committed in write transactions.
struct LmdbConfig {
  // MDB_NOSYNC: commits are not synced (a process crash keeps them: they
  // are in the page cache; a power loss may not).
  bool no_sync = false;
  // MDB_APPEND: keys arrive in order (one writer).
  bool append = true;
};
StoreFactory LmdbStore(const LmdbConfig& config);
std::string LmdbVersion();

// RocksDB: one column family; WriteBatch per Write.
struct RocksDbConfig {
  // WriteOptions::sync: fsync the WAL before a write returns.
  bool sync = false;
};
StoreFactory RocksDbStore(const RocksDbConfig& config);
std::string RocksDbVersion();

// SQLite: table log(id INTEGER PRIMARY KEY, k BLOB, v BLOB) in WAL mode,
// one transaction per Write.
struct SqliteConfig {
  const char* synchronous = "OFF";  // OFF, NORMAL or FULL.
  // A shared-cache in-memory database (no file), which lives while the
  // store has a connection open.
  bool in_memory = false;
};
StoreFactory SqliteStore(const SqliteConfig& config);
std::string SqliteVersion();

// Redis Streams: a redis-server started on 127.0.0.1 for the run (and
// stopped after it); XADD per record, a Write pipelined as one round trip;
// read back with XRANGE.
struct RedisConfig {
  const char* appendfsync = "everysec";  // AOF: everysec or always.
  // Writes in flight per connection: 1 waits for each Write's replies
  // before the next.
  int pipeline_depth = 2;
};
StoreFactory RedisStore(const RedisConfig& config);
// RedisVersion(): "7.0.15", or "" when redis-server cannot be run.
std::string RedisVersion();

// ZeroMQ inproc sockets between two threads; no storage.
enum class ZmqPattern {
  kPushPull,
  kPubSub,  // XPUB with ZMQ_XPUB_NODROP, SUB.
};
// RunZmqTransfer(pattern, plan): RunTransfer over a ZeroMQ pair.
absl::StatusOr<Metrics> RunZmqTransfer(ZmqPattern pattern, const WritePlan& plan);
// RunZmqLatency(plan, busy): RunLatency over PUSH/PULL; the receiver spins
// (ZMQ_DONTWAIT) if `busy`, else blocks in zmq_recv.
absl::StatusOr<Metrics> RunZmqLatency(const LatencyPlan& plan, bool busy);
std::string ZmqVersion();

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_PEERS_PEERS_H_
