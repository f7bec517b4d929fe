// RecordFormat: how `rill consume --format FMT` prints each record, with
// kcat's -f placeholders:
//
//   %t topic  %p partition  %o offset  %T timestamp (ms since the epoch)
//   %k key    %s value      %K key size  %S value size (-1 when null)
//   %h headers as k=v,k2=v2 (a null header value prints as just k)
//   %%  a percent sign;  \n \t \r \\  escapes
//
// Keys and values are printed as they are (a null one prints as nothing).
// No newline is added: FMT says where records end, e.g. "%k\t%s\n".
//
// Thread-safety: a plain value; Append is const.
#ifndef RILL_LIB_CLI_RECORD_FORMAT_H_
#define RILL_LIB_CLI_RECORD_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "rill/record.h"

namespace rill::cli {

class RecordFormat {
 public:
  // Parse(spec): the format `spec` describes. kInvalidArgument naming an
  // unknown placeholder or escape, or a trailing % or backslash.
  static absl::StatusOr<RecordFormat> Parse(std::string_view spec);

  // Append(record, out): appends `record` rendered to *out. The record's
  // topic() and partition() are those a Consumer sets.
  void Append(const RecordView& record, std::string* out) const;

 private:
  enum class Field : uint8_t {
    kLiteral,
    kTopic,
    kPartition,
    kOffset,
    kTimestamp,
    kKey,
    kValue,
    kKeySize,
    kValueSize,
    kHeaders,
  };
  struct Piece {
    Field field = Field::kLiteral;
    std::string literal;
  };

  std::vector<Piece> pieces_;
};

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_RECORD_FORMAT_H_
