// Source `kafka` against a 3-broker mock cluster, fed by a plain librdkafka
// producer: every message once with its metadata, offsets committed only
// for what was acknowledged, malformed JSON dead-lettered, backpressure.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include "mock_cluster.hpp"

namespace sluice::kafka::test {
namespace {

using namespace std::chrono_literals;

std::vector<Record> numbered(int n, int from = 0) {
  std::vector<Record> out;
  for (int i = from; i < from + n; ++i) {
    Record r;
    r.key = "k" + std::to_string(i);
    r.value = R"({"n":)" + std::to_string(i) + "}";
    r.headers = {{"trace", "t" + std::to_string(i)}};
    out.push_back(std::move(r));
  }
  return out;
}

std::string source_pipeline(const std::string& bootstrap, const std::string& topic, const std::string& group,
                            const std::string& extra_source = "", const std::string& extra_pipeline = "",
                            const std::string& sink = "      - {type: capture, name: out}\n") {
  return R"(
pipelines:
  consume:
)" + extra_pipeline +
         R"(    source:
      type: kafka
      brokers: ")" +
         bootstrap + R"("
      topics: [)" +
         topic + R"(]
      group: )" +
         group + R"(
      commit_interval: 200ms
      rdkafka.session.timeout.ms: 6000

)" + extra_source +
         R"(    sinks:
)" + sink;
}

/** Every committed offset equals the partition's high watermark (everything acknowledged was committed). */
void expect_all_committed(const std::string& bootstrap, const std::string& group, const std::string& topic) {
  const auto hw = high_watermarks(bootstrap, topic);
  const auto committed_offsets = committed(bootstrap, group, topic);
  for (const auto& [p, high] : hw) {
    if (high == 0) continue;
    ASSERT_TRUE(committed_offsets.count(p)) << "partition " << p;
    EXPECT_EQ(committed_offsets.at(p), high) << "partition " << p;
  }
}

TEST(KafkaSource, PreloadedTopicConsumedOnceWithMetadataAndCommitted) {
  MockCluster cluster(3);
  const std::string topic = unique_name("src-preloaded");
  const std::string group = unique_name("g");
  cluster.create_topic(topic, 4);
  constexpr int n = 400;
  produce(cluster.bootstrap(), topic, numbered(n));

  testing::Harness h;
  h.start(source_pipeline(cluster.bootstrap(), topic, group));
  ASSERT_TRUE(h.wait_captured("out", n, 15s));
  ASSERT_TRUE(h.wait_idle(5s));
  const auto events = h.captured("out");
  EXPECT_EQ(events.size(), static_cast<std::size_t>(n)) << "no duplicates";
  std::set<int> seen;
  std::set<std::pair<int, long>> coordinates;
  for (const auto& e : events) {
    const int i = e.fields().at("n").get<int>();
    seen.insert(i);
    EXPECT_EQ(e.meta.topic, topic);
    EXPECT_GE(e.meta.partition, 0);
    EXPECT_GE(e.meta.offset, 0);
    coordinates.emplace(e.meta.partition, e.meta.offset);
    ASSERT_TRUE(e.meta.key.has_value());
    EXPECT_EQ(*e.meta.key, "k" + std::to_string(i));
    const std::string* trace = e.meta.header("trace");
    ASSERT_NE(trace, nullptr);
    EXPECT_EQ(*trace, "t" + std::to_string(i));
    EXPECT_GT(e.timestamp_ms, 0);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(coordinates.size(), static_cast<std::size_t>(n));
  h.stop();
  expect_all_committed(cluster.bootstrap(), group, topic);

  // A restart of the same group reads nothing again.
  produce(cluster.bootstrap(), topic, numbered(10, n));
  testing::Harness again;
  again.start(source_pipeline(cluster.bootstrap(), topic, group));
  ASSERT_TRUE(again.wait_captured("out", 10, 60s));
  ASSERT_TRUE(again.wait_idle(5s));
  const auto second = again.captured("out");
  EXPECT_EQ(second.size(), 10u);
  for (const auto& e : second) EXPECT_GE(e.fields().at("n").get<int>(), n);
  again.stop();
}

TEST(KafkaSource, MalformedJsonIsDeadLetteredWithCoordinatesAndTheRestDelivered) {
  MockCluster cluster(3);
  const std::string topic = unique_name("src-malformed");
  const std::string group = unique_name("g");
  cluster.create_topic(topic, 1);
  auto records = numbered(20);
  records[5].value = "{not json";
  records[12].value = "";
  produce(cluster.bootstrap(), topic, records);

  testing::Harness h;
  h.start(source_pipeline(cluster.bootstrap(), topic, group, "",
                          "    dead_letter: {type: capture, name: dlq}\n"));
  ASSERT_TRUE(h.wait_captured("out", 18, 15s));
  ASSERT_TRUE(h.wait_captured("dlq", 2, 5s));
  ASSERT_TRUE(h.wait_idle(5s));
  EXPECT_EQ(h.captured("out").size(), 18u);
  const auto dead = h.captured("dlq");
  ASSERT_EQ(dead.size(), 2u);
  std::set<long> offsets;
  for (const auto& e : dead) {
    EXPECT_EQ(e.meta.topic, topic);
    EXPECT_EQ(e.meta.partition, 0);
    offsets.insert(e.meta.offset);
    EXPECT_NE(e.meta.error.find("invalid JSON"), std::string::npos) << e.meta.error;
    EXPECT_NE(e.meta.error.find(topic + "[0]"), std::string::npos) << e.meta.error;
    EXPECT_NE(e.meta.error.find("offset " + std::to_string(e.meta.offset)), std::string::npos)
        << e.meta.error;
  }
  EXPECT_EQ(offsets, (std::set<long>{5, 12}));
  EXPECT_EQ(dead[0].payload(), "{not json") << "the message is dead-lettered as it was";
  h.stop();
  expect_all_committed(cluster.bootstrap(), group, topic);
}

/** The value of gauge @p name for the kafka source in h's metrics, or -1 when absent. */
long gauge_value(const testing::Harness& h, const std::string& name) {
  std::istringstream in(h.metrics_text());
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0 && line.find("source.kafka") != std::string::npos)
      return std::stol(line.substr(line.rfind(' ') + 1));
  return -1;
}

TEST(KafkaSource, FailedAcknowledgementKeepsTheOffsetUncommittedAndShowsStuck) {
  MockCluster cluster(3);
  const std::string topic = unique_name("src-failed");
  const std::string group = unique_name("g");
  cluster.create_topic(topic, 1);
  auto records = numbered(10);
  records[4].value = R"({"n":4,"bad":true})";
  produce(cluster.bootstrap(), topic, records);

  testing::Harness h;
  // The sink refuses offset 4, and so does the dead-letter sink: acknowledged Failed.
  h.start(source_pipeline(cluster.bootstrap(), topic, group, "",
                          "    dead_letter: {type: capture, name: dlq, error_when: bad}\n",
                          "      - {type: capture, name: out, error_when: bad}\n"));
  ASSERT_TRUE(h.wait_captured("out", 9, 15s));
  ASSERT_TRUE(h.wait_idle(5s));
  // Reported within the source's one-second bookkeeping round: metric and /health's reason.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (gauge_value(h, "sluice_source_stuck") != 1 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(gauge_value(h, "sluice_source_stuck"), 1);
  const Json status = h.status();
  ASSERT_EQ(status["pipelines"].size(), 1u);
  EXPECT_NE(status["pipelines"][0].value("problem", "").find("stuck"), std::string::npos) << status.dump();
  EXPECT_GE(gauge_value(h, "sluice_kafka_commit_lag"), 6);  // offsets 4..9 at least
  h.stop();
  // Stopping commits what is done, never past offset 4: a restart consumes it again.
  const auto offsets = committed(cluster.bootstrap(), group, topic);
  if (offsets.count(0)) {
    EXPECT_LE(offsets.at(0), 4) << "committed past the failed event";
  }

  testing::Harness again;
  again.start(source_pipeline(cluster.bootstrap(), topic, group));
  ASSERT_TRUE(again.wait_captured("out", 6, 15s));
  ASSERT_TRUE(again.wait_idle(5s));
  std::set<int> seen;
  for (const auto& e : again.captured("out")) seen.insert(e.fields().at("n").get<int>());
  EXPECT_TRUE(seen.count(4)) << "the failed event was not consumed again";
  again.stop();
}

/**
 * 3000 messages through a small queue in front of a sink that keeps failing at first, so that the
 * pipeline fills up, with the source's @p pause_after. Checks that nothing is lost or read twice and
 * that everything is committed; returns the metrics page of the run.
 */
std::string run_with_stalls(const std::string& pause_after) {
  MockCluster cluster(3);
  const std::string topic = unique_name("src-backpressure");
  const std::string group = unique_name("g");
  cluster.create_topic(topic, 2);
  constexpr int n = 3000;
  produce(cluster.bootstrap(), topic, numbered(n));

  testing::Harness h;
  h.start(source_pipeline(
      cluster.bootstrap(), topic, group, "      batch_size: 100\n      pause_after: " + pause_after + "\n",
      "    queue_max_events: 200\n",
      "      - {type: capture, name: out, fail_first: 10, batch_max_events: 50, "
      "retry_initial_backoff: 100ms, retry_max_backoff: 100ms, retry_max_attempts: 0}\n"));
  EXPECT_TRUE(h.wait_captured("out", n, 18s));
  EXPECT_TRUE(h.wait_idle(5s));
  const auto events = h.captured("out");
  std::set<int> seen;
  for (const auto& e : events) seen.insert(e.fields().at("n").get<int>());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n)) << "nothing lost";
  EXPECT_EQ(events.size(), static_cast<std::size_t>(n)) << "nothing fetched twice";
  const std::string metrics = h.metrics_text();
  EXPECT_GE(metric(metrics, "sluice_events_retried_total"), 1.0) << "the sink stalled: " << metrics;
  EXPECT_EQ(metric(metrics, "sluice_kafka_paused"), 0.0) << "resumed once the pipeline drained";
  h.stop();
  expect_all_committed(cluster.bootstrap(), group, topic);
  return metrics;
}

TEST(KafkaSource, BackpressurePausesAndResumesWithoutLossOrDuplicates) {
  // pause_after: 0s pauses at the first refusal.
  const std::string metrics = run_with_stalls("0s");
  EXPECT_GE(metric(metrics, "sluice_kafka_pauses_total"), 1.0) << metrics;
}

TEST(KafkaSource, ShortBackpressureHoldsTheBatchWithoutPausing) {
  // Every stall is shorter than pause_after: the source only holds its batch.
  const std::string metrics = run_with_stalls("60s");
  EXPECT_EQ(metric(metrics, "sluice_kafka_pauses_total"), 0.0) << metrics;
}

TEST(KafkaSource, AnAggregateCountsEveryMessageOnceAndAllIsCommitted) {
  MockCluster cluster(3);
  const std::string topic = unique_name("src-aggregate");
  const std::string group = unique_name("g");
  cluster.create_topic(topic, 4);
  constexpr int n = 2000;
  produce(cluster.bootstrap(), topic, numbered(n));

  testing::Harness h;
  // Each output joins the acknowledgements of the messages it counts; the sink refuses the first writes.
  h.start(source_pipeline(cluster.bootstrap(), topic, group,
                          "    transforms:\n      - {type: aggregate, by_partition: true, window: 100ms,\n"
                          "         aggregates: {views: count, total: {sum: n}}}\n",
                          "",
                          "      - {type: capture, name: out, fail_first: 3, retry_initial_backoff: 50ms, "
                          "retry_max_backoff: 50ms, retry_max_attempts: 0}\n"));
  std::int64_t views = 0, total = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (views < n && std::chrono::steady_clock::now() < deadline) {
    views = total = 0;
    for (const auto& e : h.captured("out")) {
      views += e.fields()["views"].get<std::int64_t>();
      total += e.fields()["total"].get<std::int64_t>();
    }
    if (views < n) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(views, n) << "every message counted once";
  EXPECT_EQ(total, static_cast<std::int64_t>(n) * (n - 1) / 2);
  for (const auto& e : h.captured("out")) {
    EXPECT_EQ(e.meta.topic, topic);
    EXPECT_GE(e.meta.partition, 0);
    EXPECT_GE(e.meta.offset, 0);
  }
  h.stop();
  expect_all_committed(cluster.bootstrap(), group, topic);
}

TEST(KafkaSource, MarksRecordedOnAPartitionReachItsNextOwnerUntilThePositionPassesThem) {
  MockCluster cluster(3);
  const std::string topic = unique_name("src-marks");
  const std::string group = unique_name("g");
  cluster.create_topic(topic, 2);
  produce(cluster.bootstrap(), topic, numbered(40));
  std::map<std::int32_t, std::int64_t> mark;  // per partition: a mark ahead of everything consumed

  {
    testing::Harness h;
    h.start(source_pipeline(cluster.bootstrap(), topic, group));
    ASSERT_TRUE(h.wait_captured("out", 40, 15s));
    ASSERT_TRUE(h.wait_idle(5s));
    for (const Event& e : h.captured("out")) {
      ASSERT_NE(e.meta.checkpoint, nullptr) << "events carry their partition's checkpoint";
      EXPECT_TRUE(e.meta.checkpoint->recovered().empty()) << "a new group has no marks";
      EXPECT_FALSE(e.meta.checkpoint->origin().empty()) << "the cluster's id, as its brokers report it";
      if (mark.count(e.meta.partition)) continue;
      const std::int64_t m = e.meta.offset + 100;
      std::string why;
      ASSERT_EQ(e.meta.checkpoint->record(m, why), Checkpoint::Result::Recorded) << why;
      mark[e.meta.partition] = m;
    }
    ASSERT_EQ(mark.size(), 2u);
    const Event any = h.captured("out").front();
    h.stop();
    std::string why;
    EXPECT_FALSE(any.meta.checkpoint->owned());
    EXPECT_EQ(any.meta.checkpoint->record(any.meta.offset + 200, why), Checkpoint::Result::Lost)
        << "a closed consumer records nothing";
  }
  expect_all_committed(cluster.bootstrap(), group, topic);

  // The next owner gets them with the position (the periodic and the final commits kept them).
  produce(cluster.bootstrap(), topic, numbered(400, 40));
  {
    testing::Harness h;
    h.start(source_pipeline(cluster.bootstrap(), topic, group));
    ASSERT_TRUE(h.wait_captured("out", 400, 15s));
    ASSERT_TRUE(h.wait_idle(5s));
    std::set<std::int32_t> seen;
    for (const Event& e : h.captured("out")) {
      ASSERT_NE(e.meta.checkpoint, nullptr);
      EXPECT_EQ(e.meta.checkpoint->recovered(), std::vector<std::int64_t>{mark.at(e.meta.partition)})
          << "partition " << e.meta.partition;
      seen.insert(e.meta.partition);
    }
    EXPECT_EQ(seen.size(), 2u);
    h.stop();
  }
  expect_all_committed(cluster.bootstrap(), group, topic);

  // 440 messages over 2 partitions: both positions are past their mark, which is forgotten.
  produce(cluster.bootstrap(), topic, numbered(10, 440));
  testing::Harness h;
  h.start(source_pipeline(cluster.bootstrap(), topic, group));
  ASSERT_TRUE(h.wait_captured("out", 10, 15s));
  for (const Event& e : h.captured("out")) {
    ASSERT_GT(e.meta.offset, mark.at(e.meta.partition));
    EXPECT_TRUE(e.meta.checkpoint->recovered().empty()) << "partition " << e.meta.partition;
  }
  h.stop();
}

}  // namespace
}  // namespace sluice::kafka::test
