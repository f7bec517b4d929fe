// Macros that propagate an absl::Status early, written once for rill because
// Debian's Abseil (20220623) ships none.
#ifndef RILL_LIB_UTIL_STATUS_MACROS_H_
#define RILL_LIB_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RILL_STATUS_CONCAT_INNER_(a, b) a##b
#define RILL_STATUS_CONCAT_(a, b) RILL_STATUS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) and returns it from
// the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                                           \
  do {                                                                  \
    ::absl::Status rill_status_ = (expr);                               \
    if (ABSL_PREDICT_FALSE(!rill_status_.ok())) return rill_status_;    \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>); on error
// returns its status, otherwise move-assigns its value to `lhs`, which may be a
// declaration (`ASSIGN_OR_RETURN(auto file, fs.Open(...))`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  RILL_ASSIGN_OR_RETURN_IMPL_(RILL_STATUS_CONCAT_(rill_statusor_, __LINE__), lhs, expr)

#define RILL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)               \
  auto statusor = (expr);                                              \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) return statusor.status();    \
  lhs = std::move(statusor).value()

#endif  // RILL_LIB_UTIL_STATUS_MACROS_H_
