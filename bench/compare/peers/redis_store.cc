// Redis Streams as a Store: the harness starts a redis-server of its own on
// 127.0.0.1 (data in the run's directory, AOF on, RDB snapshots off) and
// shuts it down after the run. One stream; each record is an entry with
// fields k and v, added by XADD with an automatic id; read back with XRANGE.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "peers/peers.h"
#include "peers/resp.h"

namespace rill::bench {
namespace {

constexpr std::string_view kStream = "bench";

// A port the kernel reports free now.
absl::StatusOr<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server child process.
class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(const std::string& dir,
                                                            const char* appendfsync) {
    absl::StatusOr<int> port = FreePort();
    if (!port.ok()) return port.status();
    const std::string port_text = absl::StrCat(*port);
    const std::string log = dir + "/redis.log";
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     port_text,
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir,
                                     "--logfile",
                                     log,
                                     "--daemonize",
                                     "no",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     appendfsync};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // Never outlive the harness.
      execvp(argv[0], argv.data());
      _exit(127);
    }
    auto server = std::unique_ptr<RedisServer>(new RedisServer(pid, *port));
    // Wait until it answers.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      absl::StatusOr<std::unique_ptr<RespConnection>> c = RespConnection::Connect(*port);
      if (c.ok()) {
        (*c)->Queue({"PING"});
        if ((*c)->Send().ok() && (*c)->ReadSimple().ok()) break;
      }
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        server->pid_ = -1;
        return absl::UnavailableError("redis-server exited at start (see its log)");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::DeadlineExceededError("redis-server did not answer within 10 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return server;
  }

  ~RedisServer() { (void)Stop(); }

  int port() const { return port_; }

  // Stop(): SHUTDOWN (which syncs the AOF), then waits for the process.
  absl::Status Stop() {
    if (pid_ < 0) return absl::OkStatus();
    absl::StatusOr<std::unique_ptr<RespConnection>> c = RespConnection::Connect(port_);
    if (c.ok()) {
      (*c)->Queue({"SHUTDOWN"});
      (void)(*c)->Send();
      (void)(*c)->SkipReply();  // The server closes the connection.
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return absl::DeadlineExceededError("redis-server did not shut down within 30 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError("redis-server exited with an error");
    }
    return absl::OkStatus();
  }

 private:
  RedisServer(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  const int port_;
};

class RedisWriter : public StoreWriter {
 public:
  RedisWriter(std::unique_ptr<RespConnection> c, int depth) : c_(std::move(c)), depth_(depth) {}

  absl::Status Write(std::span<const KV> records) override {
    for (const KV& r : records) c_->Queue({"XADD", kStream, "*", "k", r.key, "v", r.value});
    if (absl::Status s = c_->Send(); !s.ok()) return s;
    in_flight_.push_back(records.size());
    while (in_flight_.size() >= static_cast<size_t>(depth_)) {
      if (absl::Status s = ReadOldest(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    while (!in_flight_.empty()) {
      if (absl::Status s = ReadOldest(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  // Reads the replies (entry ids) of the oldest Write in flight.
  absl::Status ReadOldest() {
    for (size_t i = 0; i < in_flight_.front(); ++i) {
      if (absl::Status s = c_->ReadBulk().status(); !s.ok()) return s;
    }
    in_flight_.pop_front();
    return absl::OkStatus();
  }

  std::unique_ptr<RespConnection> c_;
  const int depth_;
  std::deque<size_t> in_flight_;
};

class RedisStoreImpl : public Store {
 public:
  RedisStoreImpl(std::unique_ptr<RedisServer> server, const RedisConfig& config)
      : server_(std::move(server)), config_(config) {}

  absl::StatusOr<std::unique_ptr<StoreWriter>> NewWriter() override {
    absl::StatusOr<std::unique_ptr<RespConnection>> c = RespConnection::Connect(server_->port());
    if (!c.ok()) return c.status();
    return std::make_unique<RedisWriter>(*std::move(c), std::max(config_.pipeline_depth, 1));
  }

  absl::Status ReadAll(Verifier& verifier) override {
    absl::StatusOr<std::unique_ptr<RespConnection>> connection =
        RespConnection::Connect(server_->port());
    if (!connection.ok()) return connection.status();
    RespConnection& c = **connection;
    std::string start = "-", last_id;
    for (;;) {
      c.Queue({"XRANGE", kStream, start, "+", "COUNT", "10000"});
      if (absl::Status s = c.Send(); !s.ok()) return s;
      absl::StatusOr<int64_t> entries = c.ReadArrayHeader();
      if (!entries.ok()) return entries.status();
      if (*entries <= 0) return absl::OkStatus();
      for (int64_t i = 0; i < *entries; ++i) {
        if (absl::Status s = ReadEntry(c, &last_id, verifier); !s.ok()) return s;
      }
      start = absl::StrCat("(", last_id);  // After the last id read.
    }
  }

  absl::Status Close() override {
    if (server_ == nullptr) return absl::OkStatus();
    absl::Status s = server_->Stop();
    server_.reset();
    return s;
  }

 private:
  // One XRANGE entry: [id, [k, key, v, value]]; sets *id.
  static absl::Status ReadEntry(RespConnection& c, std::string* id, Verifier& verifier) {
    absl::StatusOr<int64_t> parts = c.ReadArrayHeader();
    if (!parts.ok()) return parts.status();
    absl::StatusOr<std::string_view> entry_id = c.ReadBulk();
    if (!entry_id.ok()) return entry_id.status();
    id->assign(*entry_id);
    absl::StatusOr<int64_t> fields = c.ReadArrayHeader();
    if (!fields.ok()) return fields.status();
    if (*parts != 2 || *fields != 4) return absl::DataLossError("unexpected XRANGE entry shape");
    char key[kKeySize];
    size_t key_size = 0;
    for (int f = 0; f < 2; ++f) {
      absl::StatusOr<std::string_view> name = c.ReadBulk();
      if (!name.ok()) return name.status();
      const bool is_key = *name == "k";
      absl::StatusOr<std::string_view> data = c.ReadBulk();
      if (!data.ok()) return data.status();
      if (is_key) {
        key_size = std::min(data->size(), kKeySize);
        std::memcpy(key, data->data(), key_size);
      } else {
        verifier.Add({key, key_size}, *data);  // Key first: fields keep their order.
      }
    }
    return absl::OkStatus();
  }

  std::unique_ptr<RedisServer> server_;
  const RedisConfig config_;
};

}  // namespace

std::string RedisVersion() {
  FILE* out = popen("redis-server --version 2>/dev/null", "r");
  if (out == nullptr) return "";
  char line[256] = {};
  const bool read = std::fgets(line, sizeof(line), out) != nullptr;
  if (pclose(out) != 0 || !read) return "";
  // "Redis server v=7.0.15 sha=..."
  std::string_view text(line);
  const size_t v = text.find("v=");
  if (v == std::string_view::npos) return "unknown";
  text.remove_prefix(v + 2);
  return std::string(text.substr(0, text.find(' ')));
}

StoreFactory RedisStore(const RedisConfig& config) {
  return [config](const std::string& dir, int) -> absl::StatusOr<std::unique_ptr<Store>> {
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        RedisServer::Start(dir, config.appendfsync);
    if (!server.ok()) return server.status();
    return std::make_unique<RedisStoreImpl>(*std::move(server), config);
  };
}

}  // namespace rill::bench
