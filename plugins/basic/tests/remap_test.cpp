// The remap transform in real pipelines through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include "events.hpp"

using namespace std::chrono_literals;
using sluice::testing::Harness;

namespace {

TEST(Remap, SetRenameDeleteCopyWithMetadata) {
  Harness h;
  h.start(R"(
pipelines:
  r:
    source: {type: inject, finite: true}
    transforms:
      - type: remap
        operations:
          - copy: {meta.key: user_id, meta.header.User-Agent: agent}
          - rename: {itemId: item.id}
          - delete: [debug]
          - set: {source: web, count: 2, label: "{user_id}/{item.id}"}
    sinks: [{type: capture}]
)");
  sluice::Event e(std::string(R"({"itemId": 7, "debug": true})"));
  e.meta.key = "u1";
  e.meta.headers.push_back({"user-agent", "curl/8"});
  std::vector<sluice::Event> evs;
  evs.push_back(std::move(e));
  h.inject("in", std::move(evs));
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(
      got[0],
      sluice::Json::parse(
          R"({"user_id":"u1","agent":"curl/8","item":{"id":7},"source":"web","count":2,"label":"u1/7"})"));
}

}  // namespace
