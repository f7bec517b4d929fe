// Writes the seed corpus of the fuzz targets: valid batches of every codec
// for batch_fuzzer, and the files of a real partition (index, time index and
// log, framed as partition_fuzz.cc reads them) for index_fuzzer and
// recovery_fuzzer. Run: make_seeds <corpus dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "format/batch_builder.h"
#include "storage/mem_file_system.h"
#include "storage/partition_log.h"
#include "storage/segment_format.h"

namespace {

void WriteSeed(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string Batch(rill::Compression codec, int records) {
  rill::BatchBuilder builder({.compression = codec});
  const std::vector<rill::Header> headers = {{"h", "v"}, {"n", std::nullopt}};
  for (int i = 0; i < records; ++i) {
    const std::string value = "value-" + std::to_string(i);
    rill::Record r{.key = i % 3 == 0 ? std::nullopt : std::optional<std::string_view>("key"),
                   .value = value};
    if (i % 2 == 0) r.headers = headers;
    builder.Add(r, 1'700'000'000'000 + i * 7 - (i % 4) * 3);
  }
  auto batch = builder.Finish();
  return std::string(batch->data(), batch->size());
}

std::string Framed(const std::string& index, const std::string& time_index,
                   const std::string& log) {
  auto length = [](const std::string& s) {
    const size_t n = std::min<size_t>(s.size(), 65535);
    return std::string{static_cast<char>(n & 0xff), static_cast<char>(n >> 8)};
  };
  return length(index) + index.substr(0, 65535) + length(time_index) +
         time_index.substr(0, 65535) + log;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  int n = 0;
  for (rill::Compression codec :
       {rill::Compression::kNone, rill::Compression::kLz4, rill::Compression::kZstd}) {
    for (int records : {1, 5, 40}) {
      const std::string batch = Batch(codec, records);
      WriteSeed(root / "batch" / ("seed-" + std::to_string(n++)), std::string(1, '\0') + batch);
      WriteSeed(root / "batch" / ("seed-" + std::to_string(n++)), std::string(1, '\1') + batch);
    }
  }
  // A partition with a few indexed batches, as the log writes it.
  rill::MemFileSystem fs;
  rill::PartitionLogOptions options;
  options.segment.index_interval_bytes = 64;
  options.log_sink = [](rill::LogSeverity, std::string_view) {};
  {
    auto log = rill::PartitionLog::Open(fs, "/p", options, nullptr);
    for (int i = 0; i < 12; ++i) {
      (void)(*log)->Append(Batch(i % 3 == 0 ? rill::Compression::kLz4 : rill::Compression::kNone,
                                 1 + i % 4));
    }
    (void)(*log)->Close();
  }
  auto read = [&fs](std::string_view suffix) {
    return *rill::ReadFileToString(fs, "/p/" + rill::segment::FileName(0, suffix));
  };
  const std::string framed = Framed(read(rill::segment::kIndexSuffix),
                                    read(rill::segment::kTimeIndexSuffix),
                                    read(rill::segment::kLogSuffix));
  WriteSeed(root / "index" / "seed-0", framed);
  WriteSeed(root / "recovery" / "seed-0", std::string(1, '\0') + framed);
  WriteSeed(root / "recovery" / "seed-1", std::string(1, '\1') + framed);
  // A torn tail: the last batch cut short.
  WriteSeed(root / "recovery" / "seed-2", std::string(1, '\1') + framed.substr(0, framed.size() - 9));
  std::printf("seeds written to %s\n", root.c_str());
  return 0;
}
