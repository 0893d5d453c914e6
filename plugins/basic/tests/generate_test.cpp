// The generate source in real pipelines through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include "events.hpp"

using namespace std::chrono_literals;
using sluice::testing::Harness;

namespace {

TEST(Generate, CountAndTemplateFields) {
  Harness h;
  h.start(R"(
pipelines:
  g:
    source:
      type: generate
      count: 2500
      batch_size: 1000
      template: {seq: "{seq}", user: "u{seq}", n: "{random_int:5:7}", kind: "{random_choice:a,b}", fixed: 3}
    sinks: [{type: capture}]
)");
  ASSERT_TRUE(h.wait_captured("out", 2500, 20s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 2500u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["seq"], i + 1);
    EXPECT_EQ(got[i]["user"], "u" + std::to_string(i + 1));
    EXPECT_GE(got[i]["n"].get<int>(), 5);
    EXPECT_LE(got[i]["n"].get<int>(), 7);
    EXPECT_TRUE(got[i]["kind"] == "a" || got[i]["kind"] == "b");
    EXPECT_EQ(got[i]["fixed"], 3);
  }
}

TEST(Validation, BadOptionsAreRefusedAtStart) {
  Harness h;
  EXPECT_THROW(h.start(R"(
pipelines:
  f:
    source: {type: generate, count: 1, template: {x: "{nope}"}}
    sinks: [{type: "null"}]
)"),
               std::exception);
}

}  // namespace
