#include "cli/offset_check.h"

#include "absl/strings/str_format.h"

namespace rill::cli {

std::vector<std::string> FindOffsetDamage(const std::vector<OffsetSpan>& spans, int64_t min,
                                          int64_t limit) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  const bool bounded = limit != std::numeric_limits<int64_t>::max();
  std::vector<std::string> why(spans.size());
  std::vector<size_t> kept;  // Batches whose offsets are sound so far, in order.
  auto last_of = [&](size_t k) { return k == kNone ? min - 1 : spans[k].last; };
  auto back = [&](size_t from_end) {
    return kept.size() > from_end ? kept[kept.size() - 1 - from_end] : kNone;
  };
  for (size_t i = 0; i < spans.size(); ++i) {
    const OffsetSpan& c = spans[i];
    if (c.last >= limit) {
      why[i] = absl::StrFormat("last offset %d is not below the next segment's base offset %d",
                               c.last, limit);
      continue;
    }
    const size_t p = back(0);
    if (c.base > last_of(p)) {
      kept.push_back(i);
      continue;
    }
    if (p == kNone) {
      why[i] = absl::StrFormat("baseOffset %d is below the segment's base offset %d", c.base, min);
      continue;
    }
    // c overlaps p. Which of the two fits its other neighbour?
    const size_t pp = back(1);
    const bool c_fits_before_p = c.base > last_of(pp);
    const bool p_follows = spans[p].base == last_of(pp) + 1;
    const bool next_known = i + 1 < spans.size() || bounded;
    const int64_t next_base = i + 1 < spans.size() ? spans[i + 1].base : limit;
    const bool c_precedes_next = next_known && next_base == c.last + 1;
    if (c_fits_before_p && c_precedes_next && !p_follows) {
      why[p] = absl::StrFormat(
          "baseOffset %d is damaged: its offsets %d-%d overlap the next batch's, which follow on "
          "from the batch before it",
          spans[p].base, spans[p].base, spans[p].last);
      kept.back() = i;
    } else if (!c_fits_before_p || (p_follows && !c_precedes_next)) {
      why[i] = absl::StrFormat("baseOffset %d does not follow offset %d", c.base, last_of(p));
    } else {
      why[p] = absl::StrFormat(
          "offsets %d-%d overlap the next batch's (from %d): the baseOffset of one of the two is "
          "damaged, and which cannot be told",
          spans[p].base, spans[p].last, c.base);
      why[i] = absl::StrFormat(
          "baseOffset %d overlaps the batch before (offsets %d-%d): the baseOffset of one of the "
          "two is damaged, and which cannot be told",
          c.base, spans[p].base, spans[p].last);
      kept.pop_back();
    }
  }
  return why;
}

}  // namespace rill::cli
