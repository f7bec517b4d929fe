// LMDB as a Store. One environment, the unnamed database; keys are record
// ids (big-endian, so B-tree order is id order), written with MDB_APPEND
// when one writer writes them in order.
#include <lmdb.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "peers/peers.h"

namespace rill::bench {
namespace {

absl::Status LmdbError(const char* what, int rc) {
  return absl::InternalError(absl::StrCat("LMDB ", what, ": ", mdb_strerror(rc)));
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

class LmdbWriter : public StoreWriter {
 public:
  LmdbWriter(MDB_env* env, MDB_dbi dbi, unsigned put_flags)
      : env_(env), dbi_(dbi), put_flags_(put_flags) {}

  absl::Status Write(std::span<const KV> records) override {
    MDB_txn* txn;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) return LmdbError("txn_begin", rc);
    for (const KV& r : records) {
      MDB_val key = Val(r.key), value = Val(r.value);
      if (int rc = mdb_put(txn, dbi_, &key, &value, put_flags_); rc != 0) {
        mdb_txn_abort(txn);
        return LmdbError("put", rc);
      }
    }
    if (int rc = mdb_txn_commit(txn); rc != 0) return LmdbError("commit", rc);
    return absl::OkStatus();
  }

 private:
  MDB_env* const env_;
  const MDB_dbi dbi_;
  const unsigned put_flags_;
};

class LmdbStoreImpl : public Store {
 public:
  LmdbStoreImpl(MDB_env* env, MDB_dbi dbi, unsigned put_flags)
      : env_(env), dbi_(dbi), put_flags_(put_flags) {}
  ~LmdbStoreImpl() override { (void)Close(); }

  absl::StatusOr<std::unique_ptr<StoreWriter>> NewWriter() override {
    return std::make_unique<LmdbWriter>(env_, dbi_, put_flags_);
  }

  absl::Status ReadAll(Verifier& verifier) override {
    MDB_txn* txn;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn); rc != 0) {
      return LmdbError("txn_begin", rc);
    }
    MDB_cursor* cursor;
    if (int rc = mdb_cursor_open(txn, dbi_, &cursor); rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("cursor_open", rc);
    }
    MDB_val key, value;
    int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
    while (rc == 0) {
      verifier.Add({static_cast<const char*>(key.mv_data), key.mv_size},
                   {static_cast<const char*>(value.mv_data), value.mv_size});
      rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    if (rc != MDB_NOTFOUND) return LmdbError("cursor_get", rc);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (env_ == nullptr) return absl::OkStatus();
    // With MDB_NOSYNC nothing was synced; closing does not sync either.
    mdb_env_close(env_);
    env_ = nullptr;
    return absl::OkStatus();
  }

 private:
  MDB_env* env_;
  const MDB_dbi dbi_;
  const unsigned put_flags_;
};

}  // namespace

StoreFactory LmdbStore(const LmdbConfig& config) {
  return [config](const std::string& dir, int writers) -> absl::StatusOr<std::unique_ptr<Store>> {
    MDB_env* env;
    if (int rc = mdb_env_create(&env); rc != 0) return LmdbError("env_create", rc);
    // Address space only: the file grows as pages are used.
    if (int rc = mdb_env_set_mapsize(env, size_t{64} << 30); rc != 0) {
      mdb_env_close(env);
      return LmdbError("set_mapsize", rc);
    }
    const unsigned flags = config.no_sync ? MDB_NOSYNC : 0;
    if (int rc = mdb_env_open(env, dir.c_str(), flags, 0644); rc != 0) {
      mdb_env_close(env);
      return LmdbError("env_open", rc);
    }
    MDB_txn* txn;
    MDB_dbi dbi;
    if (int rc = mdb_txn_begin(env, nullptr, 0, &txn); rc != 0) {
      mdb_env_close(env);
      return LmdbError("txn_begin", rc);
    }
    if (int rc = mdb_dbi_open(txn, nullptr, 0, &dbi); rc != 0) {
      mdb_txn_abort(txn);
      mdb_env_close(env);
      return LmdbError("dbi_open", rc);
    }
    if (int rc = mdb_txn_commit(txn); rc != 0) {
      mdb_env_close(env);
      return LmdbError("commit", rc);
    }
    // Several writers interleave their keys: MDB_APPEND needs one.
    const unsigned put_flags = config.append && writers == 1 ? MDB_APPEND : 0;
    return std::make_unique<LmdbStoreImpl>(env, dbi, put_flags);
  };
}

std::string LmdbVersion() {
  int major, minor, patch;
  mdb_version(&major, &minor, &patch);
  return absl::StrCat(major, ".", minor, ".", patch);
}

}  // namespace rill::bench
