// A ByteSource over bytes the caller keeps alive, for fuzz targets and
// benchmarks: opening it copies nothing (StringSource would copy the whole
// file into itself), ReadAt() and ReadScattered() copy once, like pread() /
// preadv() from the page cache, and a read past the bytes is an ASan report
// against the caller's exactly-sized buffer.

#ifndef ENVLOGGER_TESTING_VIEW_SOURCE_H_
#define ENVLOGGER_TESTING_VIEW_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "envlogger/riegeli/byte_io.h"

namespace envlogger {
namespace testing {

class ViewSource : public riegeli::ByteSource {
 public:
  // `name` is what error messages call the source.
  ViewSource(std::string_view data, std::string name) : data_(data), name_(std::move(name)) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    if (offset >= data_.size()) {
      dest->clear();
    } else {
      dest->assign(data_.substr(offset, length));
    }
    return OkStatus();
  }
  Status ReadScattered(uint64_t offset, const riegeli::ReadSpan* spans, size_t count,
                       size_t* read) override {
    *read = offset >= data_.size() ? 0 : CopyToSpans(data_.substr(offset), spans, count);
    return OkStatus();
  }
  StatusOr<uint64_t> Size() override { return uint64_t{data_.size()}; }
  const std::string& name() const override { return name_; }

 private:
  std::string_view data_;
  std::string name_;
};

}  // namespace testing
}  // namespace envlogger

#endif  // ENVLOGGER_TESTING_VIEW_SOURCE_H_
