// ZeroMQ inproc sockets as a Queue: PUSH/PULL, or XPUB/SUB with
// ZMQ_XPUB_NODROP (a publisher that blocks at its high-water mark instead of
// dropping). Default high-water marks; one message per record.
#include <zmq.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "peers/peers.h"

namespace rill::bench {
namespace {

absl::Status ZmqError(const char* what) {
  return absl::InternalError(absl::StrCat("ZeroMQ ", what, ": ", zmq_strerror(zmq_errno())));
}

class ZmqQueue : public Queue {
 public:
  ZmqQueue() : context_(zmq_ctx_new()) {}
  ~ZmqQueue() override {
    if (sender_ != nullptr) zmq_close(sender_);
    if (receiver_ != nullptr) zmq_close(receiver_);
    zmq_ctx_term(context_);
  }

  absl::Status Open(ZmqPattern pattern, bool busy) {
    busy_ = busy;
    const bool pubsub = pattern == ZmqPattern::kPubSub;
    sender_ = zmq_socket(context_, pubsub ? ZMQ_XPUB : ZMQ_PUSH);
    receiver_ = zmq_socket(context_, pubsub ? ZMQ_SUB : ZMQ_PULL);
    if (sender_ == nullptr || receiver_ == nullptr) return ZmqError("socket");
    const int one = 1, timeout_ms = 3000;
    if (pubsub && zmq_setsockopt(sender_, ZMQ_XPUB_NODROP, &one, sizeof(one)) != 0) {
      return ZmqError("ZMQ_XPUB_NODROP");
    }
    if (zmq_setsockopt(receiver_, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms)) != 0) {
      return ZmqError("ZMQ_RCVTIMEO");
    }
    if (zmq_bind(sender_, "inproc://bench") != 0) return ZmqError("bind");
    if (zmq_connect(receiver_, "inproc://bench") != 0) return ZmqError("connect");
    if (pubsub) {
      if (zmq_setsockopt(receiver_, ZMQ_SUBSCRIBE, "", 0) != 0) return ZmqError("subscribe");
      // The publisher sees the subscription arrive: from then on nothing it
      // sends is lost to a late joiner.
      char subscription[8];
      if (zmq_recv(sender_, subscription, sizeof(subscription), 0) < 0) {
        return ZmqError("receive subscription");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Send(std::string_view message) override {
    while (zmq_send(sender_, message.data(), message.size(), 0) < 0) {
      if (zmq_errno() != EAGAIN && zmq_errno() != EINTR) return ZmqError("send");
    }
    return absl::OkStatus();
  }

  absl::Status Receive(absl::FunctionRef<void(std::string_view)> on_message) override {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int rc;
    if (busy_) {
      for (uint64_t spins = 0; (rc = zmq_msg_recv(&msg, receiver_, ZMQ_DONTWAIT)) < 0; ++spins) {
        if (zmq_errno() != EAGAIN || spins > (1ull << 26)) break;
      }
    } else {
      rc = zmq_msg_recv(&msg, receiver_, 0);
    }
    if (rc < 0) {
      absl::Status s = zmq_errno() == EAGAIN ? absl::DeadlineExceededError("nothing arrived")
                                             : ZmqError("receive");
      zmq_msg_close(&msg);
      return s;
    }
    on_message({static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg)});
    zmq_msg_close(&msg);
    return absl::OkStatus();
  }

 private:
  void* context_;
  void* sender_ = nullptr;
  void* receiver_ = nullptr;
  bool busy_ = false;
};

}  // namespace

absl::StatusOr<Metrics> RunZmqTransfer(ZmqPattern pattern, const WritePlan& plan) {
  ZmqQueue queue;
  if (absl::Status s = queue.Open(pattern, /*busy=*/false); !s.ok()) return s;
  return RunTransfer(queue, plan);
}

absl::StatusOr<Metrics> RunZmqLatency(const LatencyPlan& plan, bool busy) {
  ZmqQueue queue;
  if (absl::Status s = queue.Open(ZmqPattern::kPushPull, busy); !s.ok()) return s;
  return RunLatency(queue, plan);
}

std::string ZmqVersion() {
  int major, minor, patch;
  zmq_version(&major, &minor, &patch);
  return absl::StrCat(major, ".", minor, ".", patch);
}

}  // namespace rill::bench
