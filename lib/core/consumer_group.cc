// Consumer: what concerns groups -- commits, and the consumer's side of its
// membership (the core::MemberHost the group's Member drives).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/consumer_impl.h"
#include "util/status_macros.h"

namespace rill {

absl::Status Consumer::Impl::CheckNotInCallback(const char* call) const {
  if (member_ != nullptr && member_->InCallback()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Consumer::", call, " cannot be called from on_revoked or on_assigned"));
  }
  return absl::OkStatus();
}

absl::Status Consumer::Impl::Commit(const OffsetMap* offsets) {
  RETURN_IF_ERROR(CheckOpen());
  if (member_ == nullptr) {
    return absl::FailedPreconditionError("the consumer has no group (ConsumerOptions::group)");
  }
  return member_->Commit(*this, offsets);
}

absl::Status Consumer::Impl::CommitAsync(const OffsetMap* offsets, CommitCallback callback) {
  RETURN_IF_ERROR(CheckOpen());
  if (member_ == nullptr) {
    return absl::FailedPreconditionError("the consumer has no group (ConsumerOptions::group)");
  }
  return member_->CommitAsync(*this, offsets, std::move(callback));
}

absl::StatusOr<OffsetAndMetadata> Consumer::Impl::Committed(const TopicPartition& tp) const {
  RETURN_IF_ERROR(CheckOpen());
  if (member_ == nullptr) {
    return absl::FailedPreconditionError("the consumer has no group (ConsumerOptions::group)");
  }
  return member_->Committed(tp);
}

std::vector<std::pair<TopicPartition, int64_t>> Consumer::Impl::Positions() const {
  std::vector<std::pair<TopicPartition, int64_t>> out;
  for (const Assigned& a : assigned_) {
    out.emplace_back(TopicPartition{a.topic->name(), a.partition->id()}, a.position);
  }
  return out;
}

void Consumer::Impl::Drop(const std::vector<TopicPartition>& partitions) {
  std::vector<Assigned> next;
  for (const Assigned& a : assigned_) {
    const TopicPartition tp{a.topic->name(), a.partition->id()};
    if (std::find(partitions.begin(), partitions.end(), tp) == partitions.end()) {
      next.push_back(a);
    }
  }
  SetAssignment(std::move(next));
}

void Consumer::Impl::Take(std::vector<core::AcquiredPartition> partitions) {
  std::vector<Assigned> next = assigned_;
  for (core::AcquiredPartition& p : partitions) {
    Assigned a{std::move(p.topic), p.partition, p.position, {}};
    // Resolved now, so that a commit before the first fetch commits this.
    if (a.position == kNoOffset) {
      absl::StatusOr<int64_t> reset = Reset(a);
      if (reset.ok()) a.position = *reset;
    }
    next.push_back(std::move(a));
  }
  SetAssignment(std::move(next));
}

}  // namespace rill
