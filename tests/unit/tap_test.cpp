// Taps (`sluice tap`): how an event is printed, sampling up to a rate, a lagging listener,
// wake-ups of a waiting poll, and the end of a session with its tap point.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/tap.hpp"

namespace {

using sluice::Batch;
using sluice::Event;
using sluice::core::tap_line;
using sluice::core::TapPoint;
using sluice::core::TapSession;

Batch events(std::size_t n) {
  Batch b;
  for (std::size_t i = 0; i < n; ++i) b.emplace_back("{\"n\":" + std::to_string(i) + ",\"a\":true}");
  return b;
}

TEST(TapLine, KeepsAJsonPayloadAsItIsAndQuotesTheRest) {
  EXPECT_EQ(tap_line(Event("{\"z\":1,\"a\":[2]}"), false), "{\"z\":1,\"a\":[2]}");  // key order kept
  EXPECT_EQ(tap_line(Event("not json"), false), "\"not json\"");
  EXPECT_EQ(tap_line(Event("{\n  \"pretty\": 1\n}"), false), "{\"pretty\":1}");  // one line
  const std::string bad = tap_line(Event("caf\xE9"), false);
  EXPECT_TRUE(sluice::valid_utf8(bad)) << bad;
  EXPECT_TRUE(nlohmann::json::parse(bad).is_string());
}

TEST(TapLine, MetadataWithCredentialsRedacted) {
  Event e("{\"user_id\":1}");
  e.meta.topic = "/clicks";
  e.meta.headers = {{"Authorization", "Bearer s3cr3t"},
                    {"X-Api-Key", "k3y"},
                    {"Cookie", "sid=abc"},
                    {"User-Agent", "curl/7.88"}};
  e.meta.error = "refused";
  const std::string line = tap_line(e, true);
  EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
  EXPECT_EQ(line.find("k3y"), std::string::npos) << line;
  EXPECT_EQ(line.find("sid=abc"), std::string::npos) << line;
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["payload"]["user_id"], 1);
  EXPECT_EQ(j["meta"]["topic"], "/clicks");
  EXPECT_EQ(j["meta"]["headers"]["Authorization"], "[redacted]");
  EXPECT_EQ(j["meta"]["headers"]["User-Agent"], "curl/7.88");
  EXPECT_EQ(j["meta"]["error"], "refused");
}

TEST(TapSession, TakesNoMoreThanItsRateAndCountsTheRest) {
  TapSession s(10, false);
  EXPECT_TRUE(s.offer(events(1000)));
  const auto t = s.take(1000);
  EXPECT_EQ(t.lines.size(), 10u);  // a second's worth at once, then the rate
  EXPECT_EQ(t.skipped_rate, 990u);
  EXPECT_EQ(t.lines.front(), "{\"n\":0,\"a\":true}");
}

TEST(TapSession, ALaggingListenerLosesLinesNotThePipelineTime) {
  TapSession s(100000, false, 5);
  EXPECT_TRUE(s.offer(events(8)));
  const auto t = s.take(3);
  EXPECT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.skipped_overflow, 3u);
  EXPECT_EQ(s.take(10).lines.size(), 2u);
}

TEST(TapSession, AWaitingPollIsWokenByNewLinesAndLinesItCouldNotSendComeBack) {
  TapSession s(1000, false);
  int woken = 0;
  EXPECT_TRUE(s.take(10, [&] { ++woken; }).lines.empty());
  EXPECT_TRUE(s.offer(events(2)));
  EXPECT_EQ(woken, 1);
  auto t = s.take(10);
  ASSERT_EQ(t.lines.size(), 2u);
  s.give_back(std::move(t.lines));
  EXPECT_TRUE(s.offer(events(1)));
  const auto again = s.take(10);
  ASSERT_EQ(again.lines.size(), 3u);
  EXPECT_EQ(again.lines[0], "{\"n\":0,\"a\":true}");  // the given-back ones first
  EXPECT_EQ(again.lines[2], "{\"n\":0,\"a\":true}");
  EXPECT_EQ(woken, 1);  // once per wait
}

TEST(TapPoint, CostsNothingUnheardAndEndsItsSessionsWithIt) {
  auto s = std::make_shared<TapSession>(1000, false);
  int woken = 0;
  {
    TapPoint p;
    EXPECT_FALSE(p.active());
    p.offer(events(3));  // nobody listens: nothing kept
    p.attach(s);
    EXPECT_TRUE(p.active());
    p.offer(events(2));
    EXPECT_EQ(s->take(10).lines.size(), 2u);
    (void)s->take(10, [&] { ++woken; });
  }  // the pipeline is replaced
  EXPECT_EQ(woken, 1);
  const auto t = s->take(10);
  EXPECT_TRUE(t.lines.empty());
  EXPECT_NE(t.closed.find("stopped or was replaced"), std::string::npos) << t.closed;
  EXPECT_FALSE(s->offer(events(1)));
}

TEST(TapPoint, ForgetsASessionThatEnded) {
  TapPoint p;
  auto s = std::make_shared<TapSession>(1000, false);
  p.attach(s);
  s->close("the listener left");
  p.offer(events(1));
  EXPECT_FALSE(p.active());
}

}  // namespace
