// The filter transform in real pipelines through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include "events.hpp"

using namespace std::chrono_literals;
using sluice::testing::Harness;

namespace {

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

}  // namespace
