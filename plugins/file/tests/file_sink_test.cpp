// Sink `file` through real pipelines (sluice::testing::Harness), plus reopen()
// on an instance driven directly (the harness has no SIGHUP).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sluice/sdk.hpp>
#include <sluice/testing.hpp>

#include "file_sink.hpp"

namespace sluice::file::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-file-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string pipeline(const std::string& sink_options, const std::string& extra = "") {
  return "pipelines:\n  p:\n    source: {type: inject, name: in}\n    sinks:\n      - type: file\n" +
         sink_options + extra;
}

/** Runs @p docs through a file sink configured by @p options; returns the ack statuses. */
std::vector<AckStatus> run(const std::string& options, const std::vector<std::string>& docs,
                           const std::string& extra = "") {
  testing::Harness h;
  h.start(pipeline(options, extra));
  h.inject_json("in", docs);
  EXPECT_TRUE(h.wait_idle(10s));
  auto statuses = h.ack_statuses("in");
  h.stop();
  return statuses;
}

TEST(FileSink, LinesExactlyAsTemplated) {
  TempDir dir;
  const std::string path = dir / "logs/access.log";  // parent directory does not exist yet
  std::vector<std::string> docs, expected;
  for (int i = 0; i < 2500; ++i) {
    docs.push_back(R"({"user_id":)" + std::to_string(i) + R"(,"item_id":"it)" + std::to_string(i * 7) +
                   "\"}");
    expected.push_back(std::to_string(i) + "\tit" + std::to_string(i * 7));
  }
  const auto statuses = run(
      "        path: " + path + "\n        format: template\n        template: \"{user_id}\\t{item_id}\"\n",
      docs);
  ASSERT_EQ(statuses.size(), docs.size());
  for (auto s : statuses) EXPECT_EQ(s, AckStatus::Delivered);
  EXPECT_EQ(lines_of(path), expected);
}

TEST(FileSink, ColumnsWithSeparatorAndMetadata) {
  TempDir dir;
  const std::string path = dir / "cols.log";
  run("        path: " + path +
          "\n        format: columns\n        columns: [a, b.c, missing]\n        separator: \",\"\n",
      {R"({"a":"x","b":{"c":1}})", R"({"a":true,"b":{"c":"y"}})"});
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{"x,1,", "true,y,"}));
}

TEST(FileSink, JsonLinesArePayloads) {
  TempDir dir;
  const std::string path = dir / "events.jsonl";
  run("        path: " + path + "\n        format: json\n", {R"({"a":1})", "{\n  \"b\": [1, 2]\n}"});
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], R"({"a":1})");
  EXPECT_EQ(Json::parse(lines[1]), Json::parse(R"({"b":[1,2]})"));
}

TEST(FileSink, PathTemplateSplitsByField) {
  TempDir dir;
  run("        path: \"" + dir / "by/{kind}.log" +
          "\"\n        format: template\n        template: \"{n}\"\n        max_open_files: 1\n",
      {R"({"kind":"a","n":1})", R"({"kind":"b","n":2})", R"({"kind":"a","n":3})"});
  EXPECT_EQ(lines_of(dir / "by/a.log"), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(lines_of(dir / "by/b.log"), (std::vector<std::string>{"2"}));
}

TEST(FileSink, RotationBySizeKeepsMaxFiles) {
  TempDir dir;
  const std::string path = dir / "access.log";
  std::vector<std::string> docs;
  for (int i = 0; i < 100; ++i) docs.push_back(R"({"n":)" + std::to_string(1000 + i) + "}");  // 5-byte lines
  run("        path: " + path +
          "\n        format: template\n        template: \"{n}\"\n        max_size: 50\n        max_files: "
          "3\n        batch_max_events: 7\n",
      docs);
  // 10 lines per file; newest in access.log, then .1, .2, .3; .4 never kept.
  EXPECT_EQ(lines_of(path).size(), 10u);
  for (int i = 1; i <= 3; ++i) {
    const auto lines = lines_of(path + "." + std::to_string(i));
    ASSERT_EQ(lines.size(), 10u) << i;
    EXPECT_EQ(lines.front(), std::to_string(1000 + 100 - 10 * (i + 1)));
  }
  EXPECT_FALSE(fs::exists(path + ".4"));
  EXPECT_EQ(lines_of(path).back(), "1099");
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_LE(fs::file_size(e.path()), 50u) << e.path();
}

TEST(FileSink, RotationByAgeStartsANewFileForLaterLines) {
  TempDir dir;
  const std::string path = dir / "access.log";
  testing::Harness h;
  h.start(
      pipeline("        path: " + path +
               "\n        format: template\n        template: \"{n}\"\n        rotate_interval: 2s\n"));
  h.inject_json("in", {R"({"n":1})", R"({"n":2})"});
  ASSERT_TRUE(h.wait_idle(10s));
  const auto opened = std::chrono::steady_clock::now();
  h.inject_json("in", {R"({"n":3})"});  // younger than the interval: same file
  ASSERT_TRUE(h.wait_idle(10s));
  // The rotation condition is the file's age: let it pass the interval.
  std::this_thread::sleep_until(opened + 2100ms);
  h.inject_json("in", {R"({"n":4})"});
  ASSERT_TRUE(h.wait_idle(10s));
  h.stop();
  EXPECT_EQ(lines_of(path + ".1"), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{"4"}));
  EXPECT_FALSE(fs::exists(path + ".2"));
}

TEST(FileSink, UnwritablePathFailsAtStartNamingThePath) {
  TempDir dir;
  const std::string blocker = dir / "not-a-dir";
  std::ofstream(blocker) << "x";
  const std::string path = blocker + "/access.log";
  testing::Harness h;
  try {
    h.start(pipeline("        path: " + path + "\n        format: json\n"));
    FAIL() << "start succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(FileSink, FsyncPoliciesAccepted) {
  for (const std::string policy : {"batch", "interval", "never"}) {
    TempDir dir;
    const std::string path = dir / "f.log";
    const auto statuses = run("        path: " + path + "\n        format: json\n        fsync: " + policy +
                                  "\n        fsync_interval: 20ms\n",
                              {R"({"a":1})", R"({"a":2})"});
    EXPECT_EQ(statuses, (std::vector<AckStatus>{AckStatus::Delivered, AckStatus::Delivered})) << policy;
    EXPECT_EQ(lines_of(path).size(), 2u) << policy;
  }
}

TEST(FileSink, MissingFieldPolicies) {
  const std::vector<std::string> docs{R"({"a":"1","b":"2"})", R"({"a":"3"})"};
  {
    TempDir dir;
    run("        path: " + dir / "f" +
            "\n        format: template\n        template: \"{a}-{b}\"\n        on_missing: skip\n",
        docs);
    EXPECT_EQ(lines_of(dir / "f"), (std::vector<std::string>{"1-2"}));
  }
  {
    TempDir dir;
    run("        path: " + dir / "f" +
            "\n        format: template\n        template: \"{a}-{b}\"\n        on_missing: empty\n",
        docs);
    EXPECT_EQ(lines_of(dir / "f"), (std::vector<std::string>{"1-2", "3-"}));
  }
  {
    TempDir dir;
    const auto statuses = run(
        "        path: " + dir / "f" +
            "\n        format: template\n        template: \"{a}-{b}\"\n        on_missing: dead_letter\n",
        docs,
        "    dead_letter:\n      type: file\n      path: " + dir / "dlq" +
            "\n      format: json\n      include_meta: true\n");
    EXPECT_EQ(statuses, (std::vector<AckStatus>{AckStatus::Delivered, AckStatus::DeadLettered}));
    EXPECT_EQ(lines_of(dir / "f"), (std::vector<std::string>{"1-2"}));
    const auto dlq = lines_of(dir / "dlq");
    ASSERT_EQ(dlq.size(), 1u);
    const Json line = Json::parse(dlq[0]);
    EXPECT_EQ(line["payload"], Json::parse(docs[1]));
    EXPECT_NE(line["meta"]["error"].get<std::string>().find("{a}-{b}"), std::string::npos) << dlq[0];
  }
}

// reopen() is what SIGHUP calls; driven directly on an instance.
class FakeMetrics : public Metrics {
 public:
  Counter& counter(const std::string& n, const std::string&, const Labels&) override { return counters_[n]; }
  Gauge& gauge(const std::string& n, const std::string&, const Labels&) override { return gauges_[n]; }
  Histogram& histogram(const std::string&, const std::string&, std::vector<double>, const Labels&) override {
    throw std::logic_error("unused");
  }

 private:
  std::map<std::string, Counter> counters_;
  std::map<std::string, Gauge> gauges_;
};

class FakeLogger : public Logger {
 public:
  bool enabled(LogLevel) const noexcept override { return false; }
  void write(LogLevel, std::string_view) override {}
};

class FakeContext : public PluginContext {
 public:
  const std::string& pipeline() const override { return name_; }
  const std::string& id() const override { return name_; }
  Logger& log() override { return log_; }
  Metrics& metrics() override { return metrics_; }
  HttpServers& http() override { throw std::logic_error("unused"); }
  const std::string& data_dir() const override { return name_; }
  bool stopping() const noexcept override { return false; }
  bool wait_stop(std::chrono::milliseconds) const override { return false; }
  std::shared_ptr<Resource> resource(const std::string&) override { throw std::logic_error("unused"); }
  void dead_letter(Event, std::string) override {}

 private:
  std::string name_ = "test";
  FakeLogger log_;
  FakeMetrics metrics_;
};

TEST(FileSink, ReopenAfterRenameWritesANewFile) {
  TempDir dir;
  const std::string path = dir / "access.log";
  FakeContext ctx;
  YAML::Node node = YAML::Load("{path: '" + path +
                               "', format: template, template: '{n}', separator: \"\\t\", "
                               "include_meta: false, fsync: batch, fsync_interval: 1s, on_missing: empty, "
                               "max_size: 0, rotate_interval: 0ms, max_files: 5, max_open_files: 64}");
  FileSink sink(ctx, Config(node, "test.yaml", "sink"));
  auto batch_of = [](int n) {
    Batch b;
    b.push_back(Event(R"({"n":)" + std::to_string(n) + "}"));
    return b;
  };
  Batch b1 = batch_of(1);
  ASSERT_EQ(sink.write(b1).outcome, Outcome::Ok);
  fs::rename(path, path + ".old");  // what logrotate does
  Batch b2 = batch_of(2);
  ASSERT_EQ(sink.write(b2).outcome, Outcome::Ok);  // still the renamed file
  sink.reopen();
  Batch b3 = batch_of(3);
  ASSERT_EQ(sink.write(b3).outcome, Outcome::Ok);
  EXPECT_EQ(lines_of(path + ".old"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{"3"}));
}

}  // namespace
}  // namespace sluice::file::test
