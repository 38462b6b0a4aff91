// pybind11 bindings of the Riegeli record layer: envlogger._native.riegeli.
//
// These are the low-level objects; envlogger/riegeli/__init__.py wraps them
// into the API of the official `riegeli` Python package.
//
// Contracts:
// * A failed Status is raised as the Python class registered for its code
//   with `_set_error_classes({code: class})` (RuntimeError before that), with
//   the Status message, which names the file and the position. No C++
//   exception escapes.
// * The GIL is released around every file access and every (de)compression.
//   Each object has a mutex, always taken after the GIL is released, so that
//   concurrent use from several Python threads is safe (serialized) and a
//   recovery callback, which takes the GIL, cannot deadlock.
// * The recovery callback is called as callback(begin, end, message) and
//   must return a bool (True: continue). If it raises, reading stops and the
//   exception is re-raised by the call that triggered it.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "envlogger/python/register.h"
#include "envlogger/riegeli/byte_io.h"
#include "envlogger/riegeli/fd_io.h"
#include "envlogger/riegeli/highwayhash.h"
#include "envlogger/riegeli/record_reader.h"
#include "envlogger/riegeli/record_writer.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

using envlogger::Status;
using envlogger::StatusOr;
using riegeli::ByteSink;
using riegeli::FlushType;
using riegeli::RecordPosition;
using riegeli::RecordReader;
using riegeli::RecordReaderOptions;
using riegeli::RecordWriter;
using riegeli::RecordWriterOptions;
using riegeli::SkippedRegion;

// {code: exception class}, set by the Python package. Leaked on purpose: it
// must outlive every binding object, including during interpreter shutdown.
py::dict* error_classes = nullptr;

[[noreturn]] void RaiseStatus(const Status& status) {
  PyObject* type = PyExc_RuntimeError;
  if (error_classes != nullptr) {
    py::object code = py::int_(static_cast<int>(status.code()));
    if (error_classes->contains(code)) type = (*error_classes)[code].ptr();
  }
  PyErr_SetString(type, status.message().c_str());
  throw py::error_already_set();
}

void CheckStatus(const Status& status) {
  if (!status.ok()) RaiseStatus(status);
}

// The contents of a bytes-like object, pinned for as long as this lives
// (a bytearray cannot be resized while its buffer is exported). Must be
// destroyed with the GIL held.
class BytesRef {
 public:
  explicit BytesRef(py::handle object) {
    if (PyBytes_Check(object.ptr())) {  // Immutable: no export needed.
      view_ = std::string_view(PyBytes_AS_STRING(object.ptr()),
                               static_cast<size_t>(PyBytes_GET_SIZE(object.ptr())));
      return;
    }
    if (PyObject_GetBuffer(object.ptr(), &buffer_, PyBUF_C_CONTIGUOUS) != 0) {
      throw py::error_already_set();
    }
    exported_ = true;
    view_ =
        std::string_view(static_cast<const char*>(buffer_.buf), static_cast<size_t>(buffer_.len));
  }
  ~BytesRef() {
    if (exported_) PyBuffer_Release(&buffer_);
  }
  BytesRef(const BytesRef&) = delete;
  BytesRef& operator=(const BytesRef&) = delete;

  std::string_view view() const { return view_; }

 private:
  Py_buffer buffer_{};
  bool exported_ = false;
  std::string_view view_;
};

py::tuple PositionTuple(const RecordPosition& pos) {
  return py::make_tuple(pos.chunk_begin, pos.record_index);
}

// A sink that keeps written bytes until Python takes them (for destinations
// that are Python objects without a file descriptor).
class BufferSink : public ByteSink {
 public:
  BufferSink(uint64_t initial_pos, std::string name) : pos_(initial_pos), name_(std::move(name)) {}
  Status Write(std::string_view data) override {
    buffer_.append(data.data(), data.size());
    pos_ += data.size();
    return envlogger::OkStatus();
  }
  Status Flush(FlushType) override { return envlogger::OkStatus(); }
  Status Close() override { return envlogger::OkStatus(); }
  uint64_t pos() const override { return pos_; }
  const std::string& name() const override { return name_; }

  std::string Take() { return std::exchange(buffer_, std::string()); }
  size_t buffered() const { return buffer_.size(); }

 private:
  uint64_t pos_;
  std::string buffer_;
  std::string name_;
};

// An in-memory file with a name for error messages.
class NamedBytesSource : public riegeli::ByteSource {
 public:
  NamedBytesSource(std::string data, std::string name)
      : source_(std::move(data)), name_(std::move(name)) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* dest) override {
    return source_.ReadAt(offset, length, dest);
  }
  Status ReadScattered(uint64_t offset, const riegeli::ReadSpan* spans, size_t count,
                       size_t* read) override {
    return source_.ReadScattered(offset, spans, count, read);
  }
  StatusOr<uint64_t> Size() override { return source_.Size(); }
  const std::string& name() const override { return name_; }

 private:
  riegeli::StringSource source_;
  std::string name_;
};

class PyRecordWriter {
 public:
  // `kind`: "path" (dest is a path), "fd" (dest is an owned descriptor) or
  // "buffer" (bytes are handed to Python with take_output()).
  static std::unique_ptr<PyRecordWriter> Create(const std::string& kind, py::object dest,
                                                const std::string& name, uint64_t initial_pos,
                                                const std::string& options_text,
                                                std::optional<py::bytes> serialized_metadata) {
    auto result = std::unique_ptr<PyRecordWriter>(new PyRecordWriter());
    std::unique_ptr<ByteSink> sink;
    // The sink owns the descriptor from here on, so it is closed whatever
    // fails next.
    if (kind == "fd") sink = std::make_unique<riegeli::FdSink>(dest.cast<int>(), name, initial_pos);
    StatusOr<RecordWriterOptions> options = RecordWriterOptions::FromString(options_text);
    CheckStatus(options.status());
    std::optional<std::string> metadata;
    if (serialized_metadata.has_value()) metadata = std::string(*serialized_metadata);
    if (kind == "path") {
      const std::string path = dest.cast<std::string>();
      StatusOr<std::unique_ptr<RecordWriter>> writer = [&] {
        py::gil_scoped_release release;
        return RecordWriter::Open(path, *options, /*append=*/false, std::move(metadata));
      }();
      CheckStatus(writer.status());
      result->writer_ = std::move(*writer);
      return result;
    }
    if (kind == "buffer") {
      auto buffer = std::make_unique<BufferSink>(initial_pos, name);
      result->buffer_ = buffer.get();
      sink = std::move(buffer);
    } else if (kind != "fd") {
      throw py::value_error("unknown destination kind " + kind);
    }
    StatusOr<std::unique_ptr<RecordWriter>> writer = [&] {
      py::gil_scoped_release release;
      return RecordWriter::Create(std::move(sink), *options, std::move(metadata));
    }();
    CheckStatus(writer.status());
    result->writer_ = std::move(*writer);
    return result;
  }

  // A writer dropped without close() is closed here (errors are lost, and a
  // buffer destination loses the bytes not yet taken); the final chunk is
  // encoded and written without holding the GIL.
  ~PyRecordWriter() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    writer_.reset();
  }

  void WriteRecord(py::handle record) {
    const BytesRef bytes(record);
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = writer_->WriteRecord(bytes.view());
    }
    CheckStatus(status);
  }

  // Writes the records of a sequence with one GIL release.
  void WriteRecords(py::sequence records) {
    const size_t size = py::len(records);
    std::vector<std::string_view> views;
    views.reserve(size);
    std::vector<std::unique_ptr<BytesRef>> exported;  // Non-bytes records, pinned.
    for (py::handle record : records) {
      if (PyBytes_Check(record.ptr())) {  // `records` keeps it alive.
        views.emplace_back(PyBytes_AS_STRING(record.ptr()),
                           static_cast<size_t>(PyBytes_GET_SIZE(record.ptr())));
      } else {
        exported.push_back(std::make_unique<BytesRef>(record));
        views.push_back(exported.back()->view());
      }
    }
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      for (std::string_view view : views) {
        status = writer_->WriteRecord(view);
        if (!status.ok()) break;
      }
    }
    CheckStatus(status);
  }

  void Flush(int flush_type) {
    if (flush_type < 0 || flush_type > 2) throw py::value_error("flush_type must be 0, 1 or 2");
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = writer_->Flush(static_cast<FlushType>(flush_type));
    }
    CheckStatus(status);
  }

  void Close() {
    Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      status = writer_->Close();
    }
    CheckStatus(status);
  }

  py::tuple LastPos() {
    RecordPosition pos;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      pos = writer_->LastPos();
    }
    return PositionTuple(pos);
  }

  py::tuple Pos() {
    RecordPosition pos;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      pos = writer_->Pos();
    }
    return PositionTuple(pos);
  }

  // Bytes written since the last call (buffer destinations only).
  py::bytes TakeOutput() {
    std::string output;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      if (buffer_ != nullptr) output = buffer_->Take();
    }
    return py::bytes(output);
  }

  size_t Buffered() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    return buffer_ == nullptr ? 0 : buffer_->buffered();
  }

 private:
  PyRecordWriter() = default;

  std::mutex mutex_;
  std::unique_ptr<RecordWriter> writer_;
  BufferSink* buffer_ = nullptr;  // Owned by writer_, if the destination is a buffer.
};

class PyRecordReader {
 public:
  // `kind`: "path", "fd" (an owned descriptor) or "bytes" (the whole file).
  static std::unique_ptr<PyRecordReader> Create(const std::string& kind, py::object src,
                                                const std::string& name, py::object recovery) {
    auto result = std::unique_ptr<PyRecordReader>(new PyRecordReader());
    RecordReaderOptions options;
    if (!recovery.is_none()) {
      result->recovery_ = recovery;
      PyRecordReader* self = result.get();
      options.recovery = [self](const SkippedRegion& region) { return self->CallRecovery(region); };
    }
    std::unique_ptr<riegeli::ByteSource> source;
    if (kind == "path") {
      const std::string path = src.cast<std::string>();
      StatusOr<std::unique_ptr<riegeli::FdSource>> opened = [&] {
        py::gil_scoped_release release;
        return riegeli::OpenFdSource(path);
      }();
      CheckStatus(opened.status());
      source = std::move(*opened);
    } else if (kind == "fd") {
      source = std::make_unique<riegeli::FdSource>(src.cast<int>(), name);
    } else if (kind == "bytes") {
      const BytesRef bytes(src);
      source = std::make_unique<NamedBytesSource>(std::string(bytes.view()), name);
    } else {
      throw py::value_error("unknown source kind " + kind);
    }
    result->reader_ = std::make_unique<RecordReader>(std::move(source), std::move(options));
    return result;
  }

  ~PyRecordReader() {
    // The callback object is a Python object: drop it with the GIL held
    // (the destructor runs with the GIL held).
    recovery_ = py::object();
  }

  py::object ReadRecord() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    std::string_view record;
    bool found;
    if (lock.owns_lock() && reader_->RecordsLeftInChunk() > 0) {
      // Served from the decoded chunk: no I/O, so no need to release the GIL.
      // (try_lock with the GIL held cannot deadlock: it does not wait.)
      found = reader_->ReadRecord(&record);
    } else {
      if (lock.owns_lock()) lock.unlock();
      py::gil_scoped_release release;
      lock.lock();
      found = reader_->ReadRecord(&record);
    }
    return RecordOrNone(found, record);
  }

  py::object ReadRecordAt(uint64_t numeric) {
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    std::string_view record;
    bool found;
    {
      py::gil_scoped_release release;
      lock.lock();
      found = reader_->ReadRecordAt(numeric, &record);
    }
    return RecordOrNone(found, record);
  }

  // Up to `max_records` records, all from one chunk, as (chunk_begin,
  // index of the first record in that chunk, [records]): record i of the
  // list is at position (chunk_begin, index + i). The list is empty at the
  // end of the data. Records of an already decoded chunk are turned into
  // bytes directly, with the GIL held; the GIL is released only to read and
  // decode the next chunk.
  py::tuple ReadRecords(size_t max_records) {
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    {
      py::gil_scoped_release release;
      lock.lock();
    }
    py::list result;
    std::string_view record;
    bool found;
    if (reader_->RecordsLeftInChunk() > 0) {
      found = reader_->ReadRecord(&record);
    } else {
      py::gil_scoped_release release;
      found = reader_->ReadRecord(&record);
    }
    RaisePending();
    if (!found) {
      CheckStatus(reader_->status());
      return py::make_tuple(0, 0, result);
    }
    const RecordPosition first = reader_->LastPos();
    result.append(py::bytes(record.data(), record.size()));
    // Only records of the same chunk, so that positions follow from `first`.
    while (py::len(result) < max_records && reader_->RecordsLeftInChunk() > 0) {
      if (!reader_->ReadRecord(&record)) break;
      result.append(py::bytes(record.data(), record.size()));
    }
    return py::make_tuple(first.chunk_begin, first.record_index, result);
  }

  void Seek(uint64_t chunk_begin, uint64_t record_index) {
    Run([&] { return reader_->Seek(RecordPosition{chunk_begin, record_index}); });
  }

  void SeekNumeric(uint64_t pos) {
    Run([&] { return reader_->SeekNumeric(pos); });
  }

  bool SeekBack() {
    return Run([&] { return reader_->SeekBack(); });
  }

  uint64_t Size() {
    StatusOr<uint64_t> size = Locked([&] { return reader_->Size(); });
    CheckStatus(size.status());
    return *size;
  }

  py::tuple Pos() {
    return PositionTuple(Locked([&] { return reader_->Pos(); }));
  }

  py::tuple LastPos() {
    return PositionTuple(Locked([&] { return reader_->LastPos(); }));
  }

  py::object ReadSerializedMetadata() {
    StatusOr<std::optional<std::string>> metadata = Locked([&] { return reader_->ReadMetadata(); });
    RaisePending();
    CheckStatus(metadata.status());
    if (!metadata->has_value()) return py::none();
    return py::bytes(**metadata);
  }

  void Close() {
    const Status status = Locked([&] { return reader_->Close(); });
    RaisePending();
    CheckStatus(status);
  }

 private:
  PyRecordReader() = default;

  // Runs `f` with the GIL released and the mutex held.
  template <typename F>
  auto Locked(F f) -> decltype(f()) {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    return f();
  }

  // Runs a reader operation returning bool; raises on failure.
  template <typename F>
  bool Run(F f) {
    Status status;
    const bool result = Locked([&] {
      const bool ok = f();
      status = reader_->status();
      return ok;
    });
    RaisePending();
    CheckStatus(status);
    return result;
  }

  // Builds the result of a read while the mutex (passed locked by the
  // caller's unique_lock) still protects `record`.
  py::object RecordOrNone(bool found, std::string_view record) {
    RaisePending();
    if (!found) {
      CheckStatus(reader_->status());
      return py::none();
    }
    return py::bytes(record.data(), record.size());
  }

  // Called by the reader with the GIL released and the mutex held.
  bool CallRecovery(const SkippedRegion& region) {
    py::gil_scoped_acquire acquire;
    if (pending_error_.has_value()) return false;
    try {
      const py::object result = recovery_(region.begin, region.end, region.message);
      const int truth = PyObject_IsTrue(result.ptr());
      if (truth < 0) throw py::error_already_set();
      return truth != 0;
    } catch (py::error_already_set& error) {
      pending_error_.emplace(std::move(error));
    }
    return false;
  }

  // Re-raises an exception the recovery callback raised.
  void RaisePending() {
    if (pending_error_.has_value()) {
      py::error_already_set error = std::move(*pending_error_);
      pending_error_.reset();
      throw error;
    }
  }

  std::mutex mutex_;
  std::unique_ptr<RecordReader> reader_;
  py::object recovery_;
  std::optional<py::error_already_set> pending_error_;
};

}  // namespace

void RegisterRiegeli(py::module_ m) {
  m.def(
      "_set_error_classes",
      [](py::dict classes) {
        if (error_classes == nullptr) error_classes = new py::dict();
        error_classes->clear();
        for (auto item : classes) (*error_classes)[item.first] = item.second;
      },
      "Sets the exception class raised for each absl status code.");

  m.def(
      "highway_hash",
      [](py::handle data) {
        const BytesRef bytes(data);
        py::gil_scoped_release release;
        return riegeli::RiegeliHash(bytes.view());
      },
      py::arg("data"), "HighwayHash-64 of `data` with Riegeli's key.");

  py::class_<PyRecordWriter>(m, "RecordWriter")
      .def(py::init(&PyRecordWriter::Create), py::arg("kind"), py::arg("dest"), py::arg("name"),
           py::arg("initial_pos"), py::arg("options"), py::arg("serialized_metadata"))
      .def("write_record", &PyRecordWriter::WriteRecord, py::arg("record"))
      .def("write_records", &PyRecordWriter::WriteRecords, py::arg("records"))
      .def("flush", &PyRecordWriter::Flush, py::arg("flush_type"))
      .def("close", &PyRecordWriter::Close)
      .def("take_output", &PyRecordWriter::TakeOutput)
      .def("buffered", &PyRecordWriter::Buffered)
      .def_property_readonly("last_pos", &PyRecordWriter::LastPos)
      .def_property_readonly("pos", &PyRecordWriter::Pos);

  py::class_<PyRecordReader>(m, "RecordReader")
      .def(py::init(&PyRecordReader::Create), py::arg("kind"), py::arg("src"), py::arg("name"),
           py::arg("recovery"))
      .def("read_record", &PyRecordReader::ReadRecord)
      .def("read_record_at", &PyRecordReader::ReadRecordAt, py::arg("numeric"))
      .def("read_records", &PyRecordReader::ReadRecords, py::arg("max_records"))
      .def("seek", &PyRecordReader::Seek, py::arg("chunk_begin"), py::arg("record_index"))
      .def("seek_numeric", &PyRecordReader::SeekNumeric, py::arg("pos"))
      .def("seek_back", &PyRecordReader::SeekBack)
      .def("size", &PyRecordReader::Size)
      .def("read_serialized_metadata", &PyRecordReader::ReadSerializedMetadata)
      .def("close", &PyRecordReader::Close)
      .def_property_readonly("pos", &PyRecordReader::Pos)
      .def_property_readonly("last_pos", &PyRecordReader::LastPos);
}

}  // namespace python
}  // namespace envlogger
