#include "envlogger/converters/typed_codec.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

// Wire bytes below were produced by envlogger/converters/codec.py with
// Python protobuf (`codec.encode(x).SerializeToString(deterministic=True)`),
// and bigint vectors by Python's `x.to_bytes(x.bit_length() // 8 + 1, 'big',
// signed=True)`; the value each encodes is noted beside it.

namespace envlogger {
namespace {

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(BigintTest, BytesRoundTripIncludingMultipleOf8BitNegatives) {
  const std::vector<std::pair<const char*, const char*>> vectors = {
      {"0", "00"},
      {"-1", "ff"},
      {"127", "7f"},
      {"128", "0080"},
      {"-128", "ff80"},
      {"-129", "ff7f"},
      {"255", "00ff"},
      {"-256", "ff00"},
      {"-32768", "ff8000"},
      {"-9223372036854775808", "ff8000000000000000"},
      {"18446744073709551616", "010000000000000000"},
      {"-18446744073709551616", "ff0000000000000000"},
      {"1267650600228229401496703205376", "10000000000000000000000000"},
      {"-1267650600228229401496703205376", "f0000000000000000000000000"},
  };
  for (const auto& [decimal, hex] : vectors) {
    const mpz_class value(decimal);
    EXPECT_EQ(Hex(BigintBytesFromMpz(value)), hex) << decimal;
    EXPECT_EQ(MpzFromBigintBytes(Unhex(hex)), value) << decimal;
  }
  EXPECT_EQ(MpzFromBigintBytes(""), 0);
}

TEST(DecodeDatumTest, ScalarBigint) {
  // Data for -129: datum{shape{dim{-438}} values{bigint ff7f}}.
  const std::string view_bytes = Unhex("0a150a0d120b08cafcffffffffffffff0112045202ff7f");
  auto view = DataView::Parse(view_bytes);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->kind(), DataKind::kDatum);
  auto value = view->datum();
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  ASSERT_TRUE(value->has_value());
  ASSERT_TRUE(std::holds_alternative<mpz_class>(**value));
  EXPECT_EQ(std::get<mpz_class>(**value), -129);
}

TEST(DecodeDatumTest, Int16MatrixIsBigEndianPacked) {
  // np.arange(6, dtype=np.int16).reshape(2, 3) - 3.
  const std::string view_bytes = Unhex("0a1a0a081202080212020803120e620cfffdfffeffff000000010002");
  auto view = DataView::Parse(view_bytes);
  ASSERT_TRUE(view.ok());
  auto value = view->datum();
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  const Array<int16_t> expected{{2, 3}, {-3, -2, -1, 0, 1, 2}};
  ASSERT_TRUE(std::holds_alternative<Array<int16_t>>(**value));
  EXPECT_EQ(std::get<Array<int16_t>>(**value), expected);
}

TEST(DecodeDatumTest, Float32AndStringArrays) {
  // np.array([[1.5, -2.0]], np.float32).
  const std::string floats_bytes = Unhex("0a160a081202080112020802120a0a080000c03f000000c0");
  auto floats = DataView::Parse(floats_bytes);
  ASSERT_TRUE(floats.ok());
  auto f = floats->datum();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::get<Array<float>>(**f), (Array<float>{{1, 2}, {1.5f, -2.0f}}));
  // np.array(['a', 'bc']).
  const std::string strings_bytes = Unhex("0a0f0a0412020802120742016142026263");
  auto strings = DataView::Parse(strings_bytes);
  ASSERT_TRUE(strings.ok());
  auto s = strings->datum();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(std::get<Array<std::string>>(**s), (Array<std::string>{{2}, {"a", "bc"}}));
}

TEST(DecodeDatumTest, BigintArrayAndEmptyDatum) {
  // shape [2], bigint_values [ff7f, 0100] = [-129, 256].
  const std::string view_bytes = Unhex("0a100a041202080212085202ff7f52020100");
  auto view = DataView::Parse(view_bytes);
  ASSERT_TRUE(view.ok());
  auto value = view->datum();
  ASSERT_TRUE(value.ok());
  const auto& array = std::get<Array<mpz_class>>(**value);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2}));
  ASSERT_EQ(array.values.size(), 2u);
  EXPECT_EQ(array.values[0], -129);
  EXPECT_EQ(array.values[1], 256);
  // Data{datum{}} (an empty array) has no value.
  const std::string empty_bytes = Unhex("0a00");
  auto empty = DataView::Parse(empty_bytes);
  ASSERT_TRUE(empty.ok());
  auto none = empty->datum();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(DecodeDatumTest, ShapeMismatchIsAnError) {
  // shape [3] but two float32 values.
  const std::string view_bytes = Unhex("0a160a081202080312020802120a0a080000c03f000000c0");
  auto view = DataView::Parse(view_bytes);
  ASSERT_TRUE(view.ok());
  auto value = view->datum();
  EXPECT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), envlogger::StatusCode::kInvalidArgument);
}

TEST(DataViewTest, ListOfInt32Scalars) {
  // [np.int32(-1), np.int32(2)].
  const std::string bytes = Unhex(
      "12390a1f0a1d0a0d120b08cafcffffffffffffff01120c1a0affffffffffffffffff010a160a140a0d120b08cafc"
      "ffffffffffffff01"
      "12031a0102");
  auto view = DataView::Parse(bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->kind(), DataKind::kArray);
  ASSERT_EQ(view->size().value(), 2u);
  auto first = (*view)[0];
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(std::get<int32_t>(*first->datum().value()), -1);
  EXPECT_EQ(std::get<int32_t>(*(*view)[1]->datum().value()), 2);
  EXPECT_EQ((*view)[2].status().code(), envlogger::StatusCode::kOutOfRange);
  EXPECT_EQ((*view)["x"].status().code(), envlogger::StatusCode::kFailedPrecondition);
}

TEST(DataViewTest, DictWithStringAndIntegerKeys) {
  // {'obs': np.array([1, 2], np.uint8), 'r': 0.5, 7: 'seven', 2**70: None}.
  const std::string bytes = Unhex(
      "229b010a150a036f6273120e0a0c0a041202080212046a0201020a220a0172121d0a1b0a0d120b08cafcffffffff"
      "ffffff01120a1208"
      "000000000000e03f125e0a361a340a160a140a0d120b08cafcffffffffffffff0112035201070a1a0a180a0d120b"
      "08cafcffffffffffff"
      "ff0112074205736576656e0a241a220a1e0a1c0a0d120b08cafcffffffffffffff01120b52094000000000000000"
      "000a00");
  auto view = DataView::Parse(bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->kind(), DataKind::kDict);
  EXPECT_EQ(view->size().value(), 4u);
  auto obs = (*view)["obs"];
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(std::get<Array<uint8_t>>(*obs->datum().value()), (Array<uint8_t>{{2}, {1, 2}}));
  EXPECT_EQ(std::get<double>(*(*view)["r"]->datum().value()), 0.5);
  EXPECT_EQ((*view)["missing"].status().code(), envlogger::StatusCode::kNotFound);
  auto seven = (*view)[7];
  ASSERT_TRUE(seven.ok()) << seven.status().ToString();
  EXPECT_EQ(std::get<std::string>(*seven->datum().value()), "seven");
  EXPECT_EQ((*view)[8].status().code(), envlogger::StatusCode::kNotFound);
  auto items = view->items();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].first, "obs");
  EXPECT_EQ((*items)[1].first, "r");
  auto kvs = view->kvs();
  ASSERT_TRUE(kvs.ok());
  ASSERT_EQ(kvs->size(), 2u);
  EXPECT_EQ(std::get<mpz_class>(*(*kvs)[1].first.datum().value()),
            mpz_class("1180591620717411303424"));
  EXPECT_EQ((*kvs)[1].second.kind(), DataKind::kNone);
}

TEST(DataViewTest, MalformedBytesAreErrorsNotCrashes) {
  const std::string truncated = Unhex("0a05");
  EXPECT_FALSE(DataView::Parse(truncated).ok());
  const std::string view_bytes = Unhex(
      "1203"
      "0a01ff");
  auto view = DataView::Parse(view_bytes);  // Array whose element is truncated garbage.
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->elements().ok());
}

}  // namespace
}  // namespace envlogger
