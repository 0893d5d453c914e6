// Histogram and the Prometheus text exposition.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <sstream>

#include "metrics_registry.hpp"
#include "sluice/log.hpp"
#include "sluice/metrics.hpp"

namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value;
};

/** A strict-enough parser for the 0.0.4 text format: fails the test on a malformed line. */
std::vector<Sample> parse_prometheus(const std::string& text,
                                     std::map<std::string, std::string>* types = nullptr) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  const std::regex sample_re(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$)");
  const std::regex label_re(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?)re");
  const std::regex type_re(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::smatch m;
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, m, type_re)) << line;
      if (types && m.size() > 2) (*types)[m[1]] = m[2];
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, m, sample_re)) << "malformed: " << line;
    if (m.empty()) continue;
    Sample s;
    s.name = m[1];
    std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it)
      s.labels[(*it)[1]] = (*it)[2];
    const std::string v = m[4];
    s.value = v == "+Inf" ? INFINITY : std::stod(v);
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST(Histogram, BucketsAreLessOrEqual) {
  sluice::Histogram h({1.0, 0.1, 10.0});  // unsorted on purpose
  h.observe(0.1);
  h.observe(0.5);
  h.observe(1.0);
  h.observe(100);
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 1.0, 10.0}));
  EXPECT_EQ(h.counts(), (std::vector<std::uint64_t>{1, 2, 0, 1}));
  EXPECT_EQ(h.count(), 4u);
  EXPECT_NEAR(h.sum(), 101.6, 1e-6);
}

TEST(Histogram, LatencyBucketsSpan100usTo30s) {
  const auto b = sluice::latency_buckets();
  EXPECT_DOUBLE_EQ(b.front(), 0.0001);
  EXPECT_DOUBLE_EQ(b.back(), 30.0);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(MetricsRegistry, SameNameAndLabelsIsTheSameObject) {
  sluice::core::MetricsRegistry reg;
  auto m = reg.scoped("p", "p.sink.x");
  auto m2 = reg.scoped("p", "p.sink.x");
  auto& a = m->counter("sluice_test_total", "help");
  auto& b = m2->counter("sluice_test_total", "help");
  EXPECT_EQ(&a, &b);
  auto& c = m->counter("sluice_test_total", "help", {{"kind", "other"}});
  EXPECT_NE(&a, &c);
  EXPECT_THROW(m->gauge("sluice_test_total", "help"), std::invalid_argument);
}

TEST(MetricsRegistry, RendersParseablePrometheusText) {
  sluice::core::MetricsRegistry reg;
  {
    auto m = reg.scoped("clicks", "clicks.sink.kafka");
    m->counter("sluice_events_out_total", "Events out.").inc(5);
    m->gauge("sluice_queue_depth_events", "Depth.").set(7);
    m->counter("sluice_weird_total", "Weird label.", {{"path", "a\"b\\c\nd"}}).inc();
    auto& h = m->histogram("sluice_batch_latency_seconds", "Latency.", {0.01, 0.1, 1});
    h.observe(0.005);
    h.observe(0.05);
    h.observe(0.05);
    h.observe(5);
  }  // the scoped view dies; its metrics stay registered

  std::map<std::string, std::string> types;
  const std::string text = reg.render_prometheus();
  const auto samples = parse_prometheus(text, &types);
  EXPECT_EQ(types["sluice_events_out_total"], "counter");
  EXPECT_EQ(types["sluice_queue_depth_events"], "gauge");
  EXPECT_EQ(types["sluice_batch_latency_seconds"], "histogram");
  EXPECT_EQ(types["process_resident_memory_bytes"], "gauge");
  EXPECT_NE(text.find("# HELP sluice_events_out_total Events out.\n"), std::string::npos);
  EXPECT_NE(text.find(R"(path="a\"b\\c\nd")"), std::string::npos) << text;

  std::vector<double> buckets;
  std::vector<double> les;
  double count = -1, sum = -1, rss = -1, threads = -1;
  for (const auto& s : samples) {
    if (s.name == "sluice_events_out_total") {
      EXPECT_EQ(s.labels.at("pipeline"), "clicks");
      EXPECT_EQ(s.labels.at("component"), "clicks.sink.kafka");
      EXPECT_EQ(s.value, 5);
    }
    if (s.name == "sluice_queue_depth_events") {
      EXPECT_EQ(s.value, 7);
    }
    if (s.name == "sluice_batch_latency_seconds_bucket") {
      buckets.push_back(s.value);
      les.push_back(s.labels.at("le") == "+Inf" ? INFINITY : std::stod(s.labels.at("le")));
      EXPECT_EQ(s.labels.at("pipeline"), "clicks");
    }
    if (s.name == "sluice_batch_latency_seconds_count") count = s.value;
    if (s.name == "sluice_batch_latency_seconds_sum") sum = s.value;
    if (s.name == "process_resident_memory_bytes") rss = s.value;
    if (s.name == "process_threads") threads = s.value;
  }
  EXPECT_EQ(buckets, (std::vector<double>{1, 3, 3, 4}));  // cumulative
  EXPECT_EQ(les, (std::vector<double>{0.01, 0.1, 1, INFINITY}));
  EXPECT_EQ(count, 4);
  EXPECT_NEAR(sum, 5.105, 1e-6);
  EXPECT_GT(rss, 1e5);
  EXPECT_GE(threads, 1);
}

TEST(LogLevel, ParseAndName) {
  sluice::LogLevel l{};
  EXPECT_TRUE(sluice::parse_log_level("WARN", l));
  EXPECT_EQ(l, sluice::LogLevel::Warn);
  EXPECT_TRUE(sluice::parse_log_level("debug", l));
  EXPECT_EQ(l, sluice::LogLevel::Debug);
  EXPECT_FALSE(sluice::parse_log_level("verbose", l));
  EXPECT_STREQ(sluice::to_string(sluice::LogLevel::Error), "error");
}
