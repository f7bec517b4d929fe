// RocksDB as a Store: default options (as a user who opens a DB gets them),
// one WriteBatch per Write, the WAL on.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"
#include "peers/peers.h"

namespace rill::bench {
namespace {

absl::Status RocksError(const char* what, const rocksdb::Status& s) {
  return absl::InternalError(absl::StrCat("RocksDB ", what, ": ", s.ToString()));
}

rocksdb::Slice Slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksDbWriter : public StoreWriter {
 public:
  RocksDbWriter(rocksdb::DB* db, bool sync) : db_(db) { options_.sync = sync; }

  absl::Status Write(std::span<const KV> records) override {
    rocksdb::Status s;
    if (records.size() == 1) {
      s = db_->Put(options_, Slice(records[0].key), Slice(records[0].value));
    } else {
      batch_.Clear();
      for (const KV& r : records) {
        s = batch_.Put(Slice(r.key), Slice(r.value));
        if (!s.ok()) return RocksError("batch put", s);
      }
      s = db_->Write(options_, &batch_);
    }
    if (!s.ok()) return RocksError("write", s);
    return absl::OkStatus();
  }

 private:
  rocksdb::DB* const db_;
  rocksdb::WriteOptions options_;
  rocksdb::WriteBatch batch_;
};

class RocksDbStoreImpl : public Store {
 public:
  RocksDbStoreImpl(std::unique_ptr<rocksdb::DB> db, bool sync) : db_(std::move(db)), sync_(sync) {}

  absl::StatusOr<std::unique_ptr<StoreWriter>> NewWriter() override {
    return std::make_unique<RocksDbWriter>(db_.get(), sync_);
  }

  absl::Status ReadAll(Verifier& verifier) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key(), value = it->value();
      verifier.Add({key.data(), key.size()}, {value.data(), value.size()});
    }
    if (!it->status().ok()) return RocksError("iterate", it->status());
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (db_ == nullptr) return absl::OkStatus();
    rocksdb::Status s = db_->Close();
    db_.reset();
    if (!s.ok()) return RocksError("close", s);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  const bool sync_;
};

}  // namespace

StoreFactory RocksDbStore(const RocksDbConfig& config) {
  return [config](const std::string& dir, int) -> absl::StatusOr<std::unique_ptr<Store>> {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db;
    rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
    if (!s.ok()) return RocksError("open", s);
    return std::make_unique<RocksDbStoreImpl>(std::unique_ptr<rocksdb::DB>(db), config.sync);
  };
}

std::string RocksDbVersion() {
  return absl::StrCat(ROCKSDB_MAJOR, ".", ROCKSDB_MINOR, ".", ROCKSDB_PATCH);
}

}  // namespace rill::bench
