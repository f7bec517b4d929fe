// Runs Demo(), the example of README.md, and fails unless it returns OK.
#include <cstdio>

#include "absl/status/status.h"

absl::Status Demo();

int main() {
  const absl::Status s = Demo();
  std::printf("README example: %s\n", s.ToString().c_str());
  return s.ok() ? 0 : 1;
}
