// Where Riegeli bytes come from and go to.
//
// ByteSink is an append-only destination (a file being written); ByteSource
// is a random-access source (a file being read, possibly still growing). The
// chunk layer is written against these interfaces only; fd_io.h provides the
// file implementations and the String* classes below serve tests and
// in-memory buffers.

#ifndef ENVLOGGER_RIEGELI_BYTE_IO_H_
#define ENVLOGGER_RIEGELI_BYTE_IO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "envlogger/riegeli/status.h"

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

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `length` bytes at `offset` into `*dest` (replacing its
  // contents). Fewer bytes than asked means the source ends there; that is
  // not an error.
  virtual Status ReadAt(uint64_t offset, size_t length, std::string* dest) = 0;
  // Current size. For a file another process appends to, this can grow.
  virtual StatusOr<uint64_t> Size() = 0;
  virtual const std::string& name() const = 0;
};

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
  StatusOr<uint64_t> Size() override { return uint64_t{data_.size()}; }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_ = "<memory>";
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_BYTE_IO_H_
