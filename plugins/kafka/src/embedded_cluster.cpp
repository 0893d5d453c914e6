#include "embedded_cluster.hpp"

#include "mock_nodelay.h"

#include <cstdio>
#include <random>

namespace sluice::kafka {

namespace {
// The cluster outlives the plugin that created it, so its own client logs
// cannot go to that plugin's logger: errors go to stderr, the rest is dropped.
class StderrLogger : public Logger {
 public:
  bool enabled(LogLevel level) const noexcept override { return level >= LogLevel::Error; }
  void write(LogLevel level, std::string_view message) override {
    std::fprintf(stderr, "%s embedded-kafka: %.*s\n", to_string(level), static_cast<int>(message.size()),
                 message.data());
  }
};
StderrLogger g_stderr_logger;

std::mutex g_mu;
std::weak_ptr<EmbeddedCluster> g_cluster;
}  // namespace

std::shared_ptr<EmbeddedCluster> EmbeddedCluster::acquire(Logger& log, const EmbeddedOptions* options) {
  std::lock_guard lock(g_mu);
  if (auto running = g_cluster.lock()) {
    if (options) {
      if (options->brokers != running->broker_count())
        log.warn("embedded Kafka already runs with ", running->broker_count(),
                 " broker(s); ignoring brokers: ", options->brokers);
      for (const auto& t : options->topics) running->ensure_topic(log, t.name, t.partitions);
    }
    return running;
  }
  auto cluster = std::make_shared<EmbeddedCluster>(log, options ? *options : EmbeddedOptions{});
  g_cluster = cluster;
  return cluster;
}

EmbeddedCluster::EmbeddedCluster(Logger& log, const EmbeddedOptions& options)
    : ClientBase(g_stderr_logger), options_(options) {
  auto conf = new_conf();
  route_logs(conf.get(), this);
  // The owning handle never produces; it only hosts the mock cluster's threads.
  set_conf(conf.get(), "client.id", "sluice-embedded-kafka", "embedded Kafka");
  owner_ = new_client(RD_KAFKA_PRODUCER, std::move(conf), "embedded Kafka");
  mock_ = rd_kafka_mock_cluster_new(owner_.get(), options_.brokers);
  if (!mock_) throw std::runtime_error("embedded Kafka: cannot start the mock cluster");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_);
  std::random_device random;
  char id[32];
  std::snprintf(id, sizeof id, "embedded-%08x%08x", random(), random());
  id_ = id;
  sluice_mock_cluster_nodelay(bootstrap_.c_str());
  for (const auto& t : options_.topics) ensure_topic(log, t.name, t.partitions);
  log.info("embedded Kafka started: bootstrap ", bootstrap_, " (", options_.brokers, " broker(s), id ", id_,
           ")");
  log.warn(
      "embedded Kafka keeps data in memory only (about 5 MB per partition, oldest dropped) and serves this "
      "machine only: for development and tests; use a real cluster (brokers: host:9092) in production");
}

EmbeddedCluster::~EmbeddedCluster() {
  if (mock_) rd_kafka_mock_cluster_destroy(mock_);
  owner_.reset();
}

void EmbeddedCluster::ensure_topic(Logger& log, const std::string& topic, int partitions) {
  std::lock_guard lock(mu_);
  if (topics_.count(topic)) return;
  const int n = partitions > 0 ? partitions : options_.default_partitions;
  const int replication = options_.brokers < 3 ? options_.brokers : 3;
  const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mock_, topic.c_str(), n, replication);
  // An existing topic (auto-created by a producer's metadata request) is fine.
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    log.warn("embedded Kafka: cannot create topic ", topic, ": ", rd_kafka_err2str(err));
  else if (!err)
    log.info("embedded Kafka: topic ", topic, " with ", n, " partition(s)");
  topics_.insert(topic);
}

const Schema& EmbeddedResource::schema() {
  static const Schema s = [] {
    SchemaBuilder topic;
    topic.option("name", OptionType::String).required().doc("Topic name.");
    topic.option("partitions", OptionType::Int)
        .range(1, 10000)
        .doc("Partitions (default: default_partitions).");
    return SchemaBuilder()
        .option("brokers", OptionType::Int)
        .def("1")
        .range(1, 16)
        .doc("Number of in-process brokers.")
        .option("default_partitions", OptionType::Int)
        .def("4")
        .range(1, 10000)
        .doc("Partitions of topics created on first use (by a kafka source or sink naming them).")
        .option("topics", OptionType::ObjectList)
        .nested(topic.build())
        .doc("Topics created at start: list of {name, partitions}.")
        .build();
  }();
  return s;
}

EmbeddedResource::EmbeddedResource(PluginContext& ctx, const Config& config) : ctx_(ctx) {
  EmbeddedOptions o;
  o.brokers = static_cast<int>(config.integer("brokers"));
  o.default_partitions = static_cast<int>(config.integer("default_partitions"));
  if (config.has("topics"))
    for (const auto& t : config.children("topics"))
      o.topics.push_back(
          {t.str("name"), t.has("partitions") ? static_cast<int>(t.integer("partitions")) : 0});
  cluster_ = EmbeddedCluster::acquire(ctx.log(), &o);
}

void EmbeddedResource::start() {
  ctx_.log().info("embedded Kafka bootstrap: ", cluster_->bootstrap(), " (e.g. kcat -b ",
                  cluster_->bootstrap(), " -L)");
}

Json EmbeddedResource::status() const {
  return Json{{"bootstrap", cluster_->bootstrap()},
              {"brokers", cluster_->broker_count()},
              {"embedded", true},
              {"id", cluster_->id()}};
}

}  // namespace sluice::kafka
