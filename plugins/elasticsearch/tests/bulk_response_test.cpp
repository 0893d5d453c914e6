// Verdicts read from bulk responses shaped as the server sends them (with our filter_path).
#include "bulk_response.hpp"

#include <gtest/gtest.h>

namespace es = sluice::elasticsearch;
using sluice::Outcome;

namespace {

std::vector<es::ItemVerdict> read(const std::string& body, std::size_t n, es::Action a = es::Action::Index,
                                  bool external = false) {
  std::vector<es::ItemVerdict> out;
  std::string why;
  EXPECT_TRUE(es::parse_bulk_response(body, n, a, external, out, why)) << why;
  return out;
}

std::string refused(const std::string& body, std::size_t n) {
  std::vector<es::ItemVerdict> out;
  std::string why;
  EXPECT_FALSE(es::parse_bulk_response(body, n, es::Action::Index, false, out, why));
  return why;
}

}  // namespace

TEST(BulkResponse, EachItemHasItsOwnVerdict) {
  const auto v = read(R"({"errors":true,"items":[
    {"index":{"status":201,"result":"created"}},
    {"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [price]",
      "caused_by":{"type":"number_format_exception","reason":"For input string: \"cheap\""}}}},
    {"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}},
    {"index":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}},
    {"index":{"status":200,"result":"updated"}}]})",
                      5);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0].outcome, Outcome::Ok);
  EXPECT_EQ(v[1].outcome, Outcome::Error);
  EXPECT_EQ(
      v[1].reason,
      "400 mapper_parsing_exception: failed to parse field [price] (caused by number_format_exception: For "
      "input string: \"cheap\")");
  EXPECT_EQ(v[2].outcome, Outcome::Retry);
  EXPECT_EQ(v[3].outcome, Outcome::Retry);
  EXPECT_EQ(v[4].outcome, Outcome::Ok);
}

TEST(BulkResponse, ConflictMeansDeliveredForCreateAndExternalVersions) {
  const std::string conflict =
      R"({"errors":true,"items":[{"%s":{"status":409,"error":{"type":"version_conflict_engine_exception"}}}]})";
  auto with = [&](const std::string& verb) {
    std::string s = conflict;
    s.replace(s.find("%s"), 2, verb);
    return s;
  };
  EXPECT_EQ(read(with("create"), 1, es::Action::Create)[0].outcome, Outcome::Ok);
  EXPECT_EQ(read(with("index"), 1, es::Action::Index, true)[0].outcome, Outcome::Ok);
  EXPECT_EQ(read(with("update"), 1, es::Action::Upsert)[0].outcome, Outcome::Retry)
      << "a conflict that outlived "
         "retry_on_conflict";
}

TEST(BulkResponse, DeletingWhatIsGoneIsDone) {
  EXPECT_EQ(read(R"({"errors":false,"items":[{"delete":{"status":404,"result":"not_found"}}]})", 1,
                 es::Action::Delete)[0]
                .outcome,
            Outcome::Ok);
  const auto v = read(
      R"({"errors":true,"items":[{"update":{"status":404,"error":{"type":"document_missing_exception","reason":"[x]: document missing"}}}]})",
      1, es::Action::Update);
  EXPECT_EQ(v[0].outcome, Outcome::Error);
  EXPECT_NE(v[0].reason.find("document_missing_exception"), std::string::npos);
}

TEST(BulkResponse, WhatDoesNotMatchTheRequestIsRefused) {
  EXPECT_NE(refused(R"({"errors":false,"items":[{"index":{"status":201}}]})", 2).find("1 items for 2"),
            std::string::npos);
  EXPECT_NE(
      refused(R"({"errors":false,"items":[{"create":{"status":201}}]})", 1).find("not a `index` result"),
      std::string::npos);
  EXPECT_NE(refused(R"({"errors":false,"items":[{"index":{"status":201}})", 1).find("not JSON"),
            std::string::npos);
  EXPECT_NE(refused(R"({"errors":false})", 1).find("no items"), std::string::npos);
  EXPECT_NE(refused(R"({"errors":false,"items":[{"index":{"result":"created"}}]})", 1).find("no status"),
            std::string::npos);
}

TEST(BulkResponse, AnAllSuccessfulAnswerKeepsEachStatus) {
  const auto v = read(R"({"errors":false,"took":3,"items":[{"index":{"status":201,"result":"created"}},
    {"index":{"_shards":{"total":1,"failed":[]},"status":200,"result":"updated"}}]})",
                      2);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].status, 201);
  EXPECT_EQ(v[1].status, 200);
  EXPECT_EQ(v[1].outcome, Outcome::Ok);
  EXPECT_TRUE(v[1].reason.empty());
}

// parse_bulk_response() reads the common answer without a DOM and leaves everything else to the full reader:
// on these bodies, near the common answer, both must give the same verdicts or the same refusal.
TEST(BulkResponse, TheReaderWithoutADomAgreesWithTheFullOne) {
  const std::string deep = std::string(600, '[') + std::string(600, ']');
  const std::vector<std::pair<std::string, es::Action>> bodies = {
      {R"({"items":[{"index":{"status":201}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":201,"status":"x"}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":"201"}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":201.0}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":4294967497}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":201,"error":{"type":"x"}}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":201},"index":{"status":500}}]})", es::Action::Index},
      {R"({"items":[{"index":{"status":201},"create":{"status":201}}]})", es::Action::Index},
      {R"({"items":[{"index":[{"status":201}]}]})", es::Action::Index},
      {R"({"items":[[{"index":{"status":201}}]]})", es::Action::Index},
      {R"({"items":[{}]})", es::Action::Index},
      {R"({"items":[7]})", es::Action::Index},
      {R"({"items":{"index":{"status":201}}})", es::Action::Index},
      {R"({"items":[],"items":[{"index":{"status":201}}]})", es::Action::Index},
      {R"([{"index":{"status":201}}])", es::Action::Index},
      {std::string(R"({"items":[{"index":{"status":201}}]})") + '\0' + "junk", es::Action::Index},
      {R"({"items":[{"index":{"status":201}}]} junk)", es::Action::Index},
      {R"({"items":[{"index":{"status":201,"x":)" + deep + "}}]}", es::Action::Index},
      {R"({"items":[{"update":{"status":200,"result":"noop"}}]})", es::Action::Upsert},
      {R"({"items":[{"update":{"status":200}}]})", es::Action::Index},
      {R"({"items":[{"delete":{"status":404}}]})", es::Action::Delete},
      {R"({"items":[{"create":{"status":409}}]})", es::Action::Create},
  };
  for (const auto& [body, action] : bodies) {
    std::vector<es::ItemVerdict> fast, full;
    std::string fast_why, full_why;
    const bool a = es::parse_bulk_response(body, 1, action, false, fast, fast_why);
    const bool b = es::parse_bulk_response_full(body, 1, action, false, full, full_why);
    EXPECT_EQ(a, b) << body.substr(0, 80);
    EXPECT_EQ(fast_why, full_why) << body.substr(0, 80);
    ASSERT_EQ(fast.size(), full.size()) << body.substr(0, 80);
    for (std::size_t i = 0; i < fast.size(); ++i) {
      EXPECT_EQ(fast[i].outcome, full[i].outcome) << body.substr(0, 80);
      EXPECT_EQ(fast[i].status, full[i].status) << body.substr(0, 80);
      EXPECT_EQ(fast[i].reason, full[i].reason) << body.substr(0, 80);
    }
  }
}
