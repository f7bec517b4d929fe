// A full disk for real: a log on a small tmpfs, filled through rill until
// the device says ENOSPC. The producer must get kResourceExhausted, what was
// acknowledged must read back intact, and appends must succeed again once
// space is freed. Mounting needs root (CAP_SYS_ADMIN), as CI has; without
// it the test fails, saying so.
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/core_util.h"
#include "torture/torture_util.h"

namespace rill {
namespace {

using testing::Ack;

// A tmpfs mounted for the test's lifetime.
class Tmpfs {
 public:
  explicit Tmpfs(std::string dir) : dir_(std::move(dir)) {}
  ~Tmpfs() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  // Mount(size): "" on success, else why not.
  std::string Mount(const std::string& size) {
    if (mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::StrCat("mkdir ", dir_, ": ", std::strerror(errno));
    }
    const std::string options = "size=" + size;
    if (mount("rill-test", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      return absl::StrCat("mount -t tmpfs -o ", options, " at ", dir_, ": ", std::strerror(errno));
    }
    mounted_ = true;
    return "";
  }

 private:
  const std::string dir_;
  bool mounted_ = false;
};

TEST_CASE("disk full for real: a log on an 8 MiB tmpfs", "[torture][disk_full]") {
  testing::TempDir tmp;
  Tmpfs tmpfs(tmp.Join("tmpfs"));
  const std::string failure = tmpfs.Mount("8m");
  if (!failure.empty()) {
    FAIL("cannot mount a tmpfs, which this test needs (run it as root, or with CAP_SYS_ADMIN): "
         << failure);
  }
  // Space that is given back once the device is full.
  const std::string ballast = tmp.Join("tmpfs/ballast");
  {
    std::ofstream out(ballast, std::ios::binary);
    out << std::string(1 << 20, 'b');
    REQUIRE(out.good());
  }
  const std::string dir = tmp.Join("tmpfs/log");
  const TopicConfig config = {
      .partitions = 2, .retention = {.ms = -1}, .segment_bytes = 1 << 20, .segment_index_bytes = 64 << 10};
  std::set<uint64_t> sent;
  testing::AckLog acks;
  int64_t refused = 0;
  int64_t bad_errors = 0;
  int64_t failed_appends = 0;
  std::vector<std::string> problems;
  auto expect = [&](const absl::Status& s, bool room) {
    if (s.ok()) return true;
    if (!room && absl::IsResourceExhausted(s)) {
      ++refused;
    } else {
      (room ? failed_appends : bad_errors) += 1;
      if (problems.size() < 20) problems.push_back(s.ToString());
    }
    return false;
  };
  uint64_t seq = 0;
  // Send(log, n, room): n records from producers of every durability.
  auto send = [&](Log& log, int n, bool room) {
    int64_t refused_before = refused;
    for (int i = 0; i < n; ++i) {
      const Durability d = static_cast<Durability>(i % 3);
      Producer producer(log, {.durability = d});
      const testing::OwnedRecord record = testing::SeqRecord(seq);
      Record r = record.view();
      r.partition = static_cast<int32_t>(seq % 2);
      sent.insert(seq);
      const uint64_t this_seq = seq++;
      if (i % 4 == 0) {
        expect(producer.SendAsync("t", r,
                                  [&, this_seq, room](const absl::StatusOr<RecordPosition>& pos) {
                                    if (expect(pos.status(), room)) {
                                      acks.Add({pos->partition, pos->offset, this_seq});
                                    }
                                  }),
               room);
      } else {
        absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
        if (expect(pos.status(), room)) acks.Add({pos->partition, pos->offset, this_seq});
      }
      expect(producer.Flush(), room);
      // Full, and refused a few times over: enough.
      if (!room && refused - refused_before >= 30) break;
    }
  };
  auto check = [&](Log& log, const char* when) {
    const testing::LogCheck c =
        testing::CheckLog(log, "t", 2, sent, acks.Copy(), [](size_t) { return true; });
    INFO(when << ": " << absl::StrJoin(c.problems, "\n"));
    CHECK(c.lost == 0);
    CHECK(c.wrong == 0);
    return c;
  };
  {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
    REQUIRE_OK(log);
    REQUIRE_OK((*log)->CreateTopic("t", config));
    send(**log, 100000, /*room=*/false);
    REQUIRE(refused >= 30);  // The device did fill.
    const testing::LogCheck full = check(**log, "with the device full");
    CHECK(full.records > 1000);
    // Room again: appends go on.
    REQUIRE(std::remove(ballast.c_str()) == 0);
    send(**log, 200, /*room=*/true);
    check(**log, "with room again");
    REQUIRE_OK((*log)->Close());
  }
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  REQUIRE_OK(log);
  const testing::LogCheck reopened = check(**log, "reopened");
  REQUIRE_OK((*log)->Close());
  testing::PrintSummary("disk_full_tmpfs", {{"records", reopened.records},
                                            {"refused", refused},
                                            {"bad_errors", bad_errors},
                                            {"lost", reopened.lost},
                                            {"wrong", reopened.wrong},
                                            {"failed_appends", failed_appends}});
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(bad_errors == 0);
  CHECK(failed_appends == 0);
}

}  // namespace
}  // namespace rill
