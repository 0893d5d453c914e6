#pragma once
// Test helpers: a librdkafka mock cluster owned by the test, and a plain
// producer and consumer (clients sluice did not write) to check what the
// plugins put on and take off it.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include <librdkafka/rdkafka_mock.h>

namespace sluice::kafka::test {

/** One record as a plain client sees it. */
struct Record {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  std::int64_t timestamp = -1;
};

/** A mock cluster of @p brokers brokers on loopback, destroyed with the object. */
class MockCluster {
 public:
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  rd_kafka_mock_cluster_t* mock() const { return mock_; }
  void create_topic(const std::string& topic, int partitions, int replication = 3);

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::string bootstrap_;
};

/** Produces @p records with a plain producer and waits for every delivery report (asserts success). */
void produce(const std::string& bootstrap, const std::string& topic, const std::vector<Record>& records);

/** Reads @p topic from the beginning (no group) until @p expected records or @p timeout. */
std::vector<Record> consume(const std::string& bootstrap, const std::string& topic, std::size_t expected,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

/** Committed offsets of @p group for every partition of @p topic (-1001 when none). */
std::map<std::int32_t, std::int64_t> committed(const std::string& bootstrap, const std::string& group,
                                               const std::string& topic);

/** High watermark of every partition of @p topic. */
std::map<std::int32_t, std::int64_t> high_watermarks(const std::string& bootstrap, const std::string& topic);

/** Leader broker id of @p topic [@p partition] (from metadata). */
std::int32_t leader_of(const std::string& bootstrap, const std::string& topic, std::int32_t partition);

/** A topic name unique within the test process. */
std::string unique_name(const std::string& prefix);

/** Value of the first Prometheus sample named @p name in @p text (summed over label sets); 0 when absent. */
double metric(const std::string& text, const std::string& name);

}  // namespace sluice::kafka::test
