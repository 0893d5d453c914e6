// Events: lazy parsing, lazy re-serialisation, metadata lookups.
#include <gtest/gtest.h>

#include "sluice/event.hpp"

using sluice::Event;
using sluice::Json;

TEST(Event, PayloadIsNotParsedUntilFieldsAreRead) {
  Event e(R"({"a":1,"b":"x"})");
  EXPECT_FALSE(e.has_fields());
  EXPECT_EQ(e.payload(), R"({"a":1,"b":"x"})");
  EXPECT_FALSE(e.has_fields());
  EXPECT_EQ(e.fields()["a"], 1);
  EXPECT_TRUE(e.has_fields());
  // Reading fields keeps the original bytes (no reformatting).
  EXPECT_EQ(e.payload(), R"({"a":1,"b":"x"})");
}

TEST(Event, ChangedFieldsAreSerialisedOnNextPayloadRead) {
  Event e(R"({ "a" : 1 })");
  e.mutable_fields()["b"] = true;
  const Json reparsed = Json::parse(e.payload());
  EXPECT_EQ(reparsed, Json::parse(R"({"a":1,"b":true})"));
  e.mutable_fields()["a"] = 2;
  EXPECT_EQ(Json::parse(e.payload())["a"], 2);
}

TEST(Event, FromJsonSerialisesLazily) {
  Event e = Event::from_json({{"k", "v"}});
  EXPECT_TRUE(e.has_fields());
  EXPECT_EQ(e.payload(), R"({"k":"v"})");
}

TEST(Event, SetPayloadDropsParsedFields) {
  Event e(R"({"a":1})");
  (void)e.fields();
  e.set_payload(R"({"a":2})");
  EXPECT_FALSE(e.has_fields());
  EXPECT_EQ(e.fields()["a"], 2);
}

TEST(Event, SetFieldsReplaces) {
  Event e("not json");
  e.set_fields(Json{{"x", 1}});
  EXPECT_EQ(e.payload(), R"({"x":1})");
}

TEST(Event, InvalidJsonThrowsParseErrorOrReports) {
  Event e("{oops");
  std::string why;
  EXPECT_FALSE(e.parse(&why));
  EXPECT_FALSE(why.empty());
  EXPECT_THROW((void)e.fields(), sluice::ParseError);
  // The bytes survive a failed parse.
  EXPECT_EQ(e.payload(), "{oops");
}

TEST(Event, InvalidUtf8InFieldsStillSerialises) {
  Event e = Event::from_json({{"s", std::string("\xff\xfe")}});
  EXPECT_NO_THROW((void)e.payload());
}

TEST(Event, CopiesShareTheAck) {
  std::optional<sluice::AckStatus> got;
  Event a("{}");
  a.ack = sluice::Ack::create([&](sluice::AckStatus s) { got = s; });
  Event b = a;
  a.ack.release(sluice::AckStatus::Delivered);
  EXPECT_FALSE(got);
  b.ack.release(sluice::AckStatus::Failed);
  EXPECT_EQ(got, sluice::AckStatus::Failed);
}

TEST(Metadata, HeadersAreCaseInsensitiveAttributesAreNot) {
  sluice::Metadata m;
  m.headers = {{"Content-Type", "application/json"}, {"X-Id", "1"}, {"x-id", "2"}};
  ASSERT_NE(m.header("content-type"), nullptr);
  EXPECT_EQ(*m.header("content-type"), "application/json");
  EXPECT_EQ(*m.header("X-ID"), "1");  // first match
  EXPECT_EQ(m.header("missing"), nullptr);

  m.set_attribute("item", "42");
  m.set_attribute("item", "43");
  ASSERT_NE(m.attribute("item"), nullptr);
  EXPECT_EQ(*m.attribute("item"), "43");
  EXPECT_EQ(m.attributes.size(), 1u);
  EXPECT_EQ(m.attribute("Item"), nullptr);
}

TEST(Event, NowMsIsTheWallClock) {
  const auto t = sluice::now_ms();
  EXPECT_GT(t, 1'600'000'000'000);  // after 2020
}
