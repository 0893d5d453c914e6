// The model of `sluice top` (see top_model.hpp).
#include "app/top/top_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sluice::app::top {
namespace {

using nlohmann::json;

double number(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0;
}

std::string text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ComponentRow component(const json& c, const char* role) {
  ComponentRow row;
  row.id = text(c, "id");
  row.role = role;
  row.type = text(c, "type");
  const json counters = c.contains("counters") && c["counters"].is_object() ? c["counters"] : json::object();
  row.in = number(counters, "events_in");
  row.out = number(counters, "events_out");
  row.failed = number(counters, "events_failed");
  row.dead_lettered = number(counters, "events_dead_lettered");
  row.retried = number(counters, "events_retried");
  row.dropped = number(counters, "events_dropped");
  if (c.contains("queue_max")) {
    row.queue_depth = number(c, "queue_depth");
    row.queue_max = number(c, "queue_max");
  }
  return row;
}

/** Figures of one component from /metrics, by metric name (label sets summed). */
using ComponentMetrics = std::map<std::string, double>;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/** The plugin figures worth a glance, from the component's own metrics. */
std::string notes_of(const ComponentMetrics& m, const std::map<std::string, double>& http_classes) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  auto has = [&](const char* name) { return m.count(name) > 0; };
  if (has("sluice_kafka_consumer_lag")) add("lag " + human(m.at("sluice_kafka_consumer_lag")));
  if (has("sluice_kafka_commit_lag")) add("uncommitted " + human(m.at("sluice_kafka_commit_lag")));
  if (has("sluice_kafka_assigned_partitions"))
    add(fmt("%.0f partitions", m.at("sluice_kafka_assigned_partitions")));
  if (has("sluice_kafka_paused") && m.at("sluice_kafka_paused") > 0) add("PAUSED");
  if (has("sluice_source_stuck") && m.at("sluice_source_stuck") > 0) add("STUCK");
  if (has("sluice_aggregate_groups")) add(human(m.at("sluice_aggregate_groups")) + " groups");
  if (has("sluice_http_client_connected"))
    add(m.at("sluice_http_client_connected") > 0 ? "connected" : "DISCONNECTED");
  if (has("sluice_http_client_reconnects_total"))
    add(human(m.at("sluice_http_client_reconnects_total")) + " reconnects");
  for (const auto& [cls, n] : http_classes) add(cls + " " + human(n));
  return out;
}

}  // namespace

std::string human(double v) {
  if (v < 0 || std::isnan(v)) return "-";
  if (v < 1000) return v == std::floor(v) ? fmt("%.0f", v) : fmt("%.1f", v);
  if (v < 1e6) return fmt("%.1fk", v / 1e3);
  if (v < 1e9) return fmt("%.1fM", v / 1e6);
  return fmt("%.1fG", v / 1e9);
}

Snapshot build_snapshot(const json& status, const std::vector<Sample>& metrics, double at,
                        const Snapshot* previous) {
  Snapshot s;
  s.at = at;
  if (!status.is_object()) return s;
  s.version = text(status, "version");
  s.uptime = number(status, "uptime_seconds");
  s.ready = status.contains("ready") && status["ready"].is_boolean() && status["ready"].get<bool>();

  std::map<std::string, ComponentMetrics> by_component;
  std::map<std::string, std::map<std::string, double>> http_classes;  // component -> "2xx" -> answers
  for (const Sample& m : metrics) {
    const auto c = m.labels.find("component");
    if (c == m.labels.end() || m.name.rfind("sluice_", 0) != 0) continue;
    if (m.name == "sluice_http_responses_total") {
      for (const char* key : {"code", "status"}) {
        const auto code = m.labels.find(key);
        if (code != m.labels.end() && !code->second.empty())
          http_classes[c->second][code->second.substr(0, 1) + "xx"] += m.value;
      }
      continue;
    }
    if (m.name.size() > 7 && m.name.compare(m.name.size() - 7, 7, "_bucket") == 0) continue;
    by_component[c->second][m.name] += m.value;
  }

  std::map<std::string, const ComponentRow*> before;
  if (previous)
    for (const auto& p : previous->pipelines)
      for (const auto& c : p.components) before[c.id] = &c;
  const double dt = previous ? at - previous->at : 0;

  const json pipelines =
      status.contains("pipelines") && status["pipelines"].is_array() ? status["pipelines"] : json::array();
  for (const json& p : pipelines) {
    if (!p.is_object()) continue;
    PipelineRow row;
    row.name = text(p, "name");
    row.state = text(p, "state");
    row.problem = text(p, "problem");
    if (p.contains("source") && p["source"].is_object())
      row.components.push_back(component(p["source"], "source"));
    for (const char* role : {"transforms", "sinks"})
      if (p.contains(role) && p[role].is_array())
        for (const json& c : p[role])
          if (c.is_object()) row.components.push_back(component(c, role[0] == 't' ? "transform" : "sink"));
    if (p.contains("dead_letter") && p["dead_letter"].is_object())
      row.components.push_back(component(p["dead_letter"], "dead_letter"));
    for (ComponentRow& c : row.components) {
      const ComponentMetrics& m = by_component[c.id];
      if (m.count("sluice_batch_latency_seconds_sum")) {
        c.latency_sum = m.at("sluice_batch_latency_seconds_sum");
        c.latency_count = m.at("sluice_batch_latency_seconds_count");
      }
      c.notes = notes_of(m, http_classes[c.id]);
      const auto b = before.find(c.id);
      if (b == before.end() || dt <= 0) continue;
      const ComponentRow& o = *b->second;
      auto rate = [dt](double now, double then) { return now >= then ? (now - then) / dt : 0.0; };
      c.in_rate = rate(c.in, o.in);
      c.out_rate = rate(c.out, o.out);
      c.failed_rate = rate(c.failed, o.failed);
      c.dead_lettered_rate = rate(c.dead_lettered, o.dead_lettered);
      c.retried_rate = rate(c.retried, o.retried);
      const double batches = c.latency_count - o.latency_count;
      if (batches > 0) c.latency_ms = 1000 * (c.latency_sum - o.latency_sum) / batches;
    }
    s.pipelines.push_back(std::move(row));
  }
  return s;
}

const char* to_string(SortKey k) {
  switch (k) {
    case SortKey::Name:
      return "name";
    case SortKey::InRate:
      return "in/s";
    case SortKey::OutRate:
      return "out/s";
    case SortKey::Failed:
      return "failed";
  }
  return "name";
}

SortKey next(SortKey k) {
  switch (k) {
    case SortKey::Name:
      return SortKey::InRate;
    case SortKey::InRate:
      return SortKey::OutRate;
    case SortKey::OutRate:
      return SortKey::Failed;
    case SortKey::Failed:
      return SortKey::Name;
  }
  return SortKey::Name;
}

std::vector<const PipelineRow*> arrange(const Snapshot& s, SortKey key, const std::string& filter) {
  std::vector<const PipelineRow*> out;
  for (const auto& p : s.pipelines)
    if (filter.empty() || p.name.find(filter) != std::string::npos) out.push_back(&p);
  auto sum = [](const PipelineRow& p, auto field) {
    double total = 0;
    for (const auto& c : p.components) total += std::max(0.0, c.*field);
    return total;
  };
  auto weight = [&](const PipelineRow& p) {
    switch (key) {
      case SortKey::InRate:
        return sum(p, &ComponentRow::in_rate);
      case SortKey::OutRate:
        return sum(p, &ComponentRow::out_rate);
      case SortKey::Failed:
        return sum(p, &ComponentRow::failed) + sum(p, &ComponentRow::dead_lettered);
      case SortKey::Name:
        break;
    }
    return 0.0;
  };
  std::stable_sort(out.begin(), out.end(), [&](const PipelineRow* a, const PipelineRow* b) {
    if (key == SortKey::Name) return a->name < b->name;
    return weight(*a) > weight(*b);
  });
  return out;
}

}  // namespace sluice::app::top
