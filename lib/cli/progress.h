// ProgressBar: a one-line progress display on stderr for long work, drawn
// only when stderr is a terminal (and, for commands whose output goes to
// stdout, only when that is not the same terminal). Redrawn at most ten times
// a second; Update() costs a clock read, so it may be called for every item.
//
//   ProgressBar bar("produce", total, ProgressBar::Unit::kRecords);
//   for (...) bar.Update(++done);
//   bar.Finish();
//
// Thread-safety: one thread at a time.
#ifndef RILL_LIB_CLI_PROGRESS_H_
#define RILL_LIB_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace rill::cli {

class ProgressBar {
 public:
  enum class Unit { kRecords, kBytes };

  // ProgressBar(label, total, unit, enabled): total 0 means unknown (a count
  // and a rate, no bar). Draws nothing unless `enabled` and stderr is a
  // terminal.
  ProgressBar(std::string label, uint64_t total, Unit unit, bool enabled = true);
  // Erases the line (as Finish()).
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Update(done): `done` units of the total are finished.
  void Update(uint64_t done) {
    if (enabled_) MaybeDraw(done);
  }
  // Finish(): erases the bar, leaving the line empty for what follows.
  void Finish();

 private:
  void MaybeDraw(uint64_t done);

  const std::string label_;
  const uint64_t total_;
  const Unit unit_;
  const bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_PROGRESS_H_
