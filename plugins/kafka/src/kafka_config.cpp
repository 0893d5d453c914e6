// The Kafka plugins' factory-side checks: every rule of their configs that
// needs no broker, so that `sluice validate` refuses what `sluice run` would.
#include <regex.h>

#include <algorithm>

#include "common.hpp"
#include "kafka_sink.hpp"
#include "kafka_source.hpp"
#include "topic_pattern.hpp"

namespace sluice::kafka {
namespace {

void check_brokers(const Config& config, ConfigIssues& issues) {
  const std::vector<std::string> brokers = broker_entries(config);
  if (brokers.empty()) issues.error(config, "brokers", "the list is empty");
  if (brokers.size() > 1 && std::find(brokers.begin(), brokers.end(), "embedded") != brokers.end())
    issues.error(config, "brokers", "`embedded` cannot be mixed with other brokers");
}

/** Every `rdkafka.*` setting, tried on a configuration of its own: librdkafka knows its names and values. */
void check_passthrough(const Config& config, ConfigIssues& issues) {
  ConfPtr conf = new_conf();
  for (const auto& [name, value] : config.passthrough("rdkafka.")) {
    // Loads shared libraries as it is set: not a check without the outside world.
    if (name == "plugin.library.paths") continue;
    char err[512];
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      issues.error(config, "rdkafka." + name, std::string("librdkafka setting ") + name + ": " + err);
  }
}

}  // namespace

void KafkaSource::check(const Config& config, ConfigIssues& issues) {
  check_brokers(config, issues);
  check_passthrough(config, issues);
  // The source commits by itself, with the marks transforms record: librdkafka's own commits would
  // commit unacknowledged offsets or erase the marks.
  for (const char* own : {"enable.auto.commit", "enable.auto.offset.store", "auto.commit.interval.ms"})
    if (config.has(std::string("rdkafka.") + own))
      issues.error(config, std::string("rdkafka.") + own,
                   std::string(own) +
                       " is the source's own (it commits acknowledged offsets itself; see "
                       "commit_interval)");
  const std::vector<std::string> topics = config.strings("topics");
  if (topics.empty()) issues.error(config, "topics", "the list is empty");
  for (const std::string& topic : topics) {
    if (topic.empty()) {
      issues.error(config, "topics", "a topic name is empty");
    } else if (topic.front() == '^') {
      // librdkafka matches topic patterns with POSIX extended regular expressions (regcomp), whose
      // memory grows exponentially with nested repetitions: too large a one is refused unbuilt.
      if (topic_pattern_nodes(topic) > kMaxTopicPatternNodes) {
        issues.error(config, "topics",
                     "topic pattern '" + topic.substr(0, 64) + (topic.size() > 64 ? "...'" : "'") +
                         " is too complex: its nested repetitions would compile to more than 100000 "
                         "regular expression nodes");
        continue;
      }
      regex_t re;
      const int rc = regcomp(&re, topic.c_str(), REG_EXTENDED | REG_NOSUB);
      if (rc != 0) {
        char why[256];
        regerror(rc, &re, why, sizeof why);
        issues.error(config, "topics", "invalid topic pattern '" + topic + "': " + why);
      } else {
        regfree(&re);
      }
    }
  }
  if (config.str("group").empty()) issues.error(config, "group", "must not be empty");
}

void KafkaSink::check(const Config& config, ConfigIssues& issues) {
  check_brokers(config, issues);
  check_passthrough(config, issues);
  if (config.has("headers"))
    for (const auto& [name, text] : config.string_map("headers")) {
      std::string error;
      if (!Template::parse(text, &error)) issues.error(config, "headers", "header " + name + ": " + error);
    }
  if (config.str("payload") == "template" && !config.has("template"))
    issues.error(config, "payload", "payload: template needs the `template` option");
  if (config.boolean("idempotence") && config.str("acks") != "all")
    issues.error(config, "acks", "idempotence needs acks: all (or set idempotence: false)");
}

}  // namespace sluice::kafka
