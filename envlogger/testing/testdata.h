// Locates files under envlogger/testdata/ from a C++ test, whichever build
// runs it: $ENVLOGGER_TESTDATA_DIR (set by CMake's ctest), Bazel's runfiles
// tree ($TEST_SRCDIR/$TEST_WORKSPACE), or the source tree relative to the
// working directory.

#ifndef ENVLOGGER_TESTING_TESTDATA_H_
#define ENVLOGGER_TESTING_TESTDATA_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace envlogger {
namespace testing {

inline std::string TestDataPath(const std::string& relative_path) {
  if (const char* dir = std::getenv("ENVLOGGER_TESTDATA_DIR")) {
    return std::string(dir) + "/" + relative_path;
  }
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    return std::string(srcdir) + "/" + workspace + "/envlogger/testdata/" + relative_path;
  }
  return "envlogger/testdata/" + relative_path;
}

// The contents of the file at `path`; a file that cannot be opened fails the
// current test and reads as "".
inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace testing
}  // namespace envlogger

#endif  // ENVLOGGER_TESTING_TESTDATA_H_
