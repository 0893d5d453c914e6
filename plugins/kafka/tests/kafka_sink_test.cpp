// Sink `kafka` against a 3-broker mock cluster: what it produces is read back
// by a plain librdkafka consumer; acknowledgements follow delivery reports.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include "mock_cluster.hpp"

namespace sluice::kafka::test {
namespace {

using namespace std::chrono_literals;

std::string sink_pipeline(const std::string& bootstrap, const std::string& topic,
                          const std::string& extra = "") {
  return R"(
pipelines:
  produce:
    source: {type: inject, name: in}
    sinks:
      - type: kafka
        brokers: ")" +
         bootstrap + R"("
        topic: )" +
         topic + R"(
        key: "{user_id}"
        headers: {item: "{item_id}", origin: fixed}
        message_timeout: 15s
)" + extra;
}

TEST(KafkaSink, ProducedMessagesReadBackWithKeyHeadersAndPayload) {
  MockCluster cluster(3);
  const std::string topic = unique_name("sink-readback");
  cluster.create_topic(topic, 3);
  testing::Harness h;
  h.start(sink_pipeline(cluster.bootstrap(), topic));
  constexpr int n = 300;
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i)
    docs.push_back(R"({"user_id":"u)" + std::to_string(i) + R"(","item_id":)" + std::to_string(1000 + i) +
                   "}");
  h.inject_json("in", docs);
  ASSERT_TRUE(h.wait_idle(15s));
  const auto statuses = h.ack_statuses("in");
  ASSERT_EQ(statuses.size(), static_cast<std::size_t>(n));
  EXPECT_TRUE(
      std::all_of(statuses.begin(), statuses.end(), [](AckStatus s) { return s == AckStatus::Delivered; }));
  h.stop();

  auto records = consume(cluster.bootstrap(), topic, n);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(n));
  std::set<std::string> keys;
  for (const auto& r : records) {
    ASSERT_TRUE(r.key.has_value());
    const std::string i = r.key->substr(1);
    EXPECT_EQ(r.value, R"({"user_id":"u)" + i + R"(","item_id":)" + std::to_string(1000 + std::stoi(i)) + "}")
        << "payload is the event's JSON, bytes unchanged";
    ASSERT_EQ(r.headers.size(), 2u);
    const auto item =
        std::find_if(r.headers.begin(), r.headers.end(), [](auto& kv) { return kv.first == "item"; });
    ASSERT_NE(item, r.headers.end());
    EXPECT_EQ(item->second, std::to_string(1000 + std::stoi(i)));
    keys.insert(*r.key);
  }
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(n)) << "each message exactly once";
}

TEST(KafkaSink, FiveWritesInFlightByDefaultWithOrderKeptPerPartition) {
  MockCluster cluster(3);
  const std::string topic = unique_name("sink-in-flight");
  cluster.create_topic(topic, 4);
  constexpr int n = 6000;
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i)
    docs.push_back(R"({"user_id":"u)" + std::to_string(i % 40) + R"(","item_id":)" + std::to_string(i) + "}");
  for (const std::string concurrency : {"", "        concurrency: 1\n"}) {
    testing::Harness h;
    // 60 writes of 100 events: many in flight at once.
    h.start(sink_pipeline(cluster.bootstrap(), topic, "        batch_max_events: 100\n" + concurrency));
    EXPECT_EQ(h.status()["pipelines"][0]["sinks"][0]["concurrency"], concurrency.empty() ? 5 : 1);
    h.inject_json("in", docs);
    ASSERT_TRUE(h.wait_idle(20s));
    const auto statuses = h.ack_statuses("in");
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), AckStatus::Delivered), n);
    h.stop();
  }
  // Each partition holds its events in the order they were injected (item_id grows), twice over.
  const auto records = consume(cluster.bootstrap(), topic, 2 * n);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(2 * n));
  std::map<std::int32_t, std::vector<int>> items;
  for (const auto& r : records) items[r.partition].push_back(Json::parse(r.value)["item_id"].get<int>());
  for (const auto& [partition, seq] : items) {
    const auto restart = std::adjacent_find(seq.begin(), seq.end(), std::greater<int>());
    ASSERT_NE(restart, seq.end()) << "partition " << partition << ": the second run's events are there";
    EXPECT_TRUE(std::is_sorted(seq.begin(), restart + 1)) << "partition " << partition;
    EXPECT_TRUE(std::is_sorted(restart + 1, seq.end())) << "partition " << partition;
  }
}

TEST(KafkaSink, NoAckBeforeDeliveryWhileLeaderIsDownAndNothingLostAfter) {
  MockCluster cluster(3);
  const std::string topic = unique_name("sink-down");
  cluster.create_topic(topic, 1);
  // Warm the producer's metadata first, then take the partition's leader away.
  testing::Harness h;
  // Short reconnect backoff: the test waits for the leader's return, not for librdkafka's 10 s backoff.
  h.start(sink_pipeline(
      cluster.bootstrap(), topic,
      "        rdkafka.reconnect.backoff.ms: 100\n        rdkafka.reconnect.backoff.max.ms: 500\n"));
  h.inject_json("in", {R"({"user_id":"warm","item_id":0})"});
  ASSERT_TRUE(h.wait_idle(10s));
  const std::int32_t leader = leader_of(cluster.bootstrap(), topic, 0);
  ASSERT_GE(leader, 1);
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster.mock(), leader), RD_KAFKA_RESP_ERR_NO_ERROR);

  constexpr int n = 100;
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i)
    docs.push_back(R"({"user_id":"d)" + std::to_string(i) + R"(","item_id":)" + std::to_string(i) + "}");
  h.inject_json("in", docs);
  // While the leader is down no delivery report can be positive: no acknowledgement may complete.
  EXPECT_FALSE(h.wait_idle(1500ms)) << "events were acknowledged while their leader was down";
  EXPECT_EQ(metric(h.metrics_text(), "sluice_kafka_produced_total"), 1.0);

  ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster.mock(), leader), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(h.wait_idle(15s));
  const auto statuses = h.ack_statuses("in");
  ASSERT_EQ(statuses.size(), static_cast<std::size_t>(n + 1));
  EXPECT_TRUE(
      std::all_of(statuses.begin(), statuses.end(), [](AckStatus s) { return s == AckStatus::Delivered; }));
  h.stop();

  auto records = consume(cluster.bootstrap(), topic, n + 1);
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.key.value_or(""));
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(n + 1)) << "nothing lost";
  EXPECT_EQ(records.size(), static_cast<std::size_t>(n + 1)) << "idempotent producer: no duplicates";
}

TEST(KafkaSink, RetriableProduceErrorsAreRetriedUntilDelivered) {
  MockCluster cluster(3);
  const std::string topic = unique_name("sink-errors");
  cluster.create_topic(topic, 2);
  // The next Produce requests fail with retriable errors (ApiKey 0 = Produce).
  rd_kafka_mock_push_request_errors(
      cluster.mock(), 0, 4, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  testing::Harness h;
  // One request in flight per connection: librdkafka 2.0.2's mock checks producer sequences only for
  // transactional producers, so a batch appended after its failed predecessor is accepted (a real broker
  // answers OUT_OF_ORDER_SEQUENCE_NUMBER) and the idempotent producer then takes the predecessor as
  // persisted. Seen under load: 2 of 50 missing from the log although reported delivered.
  h.start(sink_pipeline(cluster.bootstrap(), topic,
                        "        rdkafka.max.in.flight.requests.per.connection: 1\n"));
  constexpr int n = 50;
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) docs.push_back(R"({"user_id":"r)" + std::to_string(i) + R"(","item_id":1})");
  h.inject_json("in", docs);
  ASSERT_TRUE(h.wait_idle(15s));
  const auto statuses = h.ack_statuses("in");
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), AckStatus::Delivered), n);
  h.stop();
  EXPECT_EQ(consume(cluster.bootstrap(), topic, n).size(), static_cast<std::size_t>(n));
}

TEST(KafkaSink, PermanentErrorIsNotAcknowledgedAsDelivered) {
  MockCluster cluster(3);
  const std::string topic = unique_name("sink-too-large");
  cluster.create_topic(topic, 1);
  testing::Harness h;
  h.start(sink_pipeline(cluster.bootstrap(), topic, "        rdkafka.message.max.bytes: 2000\n"));
  const std::string big(5000, 'x');
  h.inject_json("in", {R"({"user_id":"small1","item_id":1})", R"({"user_id":"big","item_id":")" + big + "\"}",
                       R"({"user_id":"small2","item_id":2})"});
  ASSERT_TRUE(h.wait_idle(15s));
  const auto statuses = h.ack_statuses("in");
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0], AckStatus::Delivered);
  EXPECT_NE(statuses[1], AckStatus::Delivered) << "a message too large must not be reported delivered";
  EXPECT_EQ(statuses[2], AckStatus::Delivered);
  h.stop();
  EXPECT_EQ(consume(cluster.bootstrap(), topic, 2).size(), 2u);
}

}  // namespace
}  // namespace sluice::kafka::test
