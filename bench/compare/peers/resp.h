// RespConnection: a minimal client of Redis's RESP2 protocol over a TCP
// socket: commands are queued, sent together (pipelining), and replies
// parsed as they are read.
//
// Thread-safety: one thread per connection.
#ifndef RILL_BENCH_COMPARE_PEERS_RESP_H_
#define RILL_BENCH_COMPARE_PEERS_RESP_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rill::bench {

class RespConnection {
 public:
  // Connect(port): connects to 127.0.0.1:port.
  static absl::StatusOr<std::unique_ptr<RespConnection>> Connect(int port);
  ~RespConnection();
  RespConnection(const RespConnection&) = delete;
  RespConnection& operator=(const RespConnection&) = delete;

  // Queue(args): adds one command to the next Send.
  void Queue(std::initializer_list<std::string_view> args);
  // Send(): writes every queued command.
  absl::Status Send();

  // Reading a reply, piece by piece. Each returns kInternal with the
  // server's message for an error reply, kUnavailable if the connection
  // closed, kDataLoss for a reply of another type than asked.

  // ReadArrayHeader(): the element count of an array reply (-1: null).
  absl::StatusOr<int64_t> ReadArrayHeader();
  // ReadBulk(): a bulk string; the view lives until the next read.
  absl::StatusOr<std::string_view> ReadBulk();
  // ReadSimple(): a simple string (+OK) or integer reply, as text.
  absl::StatusOr<std::string_view> ReadSimple();
  // SkipReply(): reads one reply of any type, checking it is no error.
  absl::Status SkipReply();

 private:
  explicit RespConnection(int fd) : fd_(fd) {}
  // Ensures n bytes are buffered after pos_.
  absl::Status Fill(size_t n);
  // ReadLine(): the line after the type byte at pos_, without \r\n.
  absl::StatusOr<std::string_view> ReadLine();
  absl::StatusOr<char> PeekType();

  const int fd_;
  std::string out_;
  std::string in_;
  size_t pos_ = 0;  // Parsed up to here in in_.
};

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_PEERS_RESP_H_
