#include "testutil/temp_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <catch2/catch.hpp>

namespace rill::testing {

TempDir::TempDir() {
  const char* base = std::getenv("RILL_TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  std::string templ = std::string(base) + "/rill-test-XXXXXX";
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace rill::testing
