// envlogger._native.codec: Python values <-> envlogger.Data wire bytes,
// directly from/to Python objects and numpy buffers (no protobuf objects).
//
// The mapping is that of envlogger/converters/codec.py (upstream envlogger's
// codec); `encode(x)` returns exactly
// `codec.encode(x).SerializeToString(deterministic=True)`:
//   * dispatch order None, list, tuple (incl. namedtuples), dict, ndarray,
//     scalar; lists must be homogeneous (`isinstance(x, type(first))`);
//   * string-keyed dict entries are written in the order of protobuf's (upb)
//     deterministic serialization: by UTF-8 bytes, except that a key comes
//     after the longer keys it is a prefix of; other keys as
//     Tuple{key, value} elements of `kvs` in insertion order;
//   * arrays set `datum` with dims > 0 only and `values` only when non-empty,
//     except that a zero-size array with no such dim is an empty Data, and a
//     zero-size int8/int16/uint8/uint16 array has an empty `values`;
//     float32/float64 arrays are copied bit-exactly, int8/int16/uint8/uint16
//     are packed big-endian into bytes fields;
//   * scalars get the dim -438; Python int -> bigint (two's complement,
//     bit_length()//8+1 bytes); Python float and float subclasses -> double;
//     str/bytes (and subclasses, np.str_/np.bytes_) -> their own characters/
//     bytes, trailing NULs included;
//     numpy scalars by dtype kind and size (like `np.result_type(x) == ...`);
//     float32 scalars go through a double as in Python, which quiets
//     signalling NaNs.
// `decode(b)` follows upstream's decoder (codec.decode_datum): for a scalar
// Datum the first non-empty repeated numeric field wins, then the first
// non-empty packed bytes field, then string, bytes, bigint; for an array the
// last non-empty packed field overrides the numeric one and strings/bytes
// override both, a non-scalar bigint Datum is a TypeError. Arrays are
// returned owning their (writable) memory; float_values are read through a
// double as in Python (quieting signalling NaNs), float_values_buffer
// bit-exactly.
//
// Errors: unsupported values raise TypeError "<what> at value<path>", with
// the path in codec.py's notation (value[0]['obs'], value<key 3> for a dict
// key); nesting deeper than wire::kMaxDataDepth raises RecursionError;
// malformed wire bytes raise ValueError naming the problem and byte offset.
// Nothing is returned on error.
//
// Files: codec_encode.cc (encoder), codec_decode.cc (containers) and
// codec_decode_datum.cc (Datum leaves) of the decoder, codec_step_helpers.cc
// (encode_step, DecodeStepRecord); codec_internal.h is what they share. This
// file registers the module's functions.

#define ENVLOGGER_CODEC_IMPORT_ARRAY  // This file fills numpy's API table.
#include "envlogger/converters/python/codec_internal.h"
#include "envlogger/python/register.h"

namespace envlogger {
namespace python {
namespace {

namespace py = pybind11;
using codec_internal::Decode;
using codec_internal::Encode;
using codec_internal::EncodeStep;

PyMethodDef kMethods[] = {
    {"encode", reinterpret_cast<PyCFunction>(Encode), METH_O,
     "encode(value) -> bytes: the serialized envlogger.Data of a Python value."},
    {"encode_step", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(EncodeStep)),
     METH_FASTCALL,
     "encode_step(timestep, action, custom_data) -> bytes: encode((timestep, action, "
     "custom_data))."},
    {"decode", reinterpret_cast<PyCFunction>(Decode), METH_O,
     "decode(data: bytes-like) -> value: decodes serialized envlogger.Data."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void RegisterCodec(py::module_ m) {
  if (_import_array() < 0) throw py::error_already_set();
  for (PyMethodDef* def = kMethods; def->ml_name != nullptr; ++def) {
    PyObject* function = PyCFunction_NewEx(def, nullptr, m.ptr());
    if (function == nullptr) throw py::error_already_set();
    m.add_object(def->ml_name, py::reinterpret_steal<py::object>(function));
  }
}

}  // namespace python
}  // namespace envlogger
