// Store: what the write workloads need of a subject -- writers that write
// chunks of records, one per thread, and a reader that reads them all back
// in order -- so that rill and every peer run the same measured loop.
//
// Thread-safety: a Store's NewWriter, ReadAll and Close are called from one
// thread; each StoreWriter is used by one thread, several at once.
#ifndef RILL_BENCH_COMPARE_STORE_H_
#define RILL_BENCH_COMPARE_STORE_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "records.h"

namespace rill::bench {

struct KV {
  std::string_view key;
  std::string_view value;
};

class StoreWriter {
 public:
  virtual ~StoreWriter() = default;
  // Write(records): writes `records` as one unit -- a transaction, a write
  // batch, a pipeline -- and returns once the store keeps its promise for
  // them, or, for a writer that pipelines, once they are on their way.
  virtual absl::Status Write(std::span<const KV> records) = 0;
  // Finish(): returns once the store keeps its promise for every record
  // written.
  virtual absl::Status Finish() { return absl::OkStatus(); }
};

class Store {
 public:
  virtual ~Store() = default;
  // NewWriter(): a writer for one thread; called before timing starts.
  virtual absl::StatusOr<std::unique_ptr<StoreWriter>> NewWriter() = 0;
  // ReadAll(verifier): reads every record back, in the store's order,
  // passing each to verifier->Add.
  virtual absl::Status ReadAll(Verifier& verifier) = 0;
  // Close(): releases the store; its files stay, for DiskBytes.
  virtual absl::Status Close() = 0;
};

// StoreFactory(dir, writers): opens an empty store in `dir` for `writers`
// threads.
using StoreFactory =
    std::function<absl::StatusOr<std::unique_ptr<Store>>(const std::string& dir, int writers)>;

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_STORE_H_
