// Sink `file` through real pipelines (sluice::testing::Harness), plus reopen()
// on an instance driven directly (the harness has no SIGHUP).

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sluice/sdk.hpp>
#include <sluice/testing.hpp>

#include "file_sink.hpp"
#include "io_faults.hpp"
#include "path_confinement.hpp"

namespace sluice::file::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::TempDir;

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
  h.start(pipeline("        path: " + path +
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

std::vector<Json> dead_letters(const testing::Harness& h) {
  std::vector<Json> out;
  for (const auto& line : lines_of(h.data_dir() + "/dead-letter/p.jsonl")) out.push_back(Json::parse(line));
  return out;
}

TEST(FileSink, PathFieldsCannotLeaveTheTemplatesDirectory) {
  TempDir dir;
  testing::Harness h;
  h.start(pipeline("        path: \"" + dir / "logs/{tenant}.log" + "\"\n        format: json\n"));
  const std::vector<std::string> docs{R"({"tenant":"../../x"})", R"({"tenant":"a/../../y"})",
                                      R"({"tenant":"/tmp/z"})",  R"({"tenant":"a\u0000b"})",
                                      R"({"tenant":"ok"})",      R"({"tenant":"sub/dir..name"})"};
  h.inject_json("in", docs);
  ASSERT_TRUE(h.wait_idle(10s));
  EXPECT_EQ(h.ack_statuses("in"),
            (std::vector<AckStatus>{AckStatus::DeadLettered, AckStatus::DeadLettered, AckStatus::DeadLettered,
                                    AckStatus::DeadLettered, AckStatus::Delivered, AckStatus::Delivered}));
  h.stop();
  EXPECT_EQ(lines_of(dir / "logs/ok.log"), (std::vector<std::string>{docs[4]}));
  EXPECT_EQ(lines_of(dir / "logs/sub/dir..name.log"), (std::vector<std::string>{docs[5]}));
  // Nothing anywhere but under logs/: the whole temporary directory holds logs/ only.
  for (const auto& e : fs::recursive_directory_iterator(dir / ""))
    EXPECT_EQ(e.path().string().rfind(dir / "logs", 0), 0u) << e.path();
  const auto dead = dead_letters(h);
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_NE(dead[0]["reason"].get<std::string>().find("'..' component"), std::string::npos) << dead[0];
  EXPECT_EQ(dead[0]["payload"], Json::parse(docs[0]));
  EXPECT_NE(dead[2]["reason"].get<std::string>().find("absolute"), std::string::npos) << dead[2];
  EXPECT_NE(dead[3]["reason"].get<std::string>().find("NUL"), std::string::npos) << dead[3];
}

TEST(FileSink, PathEscapeRules) {
  EXPECT_EQ(literal_dir_prefix("/var/log/{tenant}.log"), "/var/log/");
  EXPECT_EQ(literal_dir_prefix("{tenant}.log"), "");
  EXPECT_EQ(literal_dir_prefix("a/{{b}}/{c}"), "a/{b}/");
  EXPECT_FALSE(path_escape("/var/log/", "/var/log/t1.log"));
  EXPECT_FALSE(path_escape("", "t1/a.log"));
  EXPECT_FALSE(path_escape("/var/log/", "/var/log/..t/a..b/c.."));
  EXPECT_TRUE(path_escape("/var/log/", "/var/log/../x"));
  EXPECT_TRUE(path_escape("/var/log/", "/var/log/a/.."));
  EXPECT_TRUE(path_escape("", ".."));
  EXPECT_TRUE(path_escape("", "/etc/passwd"));
  EXPECT_TRUE(path_escape("/var/log/", "/var/log//etc/passwd"));
  EXPECT_TRUE(path_escape("/var/log/", std::string("/var/log/a\0b", 12)));
  EXPECT_TRUE(path_escape("/var/log/", "/var/lo"));
}

TEST(FileSink, AFullDeviceIsNeverDelivered) {
  // fsync: never, so only the failed write() tells: a sink that ignored it would call these delivered.
  const auto statuses =
      run("        path: /dev/full\n        format: json\n        fsync: never\n"
          "        retry_max_attempts: 1\n        retry_initial_backoff: 1ms\n",
          {R"({"a":1})", R"({"a":2})", R"({"a":3})", R"({"a":4})", R"({"a":5})"});
  ASSERT_EQ(statuses.size(), 5u);
  for (auto s : statuses) EXPECT_NE(s, AckStatus::Delivered);
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
  bool enabled(LogLevel level) const noexcept override { return level >= LogLevel::Warn; }
  void write(LogLevel, std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;  ///< warnings and errors
};

class FakeContext : public PluginContext {
 public:
  const std::string& pipeline() const override { return name_; }
  const std::string& id() const override { return name_; }
  Logger& log() override { return log_; }
  FakeLogger& logger() { return log_; }
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

// The I/O fault shim (io_faults.cpp) on a sink driven directly: each write() is one batch.
class FileSinkFaults : public ::testing::Test {
 protected:
  void SetUp() override { io_faults_target(dir_path().c_str()); }
  void TearDown() override { io_faults_target(""); }
  std::string dir_path() const { return dir / ""; }

  std::unique_ptr<FileSink> sink(const std::string& fsync) {
    YAML::Node node = YAML::Load("{path: '" + path +
                                 "', format: template, template: \"{a}\\t{b}\\t{c}\", separator: \"\\t\", "
                                 "include_meta: false, fsync: " +
                                 fsync +
                                 ", fsync_interval: 1s, on_missing: empty, "
                                 "max_size: 0, rotate_interval: 0ms, max_files: 5, max_open_files: 64}");
    return std::make_unique<FileSink>(ctx, Config(node, "test.yaml", "sink"));
  }
  static Batch batch_of(int from, int n) {
    Batch b;
    for (int i = from; i < from + n; ++i)
      b.push_back(Event(R"({"a":)" + std::to_string(2007000 + i) + R"(,"b":1000500,"c":500})"));
    return b;
  }
  static std::string line(int i) { return std::to_string(2007000 + i) + "\t1000500\t500"; }
  static bool any_ok(const WriteResult& r) {
    if (r.per_event.empty()) return r.outcome == Outcome::Ok;
    for (const auto& [o, why] : r.per_event)
      if (o == Outcome::Ok) return true;
    return false;
  }
  std::string contents() const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir;
  std::string path = dir / "access.log";
  FakeContext ctx;
};

TEST_F(FileSinkFaults, OneFdatasyncBeforeEachWriteIsAcknowledged) {
  auto s = sink("batch");
  for (int k = 0; k < 3; ++k) {
    Batch b = batch_of(10 * k, 10);
    const long before = io_faults_fdatasyncs();
    ASSERT_EQ(s->write(b).outcome, Outcome::Ok);
    EXPECT_EQ(io_faults_fdatasyncs() - before, 1) << "write " << k;
  }
  EXPECT_EQ(lines_of(path).size(), 30u);
}

TEST_F(FileSinkFaults, AFailedFdatasyncIsNeverOkAndLeavesNoLines) {
  auto s = sink("batch");
  Batch first = batch_of(0, 1);
  ASSERT_EQ(s->write(first).outcome, Outcome::Ok);
  io_faults_fail_fdatasync(EIO);
  Batch b = batch_of(1, 3);
  const WriteResult r = s->write(b);
  EXPECT_FALSE(any_ok(r));
  // Not acknowledged, so not kept: the retry writes them once.
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{line(0)}));
  io_faults_fail_fdatasync(0);
  ASSERT_EQ(s->write(b).outcome, Outcome::Ok);
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{line(0), line(1), line(2), line(3)}));
}

TEST_F(FileSinkFaults, AShortWriteOnAFullDiskLeavesNoTornLine) {
  for (const std::string fsync : {"batch", "never"}) {
    fs::remove(path);
    auto s = sink(fsync);
    Batch first = batch_of(0, 1);
    ASSERT_EQ(s->write(first).outcome, Outcome::Ok);
    io_faults_write_budget(10, ENOSPC);  // part of the next batch's first line, then ENOSPC
    Batch b = batch_of(1, 3);
    EXPECT_FALSE(any_ok(s->write(b))) << fsync;
    EXPECT_EQ(contents(), line(0) + "\n") << fsync << ": a fragment was left";
    Batch again = batch_of(1, 3);
    EXPECT_FALSE(any_ok(s->write(again))) << fsync << ": still full";
    io_faults_write_budget(-1, 0);  // space again
    ASSERT_EQ(s->write(again).outcome, Outcome::Ok) << fsync;
    EXPECT_EQ(contents(), line(0) + "\n" + line(1) + "\n" + line(2) + "\n" + line(3) + "\n") << fsync;
  }
}

TEST_F(FileSinkFaults, APartialLineLeftByAKilledProcessIsCutBeforeTheNextLine) {
  // What a kill -9 in the middle of write(2) leaves: a line without its newline, never
  // acknowledged. Appending after it would fuse two lines (`2007001\t10002007001\t...`).
  const std::string long_fragment(10000, 'x');  // longer than one block of the backward scan
  for (const std::string& fragment : {std::string("2007001\t10"), long_fragment}) {
    for (const bool first_line : {false, true}) {
      {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (!first_line) out << line(0) << "\n";
        out << fragment;
      }
      ctx.logger().lines.clear();
      auto s = sink("batch");
      Batch b = batch_of(1, 2);
      ASSERT_EQ(s->write(b).outcome, Outcome::Ok);
      const std::string head = first_line ? "" : line(0) + "\n";
      EXPECT_EQ(contents(), head + line(1) + "\n" + line(2) + "\n") << fragment.size() << " " << first_line;
      ASSERT_EQ(ctx.logger().lines.size(), 1u);
      EXPECT_NE(ctx.logger().lines[0].find("partial line (" + std::to_string(fragment.size()) + " bytes"),
                std::string::npos)
          << ctx.logger().lines[0];
    }
  }
  // A file that ends in a whole line is left as it is, with nothing logged.
  ctx.logger().lines.clear();
  auto s = sink("never");
  Batch b = batch_of(3, 1);
  ASSERT_EQ(s->write(b).outcome, Outcome::Ok);
  EXPECT_EQ(contents(), line(1) + "\n" + line(2) + "\n" + line(3) + "\n");
  EXPECT_TRUE(ctx.logger().lines.empty());
}

}  // namespace
}  // namespace sluice::file::test
