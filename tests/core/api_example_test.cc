// The API tour of README.md, verbatim between the markers (there it is
// main()), compiled and run here, and what it prints checked.
//
// ---- README tour begins ----
#include <iostream>

#include <rill/rill.h>

int Tour() {
  auto log = rill::Log::OpenInMemory();  // or rill::Log::Open("/var/lib/app/events")
  if (!log.ok() || !(*log)->CreateTopic("orders", {.partitions = 4}).ok()) return 1;

  rill::Producer producer(**log);
  for (std::string user : {"alice", "bob", "carol", "alice"}) {
    std::string order = "1 book for " + user;
    auto pos = producer.Send("orders", {.key = user, .value = order});  // Copies the bytes.
    if (!pos.ok()) return 1;
    std::cout << "sent " << user << " to partition " << pos->partition << " at offset "
              << pos->offset << "\n";
  }

  rill::Consumer consumer(**log, {.auto_offset_reset = rill::OffsetReset::kEarliest});
  if (!consumer.Subscribe({"orders"}).ok()) return 1;
  for (int seen = 0; seen < 4;) {
    auto records = consumer.Poll(absl::Seconds(1));  // Views, valid until the next Poll.
    if (!records.ok()) return 1;
    for (const rill::RecordView& r : *records) {
      std::cout << "read " << r.topic() << "-" << r.partition() << "@" << r.offset() << " "
                << r.key() << ": " << r.value() << "\n";
      ++seen;
    }
  }
  return 0;
}
// ---- README tour ends ----

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace rill {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_CASE("the README's API tour runs and prints what it should", "[example]") {
  std::ostringstream out;
  std::streambuf* const cout = std::cout.rdbuf(out.rdbuf());
  const int result = Tour();
  std::cout.rdbuf(cout);
  REQUIRE(result == 0);

  // Where Kafka's partitioner puts each user, and the offsets that follow.
  std::vector<std::string> sent;
  std::vector<std::string> read;
  std::map<int32_t, int64_t> next;
  for (std::string user : {"alice", "bob", "carol", "alice"}) {
    const int32_t p = KafkaPartition(user, 4);
    const int64_t offset = next[p]++;
    sent.push_back("sent " + user + " to partition " + std::to_string(p) + " at offset " +
                   std::to_string(offset));
    read.push_back("read orders-" + std::to_string(p) + "@" + std::to_string(offset) + " " + user +
                   ": 1 book for " + user);
  }
  const std::vector<std::string> lines = Lines(out.str());
  INFO(out.str());
  REQUIRE(lines.size() == 8);
  CHECK(std::vector<std::string>(lines.begin(), lines.begin() + 4) == sent);
  // Partitions may come in any order; each one's records in offset order.
  std::vector<std::string> got(lines.begin() + 4, lines.end());
  for (size_t i = 0; i < got.size(); ++i) {
    for (size_t j = i + 1; j < got.size(); ++j) {
      const auto partition = [](const std::string& line) { return line.substr(0, line.find('@')); };
      if (partition(got[i]) == partition(got[j])) CHECK(got[i] < got[j]);
    }
  }
  std::sort(got.begin(), got.end());
  std::sort(read.begin(), read.end());
  CHECK(got == read);
}

}  // namespace
}  // namespace rill
