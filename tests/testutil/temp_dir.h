// TempDir: a fresh directory for one test, removed with everything in it
// when the TempDir is destroyed. Created under $RILL_TEST_TMPDIR when set
// (CTest sets it to the build tree), else under $TMPDIR or /tmp.
#ifndef RILL_TESTS_TESTUTIL_TEMP_DIR_H_
#define RILL_TESTS_TESTUTIL_TEMP_DIR_H_

#include <string>

namespace rill::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Join(name): path() + "/" + name.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace rill::testing

#endif  // RILL_TESTS_TESTUTIL_TEMP_DIR_H_
