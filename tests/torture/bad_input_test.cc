// Bad input: invalid topic names, oversize records, a log of a newer format,
// a file where a directory should be, a directory the process may not
// write. Each gets a clear error -- and writes nothing: the directory tree
// (every entry's type, size and CRC) is the same before and after.
// tests/core covers the error codes of most of these; this covers that
// nothing is written, and what it does not.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "core/core_util.h"
#include "torture/torture_util.h"

namespace rill {
namespace {

using testing::Snapshot;
using testing::TempDir;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  REQUIRE(out.good());
}

bool Mentions(const absl::Status& s, std::string_view part) {
  return std::string(s.message()).find(part) != std::string::npos;
}

// A log in `dir` with topic "t" (2 partitions) holding a few records, closed.
void MakeLog(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  REQUIRE_OK(log);
  REQUIRE_OK((*log)->CreateTopic("t", {.partitions = 2}));
  Producer producer(**log);
  for (int i = 0; i < 10; ++i) REQUIRE_OK(producer.Send("t", {.value = std::to_string(i)}));
  REQUIRE_OK((*log)->Close());
}

TEST_CASE("bad input: invalid topic names are refused, and nothing is written",
          "[torture][bad_input]") {
  TempDir tmp;
  const std::string dir = tmp.Join("log");
  // Auto-creation on, so that a send to a bad name tries to create it.
  absl::StatusOr<std::unique_ptr<Log>> log =
      Log::Open(dir, {.auto_create_topics = true, .background_threads = 0});
  REQUIRE_OK(log);
  REQUIRE_OK((*log)->CreateTopic("t"));
  Producer producer(**log);
  REQUIRE_OK(producer.Send("t", {.value = "v"}));
  const auto before = Snapshot(tmp.path());  // The log's parent too: "../x".
  const std::string bad[] = {"../x", "..",      ".",       "",          std::string(250, 'x'),
                             "a/b",  "/etc",    "../../x", "x/../../y", std::string("a\0b", 3),
                             "t\n",  "t-0/../x"};
  for (const std::string& name : bad) {
    INFO("topic name \"" << name << "\" (" << name.size() << " bytes)");
    CHECK_CODE((*log)->CreateTopic(name), kInvalidArgument);
    CHECK_CODE(producer.Send(name, {.value = "v"}), kInvalidArgument);
    CHECK_CODE(producer.SendAsync(name, {.value = "v"}), kInvalidArgument);
    CHECK_FALSE((*log)->DeleteTopic(name).ok());
    CHECK_FALSE((*log)->SetTopicConfig(name, "retention.ms", "1").ok());
    CHECK_FALSE((*log)->DescribeTopic(name).ok());
    Consumer consumer(**log);
    CHECK_CODE(consumer.Subscribe({name}), kInvalidArgument);
  }
  REQUIRE_OK(producer.Flush());
  CHECK((*log)->ListTopics() == std::vector<std::string>{"t"});
  const auto after = Snapshot(tmp.path());
  INFO(testing::Describe(before, after));
  CHECK(after == before);
}

TEST_CASE("bad input: oversize records are refused, and nothing is written",
          "[torture][bad_input]") {
  TempDir tmp;
  const std::string dir = tmp.Join("log");
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir, {.background_threads = 0});
  REQUIRE_OK(log);
  REQUIRE_OK((*log)->CreateTopic("small", {.max_message_bytes = 1000}));
  REQUIRE_OK((*log)->CreateTopic("default"));  // max.message.bytes 1048588
  const auto before = Snapshot(dir);
  const std::string big(1000, 'b');
  const std::string huge(2 << 20, 'h');
  const Header header = {.key = "h", .value = big};
  for (Durability d : {Durability::kMemory, Durability::kProcessCrash, Durability::kPowerLoss}) {
    for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
      INFO("durability " << static_cast<int>(d) << ", codec " << static_cast<int>(c));
      Producer producer(**log, {.durability = d, .compression = c});
      CHECK_CODE(producer.Send("small", {.value = big}), kInvalidArgument);
      CHECK_CODE(producer.Send("small", {.key = big}), kInvalidArgument);
      CHECK_CODE(producer.Send("small", {.headers = {&header, 1}}), kInvalidArgument);
      CHECK_CODE(producer.SendAsync("small", {.value = big}), kInvalidArgument);
      CHECK_CODE(producer.Send("default", {.value = huge}), kInvalidArgument);
      CHECK_CODE(producer.SendAsync("default", {.key = huge}), kInvalidArgument);
      CHECK_OK(producer.Flush());
    }
  }
  CHECK(*(*log)->EndOffset({"small", 0}) == 0);
  CHECK(*(*log)->EndOffset({"default", 0}) == 0);
  const auto after = Snapshot(dir);
  INFO(testing::Describe(before, after));
  CHECK(after == before);
}

TEST_CASE("bad input: a log of a newer format is refused, and left as it was",
          "[torture][bad_input]") {
  TempDir tmp;
  const std::string dir = tmp.Join("log");
  MakeLog(dir);
  WriteFile(dir + "/meta.properties", "# rill log\nversion=2\n");
  const auto before = Snapshot(dir);
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  REQUIRE_CODE(log, kFailedPrecondition);
  CHECK(Mentions(log.status(), "version 2"));
  const auto after = Snapshot(dir);
  INFO(testing::Describe(before, after));
  CHECK(after == before);
}

TEST_CASE("bad input: a file where a directory should be", "[torture][bad_input]") {
  TempDir tmp;
  const std::string dir = tmp.Join("log");
  std::string where;
  SECTION("the log's directory") {
    WriteFile(dir, "a file");
    where = dir;
  }
  SECTION("a directory above it") {
    WriteFile(tmp.Join("file"), "a file");
    where = tmp.Join("file");
  }
  SECTION("the topics directory") {
    MakeLog(dir);
    std::filesystem::remove_all(dir + "/topics");
    WriteFile(dir + "/topics", "a file");
    where = dir + "/topics";
  }
  SECTION("a partition's directory") {
    MakeLog(dir);
    std::filesystem::remove_all(dir + "/t-1");
    WriteFile(dir + "/t-1", "a file");
    where = dir + "/t-1";
  }
  SECTION("a segment file") {
    MakeLog(dir);
    const std::string segment = dir + "/t-0/00000000000000000000.log";
    std::filesystem::remove(segment);
    std::filesystem::create_directory(segment);
    where = segment;
  }
  const std::string path = where == tmp.Join("file") ? tmp.Join("file/log") : dir;
  const auto before = Snapshot(tmp.path());
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(path);
  INFO("Log::Open(" << path << "): " << log.status());
  CHECK_FALSE(log.ok());
  CHECK(Mentions(log.status(), where));
  const auto after = Snapshot(tmp.path());
  INFO(testing::Describe(before, after));
  CHECK(after == before);
}

// RunAsNobody(fn): runs `fn` in a forked child and returns its status. When
// this process is root -- whom permission bits do not stop -- the child
// first becomes the user `nobody`.
absl::Status RunAsNobody(const std::function<absl::Status()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError("pipe");
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("fork");
  if (child == 0) {
    close(fds[0]);
    absl::Status s;
    if (geteuid() == 0) {
      const passwd* nobody = getpwnam("nobody");
      if (nobody == nullptr || setgroups(0, nullptr) != 0 || setgid(nobody->pw_gid) != 0 ||
          setuid(nobody->pw_uid) != 0) {
        s = absl::InternalError(absl::StrCat("cannot become nobody: ", std::strerror(errno)));
      }
    }
    if (s.ok()) s = fn();
    const std::string report = absl::StrCat(static_cast<int>(s.code()), " ", s.message());
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) report.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  const size_t space = report.find(' ');
  if (space == std::string::npos) return absl::InternalError("the child reported nothing");
  return absl::Status(static_cast<absl::StatusCode>(std::stoi(report.substr(0, space))),
                      report.substr(space + 1));
}

// Sets the write bits of everything under `root` (and root), on or off.
void SetWritable(const std::string& root, bool writable) {
  namespace fs = std::filesystem;
  const auto bits = fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write;
  const auto option = writable ? fs::perm_options::add : fs::perm_options::remove;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    fs::permissions(entry.path(), bits, option);
  }
  fs::permissions(root, bits, option);
}

TEST_CASE("bad input: a directory this process may not write", "[torture][bad_input]") {
  // Under the system's temporary directory, which every user can reach.
  std::string root = (std::filesystem::temp_directory_path() / "rill-readonly-XXXXXX").string();
  REQUIRE(mkdtemp(root.data()) != nullptr);
  std::filesystem::permissions(
      root, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                std::filesystem::perms::others_exec);
  const std::string dir = root + "/log";
  MakeLog(dir);
  SetWritable(root, false);
  const auto before = Snapshot(root);
  // The log itself, a new log inside it, a new log beside it.
  for (const std::string& path : {dir, dir + "/new", root + "/new"}) {
    INFO("Log::Open(" << path << ")");
    const absl::Status s = RunAsNobody([&] {
      absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(path);
      return log.ok() ? absl::OkStatus() : log.status();
    });
    INFO(s);
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    CHECK(Mentions(s, path));
  }
  const auto after = Snapshot(root);
  SetWritable(root, true);
  std::filesystem::remove_all(root);
  INFO(testing::Describe(before, after));
  CHECK(after == before);
}

}  // namespace
}  // namespace rill
