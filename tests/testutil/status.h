// Catch2 assertions for absl::Status and absl::StatusOr that print the
// status when they fail.
//
//   REQUIRE_OK(file->Sync());
//   std::unique_ptr<File> file = Unwrap(fs.OpenFile(path, OpenMode::kCreate));
#ifndef RILL_TESTS_TESTUTIL_STATUS_H_
#define RILL_TESTS_TESTUTIL_STATUS_H_

#include <utility>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rill::testing {

inline const absl::Status& ToStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Unwrap(s): the value of `s`; fails the test (printing the status) if
// there is none.
template <typename T>
T Unwrap(absl::StatusOr<T> s) {
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(s).value();
}

}  // namespace rill::testing

#define RILL_STATUS_ASSERT_(macro, expr)                                      \
  do {                                                                        \
    const ::absl::Status rill_test_status_ = ::rill::testing::ToStatus(expr); \
    INFO(rill_test_status_.ToString());                                       \
    macro(rill_test_status_.ok());                                            \
  } while (false)

// REQUIRE_OK(expr) / CHECK_OK(expr): `expr` (a Status or StatusOr) is OK.
#define REQUIRE_OK(expr) RILL_STATUS_ASSERT_(REQUIRE, expr)
#define CHECK_OK(expr) RILL_STATUS_ASSERT_(CHECK, expr)

#endif  // RILL_TESTS_TESTUTIL_STATUS_H_
