#include "group/offset_record.h"

#include "absl/strings/str_cat.h"
#include "group/offset_format.h"
#include "util/endian.h"
#include "util/strings.h"

namespace rill::group {
namespace {

template <typename T>
void Put(std::string* out, T v) {
  char bytes[sizeof(T)];
  StoreBigEndian(bytes, v);
  out->append(bytes, sizeof(T));
}

void PutString(std::string* out, std::string_view s) {
  Put<int16_t>(out, static_cast<int16_t>(s.size()));
  out->append(s);
}

// Reader: big-endian fields off the front of a byte string; once a read
// runs past the end, every read fails.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  template <typename T>
  bool Get(T* v) {
    if (rest_.size() < sizeof(T)) return Fail();
    *v = LoadBigEndian<T>(rest_.data());
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetString(std::string* s) {
    int16_t length;
    if (!Get(&length) || length < 0 || rest_.size() < static_cast<size_t>(length)) return Fail();
    s->assign(rest_.data(), static_cast<size_t>(length));
    rest_.remove_prefix(static_cast<size_t>(length));
    return true;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return rest_.empty(); }

 private:
  bool Fail() {
    ok_ = false;
    rest_ = {};
    return false;
  }
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace

absl::Status CheckGroupName(std::string_view group) {
  if (group.empty()) return absl::InvalidArgumentError("the group name is empty");
  if (group.size() > offsets::kMaxStringBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the group name is ", group.size(),
                                                   " bytes long; at most ",
                                                   offsets::kMaxStringBytes, " are allowed"));
  }
  return absl::OkStatus();
}

std::string EncodeOffsetKey(const OffsetKey& key) {
  std::string out;
  out.reserve(2 + 2 + key.group.size() + 2 + key.topic.size() + 4);
  Put<int16_t>(&out, offsets::kKeyVersion);
  PutString(&out, key.group);
  PutString(&out, key.topic);
  Put<int32_t>(&out, key.partition);
  return out;
}

std::string EncodeOffsetValue(const OffsetValue& value) {
  std::string out;
  out.reserve(2 + 8 + 4 + 2 + value.metadata.size() + 8);
  Put<int16_t>(&out, offsets::kValueVersion);
  Put<int64_t>(&out, value.offset);
  Put<int32_t>(&out, value.leader_epoch);
  PutString(&out, value.metadata);
  Put<int64_t>(&out, value.commit_timestamp);
  return out;
}

absl::StatusOr<std::optional<OffsetKey>> DecodeOffsetKey(std::string_view bytes) {
  Reader r(bytes);
  int16_t version;
  if (!r.Get(&version)) return absl::DataLossError("offset key: shorter than its version");
  if (version != offsets::kKeyVersionV0 && version != offsets::kKeyVersion) {
    return std::optional<OffsetKey>();  // Group metadata, or newer records.
  }
  OffsetKey key;
  r.GetString(&key.group);
  r.GetString(&key.topic);
  r.Get(&key.partition);
  if (!r.ok() || !r.at_end()) {
    return absl::DataLossError(absl::StrCat("offset key version ", version, ": malformed"));
  }
  return std::optional<OffsetKey>(std::move(key));
}

absl::StatusOr<OffsetValue> DecodeOffsetValue(std::string_view bytes) {
  Reader r(bytes);
  int16_t version;
  if (!r.Get(&version)) return absl::DataLossError("offset value: shorter than its version");
  if (version < 0 || version > offsets::kMaxValueVersion) {
    return absl::DataLossError(absl::StrCat("offset value version ", version, " is unknown"));
  }
  OffsetValue value;
  r.Get(&value.offset);
  if (version >= 3) r.Get(&value.leader_epoch);
  r.GetString(&value.metadata);
  r.Get(&value.commit_timestamp);
  if (version == 1) {
    int64_t expire_timestamp;
    r.Get(&expire_timestamp);
  }
  if (!r.ok() || !r.at_end()) {
    return absl::DataLossError(absl::StrCat("offset value version ", version, ": malformed"));
  }
  return value;
}

}  // namespace rill::group
