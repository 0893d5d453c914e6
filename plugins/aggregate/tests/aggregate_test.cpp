// The aggregate transform in real pipelines through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include <map>

using namespace std::chrono_literals;
using sluice::AckStatus;
using sluice::testing::Harness;

namespace {

std::vector<std::string> views(int n, int items) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(R"({"item_id": )" + std::to_string(i % items) + R"(, "user_id": "u)" + std::to_string(i) +
                  "\"}");
  return out;
}

std::map<int, std::int64_t> counts(const std::vector<sluice::Event>& events) {
  std::map<int, std::int64_t> m;
  for (const auto& e : events) m[e.fields()["item_id"].get<int>()] += e.fields()["views"].get<std::int64_t>();
  return m;
}

}  // namespace

TEST(Aggregate, WindowsCloseOnTheirOwnAndInputsCompleteOnlyOnceTheCountIsWritten) {
  Harness h;
  h.start(R"(
pipelines:
  a:
    source: {type: inject}
    transforms:
      - type: aggregate
        group_by: [item_id]
        aggregates: {views: count}
        window: 200ms
    sinks: [{type: capture, fail_first: 2, retry_initial_backoff: 50ms, retry_max_backoff: 50ms}]
)");
  h.inject_json("in", views(300, 7));
  // No flush, no stop: the windows close by themselves.
  ASSERT_TRUE(h.wait_idle(10s)) << "every view is acknowledged once its count is written";
  const auto statuses = h.ack_statuses("in");
  ASSERT_EQ(statuses.size(), 300u);
  for (AckStatus s : statuses) EXPECT_EQ(s, AckStatus::Delivered);
  const auto got = counts(h.captured("out"));
  ASSERT_EQ(got.size(), 7u);
  for (const auto& [item, n] : got) EXPECT_EQ(n, item < 300 % 7 ? 43 : 42) << item;
  EXPECT_NE(h.metrics_text().find("sluice_aggregate_emitted_total"), std::string::npos);
  h.stop();
}

TEST(Aggregate, StopEmitsEveryOpenGroup) {
  Harness h;
  h.start(R"(
pipelines:
  a:
    source: {type: inject, finite: true}
    transforms:
      - type: aggregate
        group_by: [item_id]
        aggregates: {views: count, users: {distinct: user_id}}
        window: 1h
    sinks: [{type: capture}]
)");
  h.inject_json("in", views(100, 4));
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s)) << "the source's end flushes the hour-long windows";
  const auto events = h.captured("out");
  ASSERT_EQ(events.size(), 4u);
  for (const auto& e : events) {
    EXPECT_EQ(e.fields()["views"], 25);
    EXPECT_EQ(e.fields()["users"], 25);
    EXPECT_TRUE(e.fields()["window"].contains("start"));
  }
  h.stop();
}

TEST(Aggregate, AFailedCountFailsEveryViewItHolds) {
  Harness h;
  h.start(R"(
pipelines:
  a:
    source: {type: inject, finite: true}
    transforms:
      - type: aggregate
        group_by: [item_id, refuse]
        aggregates: {views: count}
        window: 1h
    sinks: [{type: capture, error_when: refuse}]
)");
  // The sink refuses item 1's count for good (`refuse` is a group field, carried into the output).
  h.inject_json("in", {R"({"item_id": 0})", R"({"item_id": 1, "refuse": true})", R"({"item_id": 0})"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  const auto statuses = h.ack_statuses("in");
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0], AckStatus::Delivered);
  EXPECT_NE(statuses[1], AckStatus::Delivered);
  EXPECT_EQ(statuses[2], AckStatus::Delivered);
  h.stop();
}

TEST(Aggregate, AViewThatIsNotJsonIsDeadLetteredAndTheOthersCounted) {
  Harness h;
  h.start(R"(
pipelines:
  a:
    source: {type: inject, finite: true}
    transforms:
      - type: aggregate
        group_by: [item_id]
        aggregates: {views: count}
    sinks: [{type: capture}]
    dead_letter: {type: capture, name: dlq}
)");
  h.inject_json("in", {R"({"item_id": 3})", R"({"item_id": 3,)", R"({"item_id": 3})"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  const auto out = h.captured("out");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fields()["views"], 2);
  const auto dlq = h.captured("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(dlq[0].meta.error.find("aggregate: invalid JSON"), std::string::npos) << dlq[0].meta.error;
  h.stop();
}

namespace {

/** What starting a pipeline with an aggregate of @p options says ("" when it starts). */
std::string diagnostics(const std::string& options) {
  Harness h;
  try {
    h.start("pipelines:\n  p:\n    source: {type: inject}\n    transforms:\n      - type: aggregate\n" +
            options + "    sinks: [{type: capture}]\n");
  } catch (const std::exception& e) {
    return e.what();
  }
  h.stop(100ms);
  return "";
}

}  // namespace

TEST(Aggregate, ConfigMistakesAreNamedBeforeAnythingRuns) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"        group_by: [item_id]\n", "aggregates"},
      {"        aggregates: count\n", "expected a map of output field"},
      {"        aggregates: {views: total}\n", "'total' is not an aggregation"},
      {"        aggregates: {n: {sum: price, max: price}}\n", "exactly one of"},
      {"        aggregates: {n: {sum: [price]}}\n", "sum takes one field reference"},
      {"        aggregates: {n: {sum: price, limit: 3}}\n", "unknown key 'limit'"},
      {"        aggregates: {n: {distinct: user, limit: 0}}\n", "limit must be an integer"},
      {"        aggregates: {meta.key: count}\n", "a payload field, not metadata"},
      {"        aggregates: {n: count}\n        lateness: 1s\n", "lateness is for time: event"},
      {"        aggregates: {n: count}\n        window_field: meta.attr.w\n", "not metadata"},
      {"        aggregates: {n: count}\n        group_by: ['a..b']\n", "group_by"},
  };
  for (const auto& [options, message] : cases) {
    const std::string d = diagnostics(options);
    EXPECT_NE(d.find(message), std::string::npos) << "options:\n" << options << "diagnostics:\n" << d;
  }
  EXPECT_EQ(diagnostics("        aggregates: {n: count, u: {distinct: user, limit: 5}, m: {max: price}}\n"
                        "        time: event\n        lateness: 1s\n"),
            "");
}
