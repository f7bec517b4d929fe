// Corruption: one byte flipped at random in a sealed segment, or in an
// index file, of a log closed on disk. Reading through a Consumer must never
// return a wrong record -- a damaged batch is kDataLoss -- and `rill verify`
// must find every flip that hits a batch (exit 1, naming the file and the
// batch's byte position) and every flip in an index. Then `rill repair`
// (--truncate or --skip, in turn) must make the log whole again: `rill
// verify` exits 0, and consumers read every record the repair kept --
// with --skip, every batch but the damaged one.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/core_util.h"
#include "format/batch_format.h"
#include "torture/corruption_util.h"
#include "torture/torture_util.h"

namespace rill {
namespace {

using testing::CorruptLog;
using testing::LogLayout;
using testing::ReadOutcome;

struct Totals {
  int64_t flips = 0;
  int64_t in_batches = 0;
  int64_t in_indexes = 0;
  int64_t detected_by_readers = 0;  // kDataLoss from a Consumer.
  int64_t detected_by_verify = 0;
  int64_t wrong = 0;   // Wrong records read, before or after repair.
  int64_t missed = 0;  // Flips verify or a reader did not report.
  int64_t failed_repairs = 0;
  std::vector<std::string> problems;
  void Problem(std::string text) {
    if (problems.size() < 30) problems.push_back(std::move(text));
  }
};

void RunTrial(const LogLayout& pristine, int trial, std::mt19937_64& rng, Totals* totals) {
  CorruptLog log(pristine, trial);
  const testing::Flip flip = log.FlipRandomByte(rng);
  const std::string what = absl::StrCat("trial ", trial, ": ", flip.Describe());
  ++totals->flips;
  (flip.batch ? totals->in_batches : totals->in_indexes) += 1;

  // verify first (opening the log rebuilds a damaged index): exit 1,
  // naming the file (and, for a batch, its position).
  const testing::CommandResult verify = log.Rill({"verify"});
  const std::string expected =
      flip.batch ? absl::StrCat(flip.file_name(), " at byte ", flip.batch->position)
                 : flip.file_name();
  if (verify.exit_code == 1 && verify.output.find(expected) != std::string::npos) {
    ++totals->detected_by_verify;
  } else {
    ++totals->missed;
    totals->Problem(absl::StrCat(what, ": rill verify exited ", verify.exit_code,
                                 " without naming \"", expected, "\":\n", verify.output));
  }
  // Readers: never a wrong record; a damaged batch is kDataLoss.
  const ReadOutcome read = log.ReadAll();
  totals->wrong += read.wrong;
  for (const std::string& p : read.problems) totals->Problem(what + ": " + p);
  if (read.errors > 0) ++totals->detected_by_readers;
  if (flip.batch && !flip.InLeaderEpoch() && read.errors == 0) {
    ++totals->missed;
    totals->Problem(what + ": reading the damaged batch succeeded");
  }
  if (!flip.batch && (read.errors > 0 || read.returned != pristine.records())) {
    ++totals->missed;
    totals->Problem(absl::StrCat(what, ": with an index damaged, a read failed or missed records (",
                                 read.returned, " of ", pristine.records(), " read)"));
  }
  // Lookups by time: never a wrong answer.
  const ReadOutcome times = log.LookUpTimes(rng, 20);
  totals->wrong += times.wrong;
  for (const std::string& p : times.problems) totals->Problem(what + ": " + p);

  // repair, --skip and --truncate in turn: then verify passes, and
  // consumers read every record kept -- all but the damaged batch's with
  // --skip, all before it with --truncate -- and the log takes appends.
  const bool skip = trial % 2 == 1;
  const testing::CommandResult repair = log.Rill({"repair", skip ? "--skip" : "--truncate"});
  const testing::CommandResult after = log.Rill({"verify"});
  std::set<int64_t> dropped;
  int64_t end = pristine.records();
  if (flip.batch && !flip.InLeaderEpoch()) {
    for (int64_t o = flip.batch->base_offset; o <= flip.batch->last_offset; ++o) dropped.insert(o);
    if (!skip) end = flip.batch->base_offset;
  }
  const ReadOutcome repaired = log.ReadAll(dropped);
  const int64_t expected_records =
      skip ? pristine.records() - static_cast<int64_t>(dropped.size()) : end;
  if (repair.exit_code != 0 || after.exit_code != 0 || repaired.errors != 0 ||
      repaired.wrong != 0 || repaired.returned != expected_records || log.End() != end ||
      !log.Append()) {
    ++totals->failed_repairs;
    totals->Problem(absl::StrCat(
        what, ": repair ", skip ? "--skip" : "--truncate", " exited ", repair.exit_code,
        ", verify then exited ", after.exit_code, "; read ", repaired.returned, " of ",
        expected_records, " records, ", repaired.errors, " errors, ", repaired.wrong,
        " wrong: ", absl::StrJoin(repaired.problems, "; "), "\n", repair.output, after.output));
  }
  totals->wrong += repaired.wrong;
}

TEST_CASE("corruption: flipped bytes are found, never read as data, and repaired",
          "[torture][corruption]") {
  const int trials = testing::ByMode(60, 1000);
  const LogLayout pristine = LogLayout::Make();
  std::mt19937_64 rng(30);
  Totals totals;
  for (int trial = 0; trial < trials; ++trial) RunTrial(pristine, trial, rng, &totals);
  testing::PrintSummary("corruption", {{"flips", totals.flips},
                                       {"in_batches", totals.in_batches},
                                       {"in_indexes", totals.in_indexes},
                                       {"detected_by_verify", totals.detected_by_verify},
                                       {"detected_by_readers", totals.detected_by_readers},
                                       {"missed", totals.missed},
                                       {"wrong", totals.wrong},
                                       {"failed_repairs", totals.failed_repairs}});
  INFO(absl::StrJoin(totals.problems, "\n"));
  CHECK(totals.flips == trials);
  CHECK(totals.detected_by_verify == totals.flips);
  CHECK(totals.missed == 0);
  CHECK(totals.wrong == 0);
  CHECK(totals.failed_repairs == 0);
}

}  // namespace
}  // namespace rill
