#include "common.hpp"

#include <sstream>

#include "embedded_cluster.hpp"

namespace sluice::kafka {

ConfPtr new_conf() {
  return ConfPtr(rd_kafka_conf_new());
}

void set_conf(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
              const std::string& where) {
  char err[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
    throw std::runtime_error(where + ": librdkafka setting " + name + "=" + value + ": " + err);
}

namespace {
std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}
}  // namespace

SchemaBuilder& add_brokers_option(SchemaBuilder&& builder) {
  return builder.option("brokers", OptionType::StringList)
      .required()
      .doc(
          "Bootstrap brokers: a list or a comma-separated string of host:port; `embedded` for the in-process "
          "cluster.");
}

std::vector<std::string> broker_entries(const Config& config) {
  // `brokers` is a StringList: "a:9092,b:9092" arrives as one entry, a YAML list as several.
  std::vector<std::string> parts;
  for (const auto& entry : config.strings("brokers")) {
    std::stringstream ss(entry);
    for (std::string item; std::getline(ss, item, ',');)
      if (auto t = trim(item); !t.empty()) parts.push_back(std::move(t));
  }
  return parts;
}

Brokers resolve_brokers(const Config& config, Logger& log) {
  const std::vector<std::string> parts = broker_entries(config);
  Brokers b;
  if (parts.size() == 1 && parts[0] == "embedded") {
    b.embedded = EmbeddedCluster::acquire(log);
    b.bootstrap = b.embedded->bootstrap();
    return b;
  }
  for (const auto& p : parts) {
    if (!b.bootstrap.empty()) b.bootstrap += ',';
    b.bootstrap += p;
  }
  return b;
}

void apply_passthrough(rd_kafka_conf_t* conf, const Config& config) {
  for (const auto& [name, value] : config.passthrough("rdkafka."))
    set_conf(conf, name, value, config.where("rdkafka." + name));
}

HandlePtr new_client(rd_kafka_type_t type, ConfPtr conf, const std::string& where) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) throw std::runtime_error(where + ": cannot create the Kafka client: " + err);
  conf.release();  // rd_kafka_new took ownership
  return HandlePtr(rk);
}

namespace {
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* owner = static_cast<ClientBase*>(rd_kafka_opaque(rk));
  if (!owner) return;
  // syslog levels. librdkafka logs broker connection failures at 3 and reports them again
  // through error_cb (and recovers by itself), so 3 is only a warning here.
  const LogLevel lvl = level <= 2   ? LogLevel::Error
                       : level <= 4 ? LogLevel::Warn
                       : level <= 6 ? LogLevel::Info
                                    : LogLevel::Debug;
  owner->log.log(lvl, "librdkafka ", fac, ": ", buf);
}
void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  (void)rk;
  auto* owner = static_cast<ClientBase*>(opaque);
  if (!owner) return;
  // Transport errors resolve themselves (librdkafka reconnects); everything else deserves attention.
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  const bool transient = code == RD_KAFKA_RESP_ERR__TRANSPORT ||
                         code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__RESOLVE;
  owner->log.log(transient ? LogLevel::Warn : LogLevel::Error, "kafka: ", rd_kafka_err2name(code), ": ",
                 reason);
}
}  // namespace

void route_logs(rd_kafka_conf_t* conf, ClientBase* owner) {
  rd_kafka_conf_set_opaque(conf, owner);
  rd_kafka_conf_set_log_cb(conf, &log_cb);
  rd_kafka_conf_set_error_cb(conf, &error_cb);
}

std::string coordinates(const std::string& topic, std::int32_t partition) {
  return topic + "[" + std::to_string(partition) + "]";
}

}  // namespace sluice::kafka
