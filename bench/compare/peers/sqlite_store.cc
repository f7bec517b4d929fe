// SQLite as a Store: a rowid table in WAL mode, one connection per writer,
// one transaction per Write (BEGIN IMMEDIATE: writers queue on the lock).
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "peers/peers.h"

namespace rill::bench {
namespace {

absl::Status SqliteError(sqlite3* db, const char* what) {
  return absl::InternalError(absl::StrCat("SQLite ", what, ": ", sqlite3_errmsg(db)));
}

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status s = absl::InternalError(absl::StrCat("SQLite ", sql, ": ", error));
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

// A connection, configured as every connection of the store is.
absl::StatusOr<sqlite3*> Connect(const std::string& path, const char* synchronous) {
  sqlite3* db;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                      nullptr) != SQLITE_OK) {
    absl::Status s = SqliteError(db, "open");
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 60'000);
  for (const std::string& sql :
       {std::string("PRAGMA journal_mode=WAL"), absl::StrCat("PRAGMA synchronous=", synchronous),
        std::string("CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, k BLOB, v BLOB)")}) {
    if (absl::Status s = Exec(db, sql); !s.ok()) {
      sqlite3_close(db);
      return s;
    }
  }
  return db;
}

class SqliteWriter : public StoreWriter {
 public:
  explicit SqliteWriter(sqlite3* db) : db_(db) {}
  ~SqliteWriter() override {
    sqlite3_finalize(begin_);
    sqlite3_finalize(insert_);
    sqlite3_finalize(commit_);
    sqlite3_close(db_);
  }

  absl::Status Prepare() {
    if (sqlite3_prepare_v2(db_, "BEGIN IMMEDIATE", -1, &begin_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT INTO log(k, v) VALUES(?, ?)", -1, &insert_, nullptr) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db_, "COMMIT", -1, &commit_, nullptr) != SQLITE_OK) {
      return SqliteError(db_, "prepare");
    }
    return absl::OkStatus();
  }

  absl::Status Write(std::span<const KV> records) override {
    if (absl::Status s = Step(begin_, "BEGIN"); !s.ok()) return s;
    for (const KV& r : records) {
      sqlite3_bind_blob(insert_, 1, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_, 2, r.value.data(), static_cast<int>(r.value.size()),
                        SQLITE_STATIC);
      if (absl::Status s = Step(insert_, "INSERT"); !s.ok()) {
        (void)Exec(db_, "ROLLBACK");
        return s;
      }
    }
    return Step(commit_, "COMMIT");
  }

 private:
  absl::Status Step(sqlite3_stmt* stmt, const char* what) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, what);
    return absl::OkStatus();
  }

  sqlite3* const db_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

class SqliteStoreImpl : public Store {
 public:
  SqliteStoreImpl(sqlite3* db, std::string path, const SqliteConfig& config)
      : db_(db), path_(std::move(path)), config_(config) {}
  ~SqliteStoreImpl() override { (void)Close(); }

  absl::StatusOr<std::unique_ptr<StoreWriter>> NewWriter() override {
    absl::StatusOr<sqlite3*> db = Connect(path_, config_.synchronous);
    if (!db.ok()) return db.status();
    auto writer = std::make_unique<SqliteWriter>(*db);
    if (absl::Status s = writer->Prepare(); !s.ok()) return s;
    return writer;
  }

  absl::Status ReadAll(Verifier& verifier) override {
    sqlite3_stmt* select;
    if (sqlite3_prepare_v2(db_, "SELECT k, v FROM log ORDER BY id", -1, &select, nullptr) !=
        SQLITE_OK) {
      return SqliteError(db_, "prepare");
    }
    int rc;
    while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
      const char* k = static_cast<const char*>(sqlite3_column_blob(select, 0));
      const int k_size = sqlite3_column_bytes(select, 0);
      const char* v = static_cast<const char*>(sqlite3_column_blob(select, 1));
      const int v_size = sqlite3_column_bytes(select, 1);
      verifier.Add({k, static_cast<size_t>(k_size)}, {v, static_cast<size_t>(v_size)});
    }
    sqlite3_finalize(select);
    if (rc != SQLITE_DONE) return SqliteError(db_, "SELECT");
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (db_ == nullptr) return absl::OkStatus();
    const int rc = sqlite3_close(db_);
    db_ = nullptr;
    if (rc != SQLITE_OK) return absl::InternalError("SQLite close: statements left open");
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  const std::string path_;
  const SqliteConfig config_;
};

}  // namespace

StoreFactory SqliteStore(const SqliteConfig& config) {
  return [config](const std::string& dir, int) -> absl::StatusOr<std::unique_ptr<Store>> {
    // In memory, the path only names the database its connections share.
    const std::string path = config.in_memory
                                 ? absl::StrCat("file:", dir, "/log.db?mode=memory&cache=shared")
                                 : dir + "/log.db";
    absl::StatusOr<sqlite3*> db = Connect(path, config.synchronous);
    if (!db.ok()) return db.status();
    return std::make_unique<SqliteStoreImpl>(*db, path, config);
  };
}

std::string SqliteVersion() { return sqlite3_libversion(); }

}  // namespace rill::bench
