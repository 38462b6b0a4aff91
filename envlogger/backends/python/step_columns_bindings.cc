// pybind11 bindings of the columnar step reader: envlogger._native.step_columns.
//
// read_columns(reader, indices, plan, leaves, readable, descending=False)
// reads the steps `indices` of a dataset_io.RiegeliDatasetReader and decodes
// them straight into preallocated numpy arrays
// (envlogger/converters/step_columns.h), with the GIL released and under the
// reader's lock: no Python object per step. Row r receives step indices[r].
// Indices are read in the order given (last to first if `descending`), so
// sorted indices decode each chunk once (the record reader keeps the current
// chunk and caches others, bounded in bytes: riegeli/chunk_cache.h).
// Alternating the direction between calls keeps the chunks one call ended
// with, still cached, for the start of the next.
//
//   plan: ('none',) | ('leaf', i) | ('list', [plan, ...]) |
//         ('tuple', [plan, ...]) | ('dict', [(str key, plan), ...])
//   leaves[i]: (dtype str such as '<f4' or '|b1', step_type: bool,
//               data: C-contiguous writable array of len(indices) rows,
//               none: C-contiguous writable uint8 array of len(indices))
//   readable: C-contiguous writable uint8 array of len(indices), set to 0
//             for steps in damaged chunks (the reader records the region).
//
// Returns (0, -1) when every step was read or skipped as damaged; else
// (1, row) for the first step read that does not fit the plan or is
// malformed, (2, row) for the first step read that failed to read otherwise. The caller then
// reads per step, which raises the proper error (or stacks what the plan
// cannot express). Bad arguments raise TypeError/ValueError before anything
// is read.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "envlogger/backends/cc/riegeli_shard_reader.h"
#include "envlogger/backends/python/native_dataset_reader.h"
#include "envlogger/converters/step_columns.h"
#include "envlogger/python/register.h"

namespace py = pybind11;

namespace envlogger {
namespace python {
namespace {

ColumnType ToColumnType(const std::string& dtype) {
  static const std::pair<const char*, ColumnType> kTypes[] = {
      {"<f4", ColumnType::kFloat32}, {"<f8", ColumnType::kFloat64}, {"|i1", ColumnType::kInt8},
      {"<i2", ColumnType::kInt16},   {"<i4", ColumnType::kInt32},   {"<i8", ColumnType::kInt64},
      {"|u1", ColumnType::kUint8},   {"<u2", ColumnType::kUint16},  {"<u4", ColumnType::kUint32},
      {"<u8", ColumnType::kUint64},  {"|b1", ColumnType::kBool},
  };
  for (const auto& [name, type] : kTypes) {
    if (dtype == name) return type;
  }
  throw py::value_error("read_columns: unsupported leaf dtype " + dtype);
}

// A writable C-contiguous array's buffer, checked to hold `bytes` bytes.
char* Buffer(py::handle object, size_t bytes, const char* what) {
  py::array array = py::reinterpret_borrow<py::array>(object);
  if (!py::isinstance<py::array>(object) || !(array.flags() & py::array::c_style) ||
      !array.writeable()) {
    throw py::type_error(std::string("read_columns: ") + what +
                         " must be a writable C-contiguous numpy array");
  }
  if (static_cast<size_t>(array.nbytes()) != bytes) {
    throw py::value_error(std::string("read_columns: ") + what + " holds " +
                          std::to_string(array.nbytes()) + " bytes, expected " +
                          std::to_string(bytes));
  }
  return static_cast<char*>(array.mutable_data());
}

ColumnNode ToNode(py::handle plan, size_t num_leaves, int depth) {
  if (depth > wire::kMaxDataDepth) throw py::value_error("read_columns: plan nested too deeply");
  py::tuple node = py::cast<py::tuple>(plan);
  const std::string kind = py::cast<std::string>(node[0]);
  ColumnNode out;
  if (kind == "none") {
    out.kind = ColumnNode::Kind::kNone;
  } else if (kind == "leaf") {
    out.kind = ColumnNode::Kind::kLeaf;
    out.leaf = py::cast<int>(node[1]);
    if (out.leaf < 0 || static_cast<size_t>(out.leaf) >= num_leaves) {
      throw py::value_error("read_columns: plan names leaf " + std::to_string(out.leaf) + " of " +
                            std::to_string(num_leaves));
    }
  } else if (kind == "list" || kind == "tuple") {
    out.kind = kind == "list" ? ColumnNode::Kind::kList : ColumnNode::Kind::kTuple;
    for (py::handle child : py::cast<py::list>(node[1]))
      out.children.push_back(ToNode(child, num_leaves, depth + 1));
  } else if (kind == "dict") {
    out.kind = ColumnNode::Kind::kDict;
    for (py::handle item : py::cast<py::list>(node[1])) {
      py::tuple entry = py::cast<py::tuple>(item);
      out.keys.push_back(py::cast<std::string>(entry[0]));
      out.children.push_back(ToNode(entry[1], num_leaves, depth + 1));
    }
  } else {
    throw py::value_error("read_columns: unknown plan node " + kind);
  }
  return out;
}

py::tuple ReadColumns(py::handle reader, py::array_t<int64_t, py::array::c_style> indices,
                      py::handle plan, py::list leaves, py::handle readable, bool descending) {
  const NativeDatasetReader native = GetNativeDatasetReader(reader);
  const size_t rows = static_cast<size_t>(indices.size());
  std::vector<ColumnLeaf> columns;
  std::vector<py::object> keep;  // The arrays written into stay referenced by `leaves`.
  for (py::handle item : leaves) {
    py::tuple leaf = py::cast<py::tuple>(item);
    ColumnLeaf column;
    column.type = ToColumnType(py::cast<std::string>(leaf[0]));
    column.step_type = py::cast<bool>(leaf[1]);
    py::array data = py::reinterpret_borrow<py::array>(leaf[2]);
    if (!py::isinstance<py::array>(leaf[2]) || data.ndim() < 1 ||
        static_cast<size_t>(data.shape(0)) != rows) {
      throw py::value_error("read_columns: leaf arrays need one row per index");
    }
    for (py::ssize_t axis = 1; axis < data.ndim(); ++axis) column.shape.push_back(data.shape(axis));
    column.data = Buffer(leaf[2], rows * column.row_bytes(), "a leaf array");
    column.none = reinterpret_cast<uint8_t*>(Buffer(leaf[3], rows, "a none mask"));
    columns.push_back(std::move(column));
  }
  uint8_t* readable_rows = reinterpret_cast<uint8_t*>(Buffer(readable, rows, "readable"));
  ColumnNode root = ToNode(plan, columns.size(), 0);
  StepColumns decoder(std::move(root), std::move(columns));
  const int64_t* index = indices.data();

  int code = 0;
  int64_t failed_row = -1;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(*native.mutex);
    for (size_t i = 0; i < rows; ++i) {
      const size_t row = descending ? rows - 1 - i : i;
      std::string_view record;
      const Status read = native.reader->ReadStep(index[row], &record);
      if (!read.ok()) {
        if (RiegeliShardReader::IsDamageError(read)) {
          readable_rows[row] = 0;
          continue;
        }
        code = 2;
        failed_row = static_cast<int64_t>(row);
        break;
      }
      if (!decoder.DecodeRow(record, row).ok()) {
        code = 1;
        failed_row = static_cast<int64_t>(row);
        break;
      }
    }
  }
  return py::make_tuple(code, failed_row);
}

}  // namespace

void RegisterStepColumns(py::module_ m) {
  m.def("read_columns", &ReadColumns, py::arg("reader"), py::arg("indices"), py::arg("plan"),
        py::arg("leaves"), py::arg("readable"), py::arg("descending") = false,
        "Decodes the steps `indices` into preallocated arrays; see step_columns_bindings.cc.");
}

}  // namespace python
}  // namespace envlogger
