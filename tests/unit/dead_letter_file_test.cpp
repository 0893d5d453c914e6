// The default dead-letter file: what a record holds, and that a write is Ok only once durable.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include <filesystem>
#include <fstream>

#include "runtime/dead_letter_file.hpp"

namespace {

namespace fs = std::filesystem;
using sluice::Batch;
using sluice::Event;
using sluice::Json;
using sluice::Outcome;
using sluice::core::DeadLetterFile;

using sluice::testing::TempDir;

std::vector<Json> records(const std::string& path) {
  std::ifstream in(path);
  std::vector<Json> out;
  for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
  return out;
}

Event kafka_event(std::string payload, std::int64_t offset) {
  Event e(std::move(payload));
  e.meta.source = "p.source.kafka";
  e.meta.topic = "page-views";
  e.meta.partition = 2;
  e.meta.offset = offset;
  e.meta.key = "k1";
  e.meta.error = "invalid JSON in page-views[2] at offset " + std::to_string(offset);
  e.timestamp_ms = 1700000000123;
  return e;
}

TEST(DeadLetterFile, PathIsPerPipelineUnderTheDataDir) {
  EXPECT_EQ(sluice::core::default_dead_letter_path("/var/lib/sluice", "access-log"),
            "/var/lib/sluice/dead-letter/access-log.jsonl");
  // Names come from YAML: nothing in them can leave the directory.
  EXPECT_EQ(sluice::core::default_dead_letter_path("d", "../x y"), "d/dead-letter/.._x_y.jsonl");
  EXPECT_EQ(sluice::core::default_dead_letter_path("d", ".."), "d/dead-letter/_...jsonl");
}

TEST(DeadLetterFile, RecordsCoordinatesReasonAndPayload) {
  TempDir dir;
  const std::string path = dir.path() + "/dead-letter/p.jsonl";  // directory created
  DeadLetterFile file(path, "p");
  Batch batch;
  batch.push_back(kafka_event(R"({"user_id": 7})", 41));
  batch.push_back(kafka_event("not json \xff\xfe at all", 42));
  ASSERT_EQ(file.write(batch).outcome, Outcome::Ok);
  const auto got = records(path);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["payload"], Json::parse(R"({"user_id": 7})"));
  EXPECT_FALSE(got[0].contains("payload_text"));
  EXPECT_EQ(got[1]["payload_text"], "not json \xEF\xBF\xBD\xEF\xBF\xBD at all");
  EXPECT_FALSE(got[1].contains("payload"));
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i]["pipeline"], "p");
    EXPECT_EQ(got[i]["source"], "p.source.kafka");
    EXPECT_EQ(got[i]["topic"], "page-views");
    EXPECT_EQ(got[i]["partition"], 2);
    EXPECT_EQ(got[i]["offset"], 41 + static_cast<int>(i));
    EXPECT_EQ(got[i]["key"], "k1");
    EXPECT_EQ(got[i]["timestamp_ms"], 1700000000123);
    EXPECT_EQ(got[i]["reason"], "invalid JSON in page-views[2] at offset " + std::to_string(41 + i));
    EXPECT_EQ(got[i]["time"].get<std::string>().size(), 24u) << got[i]["time"];  // 2024-01-01T00:00:00.000Z
  }
}

TEST(DeadLetterFile, AppendsAcrossReopen) {
  TempDir dir;
  const std::string path = dir.path() + "/p.jsonl";
  DeadLetterFile file(path, "p");
  Batch a;
  a.push_back(kafka_event("{}", 1));
  ASSERT_EQ(file.write(a).outcome, Outcome::Ok);
  fs::rename(path, path + ".1");
  file.reopen();
  Batch b;
  b.push_back(kafka_event("{}", 2));
  ASSERT_EQ(file.write(b).outcome, Outcome::Ok);
  EXPECT_EQ(records(path + ".1").size(), 1u);
  ASSERT_EQ(records(path).size(), 1u);
  EXPECT_EQ(records(path)[0]["offset"], 2);
}

TEST(DeadLetterFile, APartialRecordLeftByAKilledProcessIsCut) {
  TempDir dir;
  const std::string path = dir.path() + "/p.jsonl";
  {
    DeadLetterFile file(path, "p");
    Batch a;
    a.push_back(kafka_event("{}", 1));
    ASSERT_EQ(file.write(a).outcome, Outcome::Ok);
    EXPECT_EQ(file.cut_bytes(), 0u);
  }
  std::ofstream(path, std::ios::app) << R"({"time":"2026-12-02T10:00:00.000Z","pipel)";  // torn by kill -9
  DeadLetterFile file(path, "p");
  EXPECT_EQ(file.cut_bytes(), 41u);
  Batch b;
  b.push_back(kafka_event("{}", 2));
  ASSERT_EQ(file.write(b).outcome, Outcome::Ok);
  const auto got = records(path);  // each line parses: nothing fused
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["offset"], 1);
  EXPECT_EQ(got[1]["offset"], 2);
}

TEST(DeadLetterFile, AFullDiskIsRetryNeverOk) {
  DeadLetterFile file("/dev/full", "p");
  Batch batch;
  batch.push_back(kafka_event("{}", 1));
  const auto r = file.write(batch);
  EXPECT_EQ(r.outcome, Outcome::Retry);
  EXPECT_NE(r.reason.find("/dev/full"), std::string::npos) << r.reason;
}

TEST(DeadLetterFile, UnopenablePathThrowsNamingIt) {
  TempDir dir;
  const std::string blocker = dir.path() + "/file";
  std::ofstream(blocker) << "x";
  try {
    DeadLetterFile file(blocker + "/p.jsonl", "p");
    FAIL() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(blocker + "/p.jsonl"), std::string::npos) << e.what();
  }
}

}  // namespace
