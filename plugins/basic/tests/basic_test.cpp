// The basic plugins in real pipelines through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

using namespace std::chrono_literals;
using sluice::testing::Harness;

namespace {

std::vector<sluice::Json> fields(const std::vector<sluice::Event>& events) {
  std::vector<sluice::Json> out;
  for (const auto& e : events) out.push_back(e.fields());
  return out;
}

TEST(Generate, CountAndTemplateFields) {
  Harness h;
  h.start(R"(
pipelines:
  g:
    source:
      type: generate
      count: 2500
      batch_size: 1000
      template: {seq: "{seq}", user: "u{seq}", n: "{random_int:5:7}", kind: "{random_choice:a,b}", fixed: 3}
    sinks: [{type: capture}]
)");
  ASSERT_TRUE(h.wait_captured("out", 2500, 20s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 2500u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["seq"], i + 1);
    EXPECT_EQ(got[i]["user"], "u" + std::to_string(i + 1));
    EXPECT_GE(got[i]["n"].get<int>(), 5);
    EXPECT_LE(got[i]["n"].get<int>(), 7);
    EXPECT_TRUE(got[i]["kind"] == "a" || got[i]["kind"] == "b");
    EXPECT_EQ(got[i]["fixed"], 3);
  }
}

TEST(Filter, OperatorsAllAndAny) {
  Harness h;
  h.start(R"(
pipelines:
  f:
    source: {type: inject, finite: true}
    transforms:
      - type: filter
        conditions:
          - {field: n, op: ">=", value: 2}
          - {field: n, op: "<", value: 5}
          - {field: kind, op: in, value: [x, y]}
          - {field: name, op: regex, value: "^ab+c$"}
          - {field: gone, op: not_exists}
    sinks: [{type: capture}]
)");
  h.inject_json("in", {R"({"n":1,"kind":"x","name":"abc"})", R"({"n":2,"kind":"x","name":"abbc"})",
                       R"({"n":4,"kind":"z","name":"abc"})", R"({"n":4.5,"kind":"y","name":"abc"})",
                       R"({"n":3,"kind":"y","name":"ac"})", R"({"n":3,"kind":"y","name":"abc","gone":1})"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["n"], 2);
  EXPECT_EQ(got[1]["n"], 4.5);
  auto acks = h.ack_statuses("in");
  ASSERT_EQ(acks.size(), 6u);
  for (auto s : acks) EXPECT_EQ(s, sluice::AckStatus::Delivered);  // dropped events are done, not failed
}

TEST(Filter, ARegexOnAHugeFieldNeitherOverflowsTheStackNorBacktracks) {
  // std::regex recursed once per character here (SIGSEGV on a 1 MB field) and took exponential time on
  // nested quantifiers; RE2 is linear in the field.
  Harness h;
  h.start(R"(
pipelines:
  f:
    source: {type: inject, finite: true}
    transforms:
      - type: filter
        mode: any
        conditions:
          - {field: s, op: regex, value: "^(a|b)*c$"}
          - {field: s, op: regex, value: "^(x+x+)+y$"}
    sinks: [{type: capture}]
)");
  const std::string huge(1 << 20, 'a');
  h.inject_json("in", {"{\"s\": \"" + huge + "c\"}", "{\"s\": \"" + huge + "\"}",
                       "{\"s\": \"" + std::string(40, 'x') + "\"}", "{\"s\": \"xxy\"}"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(20s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["s"].get<std::string>().size(), huge.size() + 1);
  EXPECT_EQ(got[1]["s"], "xxy");
}

TEST(Filter, RepetitionCountsAreBoundedNotOverflowed) {
  // `{4444444444444444444}` overflowed libstdc++'s regex compiler (UBSan, the config fuzzer). RE2 bounds
  // counts at 1000 and reads a count it cannot parse as literal text, as Perl does.
  Harness refused;
  try {
    refused.start(R"(
pipelines:
  f:
    source: {type: inject}
    transforms:
      - {type: filter, conditions: [{field: s, op: regex, value: "a{1001}"}]}
    sinks: [{type: capture}]
)");
    FAIL() << "a{1001} accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid regex (RE2 syntax): invalid repetition size: {1001}"),
              std::string::npos)
        << e.what();
  }
  Harness h;
  h.start(R"(
pipelines:
  f:
    source: {type: inject, finite: true}
    transforms:
      - {type: filter, conditions: [{field: s, op: regex, value: "a{4444444444444444444}"}]}
    sinks: [{type: capture}]
)");
  h.inject_json("in", {R"({"s": "a{4444444444444444444}"})", R"({"s": "aaaa"})"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["s"], "a{4444444444444444444}");
}

TEST(Filter, AnyModeDropActionAndInvalidJsonDeadLettered) {
  Harness h;
  h.start(R"(
pipelines:
  f:
    source: {type: inject, finite: true}
    transforms:
      - type: filter
        mode: any
        action: drop
        conditions:
          - {field: a, op: "==", value: 1}
          - {field: b, op: exists}
          - {field: c, op: "!=", value: keep}
    dead_letter: {type: capture, name: dlq}
    sinks: [{type: capture}]
)");
  std::vector<sluice::Event> evs;
  for (const char* p :
       {R"({"a":1,"c":"keep"})", R"({"b":null,"c":"keep"})", R"({"c":"keep"})", R"({"c":"x"})", "not json"})
    evs.emplace_back(std::string(p));
  h.inject("in", std::move(evs));
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 2u);  // b:null exists as a key but is null: not "exists"
  EXPECT_EQ(got[0], sluice::Json::parse(R"({"b":null,"c":"keep"})"));
  EXPECT_EQ(got[1], sluice::Json::parse(R"({"c":"keep"})"));
  auto dlq = h.captured("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(dlq[0].meta.error.find("invalid JSON"), std::string::npos) << dlq[0].meta.error;
}

TEST(Remap, SetRenameDeleteCopyWithMetadata) {
  Harness h;
  h.start(R"(
pipelines:
  r:
    source: {type: inject, finite: true}
    transforms:
      - type: remap
        operations:
          - copy: {meta.key: user_id, meta.header.User-Agent: agent}
          - rename: {itemId: item.id}
          - delete: [debug]
          - set: {source: web, count: 2, label: "{user_id}/{item.id}"}
    sinks: [{type: capture}]
)");
  sluice::Event e(std::string(R"({"itemId": 7, "debug": true})"));
  e.meta.key = "u1";
  e.meta.headers.push_back({"user-agent", "curl/8"});
  std::vector<sluice::Event> evs;
  evs.push_back(std::move(e));
  h.inject("in", std::move(evs));
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(
      got[0],
      sluice::Json::parse(
          R"({"user_id":"u1","agent":"curl/8","item":{"id":7},"source":"web","count":2,"label":"u1/7"})"));
}

TEST(Validation, BadOptionsAreRefusedAtStart) {
  Harness h;
  EXPECT_THROW(h.start(R"(
pipelines:
  f:
    source: {type: generate, count: 1, template: {x: "{nope}"}}
    sinks: [{type: "null"}]
)"),
               std::exception);
}

}  // namespace
