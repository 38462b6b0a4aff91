// Where Riegeli bytes come from and go to.
//
// ByteSink is an append-only destination (a file being written); ByteSource
// is a random-access source (a file being read, possibly still growing). The
// chunk layer is written against these interfaces only; fd_io.h provides the
// file implementations and the String* classes below serve tests and
// in-memory buffers.

#ifndef ENVLOGGER_RIEGELI_BYTE_IO_H_
#define ENVLOGGER_RIEGELI_BYTE_IO_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "envlogger/base/status.h"

namespace envlogger {
namespace riegeli {

// How far a flush must push the data (values as in Riegeli's Python API).
enum class FlushType : int {
  kFromObject = 0,   // Visible to other objects of this process.
  kFromProcess = 1,  // Handed to the operating system (visible to readers).
  kFromMachine = 2,  // Durable: fsync'ed.
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Appends `data`. On error nothing more may be appended.
  virtual Status Write(std::string_view data) = 0;
  virtual Status Flush(FlushType type) = 0;
  virtual Status Close() = 0;
  // Bytes written so far plus the position the sink started at.
  virtual uint64_t pos() const = 0;
  // Human-readable name for error messages (a path, or "<memory>").
  virtual const std::string& name() const = 0;
};

// Caller memory that a scatter read fills.
struct ReadSpan {
  char* data;
  size_t size;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `length` bytes at `offset` into `*dest` (replacing its
  // contents). Fewer bytes than asked means the source ends there; that is
  // not an error.
  virtual Status ReadAt(uint64_t offset, size_t length, std::string* dest) = 0;
  // Reads the bytes from `offset` on straight into `spans` (like preadv():
  // each span is filled before the next), so that the caller needs no copy.
  // `*read` is the number of bytes read; fewer than the spans hold means the
  // source ends there, which is not an error. This default goes through
  // ReadAt() and copies; sources override it to read in place.
  virtual Status ReadScattered(uint64_t offset, const ReadSpan* spans, size_t count, size_t* read) {
    size_t length = 0;
    for (size_t i = 0; i < count; ++i) length += spans[i].size;
    std::string buffer;
    *read = 0;
    RETURN_IF_ERROR(ReadAt(offset, length, &buffer));
    *read = CopyToSpans(buffer, spans, count);
    return OkStatus();
  }
  // Current size. For a file another process appends to, this can grow.
  virtual StatusOr<uint64_t> Size() = 0;
  virtual const std::string& name() const = 0;

 protected:
  // Copies `data` into `spans` in order; returns the bytes copied (at most
  // data.size()).
  static size_t CopyToSpans(std::string_view data, const ReadSpan* spans, size_t count) {
    size_t done = 0;
    for (size_t i = 0; i < count && done < data.size(); ++i) {
      const size_t length = std::min(spans[i].size, data.size() - done);
      if (length > 0) std::memcpy(spans[i].data, data.data() + done, length);
      done += length;
    }
    return done;
  }
};

// Opens the source that `path` names, for readers that open files by name
// (RecordReader::Open, the dataset and shard readers). Empty: the file
// (OpenFdSource, fd_io.h). Tests and fuzz targets pass one serving bytes in
// memory; NOT_FOUND means that no such file exists.
using SourceOpener = std::function<StatusOr<std::unique_ptr<ByteSource>>(const std::string& path)>;

// A sink that accumulates bytes in memory.
class StringSink : public ByteSink {
 public:
  explicit StringSink(std::string* dest) : dest_(dest) {}
  Status Write(std::string_view data) override {
    dest_->append(data.data(), data.size());
    return OkStatus();
  }
  Status Flush(FlushType) override { return OkStatus(); }
  Status Close() override { return OkStatus(); }
  uint64_t pos() const override { return dest_->size(); }
  const std::string& name() const override { return name_; }

 private:
  std::string* dest_;
  std::string name_ = "<memory>";
};

// A source over bytes owned by the caller (or by the source).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    if (offset >= data_.size()) {
      dest->clear();
    } else {
      dest->assign(data_, offset, length);
    }
    return OkStatus();
  }
  Status ReadScattered(uint64_t offset, const ReadSpan* spans, size_t count,
                       size_t* read) override {
    *read = offset >= data_.size()
                ? 0
                : CopyToSpans(std::string_view(data_).substr(offset), spans, count);
    return OkStatus();
  }
  StatusOr<uint64_t> Size() override { return uint64_t{data_.size()}; }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_ = "<memory>";
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_BYTE_IO_H_
