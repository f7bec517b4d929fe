#include "peers/resp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace rill::bench {

absl::StatusOr<std::unique_ptr<RespConnection>> RespConnection::Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", std::strerror(err)));
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RespConnection>(new RespConnection(fd));
}

RespConnection::~RespConnection() { close(fd_); }

void RespConnection::Queue(std::initializer_list<std::string_view> args) {
  absl::StrAppend(&out_, "*", args.size(), "\r\n");
  for (std::string_view a : args) {
    absl::StrAppend(&out_, "$", a.size(), "\r\n");
    out_.append(a);
    out_.append("\r\n");
  }
}

absl::Status RespConnection::Send() {
  size_t done = 0;
  while (done < out_.size()) {
    const ssize_t n = write(fd_, out_.data() + done, out_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("write: ", std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  out_.clear();
  return absl::OkStatus();
}

absl::Status RespConnection::Fill(size_t n) {
  if (in_.size() - pos_ >= n) return absl::OkStatus();
  if (pos_ > 0) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  size_t have = in_.size();
  in_.resize(std::max<size_t>(n, 64 << 10) + have);
  while (have < n) {
    const ssize_t r = read(fd_, in_.data() + have, in_.size() - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      in_.resize(have);
      return absl::UnavailableError(r == 0 ? "the server closed the connection"
                                           : absl::StrCat("read: ", std::strerror(errno)));
    }
    have += static_cast<size_t>(r);
  }
  in_.resize(have);
  return absl::OkStatus();
}

absl::StatusOr<char> RespConnection::PeekType() {
  if (absl::Status s = Fill(1); !s.ok()) return s;
  return in_[pos_];
}

absl::StatusOr<std::string_view> RespConnection::ReadLine() {
  // The line starts after the type byte at pos_. Lines are short: rescanning
  // after a refill costs nothing.
  for (;;) {
    const size_t end = in_.find("\r\n", pos_ + 1);
    if (end != std::string::npos) {
      const std::string_view line(in_.data() + pos_ + 1, end - pos_ - 1);
      pos_ = end + 2;
      return line;
    }
    if (absl::Status s = Fill(in_.size() - pos_ + 1); !s.ok()) return s;
  }
}

namespace {

absl::StatusOr<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return absl::DataLossError(absl::StrCat("bad RESP length: ", std::string(s)));
  }
  return v;
}

}  // namespace

absl::StatusOr<int64_t> RespConnection::ReadArrayHeader() {
  absl::StatusOr<char> type = PeekType();
  if (!type.ok()) return type.status();
  absl::StatusOr<std::string_view> line = ReadLine();
  if (!line.ok()) return line.status();
  if (*type == '-') return absl::InternalError(absl::StrCat("Redis: ", std::string(*line)));
  if (*type != '*')
    return absl::DataLossError(absl::StrCat("expected an array, got ", std::string(1, *type)));
  return ParseInt(*line);
}

absl::StatusOr<std::string_view> RespConnection::ReadBulk() {
  absl::StatusOr<char> type = PeekType();
  if (!type.ok()) return type.status();
  absl::StatusOr<std::string_view> line = ReadLine();
  if (!line.ok()) return line.status();
  if (*type == '-') return absl::InternalError(absl::StrCat("Redis: ", std::string(*line)));
  if (*type != '$')
    return absl::DataLossError(absl::StrCat("expected a bulk string, got ", std::string(1, *type)));
  absl::StatusOr<int64_t> size = ParseInt(*line);
  if (!size.ok()) return size.status();
  if (*size < 0) return std::string_view();
  const size_t n = static_cast<size_t>(*size);
  if (absl::Status s = Fill(n + 2); !s.ok()) return s;
  const std::string_view bulk(in_.data() + pos_, n);
  pos_ += n + 2;
  return bulk;
}

absl::StatusOr<std::string_view> RespConnection::ReadSimple() {
  absl::StatusOr<char> type = PeekType();
  if (!type.ok()) return type.status();
  absl::StatusOr<std::string_view> line = ReadLine();
  if (!line.ok()) return line.status();
  if (*type == '-') return absl::InternalError(absl::StrCat("Redis: ", std::string(*line)));
  if (*type != '+' && *type != ':') {
    return absl::DataLossError(
        absl::StrCat("expected a simple reply, got ", std::string(1, *type)));
  }
  return *line;
}

absl::Status RespConnection::SkipReply() {
  absl::StatusOr<char> type = PeekType();
  if (!type.ok()) return type.status();
  switch (*type) {
    case '$':
      return ReadBulk().status();
    case '*': {
      absl::StatusOr<int64_t> n = ReadArrayHeader();
      if (!n.ok()) return n.status();
      for (int64_t i = 0; i < *n; ++i) {
        if (absl::Status s = SkipReply(); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    default:
      return ReadSimple().status();
  }
}

}  // namespace rill::bench
