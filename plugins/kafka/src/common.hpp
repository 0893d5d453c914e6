#pragma once
// librdkafka handles held by RAII, and the settings shared by the source and
// the sink (broker lists, `rdkafka.*` pass-through).
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include <sluice/sdk.hpp>

namespace sluice::kafka {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* h) const noexcept { rd_kafka_headers_destroy(h); }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};

using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

/** A new, empty librdkafka configuration. */
ConfPtr new_conf();
/** Sets @p name on @p conf; throws std::runtime_error with librdkafka's reason (naming @p where). */
void set_conf(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
              const std::string& where);

class EmbeddedCluster;

/**
 * The broker list of a plugin: the `brokers` option as a list or a comma
 * string, where the literal `embedded` stands for the in-process cluster.
 */
struct Brokers {
  std::string bootstrap;                      ///< comma-separated host:port list
  std::shared_ptr<EmbeddedCluster> embedded;  ///< set when `embedded`: keeps the cluster alive
};

/** Declares the `brokers` option, the same for every Kafka plugin. */
SchemaBuilder& add_brokers_option(SchemaBuilder&& builder);

/** The entries of the `brokers` option: a list, comma-separated strings, or both. */
std::vector<std::string> broker_entries(const Config& config);

/** Resolves the `brokers` option (acquiring the embedded cluster when asked for); checked before. */
Brokers resolve_brokers(const Config& config, Logger& log);

/** Applies every `rdkafka.*` option of @p config to @p conf (they win over sluice's own settings). */
void apply_passthrough(rd_kafka_conf_t* conf, const Config& config);

/** Creates a client of @p type; throws std::runtime_error with librdkafka's reason. */
HandlePtr new_client(rd_kafka_type_t type, ConfPtr conf, const std::string& where);

/**
 * What a client's opaque points to: librdkafka's log lines and errors go to
 * the owner's logger. Source and sink derive from it.
 */
struct ClientBase {
  explicit ClientBase(Logger& l) : log(l) {}
  Logger& log;
};

/** Sets @p owner as @p conf's opaque and routes librdkafka's logs and errors to its logger. */
void route_logs(rd_kafka_conf_t* conf, ClientBase* owner);

/** Text of a topic partition for logs: "topic[3]". */
std::string coordinates(const std::string& topic, std::int32_t partition);

}  // namespace sluice::kafka
