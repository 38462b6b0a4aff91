#include "envlogger/riegeli/fd_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace envlogger {
namespace riegeli {
namespace {

// Bytes collected before Write() hands them to the kernel on its own.
constexpr size_t kSinkBufferSize = size_t{1} << 16;

}  // namespace

FdSink::FdSink(int fd, std::string path, uint64_t initial_pos)
    : fd_(fd), path_(std::move(path)), pos_(initial_pos) {}

FdSink::~FdSink() {
  if (fd_ >= 0) Close().IgnoreError();
}

Status FdSink::Fail(Status status) {
  if (status_.ok()) status_ = status;
  return status_;
}

Status FdSink::WriteBuffer() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t written = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (written < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      buffer_.erase(0, done);
      return Fail(ErrnoToStatus(error, "write " + path_));
    }
    done += static_cast<size_t>(written);
  }
  buffer_.clear();
  return OkStatus();
}

Status FdSink::Write(std::string_view data) {
  if (!status_.ok()) return status_;
  if (fd_ < 0) return FailedPreconditionError("write to closed file " + path_);
  buffer_.append(data.data(), data.size());
  pos_ += data.size();
  if (buffer_.size() >= kSinkBufferSize) return WriteBuffer();
  return OkStatus();
}

Status FdSink::Flush(FlushType type) {
  if (!status_.ok()) return status_;
  if (fd_ < 0) return FailedPreconditionError("flush of closed file " + path_);
  RETURN_IF_ERROR(WriteBuffer());
  if (type == FlushType::kFromMachine && ::fsync(fd_) != 0) {
    return Fail(ErrnoToStatus(errno, "fsync " + path_));
  }
  return OkStatus();
}

Status FdSink::Close() {
  if (fd_ < 0) return status_;  // Already closed.
  if (status_.ok()) WriteBuffer().IgnoreError();  // Recorded in status_.
  if (::close(fd_) != 0) Fail(ErrnoToStatus(errno, "close " + path_)).IgnoreError();
  fd_ = -1;
  return status_;
}

FdSource::FdSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

FdSource::~FdSource() {
  if (fd_ >= 0) ::close(fd_);
}

Status FdSource::ReadAt(uint64_t offset, size_t length, std::string* dest) {
  dest->clear();
  ASSIGN_OR_RETURN(const uint64_t size, Size());
  if (offset >= size) return OkStatus();
  if (length > size - offset) length = static_cast<size_t>(size - offset);
  dest->resize(length);
  size_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd_, &(*dest)[done], length - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      dest->clear();
      return ErrnoToStatus(error, "read " + path_ + " at " + std::to_string(offset + done));
    }
    if (got == 0) break;  // The file shrank or ends here.
    done += static_cast<size_t>(got);
  }
  dest->resize(done);
  return OkStatus();
}

StatusOr<uint64_t> FdSource::Size() {
  struct stat info;
  if (::fstat(fd_, &info) != 0) return ErrnoToStatus(errno, "fstat " + path_);
  return static_cast<uint64_t>(info.st_size);
}

StatusOr<std::unique_ptr<FdSink>> OpenFdSink(const std::string& path, bool append) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path + " for writing");
  uint64_t initial_pos = 0;
  if (append) {
    struct stat info;
    if (::fstat(fd, &info) != 0) {
      const int error = errno;
      ::close(fd);
      return ErrnoToStatus(error, "fstat " + path);
    }
    initial_pos = static_cast<uint64_t>(info.st_size);
  }
  return std::make_unique<FdSink>(fd, path, initial_pos);
}

StatusOr<std::unique_ptr<FdSource>> OpenFdSource(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path + " for reading");
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoToStatus(error, "fstat " + path);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return FailedPreconditionError("open " + path + " for reading failed: Is a directory");
  }
  return std::make_unique<FdSource>(fd, path);
}

}  // namespace riegeli
}  // namespace envlogger
