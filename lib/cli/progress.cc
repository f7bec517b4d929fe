#include "cli/progress.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "cli/common.h"
#include "cli/text.h"

namespace rill::cli {
namespace {
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr size_t kBarWidth = 30;
}  // namespace

ProgressBar::ProgressBar(std::string label, uint64_t total, Unit unit, bool enabled)
    : label_(std::move(label)),
      total_(total),
      unit_(unit),
      enabled_(enabled && StderrIsTerminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::MaybeDraw(uint64_t done) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  auto amount = [this](double n) { return unit_ == Unit::kBytes ? HumanBytes(n) : HumanCount(n); };
  std::string line = "\r" + label_ + " ";
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const size_t filled = std::clamp<size_t>(static_cast<size_t>(fraction * kBarWidth), 0, kBarWidth);
    line.push_back('[');
    line.append(filled, '#');
    line.append(kBarWidth - filled, '.');
    line.append("] ");
    line += absl::StrFormat("%3d%% %s/%s", static_cast<int>(fraction * 100),
                            amount(static_cast<double>(done)), amount(static_cast<double>(total_)));
  } else {
    line += amount(static_cast<double>(done));
  }
  line += absl::StrFormat(" %s/s\033[K", amount(rate));
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace rill::cli
