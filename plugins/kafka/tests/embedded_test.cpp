// `brokers: embedded`: one in-process cluster shared by a sink and a source
// of the same daemon, configured by the `kafka_embedded` resource.
#include <set>

#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include "mock_cluster.hpp"

namespace sluice::kafka::test {
namespace {

using namespace std::chrono_literals;

TEST(KafkaEmbedded, SinkAndSourceShareTheInProcessCluster) {
  testing::Harness h;
  h.start(R"(
resources:
  kafka:
    type: kafka_embedded
    brokers: 1
    topics: [{name: views, partitions: 2}]
pipelines:
  put:
    source: {type: inject, name: in}
    sinks:
      - {type: kafka, brokers: embedded, topic: views, key: "{user_id}"}
  take:
    source: {type: kafka, brokers: embedded, topics: [views], group: embedded-test}
    sinks:
      - {type: capture, name: out}
)");
  constexpr int n = 200;
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) docs.push_back(R"({"user_id":)" + std::to_string(i) + R"(,"item_id":7})");
  h.inject_json("in", docs);
  ASSERT_TRUE(h.wait_captured("out", n, 15s));
  const auto events = h.captured("out");
  std::set<int> users;
  std::set<int> partitions;
  for (const auto& e : events) {
    users.insert(e.fields().at("user_id").get<int>());
    partitions.insert(e.meta.partition);
    EXPECT_EQ(e.meta.topic, "views");
  }
  EXPECT_EQ(users.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(events.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(partitions, (std::set<int>{0, 1})) << "the resource created the topic with 2 partitions";
  const auto statuses = h.ack_statuses("in");
  EXPECT_EQ(statuses.size(), static_cast<std::size_t>(n));
  h.stop();
}

TEST(KafkaEmbedded, EachStartIsANewOriginForTheOffsets) {
  // The embedded cluster starts empty each time, its offsets at 0 again: the checkpoints its events
  // carry name a different origin each time, so a guard keyed by offsets tells the two runs apart.
  std::vector<std::string> origins;
  for (int run = 0; run < 2; ++run) {
    testing::Harness h;
    h.start(R"(
pipelines:
  put:
    source: {type: inject, name: in}
    sinks:
      - {type: kafka, brokers: embedded, topic: views}
  take:
    source: {type: kafka, brokers: embedded, topics: [views], group: origin-test}
    sinks:
      - {type: capture, name: out}
)");
    h.inject_json("in", {R"({"item_id":7})"});
    ASSERT_TRUE(h.wait_captured("out", 1, 15s));
    const auto events = h.captured("out");
    ASSERT_NE(events[0].meta.checkpoint, nullptr);
    EXPECT_EQ(events[0].meta.offset, 0) << "a new cluster counts from 0";
    origins.push_back(events[0].meta.checkpoint->origin());
    EXPECT_EQ(origins.back().rfind("embedded-", 0), 0u) << origins.back();
    h.stop();
  }
  EXPECT_NE(origins[0], origins[1]);
}

}  // namespace
}  // namespace sluice::kafka::test
