#include "envlogger/base/status.h"

#include <gtest/gtest.h>

namespace envlogger {
namespace {

TEST(StatusTest, ToStringNamesTheCode) {
  EXPECT_EQ(OkStatus().ToString(), "OK");
  EXPECT_EQ(NotFoundError("no file").ToString(), "NOT_FOUND: no file");
  EXPECT_EQ(Status(StatusCode::kOk, "ignored").message(), "");
}

TEST(StatusTest, ReasonIsKeptOutOfTheMessage) {
  const Status status = DataLossError("bad chunk").WithReason("damaged_chunk");
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(status.reason(), "damaged_chunk");
  EXPECT_EQ(status.ToString(), "DATA_LOSS: bad chunk");
  EXPECT_EQ(DataLossError("bad chunk").reason(), "");
}

TEST(StatusTest, OkStatusHasNoReason) {
  EXPECT_EQ(OkStatus().WithReason("anything").reason(), "");
  EXPECT_TRUE(OkStatus().WithReason("anything").ok());
}

TEST(StatusTest, WithContextKeepsCodeAndReason) {
  const Status status = NotFoundError("x").WithReason("empty_shard").WithContext("shard 3");
  EXPECT_EQ(status.ToString(), "NOT_FOUND: shard 3: x");
  EXPECT_EQ(status.reason(), "empty_shard");
}

}  // namespace
}  // namespace envlogger
