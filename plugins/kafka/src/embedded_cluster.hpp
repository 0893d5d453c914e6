#pragma once
// The embedded broker: one librdkafka mock cluster per process, shared by
// every Kafka plugin that says `brokers: embedded`, plus the
// `kafka_embedded` resource that configures it.
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common.hpp"  // rdkafka.h must come before rdkafka_mock.h

#include <librdkafka/rdkafka_mock.h>

namespace sluice::kafka {

/** Settings of the embedded cluster (from the `kafka_embedded` resource, or defaults). */
struct EmbeddedOptions {
  int brokers = 1;
  int default_partitions = 4;
  struct Topic {
    std::string name;
    int partitions = 0;  ///< 0: default_partitions
  };
  std::vector<Topic> topics;
};

/**
 * The process-wide mock cluster. It lives in a producer handle of its own
 * (the mock cluster dies with the rd_kafka_t that owns it), is created by the
 * first acquire() and destroyed when the last holder lets go.
 */
class EmbeddedCluster : public ClientBase {
 public:
  /**
   * The running cluster, created with @p options (or defaults) when none
   * runs. When one runs already, @p options' topics are added to it and a
   * different broker count is logged and ignored.
   */
  static std::shared_ptr<EmbeddedCluster> acquire(Logger& log, const EmbeddedOptions* options = nullptr);

  /** @p log: the creator's logger, used during construction only (the cluster outlives its creator). */
  EmbeddedCluster(Logger& log, const EmbeddedOptions& options);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  /** bootstrap.servers of the cluster (loopback, ephemeral ports). */
  const std::string& bootstrap() const noexcept { return bootstrap_; }
  int broker_count() const noexcept { return options_.brokers; }
  /**
   * A random id drawn at start: the mock's own cluster id is made from two addresses and can repeat
   * from one run to the next, while the data (and so the offsets) start again every time.
   */
  const std::string& id() const noexcept { return id_; }
  /**
   * Creates @p topic with @p partitions (0: default_partitions) unless it
   * exists. The mock has no CreateTopics and consumers do not auto-create,
   * so plugins call this for every topic they name.
   */
  void ensure_topic(Logger& log, const std::string& topic, int partitions = 0);
  rd_kafka_mock_cluster_t* mock() const noexcept { return mock_; }

 private:
  EmbeddedOptions options_;
  HandlePtr owner_;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::string bootstrap_;
  std::string id_;
  std::mutex mu_;
  std::set<std::string> topics_;
};

/** Resource `kafka_embedded`: declares the embedded cluster and its topics. */
class EmbeddedResource : public Resource {
 public:
  EmbeddedResource(PluginContext& ctx, const Config& config);
  void start() override;
  Json status() const override;
  static const Schema& schema();

 private:
  PluginContext& ctx_;
  std::shared_ptr<EmbeddedCluster> cluster_;
};

}  // namespace sluice::kafka
