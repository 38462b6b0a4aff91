#include "envlogger/converters/data_wire.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace envlogger {
namespace {

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

TEST(WireWriterTest, ScalarDimIsTenByteVarint) {
  // Spec: scalar dim -438 is the 10-byte varint ca fc ff ff ff ff ff ff ff 01.
  std::string out;
  WireWriter writer(&out);
  writer.Varint(static_cast<uint64_t>(wire::kScalarDimSize));
  EXPECT_EQ(Hex(out), "cafcffffffffffffff01");
}

TEST(WireWriterTest, ScalarShapePayloadIsTheScalarDim) {
  std::string out;
  WireWriter writer(&out);
  const size_t dim = writer.BeginMessage(wire::kShapeDim);
  writer.Tag(wire::kDimSize, wire::kVarint);
  writer.Varint(static_cast<uint64_t>(wire::kScalarDimSize));
  writer.EndMessage(dim);
  EXPECT_EQ(Hex(out), "120b08cafcffffffffffffff01");
  EXPECT_EQ(out, wire::kScalarShapePayload);
}

TEST(WireWriterTest, NestedMessageLengthIsShortestVarint) {
  std::string out;
  WireWriter writer(&out);
  const size_t outer = writer.BeginMessage(2);
  const size_t inner = writer.BeginMessage(1);
  writer.Bytes(9, std::string(200, 'x'));  // 2-byte tag... payload 200 > 127.
  writer.EndMessage(inner);
  writer.EndMessage(outer);
  // inner payload = tag 0x4a + varint(200)=c8 01 + 200 bytes = 203 bytes.
  // outer payload = tag 0x0a + varint(203)=cb 01 + 203 = 206 bytes.
  ASSERT_EQ(out.size(), 1u + 2u + 206u);
  EXPECT_EQ(Hex(out.substr(0, 6)), "12ce010acb01");
  EXPECT_EQ(Hex(out.substr(6, 3)), "4ac801");
}

// Writes messages nested `depth` deep around a payload of `size` bytes, then
// `siblings` one-byte messages: a value whose shape varies with the arguments.
void WriteNested(WireWriter& writer, int depth, size_t size, int siblings) {
  std::vector<size_t> tokens;
  for (int i = 0; i < depth; ++i) tokens.push_back(writer.BeginMessage(1 + i % 3));
  writer.Bytes(9, std::string(size, 'p'));
  for (int i = 0; i < siblings; ++i) {
    const size_t sibling = writer.BeginMessage(2);
    writer.Bytes(1, "s");
    writer.EndMessage(sibling);
  }
  for (int i = depth - 1; i >= 0; --i) writer.EndMessage(tokens[i]);
}

TEST(WireWriterTest, LengthHintsNeverChangeTheBytes) {
  // Lengths whose varints take 1, 2, 3 and 4 bytes, growing and shrinking from
  // one value to the next, and shapes with more and fewer messages.
  struct Shape {
    int depth;
    size_t size;
    int siblings;
  };
  const Shape shapes[] = {{6, 21168, 2},   {6, 21168, 2}, {6, 100, 2},   {6, 20000, 0},
                          {3, 3 << 20, 1}, {8, 5, 4},     {0, 300, 0},   {6, 21168, 2},
                          {2, 16383, 0},   {2, 16384, 0}, {2, 16383, 0}, {9, 130, 9},
                          {1, 0, 0}};
  LengthHints hints;
  std::string hinted = "left alone";  // Reused, as the dataset writer reuses its buffer.
  for (const Shape& shape : shapes) {
    std::string plain;
    WireWriter plain_writer(&plain);
    WriteNested(plain_writer, shape.depth, shape.size, shape.siblings);
    hinted.clear();
    WireWriter hinted_writer(&hinted, &hints);
    WriteNested(hinted_writer, shape.depth, shape.size, shape.siblings);
    ASSERT_EQ(hinted.size(), plain.size()) << shape.depth << " " << shape.size;
    ASSERT_TRUE(hinted == plain) << shape.depth << " " << shape.size;
  }
}

TEST(WireWriterTest, LengthHintsSurviveAnAbandonedValue) {
  // An encoder that fails midway leaves messages open; the next value, on a
  // new writer with the same hints, is still written exactly.
  LengthHints hints;
  std::string out;
  {
    WireWriter writer(&out, &hints);
    writer.BeginMessage(1);
    writer.BeginMessage(2);
    writer.Bytes(9, std::string(500, 'x'));
  }
  std::string plain;
  WireWriter plain_writer(&plain);
  WriteNested(plain_writer, 4, 1000, 1);
  out.clear();
  WireWriter writer(&out, &hints);
  WriteNested(writer, 4, 1000, 1);
  EXPECT_TRUE(out == plain);
}

TEST(WireWriterTest, EmptyNestedMessageHasZeroLength) {
  std::string out;
  WireWriter writer(&out);
  writer.EndMessage(writer.BeginMessage(2));
  EXPECT_EQ(Hex(out), "1200");
}

TEST(WireWriterTest, PackedVarintsSignExtendInt32) {
  std::string out;
  WireWriter writer(&out);
  const int32_t values[] = {1, -1, 300};
  writer.PackedVarints(3, values, 3,
                       [](int32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); });
  // -1 as int32 is ten bytes on the wire (protobuf sign-extends to 64 bits).
  EXPECT_EQ(Hex(out),
            "1a0d"
            "01"
            "ffffffffffffffffff01"
            "ac02");
}

TEST(WireWriterTest, PackedFixedCopiesLittleEndianElements) {
  std::string out;
  WireWriter writer(&out);
  const float values[] = {1.0f, -2.0f};
  writer.PackedFixed(1, values, 2, 4);
  EXPECT_EQ(Hex(out),
            "0a08"
            "0000803f"
            "000000c0");
  std::string none;
  WireWriter empty_writer(&none);
  empty_writer.PackedFixed(1, values, 0, 4);
  EXPECT_EQ(none, "");
}

TEST(BigintTest, MatchesPythonToBytesVectors) {
  // Vectors from the spec: int.to_bytes(bit_length() // 8 + 1, 'big', signed=True).
  EXPECT_EQ(Hex(BigintBytesFromInt64(0)), "00");
  EXPECT_EQ(Hex(BigintBytesFromInt64(3)), "03");
  EXPECT_EQ(Hex(BigintBytesFromInt64(127)), "7f");
  EXPECT_EQ(Hex(BigintBytesFromInt64(128)), "0080");
  EXPECT_EQ(Hex(BigintBytesFromInt64(255)), "00ff");
  EXPECT_EQ(Hex(BigintBytesFromInt64(-1)), "ff");
  EXPECT_EQ(Hex(BigintBytesFromInt64(-128)), "ff80");
  // (-129).bit_length() == 8 -> 2 bytes; -256 -> 2 bytes; -2**63 -> 9 bytes.
  EXPECT_EQ(Hex(BigintBytesFromInt64(-129)), "ff7f");
  EXPECT_EQ(Hex(BigintBytesFromInt64(-256)), "ff00");
  EXPECT_EQ(Hex(BigintBytesFromInt64(INT64_MIN)), "ff8000000000000000");
  EXPECT_EQ(Hex(BigintBytesFromInt64(INT64_MAX)), "7fffffffffffffff");  // bit_length 63 -> 8 bytes.
}

TEST(Utf8Test, EncodesAndValidates) {
  const uint32_t text[] = {'a', 0xe9, 0x20ac, 0x1f600};
  std::string out;
  ASSERT_TRUE(AppendUtf8FromUcs4(text, 4, &out));
  EXPECT_EQ(Hex(out), "61c3a9e282acf09f9880");
  EXPECT_TRUE(IsValidUtf8(out));
  const uint32_t surrogate[] = {0xd800};
  std::string ignored;
  EXPECT_FALSE(AppendUtf8FromUcs4(surrogate, 1, &ignored));
  EXPECT_FALSE(IsValidUtf8(Unhex("c0af")));      // Overlong '/'.
  EXPECT_FALSE(IsValidUtf8(Unhex("eda080")));    // Encoded surrogate.
  EXPECT_FALSE(IsValidUtf8(Unhex("e282")));      // Truncated.
  EXPECT_FALSE(IsValidUtf8(Unhex("f4908080")));  // Above U+10FFFF.
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(WireReaderTest, ReadsEveryWireTypeAndSkipsGroups) {
  // varint field 1 = 150; group 2 { fixed32 field 3 }; fixed64 field 4; LEN field 5 "hi"; fixed32
  // field 6.
  const std::string message = Unhex(
      "089601"
      "13"
      "1d01000000"
      "14"
      "210100000000000000"
      "2a026869"
      "3502000000");
  WireReader reader(message, message.data());
  WireField field;
  std::vector<uint32_t> numbers;
  while (reader.Next(&field)) numbers.push_back(field.number);
  ASSERT_TRUE(reader.status().ok()) << reader.status().ToString();
  EXPECT_EQ(numbers, (std::vector<uint32_t>{1, 4, 5, 6}));
}

TEST(WireReaderTest, ReportsMalformedInputWithOffset) {
  for (const char* hex : {"0a05616263", "08", "0b", "0c", "0f00", "0001", "1d0100", "13"}) {
    const std::string message = Unhex(hex);
    WireReader reader(message, message.data());
    WireField field;
    while (reader.Next(&field)) {
    }
    EXPECT_FALSE(reader.status().ok()) << hex;
    EXPECT_NE(reader.status().message().find("at byte"), std::string::npos) << hex;
  }
}

TEST(ParseDataTest, LastOneofMemberWinsAndRepeatsMerge) {
  // array{values: <empty Data>} then tuple{values: A} then tuple{values: B}.
  const std::string message = Unhex(
      "12020a00"
      "1a030a0108"
      "1a030a0110");
  DataWire data;
  ASSERT_TRUE(ParseData(MessageParts(message), message.data(), &data).ok());
  ASSERT_EQ(data.kind, DataKind::kTuple);
  std::vector<std::string> elements;
  ASSERT_TRUE(ForEachElement(data.payload, message.data(), [&](std::string_view element) {
                elements.emplace_back(element);
                return envlogger::OkStatus();
              }).ok());
  EXPECT_EQ(elements, (std::vector<std::string>{Unhex("08"), Unhex("10")}));
}

// Found by codec_differential_fuzzer: a replaced oneof member is never
// decoded, but protobuf parses it, so its malformed bytes must still make the
// message malformed (as the reference codec, built on protobuf, refuses it).
TEST(ParseDataTest, ReplacedOneofMemberMustStillParse) {
  // datum{5 bytes of an unterminated tag} then array{}: the datum is replaced.
  const std::string bad_datum = Unhex(
      "0a05ffffffffff"
      "1200");
  DataWire data;
  envlogger::Status status = ParseData(MessageParts(bad_datum), bad_datum.data(), &data);
  EXPECT_EQ(status.code(), envlogger::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bad field tag at byte 2"), std::string::npos)
      << status.message();
  // The same two members, the datum well-formed: the array wins.
  const std::string good_datum = Unhex(
      "0a021200"
      "1200");
  ASSERT_TRUE(ParseData(MessageParts(good_datum), good_datum.data(), &data).ok());
  EXPECT_EQ(data.kind, DataKind::kArray);
  // Checked all the way down: tuple{values: Data{datum: bad}} replaced by array{}.
  const std::string nested = Unhex(
      "1a05"
      "0a03"
      "0a01ff"
      "1200");
  status = ParseData(MessageParts(nested), nested.data(), &data);
  EXPECT_EQ(status.code(), envlogger::StatusCode::kInvalidArgument) << status.ToString();
  // dict{values: {key: "k", value: Data{datum: bad}}} replaced by datum{}.
  const std::string dict = Unhex(
      "2208"
      "0a06"
      "0a016b"
      "1201ff"
      "0a00");
  status = ParseData(MessageParts(dict), dict.data(), &data);
  EXPECT_EQ(status.code(), envlogger::StatusCode::kInvalidArgument) << status.ToString();
}

// Found by codec_differential_fuzzer: varints are read as protobuf reads
// them. A value's (or length's) 10th byte may carry bits beyond the 64th
// (dropped); a tag takes at most 5 bytes and 32 bits.
TEST(WireReaderTest, VarintsTagsAndLengthsFollowProtobufLimits) {
  const std::string value = Unhex(
      "20"
      "ffffffffffffffffff09");  // int64_values: 10 bytes, extra bits.
  WireReader reader(value, value.data());
  WireField field;
  ASSERT_TRUE(reader.Next(&field)) << reader.status().ToString();
  EXPECT_EQ(field.number, 4u);
  EXPECT_EQ(field.varint, ~uint64_t{0});
  EXPECT_FALSE(reader.Next(&field));
  EXPECT_TRUE(reader.status().ok());
  const std::string length = Unhex(
      "0a"
      "818080808000"
      "ff");  // A 6-byte length 1.
  WireReader length_reader(length, length.data());
  ASSERT_TRUE(length_reader.Next(&field)) << length_reader.status().ToString();
  EXPECT_EQ(field.bytes, "\xff");
  for (const char* hex : {"20"
                          "ffffffffffffffffff80"
                          "01",  // 11-byte value.
                          "8a8080808000"
                          "00"}) {  // 6-byte tag of field 1.
    const std::string bad = Unhex(hex);
    WireReader bad_reader(bad, bad.data());
    while (bad_reader.Next(&field)) {
    }
    EXPECT_FALSE(bad_reader.status().ok()) << hex;
  }
}

TEST(ParseDataTest, EmptyMessageIsNone) {
  DataWire data;
  ASSERT_TRUE(ParseData(MessageParts(std::string_view()), nullptr, &data).ok());
  EXPECT_EQ(data.kind, DataKind::kNone);
}

TEST(ParseDatumTest, MergesPackedAndUnpackedRunsAndShapes) {
  // shape{dim{size 2}}, values{int64 packed [1, 2]}, values{int64 unpacked 3},
  // shape{dim{size 3}}, values{uint8_values "a"}, values{uint8_values "bc"} (last wins),
  // unknown field 99 (varint).
  const std::string message = Unhex(
      "0a04"
      "12020802"
      "1204"
      "22020102"
      "1202"
      "2003"
      "0a04"
      "12020803"
      "1203"
      "6a0161"
      "1204"
      "6a026263"
      "98060b");
  DatumWire datum;
  const auto status = ParseDatum(MessageParts(message), message.data(), &datum);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(datum.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(CountVarints(datum.int64_values), 3u);
  int64_t values[3];
  DecodeVarints(datum.int64_values, values);
  EXPECT_EQ(values[0], 1);
  EXPECT_EQ(values[1], 2);
  EXPECT_EQ(values[2], 3);
  EXPECT_EQ(datum.uint8_values, "bc");
  EXPECT_FALSE(datum.IsScalar());
}

TEST(ParseDatumTest, ScalarShapeAndTruncatingInt32) {
  // shape{dim{size -438}}, values{int32 packed [-1 (10 bytes), 2^32 + 5 (truncates to 5)]}.
  const std::string message = Unhex(
      "0a0d"
      "120b"
      "08cafcffffffffffffff01"
      "1211"
      "1a0f"
      "ffffffffffffffffff01"
      "8580808010");
  DatumWire datum;
  const auto status = ParseDatum(MessageParts(message), message.data(), &datum);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(datum.IsScalar());
  ASSERT_EQ(CountVarints(datum.int32_values), 2u);
  int32_t values[2];
  DecodeVarints(datum.int32_values, values);
  EXPECT_EQ(values[0], -1);
  EXPECT_EQ(values[1], 5);
}

TEST(ParseDatumTest, ScalarShapeInAnyEncodingGivesTheSameDims) {
  // The canonical scalar shape (read by a shortcut), the same dim with an
  // unknown field after its size, and a canonical scalar shape merged with
  // a second shape occurrence.
  const std::string canonical = Unhex(
      "0a0d"
      "120b"
      "08cafcffffffffffffff01");
  const std::string with_unknown = Unhex(
      "0a0f"
      "120d"
      "08cafcffffffffffffff01"
      "1801");
  const std::string merged = Unhex(
      "0a0d"
      "120b"
      "08cafcffffffffffffff01"
      "0a04"
      "12020807");
  DatumWire datum;
  ASSERT_TRUE(ParseDatum(MessageParts(canonical), canonical.data(), &datum).ok());
  EXPECT_EQ(datum.shape, (std::vector<int64_t>{wire::kScalarDimSize}));
  DatumWire datum2;
  ASSERT_TRUE(ParseDatum(MessageParts(with_unknown), with_unknown.data(), &datum2).ok());
  EXPECT_EQ(datum2.shape, (std::vector<int64_t>{wire::kScalarDimSize}));
  DatumWire datum3;
  ASSERT_TRUE(ParseDatum(MessageParts(merged), merged.data(), &datum3).ok());
  EXPECT_EQ(datum3.shape, (std::vector<int64_t>{wire::kScalarDimSize, 7}));
  EXPECT_FALSE(datum3.IsScalar());
}

TEST(ParseDatumTest, ClearedDatumParsesLikeAFreshOne) {
  // Every field kind set, then cleared and reused for a plain float array.
  const std::string full = Unhex(
      "0a04"
      "12020802"
      "1205"
      "0d00000000"
      "1209"
      "110000000000000000"
      "1202"
      "1801"
      "1202"
      "2001"
      "1202"
      "2801"
      "1202"
      "3001"
      "1202"
      "3801"
      "1203"
      "420161"
      "1203"
      "4a0162"
      "1203"
      "520101"
      "1203"
      "5a0101"
      "1204"
      "620201ff"
      "1203"
      "6a0101"
      "1204"
      "720201ff"
      "1206"
      "7a0400000000");
  DatumWire datum;
  ASSERT_TRUE(ParseDatum(MessageParts(full), full.data(), &datum).ok());
  EXPECT_EQ(datum.string_values.size(), 1u);
  EXPECT_EQ(datum.float_values_buffer.size(), 4u);
  datum.Clear();
  const std::string floats = Unhex(
      "0a04"
      "12020801"
      "1206"
      "0a040000803f");
  ASSERT_TRUE(ParseDatum(MessageParts(floats), floats.data(), &datum).ok());
  DatumWire fresh;
  ASSERT_TRUE(ParseDatum(MessageParts(floats), floats.data(), &fresh).ok());
  EXPECT_EQ(datum.shape, fresh.shape);
  EXPECT_EQ(datum.float_values, fresh.float_values);
  for (const DatumWire* d : {&datum, &fresh}) {
    EXPECT_TRUE(d->double_values.empty() && d->int32_values.empty() && d->int64_values.empty() &&
                d->uint32_values.empty() && d->uint64_values.empty() && d->bool_values.empty() &&
                d->string_values.empty() && d->bytes_values.empty() && d->bigint_values.empty());
    EXPECT_TRUE(d->float_values_buffer.empty() && d->int8_values.empty() &&
                d->int16_values.empty() && d->uint8_values.empty() && d->uint16_values.empty());
  }
}

TEST(WireReaderTest, ShortAndLongFormsOfTheSameFieldsReadAlike) {
  // Field 1 varint 1, field 2 "ab": one-byte tags and values (inline path)
  // and overlong tag / length / value varints (general path).
  const std::string short_form = Unhex(
      "0801"
      "12026162");
  const std::string long_form = Unhex(
      "888000"
      "8100"
      "928000"
      "8200"
      "6162");
  for (const std::string* message : {&short_form, &long_form}) {
    WireReader reader(*message, message->data());
    WireField field;
    ASSERT_TRUE(reader.Next(&field));
    EXPECT_EQ(field.number, 1u);
    EXPECT_EQ(field.type, wire::kVarint);
    EXPECT_EQ(field.varint, 1u);
    EXPECT_EQ(field.offset, 0u);
    ASSERT_TRUE(reader.Next(&field));
    EXPECT_EQ(field.number, 2u);
    EXPECT_EQ(field.type, wire::kLengthDelimited);
    EXPECT_EQ(field.bytes, "ab");
    EXPECT_FALSE(reader.Next(&field));
    EXPECT_TRUE(reader.status().ok()) << Hex(*message);
  }
  // A length past the end fails in both forms.
  for (const char* hex : {"1203", "12830061"}) {
    const std::string message = Unhex(hex);
    WireReader reader(message, message.data());
    WireField field;
    EXPECT_FALSE(reader.Next(&field));
    EXPECT_FALSE(reader.status().ok()) << hex;
  }
}

TEST(ParseDatumTest, RejectsBadPackedPayloadAndInvalidUtf8) {
  const std::string bad_floats = Unhex(
      "1205"
      "0a03000000");  // 3 bytes of fixed32.
  DatumWire datum;
  EXPECT_FALSE(ParseDatum(MessageParts(bad_floats), bad_floats.data(), &datum).ok());
  const std::string bad_varints = Unhex(
      "1204"
      "1a0201ff");  // Truncated varint in packed run.
  DatumWire datum2;
  EXPECT_FALSE(ParseDatum(MessageParts(bad_varints), bad_varints.data(), &datum2).ok());
  const std::string bad_string = Unhex(
      "1203"
      "4201ff");
  DatumWire datum3;
  const auto status = ParseDatum(MessageParts(bad_string), bad_string.data(), &datum3);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("UTF-8"), std::string::npos);
}

TEST(ParseDatumTest, IgnoresFieldsWithForeignWireTypes) {
  // float_values as a varint (not fixed32, not packed): an unknown field.
  const std::string message = Unhex(
      "1202"
      "0801");
  DatumWire datum;
  ASSERT_TRUE(ParseDatum(MessageParts(message), message.data(), &datum).ok());
  EXPECT_EQ(CountFixed(datum.float_values, 4), 0u);
}

TEST(ParseDictTest, EntriesKeysValuesAndKvs) {
  // entry{key "a", value <Data 08>}, entry{value only}, kvs{...}.
  const std::string message = Unhex(
      "0a06"
      "0a0161"
      "120108"
      "0a03"
      "120110"
      "1202"
      "0a00");
  DictWire dict;
  const auto status = ParseDict(MessageParts(message), message.data(), &dict);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(dict.entries.size(), 2u);
  EXPECT_EQ(dict.entries[0].key, "a");
  ASSERT_EQ(dict.entries[0].value.size(), 1u);
  EXPECT_EQ(dict.entries[0].value[0], Unhex("08"));
  EXPECT_EQ(dict.entries[1].key, "");
  EXPECT_EQ(dict.kvs.size(), 1u);
}

TEST(ParseDictTest, ALaterEntryOfAKeyReplacesTheEarlierOne) {
  // entry{"a": 08}, entry{"b": 09}, entry{"a": 10}: as protobuf, "a" -> 10.
  const std::string message = Unhex(
      "0a06"
      "0a0161"
      "120108"
      "0a06"
      "0a0162"
      "120109"
      "0a06"
      "0a0161"
      "120110");
  DictWire dict;
  const auto status = ParseDict(MessageParts(message), message.data(), &dict);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(dict.entries.size(), 2u);
  EXPECT_EQ(dict.entries[0].key, "a");
  ASSERT_EQ(dict.entries[0].value.size(), 1u);
  EXPECT_EQ(dict.entries[0].value[0], Unhex("10"));
  EXPECT_EQ(dict.entries[1].key, "b");
  EXPECT_EQ(dict.entries[1].value[0], Unhex("09"));
  ASSERT_EQ(dict.replaced.size(), 1u);  // Never decoded, but it must parse.
  EXPECT_EQ(dict.replaced[0][0], Unhex("08"));
}

}  // namespace
}  // namespace envlogger
