#include "envlogger/riegeli/fd_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

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

TEST_F(FdIoTest, LargeWriteErrorIsReportedAndSticky) {
  ASSERT_EQ(access("/dev/full", W_OK), 0) << "this test needs /dev/full";
  auto sink = OpenFdSink("/dev/full", false);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write("abc").ok());  // Buffered.
  // Larger than the buffer: written at once, together with "abc".
  const Status status = (*sink)->Write(std::string(100000, 'x'));
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status.ToString();
  EXPECT_NE(status.message().find("/dev/full"), std::string::npos);
  EXPECT_EQ((*sink)->Write("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*sink)->Close().code(), StatusCode::kResourceExhausted);
}

TEST_F(FdIoTest, ManyWritesAroundTheBufferSizeKeepTheirOrder) {
  const std::string path = Path("order");
  auto sink = OpenFdSink(path, /*append=*/false);
  ASSERT_TRUE(sink.ok());
  std::string expected;
  // Sizes below, at and above the 64 KiB buffer, so that buffered bytes and
  // directly written bytes interleave.
  for (size_t size : {10, 65535, 1, 65536, 24, 65512, 70000, 3, 200000, 0, 5}) {
    std::string piece(size, '\0');
    for (size_t i = 0; i < size; ++i)
      piece[i] = static_cast<char>('a' + (expected.size() + i) % 26);
    ASSERT_TRUE((*sink)->Write(piece).ok());
    expected += piece;
    EXPECT_EQ((*sink)->pos(), expected.size());
  }
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(testing::ReadFile(path), expected);
}

// Reads `length` bytes at `offset` of `source` through ReadScattered() into
// spans of the given sizes, checking that bytes beyond what was read stay
// untouched.
std::string ScatteredRead(ByteSource& source, uint64_t offset, const std::vector<size_t>& sizes) {
  size_t total = 0;
  for (size_t size : sizes) total += size;
  std::string memory(total, '#');
  std::vector<ReadSpan> spans;
  size_t at = 0;
  for (size_t size : sizes) {
    spans.push_back({&memory[at], size});
    at += size;
  }
  size_t read = 12345;
  const Status status = source.ReadScattered(offset, spans.data(), spans.size(), &read);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_LE(read, total);
  EXPECT_EQ(memory.substr(read), std::string(total - read, '#'));
  return memory.substr(0, read);
}

// A source that only implements ReadAt(), for the default ReadScattered().
class ReadAtOnlySource : public ByteSource {
 public:
  explicit ReadAtOnlySource(std::string data) : data_(std::move(data)) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    return data_.ReadAt(offset, length, dest);
  }
  StatusOr<uint64_t> Size() override { return data_.Size(); }
  const std::string& name() const override { return data_.name(); }

 private:
  StringSource data_;
};

TEST_F(FdIoTest, ReadScatteredFillsSpansInOrderWithShortReadsAtTheEnd) {
  std::string contents(300000, '\0');
  for (size_t i = 0; i < contents.size(); ++i) contents[i] = static_cast<char>(i * 7 + i / 251);
  const std::string path = Path("scatter");
  {
    auto sink = OpenFdSink(path, false);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(contents).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  auto fd_source = OpenFdSource(path);
  ASSERT_TRUE(fd_source.ok());
  StringSource string_source(contents);
  ReadAtOnlySource read_at_source(contents);
  // More spans than IOV_MAX (1024), so that preadv() is called repeatedly.
  std::vector<size_t> many(3000, 17);
  many[5] = 0;
  for (ByteSource* source :
       std::vector<ByteSource*>{fd_source->get(), &string_source, &read_at_source}) {
    SCOPED_TRACE(source->name());
    EXPECT_EQ(ScatteredRead(*source, 0, {24, 65512, 24, 1000}), contents.substr(0, 66560));
    EXPECT_EQ(ScatteredRead(*source, 12345, many), contents.substr(12345, 17 * 2999));
    EXPECT_EQ(ScatteredRead(*source, 299990, {4, 0, 4, 100}), contents.substr(299990));
    EXPECT_EQ(ScatteredRead(*source, 300000, {10}), "");
    EXPECT_EQ(ScatteredRead(*source, uint64_t{1} << 40, {10}), "");
    EXPECT_EQ(ScatteredRead(*source, 5, {}), "");
  }
}

}  // namespace
}  // namespace riegeli
}  // namespace envlogger
