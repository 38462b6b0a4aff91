// File-descriptor implementations of ByteSink and ByteSource (byte_io.h).
//
// FdSink appends to a file through an in-memory buffer. Flush(kFromObject)
// and Flush(kFromProcess) hand the buffer to the kernel with write(2), so a
// reader in this or another process sees every byte written so far;
// Flush(kFromMachine) additionally fsync(2)s. The first failure is sticky:
// every later call returns it. Errors are ErrnoToStatus(...) naming the path.
//
// FdSource reads with pread(2), so it keeps no file position and can read any
// offset; Size() calls fstat(2) each time, so a file that another writer is
// still appending to is seen growing.

#ifndef ENVLOGGER_RIEGELI_FD_IO_H_
#define ENVLOGGER_RIEGELI_FD_IO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "envlogger/base/status.h"
#include "envlogger/riegeli/byte_io.h"

namespace envlogger {
namespace riegeli {

class FdSink : public ByteSink {
 public:
  // Takes ownership of `fd`, whose current end of file is `initial_pos`.
  FdSink(int fd, std::string path, uint64_t initial_pos);
  // Writes out buffered bytes (errors are lost: call Close() to see them) and
  // closes the descriptor.
  ~FdSink() override;

  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;

  Status Write(std::string_view data) override;
  Status Flush(FlushType type) override;
  // Writes out buffered bytes and closes the descriptor. Closing again
  // returns the same status; Write() and Flush() after Close() fail with
  // FAILED_PRECONDITION.
  Status Close() override;
  uint64_t pos() const override { return pos_; }
  const std::string& name() const override { return path_; }

 private:
  // Writes the buffer out with write(2), retrying short writes and EINTR.
  Status WriteBuffer();
  Status Fail(Status status);

  int fd_;
  std::string path_;
  uint64_t pos_;
  std::string buffer_;
  Status status_;
};

class FdSource : public ByteSource {
 public:
  // Takes ownership of `fd`.
  FdSource(int fd, std::string path);
  ~FdSource() override;

  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  // Reads min(length, size - offset) bytes (never allocating beyond what the
  // file holds).
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override;
  // preadv() straight into the spans.
  Status ReadScattered(uint64_t offset, const ReadSpan* spans, size_t count, size_t* read) override;
  StatusOr<uint64_t> Size() override;
  const std::string& name() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Opens `path` for writing, creating it if needed (mode 0666 & ~umask). With
// `append`, existing contents are kept and pos() starts at the file size;
// otherwise the file is truncated.
StatusOr<std::unique_ptr<FdSink>> OpenFdSink(const std::string& path, bool append);

// Opens `path` for reading. Fails with NOT_FOUND if it does not exist and
// FAILED_PRECONDITION if it is a directory.
StatusOr<std::unique_ptr<FdSource>> OpenFdSource(const std::string& path);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_FD_IO_H_
