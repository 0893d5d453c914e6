// The out-of-tree plugin through the installed test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

using namespace std::chrono_literals;

TEST(Upper, UpperCasesTheFieldAndLeavesTheRest) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  h.start(R"(
pipelines:
  p:
    source: {type: inject, finite: true}
    transforms: [{type: upper, field: name}]
    sinks: [{type: capture}]
)");
  h.inject_json("in", {R"({"name": "alice", "n": 1})", R"({"n": 2})"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  const auto out = h.captured("out");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].fields()["name"], "ALICE");
  EXPECT_EQ(out[0].fields()["n"], 1);
  EXPECT_FALSE(out[1].fields().contains("name"));
  h.stop();
}
