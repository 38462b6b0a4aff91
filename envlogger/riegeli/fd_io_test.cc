#include "envlogger/riegeli/fd_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "envlogger/testing/testdata.h"

namespace envlogger {
namespace riegeli {
namespace {

class FdIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fd_io_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(FdIoTest, WriteCloseThenReadBack) {
  const std::string path = Path("a");
  auto sink = OpenFdSink(path, /*append=*/false);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_EQ((*sink)->pos(), 0u);
  EXPECT_EQ((*sink)->name(), path);
  ASSERT_TRUE((*sink)->Write("hello ").ok());
  ASSERT_TRUE((*sink)->Write(std::string(200000, 'x')).ok());  // Larger than the buffer.
  ASSERT_TRUE((*sink)->Write("end").ok());
  EXPECT_EQ((*sink)->pos(), 6u + 200000u + 3u);
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_TRUE((*sink)->Close().ok());  // Idempotent.
  EXPECT_EQ((*sink)->Write("more").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(testing::ReadFile(path), "hello " + std::string(200000, 'x') + "end");

  auto source = OpenFdSource(path);
  ASSERT_TRUE(source.ok());
  auto size = (*source)->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 200009u);
  std::string dest = "junk";
  ASSERT_TRUE((*source)->ReadAt(0, 5, &dest).ok());
  EXPECT_EQ(dest, "hello");
  ASSERT_TRUE((*source)->ReadAt(200006, 100, &dest).ok());
  EXPECT_EQ(dest, "end");  // Short read at the end is not an error.
  ASSERT_TRUE((*source)->ReadAt(200009, 10, &dest).ok());
  EXPECT_EQ(dest, "");
  ASSERT_TRUE((*source)->ReadAt(uint64_t{1} << 40, size_t{1} << 40, &dest).ok());
  EXPECT_EQ(dest, "");
  // A huge length is clamped to what the file holds.
  ASSERT_TRUE((*source)->ReadAt(3, ~size_t{0}, &dest).ok());
  EXPECT_EQ(dest.size(), 200006u);
}

TEST_F(FdIoTest, TruncateAndAppendModes) {
  const std::string path = Path("b");
  {
    std::ofstream file(path, std::ios::binary);
    file << "0123456789";
  }
  {
    auto sink = OpenFdSink(path, /*append=*/true);
    ASSERT_TRUE(sink.ok());
    EXPECT_EQ((*sink)->pos(), 10u);
    ASSERT_TRUE((*sink)->Write("ab").ok());
    EXPECT_EQ((*sink)->pos(), 12u);
    ASSERT_TRUE((*sink)->Close().ok());
  }
  EXPECT_EQ(testing::ReadFile(path), "0123456789ab");
  {
    auto sink = OpenFdSink(path, /*append=*/false);
    ASSERT_TRUE(sink.ok());
    EXPECT_EQ((*sink)->pos(), 0u);
    ASSERT_TRUE((*sink)->Write("new").ok());
    // The destructor writes out what is buffered.
  }
  EXPECT_EQ(testing::ReadFile(path), "new");
}

TEST_F(FdIoTest, FlushMakesDataVisibleAndSizeFollowsGrowth) {
  const std::string path = Path("c");
  auto sink = OpenFdSink(path, false);
  ASSERT_TRUE(sink.ok());
  auto source = OpenFdSource(path);
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*sink)->Write("abc").ok());
  EXPECT_EQ(*(*source)->Size(), 0u);  // Still buffered.
  ASSERT_TRUE((*sink)->Flush(FlushType::kFromProcess).ok());
  EXPECT_EQ(*(*source)->Size(), 3u);
  ASSERT_TRUE((*sink)->Write("def").ok());
  ASSERT_TRUE((*sink)->Flush(FlushType::kFromMachine).ok());
  EXPECT_EQ(*(*source)->Size(), 6u);
  ASSERT_TRUE((*sink)->Write("g").ok());
  ASSERT_TRUE((*sink)->Flush(FlushType::kFromObject).ok());
  std::string dest;
  ASSERT_TRUE((*source)->ReadAt(0, 100, &dest).ok());
  EXPECT_EQ(dest, "abcdefg");
}

TEST_F(FdIoTest, OpenErrorsNameThePath) {
  const std::string missing = Path("no/such/dir/file");
  auto sink = OpenFdSink(missing, false);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sink.status().message().find(missing), std::string::npos) << sink.status().message();

  auto source = OpenFdSource(Path("absent"));
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kNotFound);
  EXPECT_NE(source.status().message().find(Path("absent")), std::string::npos);

  auto dir_source = OpenFdSource(dir_);
  ASSERT_FALSE(dir_source.ok());
  EXPECT_EQ(dir_source.status().code(), StatusCode::kFailedPrecondition);
  auto dir_sink = OpenFdSink(dir_, false);
  ASSERT_FALSE(dir_sink.ok());
  EXPECT_EQ(dir_sink.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FdIoTest, WriteErrorIsReportedAndSticky) {
  ASSERT_EQ(access("/dev/full", W_OK), 0) << "this test needs /dev/full";
  auto sink = OpenFdSink("/dev/full", false);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write("abc").ok());  // Buffered.
  const Status status = (*sink)->Flush(FlushType::kFromProcess);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status.ToString();
  EXPECT_NE(status.message().find("/dev/full"), std::string::npos);
  EXPECT_EQ((*sink)->Write("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*sink)->Close().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
