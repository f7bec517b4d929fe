#include "cli/record_format.h"

#include "absl/strings/str_cat.h"
#include "util/strings.h"

namespace rill::cli {

absl::StatusOr<RecordFormat> RecordFormat::Parse(std::string_view spec) {
  RecordFormat format;
  std::string literal;
  auto add = [&](Field field) {
    if (!literal.empty()) format.pieces_.push_back(Piece{Field::kLiteral, std::move(literal)});
    literal.clear();
    format.pieces_.push_back(Piece{field, {}});
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    const char c = spec[i];
    if (c != '%' && c != '\\') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 == spec.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--format ends with a lone '", std::string(1, c), "'"));
    }
    const char next = spec[++i];
    if (c == '\\') {
      switch (next) {
        case 'n':
          literal.push_back('\n');
          break;
        case 't':
          literal.push_back('\t');
          break;
        case 'r':
          literal.push_back('\r');
          break;
        case '\\':
          literal.push_back('\\');
          break;
        default:
          return absl::InvalidArgumentError(absl::StrCat("--format has an unknown escape \\",
                                                         std::string(1, next),
                                                         " (use \\n \\t \\r \\\\)"));
      }
      continue;
    }
    switch (next) {
      case '%':
        literal.push_back('%');
        break;
      case 't':
        add(Field::kTopic);
        break;
      case 'p':
        add(Field::kPartition);
        break;
      case 'o':
        add(Field::kOffset);
        break;
      case 'T':
        add(Field::kTimestamp);
        break;
      case 'k':
        add(Field::kKey);
        break;
      case 's':
        add(Field::kValue);
        break;
      case 'K':
        add(Field::kKeySize);
        break;
      case 'S':
        add(Field::kValueSize);
        break;
      case 'h':
        add(Field::kHeaders);
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat("--format has an unknown placeholder %",
                                                       std::string(1, next),
                                                       " (known: %t %p %o %T %k %s %K %S %h %%)"));
    }
  }
  if (!literal.empty()) format.pieces_.push_back(Piece{Field::kLiteral, std::move(literal)});
  return format;
}

void RecordFormat::Append(const RecordView& r, std::string* out) const {
  for (const Piece& piece : pieces_) {
    switch (piece.field) {
      case Field::kLiteral:
        out->append(piece.literal);
        break;
      case Field::kTopic:
        out->append(r.topic());
        break;
      case Field::kPartition:
        absl::StrAppend(out, r.partition());
        break;
      case Field::kOffset:
        absl::StrAppend(out, r.offset());
        break;
      case Field::kTimestamp:
        absl::StrAppend(out, r.timestamp());
        break;
      case Field::kKey:
        out->append(r.key());
        break;
      case Field::kValue:
        out->append(r.value());
        break;
      case Field::kKeySize:
        absl::StrAppend(out, r.has_key() ? static_cast<int64_t>(r.key().size()) : -1);
        break;
      case Field::kValueSize:
        absl::StrAppend(out, r.has_value() ? static_cast<int64_t>(r.value().size()) : -1);
        break;
      case Field::kHeaders: {
        bool first = true;
        for (const Header& h : r.headers()) {
          if (!first) out->push_back(',');
          first = false;
          out->append(h.key);
          if (h.value) {
            out->push_back('=');
            out->append(*h.value);
          }
        }
        break;
      }
    }
  }
}

}  // namespace rill::cli
