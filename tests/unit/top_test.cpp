// `sluice top`'s reading of /metrics and /status, its rates and its screen lines.
#include <gtest/gtest.h>

#include <cmath>

#include "app/top/metrics_text.hpp"
#include "app/top/top_screen.hpp"

using namespace sluice::app::top;
using nlohmann::json;

TEST(MetricsText, SamplesWithLabelsEscapesAndSpecialValues) {
  const auto s = parse_metrics_text(
      "# HELP x help\n# TYPE x counter\n"
      "x{pipeline=\"p\",component=\"p.sink.\\\"q\\\\\"} 12 1700000000\r\n"
      "y 1.5e3\n"
      "z{le=\"+Inf\"} +Inf\n"
      "nan NaN\n"
      "broken{a=\"b\" 3\n"
      "no_value{a=\"b\"}\n"
      "{a=\"b\"} 1\n");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].name, "x");
  EXPECT_EQ(s[0].labels.at("component"), "p.sink.\"q\\");
  EXPECT_EQ(s[0].value, 12);
  EXPECT_EQ(s[1].value, 1500);
  EXPECT_TRUE(std::isinf(s[2].value));
  EXPECT_TRUE(std::isnan(s[3].value));
}

namespace {

json status(double out) {
  return json::parse(R"({"version": "0.1.0", "uptime_seconds": 75, "ready": true, "pipelines": [
    {"name": "views", "state": "running",
     "source": {"id": "views.source.kafka", "type": "kafka", "counters": {"events_out": )" +
                     std::to_string(out) + R"(}},
     "transforms": [],
     "sinks": [{"id": "views.sink.file", "type": "file", "queue_depth": 5, "queue_max": 20000,
                "counters": {"events_in": )" +
                     std::to_string(out) + ", \"events_out\": " + std::to_string(out) + R"(}}]},
    {"name": "idle", "state": "failed", "problem": "source failed: port 5000 taken",
     "source": {"id": "idle.source.http", "type": "http", "counters": {}}, "sinks": []}]})");
}

std::vector<Sample> metrics(double lag, double latency_sum, double batches) {
  return parse_metrics_text(
      "sluice_kafka_consumer_lag{pipeline=\"views\",component=\"views.source.kafka\"} " +
      std::to_string(lag) +
      "\nsluice_kafka_assigned_partitions{pipeline=\"views\",component=\"views.source.kafka\"} 4"
      "\nsluice_batch_latency_seconds_sum{pipeline=\"views\",component=\"views.sink.file\"} " +
      std::to_string(latency_sum) +
      "\nsluice_batch_latency_seconds_count{pipeline=\"views\",component=\"views.sink.file\"} " +
      std::to_string(batches) +
      "\nsluice_http_responses_total{pipeline=\"idle\",component=\"idle.source.http\",code=\"200\"} 7"
      "\nsluice_http_responses_total{pipeline=\"idle\",component=\"idle.source.http\",code=\"503\"} 2\n");
}

}  // namespace

TEST(TopModel, RatesAreCounterDifferencesOverTheTimeBetweenPolls) {
  const Snapshot first = build_snapshot(status(1000), metrics(50, 0.1, 10), 100.0, nullptr);
  ASSERT_EQ(first.pipelines.size(), 2u);
  EXPECT_LT(first.pipelines[0].components[0].out_rate, 0) << "no rate from one poll";
  const Snapshot second = build_snapshot(status(3000), metrics(20, 0.3, 30), 102.0, &first);
  const ComponentRow& source = second.pipelines[0].components[0];
  const ComponentRow& sink = second.pipelines[0].components[1];
  EXPECT_DOUBLE_EQ(source.out_rate, 1000);
  EXPECT_DOUBLE_EQ(sink.in_rate, 1000);
  EXPECT_DOUBLE_EQ(sink.latency_ms, 10);  // 0.2 s over 20 batches
  EXPECT_EQ(source.notes, "lag 20 4 partitions");
  EXPECT_EQ(second.pipelines[1].components[0].notes, "2xx 7 5xx 2");
  EXPECT_EQ(second.pipelines[1].problem, "source failed: port 5000 taken");
}

TEST(TopModel, SortAndFilter) {
  const Snapshot first = build_snapshot(status(0), {}, 1.0, nullptr);
  const Snapshot second = build_snapshot(status(500), {}, 2.0, &first);
  auto names = [](const std::vector<const PipelineRow*>& rows) {
    std::string out;
    for (const auto* r : rows) out += r->name + " ";
    return out;
  };
  EXPECT_EQ(names(arrange(second, SortKey::Name, "")), "idle views ");
  EXPECT_EQ(names(arrange(second, SortKey::OutRate, "")), "views idle ");
  EXPECT_EQ(names(arrange(second, SortKey::Name, "vie")), "views ");
}

TEST(TopScreen, EightyColumnsAFailedPipelineStandsOut) {
  const Snapshot first = build_snapshot(status(0), metrics(0, 0, 0), 1.0, nullptr);
  const Snapshot second = build_snapshot(status(1234567), metrics(0, 0, 0), 2.0, &first);
  View view;
  view.admin = "127.0.0.1:9464";
  const auto lines = render(second, view);
  bool failed_warned = false, sink_row = false;
  for (const Line& l : lines) {
    EXPECT_LE(l.text.size(), 80u) << l.text;
    if (l.text.rfind("idle  failed: source failed", 0) == 0) failed_warned = l.style == Line::Style::Warning;
    if (l.text.rfind("  sink file", 0) == 0) {
      sink_row = true;
      EXPECT_NE(l.text.find("1.2M"), std::string::npos) << l.text;     // the rate
      EXPECT_NE(l.text.find("5/20.0k"), std::string::npos) << l.text;  // the queue
    }
  }
  EXPECT_TRUE(failed_warned);
  EXPECT_TRUE(sink_row);
  EXPECT_EQ(lines[0].text, "sluice 0.1.0 at 127.0.0.1:9464  up 1m15s  ready  sort: name");
}

TEST(TopScreen, AnUptimeThatIsNotATimeIsAQuestionMark) {
  // Found by fuzz_metrics_text: a /status with "uptime_seconds": 1e300 was cast to long (UB).
  for (const char* uptime : {"1e300", "-5", "1e15"}) {
    json s = status(0);
    s["uptime_seconds"] = json::parse(uptime);
    const auto lines = render(build_snapshot(s, metrics(0, 0, 0), 1.0, nullptr), View{});
    EXPECT_NE(lines[0].text.find("up ?  ready"), std::string::npos) << uptime << ": " << lines[0].text;
  }
}
