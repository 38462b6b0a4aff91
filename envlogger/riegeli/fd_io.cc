#include "envlogger/riegeli/fd_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

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
  pos_ += data.size();
  if (buffer_.size() + data.size() < kSinkBufferSize) {
    buffer_.append(data.data(), data.size());
    return OkStatus();
  }
  // Enough for a write(): the buffered bytes and `data` go to the kernel
  // together, without copying `data` into the buffer first.
  struct iovec iov[2] = {{buffer_.data(), buffer_.size()},
                         {const_cast<char*>(data.data()), data.size()}};
  int first = buffer_.empty() ? 1 : 0;
  while (first < 2) {
    const ssize_t written = ::writev(fd_, iov + first, 2 - first);
    if (written < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      buffer_.clear();
      return Fail(ErrnoToStatus(error, "write " + path_));
    }
    size_t left = static_cast<size_t>(written);
    while (first < 2 && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < 2) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  buffer_.clear();
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
  if (fd_ < 0) return status_;                    // Already closed.
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
    const ssize_t got =
        ::pread(fd_, &(*dest)[done], length - done, static_cast<off_t>(offset + done));
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

Status FdSource::ReadScattered(uint64_t offset, const ReadSpan* spans, size_t count, size_t* read) {
  *read = 0;
  // Up to IOV_MAX spans per call; a short read resumes inside its span.
  std::vector<struct iovec> iov;
  size_t span = 0;         // First span not completely filled.
  size_t span_offset = 0;  // Bytes of spans[span] already filled.
  while (span < count) {
    if (spans[span].size == span_offset) {
      ++span;
      span_offset = 0;
      continue;
    }
    iov.clear();
    for (size_t i = span; i < count && iov.size() < static_cast<size_t>(IOV_MAX); ++i) {
      const size_t skip = i == span ? span_offset : 0;
      if (spans[i].size > skip) iov.push_back({spans[i].data + skip, spans[i].size - skip});
    }
    const ssize_t got =
        ::preadv(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset + *read));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "read " + path_ + " at " + std::to_string(offset + *read));
    }
    if (got == 0) break;  // The file ends here.
    *read += static_cast<size_t>(got);
    size_t left = static_cast<size_t>(got);
    while (left > 0) {
      const size_t room = spans[span].size - span_offset;
      if (left < room) {
        span_offset += left;
        left = 0;
      } else {
        left -= room;
        ++span;
        span_offset = 0;
      }
    }
  }
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
