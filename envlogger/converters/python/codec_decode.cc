// envlogger._native.codec's decoder: envlogger.Data wire bytes -> Python
// values, for the containers (list, tuple, dict); Datum leaves are
// codec_decode_datum.cc's.

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envlogger/converters/python/codec_internal.h"

namespace envlogger {
namespace python {
namespace codec_internal {
namespace {

// Wire-level structures of one decode, reused across decodes so that the
// steady state allocates nothing but the returned Python objects. Datums are
// leaves (DecodeDatum never recurses), so one DatumWire serves all of them;
// dicts and lists are decoded recursively and get one slot per depth
// (deques: growing them keeps references to shallower slots valid).
struct DecodeScratch {
  DatumWire datum;
  std::deque<DictWire> dicts;
  std::deque<std::vector<PyObject*>> items;
  bool in_use = false;

  // Drops capacity grown by an unusually large value.
  void Trim() {
    constexpr size_t kMaxKept = 4096;
    if (datum.string_values.capacity() > kMaxKept || datum.bytes_values.capacity() > kMaxKept ||
        datum.shape.capacity() > kMaxKept) {
      datum = DatumWire();
    }
    for (std::vector<PyObject*>& list : items) {
      if (list.capacity() > kMaxKept) std::vector<PyObject*>().swap(list);
    }
    for (DictWire& dict : dicts) {
      if (dict.entries.capacity() > kMaxKept) dict = DictWire();
    }
  }
};

// The calling thread's DecodeScratch, or a private one when it is already in
// use: decoding calls into Python (allocations can run the garbage collector
// and so finalizers), which may decode again on the same thread.
class ScratchLease {
 public:
  ScratchLease() {
    thread_local DecodeScratch shared;
    if (shared.in_use) {
      own_ = std::make_unique<DecodeScratch>();
      scratch_ = own_.get();
    } else {
      scratch_ = &shared;
    }
    scratch_->in_use = true;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  ~ScratchLease() {
    scratch_->Trim();
    scratch_->in_use = false;
  }
  DecodeScratch* get() const { return scratch_; }

 private:
  std::unique_ptr<DecodeScratch> own_;
  DecodeScratch* scratch_;
};

class Decoder {
 public:
  Decoder(const char* origin, DecodeScratch* scratch) : origin_(origin), scratch_(scratch) {}

  // Returns a new reference, or nullptr with a Python exception set.
  PyObject* DecodeData(const MessageParts& data, int depth);

 private:
  PyObject* SetStatus(const envlogger::Status& status) { return RaiseValueError(status); }
  PyObject* DecodeList(const MessageParts& list, int depth, bool as_tuple);
  PyObject* DecodeDict(const MessageParts& dict, int depth);

  const char* origin_;
  DecodeScratch* scratch_;
};

PyObject* Decoder::DecodeData(const MessageParts& data, int depth) {
  if (depth > wire::kMaxDataDepth) {
    PyErr_Format(PyExc_ValueError,
                 "Malformed envlogger.Data wire bytes: nested deeper than %d levels",
                 wire::kMaxDataDepth);
    return nullptr;
  }
  DataWire parsed;
  const envlogger::Status status = ParseData(data, origin_, &parsed);
  if (!status.ok()) return SetStatus(status);
  switch (parsed.kind) {
    case DataKind::kDatum:
      return DecodeDatum(parsed.payload, origin_, &scratch_->datum);
    case DataKind::kArray:
      return DecodeList(parsed.payload, depth, /*as_tuple=*/false);
    case DataKind::kTuple:
      return DecodeList(parsed.payload, depth, /*as_tuple=*/true);
    case DataKind::kDict:
      return DecodeDict(parsed.payload, depth);
    case DataKind::kNone:
      break;
  }
  Py_RETURN_NONE;
}

// Sentinel status meaning "a Python exception is already set".
envlogger::Status PythonError() { return envlogger::UnknownError("python error"); }

PyObject* Decoder::DecodeList(const MessageParts& list, int depth, bool as_tuple) {
  if (scratch_->items.size() <= static_cast<size_t>(depth)) scratch_->items.resize(depth + 1);
  std::vector<PyObject*>& items = scratch_->items[depth];
  items.clear();
  // Releases the items decoded so far unless they were handed to the result.
  struct Release {
    std::vector<PyObject*>* items;
    ~Release() {
      for (PyObject* item : *items) Py_DECREF(item);
      items->clear();
    }
  } release{&items};
  bool python_error = false;
  const envlogger::Status status = ForEachElement(list, origin_, [&](std::string_view element) {
    PyObject* item = DecodeData(MessageParts(element), depth + 1);
    if (item == nullptr) {
      python_error = true;
      return PythonError();
    }
    items.push_back(item);
    return envlogger::OkStatus();
  });
  if (python_error) return nullptr;
  if (!status.ok()) return SetStatus(status);
  const Py_ssize_t size = static_cast<Py_ssize_t>(items.size());
  PyObject* result = as_tuple ? PyTuple_New(size) : PyList_New(size);
  if (result == nullptr) return nullptr;
  for (Py_ssize_t i = 0; i < size; ++i) {
    if (as_tuple) {
      PyTuple_SET_ITEM(result, i, items[i]);
    } else {
      PyList_SET_ITEM(result, i, items[i]);
    }
  }
  items.clear();  // The result owns them now.
  return result;
}

PyObject* Decoder::DecodeDict(const MessageParts& dict, int depth) {
  if (scratch_->dicts.size() <= static_cast<size_t>(depth)) scratch_->dicts.resize(depth + 1);
  DictWire& parsed = scratch_->dicts[depth];
  const envlogger::Status status = ParseDict(dict, origin_, &parsed);
  if (!status.ok()) return SetStatus(status);
  for (const MessageParts& value : parsed.replaced) {
    const envlogger::Status replaced_status = CheckDataParses(value, origin_, depth + 1);
    if (!replaced_status.ok()) return SetStatus(replaced_status);
  }
  Ref result(PyDict_New());
  if (!result) return nullptr;
  for (const DictWire::Entry& entry : parsed.entries) {
    Ref key(PyUnicode_DecodeUTF8(entry.key.data(), static_cast<Py_ssize_t>(entry.key.size()),
                                 "strict"));
    if (!key) return nullptr;
    Ref value(DecodeData(entry.value, depth + 1));
    if (!value || PyDict_SetItem(result.get(), key.get(), value.get()) < 0) return nullptr;
  }
  bool python_error = false;
  const envlogger::Status kvs_status =
      ForEachElement(parsed.kvs, origin_, [&](std::string_view element) {
        DataWire pair;
        RETURN_IF_ERROR(ParseData(MessageParts(element), origin_, &pair));
        std::vector<std::string_view> parts;
        if (pair.kind == DataKind::kTuple) {
          RETURN_IF_ERROR(ForEachElement(pair.payload, origin_, [&](std::string_view part) {
            parts.push_back(part);
            return envlogger::OkStatus();
          }));
        }
        if (parts.size() != 2) {
          return envlogger::InvalidArgumentError(
              "Malformed envlogger.Data: a Dict.kvs element is not a (key, value) tuple at byte " +
              std::to_string(element.data() - origin_));
        }
        Ref key(DecodeData(MessageParts(parts[0]), depth + 2));
        if (!key) {
          python_error = true;
          return PythonError();
        }
        Ref value(DecodeData(MessageParts(parts[1]), depth + 2));
        if (!value || PyDict_SetItem(result.get(), key.get(), value.get()) < 0) {
          python_error = true;
          return PythonError();
        }
        return envlogger::OkStatus();
      });
  if (python_error) return nullptr;
  if (!kvs_status.ok()) return SetStatus(kvs_status);
  return result.release();
}

}  // namespace

PyObject* DecodeValue(std::string_view bytes) {
  ScratchLease scratch;
  Decoder decoder(bytes.data(), scratch.get());
  return decoder.DecodeData(MessageParts(bytes), 0);
}

PyObject* Decode(PyObject* /*module*/, PyObject* data) {
  Py_buffer view;
  if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return nullptr;
  const std::string_view bytes(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyObject* result = DecodeValue(bytes);
  PyBuffer_Release(&view);
  return result;
}

}  // namespace codec_internal
}  // namespace python
}  // namespace envlogger
