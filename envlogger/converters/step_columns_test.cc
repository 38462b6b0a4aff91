#include "envlogger/converters/step_columns.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "envlogger/converters/data_wire.h"
#include "gtest/gtest.h"

namespace envlogger {
namespace {

// Data{datum{shape{dim...}, values{float_values...}}} written field by field
// (storage.proto numbers), independently of the decoder.
void FloatDatum(WireWriter& w, uint32_t field, const std::vector<int64_t>& shape,
                const std::vector<float>& values) {
  const size_t data = w.BeginMessage(field);
  const size_t datum = w.BeginMessage(wire::kDataDatum);
  const size_t shape_token = w.BeginMessage(wire::kDatumShape);
  for (int64_t dim : shape) {
    const size_t dim_token = w.BeginMessage(wire::kShapeDim);
    w.Tag(wire::kDimSize, wire::kVarint);
    w.Varint(static_cast<uint64_t>(dim));
    w.EndMessage(dim_token);
  }
  w.EndMessage(shape_token);
  const size_t values_token = w.BeginMessage(wire::kDatumValues);
  w.PackedFixed(wire::kFloatValues, values.data(), values.size(), 4);
  w.EndMessage(values_token);
  w.EndMessage(datum);
  w.EndMessage(data);
}

// A scalar int64 Datum, or a scalar int16 Datum stored big-endian in int16_values.
void ScalarDatum(WireWriter& w, uint32_t field, int64_t value, bool as_int16) {
  const size_t data = w.BeginMessage(field);
  const size_t datum = w.BeginMessage(wire::kDataDatum);
  w.Bytes(wire::kDatumShape, wire::kScalarShapePayload);
  const size_t values = w.BeginMessage(wire::kDatumValues);
  if (as_int16) {
    const char big_endian[2] = {static_cast<char>((value >> 8) & 0xff),
                                static_cast<char>(value & 0xff)};
    w.Bytes(wire::kInt16Values, std::string(big_endian, 2));
  } else {
    w.PackedVarints(wire::kInt64Values, &value, 1,
                    [](int64_t v) { return static_cast<uint64_t>(v); });
  }
  w.EndMessage(values);
  w.EndMessage(datum);
  w.EndMessage(data);
}

// Data{tuple{[float32 2x2 leaf or None], int64 leaf, dict{"b": int16, "a": int64}}}.
std::string Record(bool none_first, int64_t x, int16_t b,
                   const std::vector<int64_t>& shape = {2, 2}) {
  std::string out;
  WireWriter w(&out);
  const size_t tuple = w.BeginMessage(wire::kDataTuple);
  if (none_first) {
    w.Bytes(wire::kListValues, "");  // An empty Data: None.
  } else {
    FloatDatum(w, wire::kListValues, shape, {1.5f, -2.f, 3.25f, static_cast<float>(x)});
  }
  ScalarDatum(w, wire::kListValues, x, /*as_int16=*/false);
  const size_t dict_data = w.BeginMessage(wire::kListValues);
  const size_t dict = w.BeginMessage(wire::kDataDict);
  for (const char* key : {"b", "a"}) {
    const size_t entry = w.BeginMessage(wire::kDictValues);
    w.Bytes(wire::kMapEntryKey, key);
    ScalarDatum(w, wire::kMapEntryValue, key[0] == 'b' ? b : -x, /*as_int16=*/key[0] == 'b');
    w.EndMessage(entry);
  }
  w.EndMessage(dict);
  w.EndMessage(dict_data);
  w.EndMessage(tuple);
  return out;
}

struct Columns {
  static constexpr size_t kRows = 3;
  float frame[kRows][2][2] = {};
  int64_t x[kRows] = {};
  int16_t b[kRows] = {};
  int64_t a[kRows] = {};
  uint8_t none[4][kRows] = {};

  StepColumns Make() {
    std::vector<ColumnLeaf> leaves(4);
    leaves[0].type = ColumnType::kFloat32;
    leaves[0].shape = {2, 2};
    leaves[0].data = reinterpret_cast<char*>(frame);
    leaves[1].type = ColumnType::kInt64;
    leaves[1].data = reinterpret_cast<char*>(x);
    leaves[2].type = ColumnType::kInt16;
    leaves[2].data = reinterpret_cast<char*>(b);
    leaves[3].type = ColumnType::kInt64;
    leaves[3].data = reinterpret_cast<char*>(a);
    for (size_t i = 0; i < 4; ++i) leaves[i].none = none[i];
    ColumnNode root;
    root.kind = ColumnNode::Kind::kTuple;
    root.children.resize(3);
    root.children[0].kind = root.children[1].kind = ColumnNode::Kind::kLeaf;
    root.children[0].leaf = 0;
    root.children[1].leaf = 1;
    ColumnNode& dict = root.children[2];
    dict.kind = ColumnNode::Kind::kDict;
    dict.keys = {"a", "b"};
    dict.children.resize(2);
    dict.children[0].kind = dict.children[1].kind = ColumnNode::Kind::kLeaf;
    dict.children[0].leaf = 3;
    dict.children[1].leaf = 2;
    return StepColumns(std::move(root), std::move(leaves));
  }
};

TEST(StepColumnsTest, DecodesRowsIntoTheirColumns) {
  Columns c;
  StepColumns columns = c.Make();
  ASSERT_TRUE(columns.DecodeRow(Record(false, 7, -300), 0).ok());
  ASSERT_TRUE(columns.DecodeRow(Record(true, -(int64_t{1} << 40), 513), 2).ok());
  EXPECT_EQ(c.frame[0][0][0], 1.5f);
  EXPECT_EQ(c.frame[0][0][1], -2.f);
  EXPECT_EQ(c.frame[0][1][0], 3.25f);
  EXPECT_EQ(c.frame[0][1][1], 7.f);
  EXPECT_EQ(c.x[0], 7);
  EXPECT_EQ(c.x[2], -(int64_t{1} << 40));
  EXPECT_EQ(c.b[0], -300);  // Stored big-endian on the wire.
  EXPECT_EQ(c.b[2], 513);
  EXPECT_EQ(c.a[0], -7);  // Dict entries in wire order "b", "a"; plan order "a", "b".
  EXPECT_EQ(c.a[2], int64_t{1} << 40);
  // Row 2's frame is None: marked, not written; row 1 untouched.
  EXPECT_EQ(c.none[0][0], 0);
  EXPECT_EQ(c.none[0][1], 0);
  EXPECT_EQ(c.none[0][2], 1);
  EXPECT_EQ(c.frame[2][0][0], 0.f);
  EXPECT_EQ(c.x[1], 0);
}

TEST(StepColumnsTest, ADatumWithoutValuesIsNone) {
  // Data{tuple{Data{datum{shape{dim{size: 0}}}}, ...}}: how earlier writers
  // stored an empty array; the per-step codec decodes it to None.
  std::string record;
  {
    WireWriter w(&record);
    const size_t tuple = w.BeginMessage(wire::kDataTuple);
    FloatDatum(w, wire::kListValues, {0}, {});
    ScalarDatum(w, wire::kListValues, 4, /*as_int16=*/false);
    const size_t dict_data = w.BeginMessage(wire::kListValues);
    const size_t dict = w.BeginMessage(wire::kDataDict);
    for (const char* key : {"a", "b"}) {
      const size_t entry = w.BeginMessage(wire::kDictValues);
      w.Bytes(wire::kMapEntryKey, key);
      ScalarDatum(w, wire::kMapEntryValue, 9, /*as_int16=*/key[0] == 'b');
      w.EndMessage(entry);
    }
    w.EndMessage(dict);
    w.EndMessage(dict_data);
    w.EndMessage(tuple);
  }
  Columns c;
  StepColumns columns = c.Make();
  ASSERT_TRUE(columns.DecodeRow(record, 1).ok());
  EXPECT_EQ(c.none[0][1], 1);
  EXPECT_EQ(c.x[1], 4);
  EXPECT_EQ(c.a[1], 9);
  EXPECT_EQ(c.b[1], 9);
}

TEST(StepColumnsTest, AStepThatDoesNotFitIsFailedPrecondition) {
  Columns c;
  StepColumns columns = c.Make();
  const Status shape = columns.DecodeRow(Record(false, 1, 1, {4}), 0);
  EXPECT_EQ(shape.code(), StatusCode::kFailedPrecondition);
  std::string wrong_kind;
  WireWriter w(&wrong_kind);
  const size_t list = w.BeginMessage(wire::kDataArray);  // A list where the plan has a tuple.
  w.EndMessage(list);
  EXPECT_EQ(columns.DecodeRow(wrong_kind, 1).code(), StatusCode::kFailedPrecondition);
}

TEST(StepColumnsTest, MalformedBytesAreInvalidArgument) {
  Columns c;
  StepColumns columns = c.Make();
  std::string record = Record(false, 1, 1);
  record.resize(record.size() - 3);  // Cuts the last nested message short.
  EXPECT_EQ(columns.DecodeRow(record, 0).code(), StatusCode::kInvalidArgument);
}

TEST(StepColumnsTest, RecordsOfTheSameLayoutDecodeTheirOwnValues) {
  // Same layout as the first record (a template is kept), other values;
  // then another layout (None frame), then the first layout again.
  Columns c;
  StepColumns columns = c.Make();
  ASSERT_TRUE(columns.DecodeRow(Record(false, 7, -300), 0).ok());
  ASSERT_TRUE(columns.DecodeRow(Record(false, 9, 12), 1).ok());
  ASSERT_TRUE(columns.DecodeRow(Record(true, 5, 1), 2).ok());
  EXPECT_EQ(c.x[1], 9);
  EXPECT_EQ(c.a[1], -9);
  EXPECT_EQ(c.b[1], 12);
  EXPECT_EQ(c.frame[1][1][1], 9.f);
  EXPECT_EQ(c.none[0][1], 0);
  EXPECT_EQ(c.none[0][2], 1);
  EXPECT_EQ(c.x[2], 5);
  ASSERT_TRUE(columns.DecodeRow(Record(true, 6, 2), 0).ok());
  ASSERT_TRUE(columns.DecodeRow(Record(false, 3, 4), 1).ok());
  EXPECT_EQ(c.none[0][0], 1);
  EXPECT_EQ(c.x[0], 6);
  EXPECT_EQ(c.none[0][1], 0);
  EXPECT_EQ(c.x[1], 3);
  EXPECT_EQ(c.a[1], -3);
  EXPECT_EQ(c.frame[1][1][1], 3.f);
}

TEST(StepColumnsTest, AMalformedValueInAKnownLayoutIsStillInvalidArgument) {
  Columns c;
  StepColumns columns = c.Make();
  const std::string seven = Record(true, 7, 5), eight = Record(true, 8, 5);
  ASSERT_EQ(seven.size(), eight.size());
  ASSERT_TRUE(columns.DecodeRow(seven, 0).ok());
  // The first byte that differs is x's one-byte varint; a continuation bit
  // there truncates the packed varint field.
  size_t at = 0;
  while (seven[at] == eight[at]) ++at;
  std::string bad = seven;
  bad[at] = static_cast<char>(0x87);
  EXPECT_EQ(columns.DecodeRow(bad, 1).code(), StatusCode::kInvalidArgument);
  // A two-byte x does not fit the one-byte layout; decoded in full.
  ASSERT_TRUE(columns.DecodeRow(Record(true, 300, 5), 2).ok());
  EXPECT_EQ(c.x[2], 300);
  EXPECT_EQ(c.a[2], -300);
}

}  // namespace
}  // namespace envlogger
