#include "envlogger/backends/cc/int64_datum_codec.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "envlogger/backends/cc/upstream_fixture_index.h"

namespace envlogger {
namespace {

using testing::FixtureDataset;
using testing::HexToBytes;

// Upstream's step_offsets record for three steps at positions 64, 65, 66
// (first record of all_types/<shard>/step_offsets.riegeli).
TEST(Int64DatumCodecTest, EncodesOneDimensionalArrayLikeUpstream) {
  EXPECT_EQ(EncodeInt64Datum({3}, {64, 65, 66}), HexToBytes("0a041202080312052203404142"));
}

// Upstream's first episode_index record of all_types: rows (0,64), (6,-1), (7,65).
TEST(Int64DatumCodecTest, EncodesMatrixWithNegativeOneLikeUpstream) {
  EXPECT_EQ(EncodeInt64Datum({3, 2}, {0, 64, 6, -1, 7, 65}),
            HexToBytes("0a0812020803120208021211220f004006ffffffffffffffffff010741"));
}

TEST(Int64DatumCodecTest, EveryUpstreamIndexRecordDecodesAndReencodesByteForByte) {
  int records = 0;
  for (const std::string& name : testing::UpstreamFixtureNames()) {
    FixtureDataset dataset;
    ASSERT_TRUE(testing::LoadUpstreamFixtureIndex(name, &dataset)) << name;
    for (const auto& shard : dataset.shards) {
      std::vector<int64_t> all_offsets;
      for (const auto& record : shard.step_offsets) {
        auto datum = DecodeInt64Datum(record.bytes);
        ASSERT_TRUE(datum.ok()) << datum.status().ToString();
        ASSERT_EQ(datum->shape, std::vector<int64_t>{static_cast<int64_t>(datum->values.size())});
        EXPECT_FALSE(datum->has_other_values);
        EXPECT_EQ(EncodeInt64Datum(datum->shape, datum->values), record.bytes)
            << name << " " << record.position;
        all_offsets.insert(all_offsets.end(), datum->values.begin(), datum->values.end());
        ++records;
      }
      // The offsets are exactly the positions the fixture's steps were read at.
      ASSERT_EQ(all_offsets.size(), shard.steps.size()) << name;
      for (size_t i = 0; i < all_offsets.size(); ++i) {
        EXPECT_EQ(static_cast<uint64_t>(all_offsets[i]), shard.steps[i].position);
      }
      std::set<int64_t> metadata_positions;
      for (const auto& record : shard.episode_metadata) metadata_positions.insert(record.position);
      for (const auto& record : shard.episode_index) {
        auto datum = DecodeInt64Datum(record.bytes);
        ASSERT_TRUE(datum.ok()) << datum.status().ToString();
        ASSERT_EQ(datum->shape.size(), 2u);
        EXPECT_EQ(datum->shape[1], 2);
        ASSERT_EQ(datum->shape[0] * 2, static_cast<int64_t>(datum->values.size()));
        for (size_t row = 0; row < datum->values.size(); row += 2) {
          const int64_t metadata_pos = datum->values[row + 1];
          EXPECT_TRUE(metadata_pos == -1 || metadata_positions.count(metadata_pos)) << name;
        }
        EXPECT_EQ(EncodeInt64Datum(datum->shape, datum->values), record.bytes)
            << name << " " << record.position;
        ++records;
      }
    }
  }
  EXPECT_GT(records, 50);
}

TEST(Int64DatumCodecTest, AcceptsUnpackedValuesAndUnknownFields) {
  // shape{dim{size:2}}, unknown field 9 (varint 5), values{int64 7 unpacked, int64 -2 unpacked}.
  std::string wire = HexToBytes("0a0412020802") + HexToBytes("4805") + HexToBytes("120d") +
                     HexToBytes("2007") + HexToBytes("20feffffffffffffffff01");
  auto datum = DecodeInt64Datum(wire);
  ASSERT_TRUE(datum.ok()) << datum.status().ToString();
  EXPECT_EQ(datum->shape, std::vector<int64_t>{2});
  EXPECT_EQ(datum->values, (std::vector<int64_t>{7, -2}));
  EXPECT_FALSE(datum->has_other_values);
}

TEST(Int64DatumCodecTest, FlagsArraysOfOtherTypes) {
  // shape{dim{size:1}} values{double_values packed [1.0]}.
  auto datum = DecodeInt64Datum(HexToBytes("0a0412020801") + HexToBytes("120a") +
                                HexToBytes("1208000000000000f03f"));
  ASSERT_TRUE(datum.ok()) << datum.status().ToString();
  EXPECT_TRUE(datum->has_other_values);
  EXPECT_TRUE(datum->values.empty());
}

TEST(Int64DatumCodecTest, RejectsMalformedInputNamingTheOffset) {
  const std::string good = HexToBytes("0a041202080312052203404142");
  for (size_t cut = 1; cut < good.size(); ++cut) {
    if (cut == 6) continue;  // Ends right after the shape field: a valid Datum without values.
    auto datum = DecodeInt64Datum(good.substr(0, cut));
    EXPECT_FALSE(datum.ok()) << "truncated at " << cut;
  }
  auto bad_wire_type = DecodeInt64Datum(HexToBytes("0b"));  // Field 1, wire type 3 (group).
  ASSERT_FALSE(bad_wire_type.ok());
  EXPECT_EQ(bad_wire_type.status().code(), envlogger::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_wire_type.status().message().find("at byte 0"), std::string::npos)
      << bad_wire_type.status().message();
}

TEST(Int64DatumCodecTest, EmptyInputIsAnEmptyDatum) {
  auto datum = DecodeInt64Datum("");
  ASSERT_TRUE(datum.ok());
  EXPECT_TRUE(datum->shape.empty());
  EXPECT_TRUE(datum->values.empty());
}

}  // namespace
}  // namespace envlogger
