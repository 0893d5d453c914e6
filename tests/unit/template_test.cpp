// Field references and templates: the one syntax every plugin uses to name
// event values.
#include <gtest/gtest.h>

#include <ctime>

#include "sluice/template.hpp"

using sluice::Event;
using sluice::FieldPath;
using sluice::Json;
using sluice::Template;

namespace {

Event sample() {
  Event e(R"({"user_id":42,"listing":{"title":"Flat","price":9.5,"tags":["a","b"]},"ok":true,"none":null,
              "items":[{"id":7},{"id":8}],"name":"ann"})");
  e.meta.key = "k1";
  e.meta.topic = "clicks";
  e.meta.partition = 3;
  e.meta.offset = 99;
  e.meta.source = "p.source.kafka";
  e.meta.headers.push_back({"User-Agent", "curl/8"});
  e.meta.attributes.push_back({"item", "x1"});
  e.timestamp_ms = 1700000000123;  // 2023-11-14T22:13:20.123Z
  return e;
}

std::string render(const std::string& text, const Event& e) {
  std::string error;
  auto t = Template::parse(text, &error);
  EXPECT_TRUE(t) << error;
  return t ? t->render(e) : std::string();
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto t = Template::parse(text, &error);
  EXPECT_FALSE(t) << text;
  return error;
}

}  // namespace

TEST(Template, PayloadFieldsRenderStringsRawAndOthersAsJson) {
  const Event e = sample();
  EXPECT_EQ(render("{user_id}\t{name}", e), "42\tann");
  EXPECT_EQ(render("{listing.title} costs {listing.price}", e), "Flat costs 9.5");
  EXPECT_EQ(render("{ok}", e), "true");
  EXPECT_EQ(render("[{none}]", e), "[]");
  EXPECT_EQ(render("{listing.tags}", e), R"(["a","b"])");
  EXPECT_EQ(render("{items.1.id}", e), "8");
  EXPECT_EQ(render("{items.0}", e), R"({"id":7})");
}

TEST(Template, FloatsKeepTheirJsonForm) {
  Event e(R"({"a":3.0,"b":0.1,"c":-2})");
  EXPECT_EQ(render("{a} {b} {c}", e), "3.0 0.1 -2");
}

TEST(Template, MetadataReferences) {
  const Event e = sample();
  EXPECT_EQ(render("{meta.key}/{meta.topic}/{meta.partition}/{meta.offset}", e), "k1/clicks/3/99");
  EXPECT_EQ(render("{meta.source} {meta.attr.item}", e), "p.source.kafka x1");
  EXPECT_EQ(render("{meta.timestamp}", e), "1700000000123");
}

TEST(Template, HeaderNamesAreCaseInsensitive) {
  const Event e = sample();
  EXPECT_EQ(render("{meta.header.user-agent}", e), "curl/8");
  EXPECT_EQ(render("{meta.header.USER-AGENT}", e), "curl/8");
  EXPECT_EQ(render("{meta.header.User-Agent}", e), "curl/8");
}

TEST(Template, MissingFieldRendersEmptyAndReportsIt) {
  const Event e = sample();
  auto t = Template::parse("a{nope}b{listing.nope}c{items.5.id}d");
  ASSERT_TRUE(t);
  std::string out;
  EXPECT_FALSE(t->render_to(e, out));
  EXPECT_EQ(out, "abcd");
  auto ok = Template::parse("{user_id}");
  out.clear();
  EXPECT_TRUE(ok->render_to(e, out));
}

TEST(Template, FallbackWhenMissing) {
  const Event e = sample();
  auto t = Template::parse("{kind|unknown}-{name|x}-{meta.header.X-Missing|none}-{gone|}");
  ASSERT_TRUE(t);
  std::string out;
  EXPECT_TRUE(t->render_to(e, out));
  EXPECT_EQ(out, "unknown-ann-none-");
}

TEST(Template, RenderAppends) {
  const Event e = sample();
  auto t = Template::parse("{name}");
  std::string out = "prefix:";
  t->render_to(e, out);
  EXPECT_EQ(out, "prefix:ann");
}

TEST(Template, StrftimeOnTimestampIsUtc) {
  const Event e = sample();
  EXPECT_EQ(render("logs/{meta.timestamp:%Y-%m-%d}.log", e), "logs/2023-11-14.log");
  EXPECT_EQ(render("{meta.timestamp:%H:%M:%S}", e), "22:13:20");
  Event no_time = sample();
  no_time.timestamp_ms = 0;
  EXPECT_EQ(render("{meta.timestamp:%Y|none}", no_time), "none");
}

TEST(Template, NowUsesTheCurrentTime) {
  const Event e = sample();
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char year[8];
  std::strftime(year, sizeof(year), "%Y", &tm);
  EXPECT_EQ(render("{now:%Y}", e), year);
  EXPECT_EQ(render("{now}", e).size(), std::string("2023-11-14T22:13:20Z").size());
}

TEST(Template, EscapedBraces) {
  const Event e = sample();
  EXPECT_EQ(render("{{user_id}} = {user_id}, }}", e), "{user_id} = 42, }");
  auto t = Template::parse("{{literal}}");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->is_literal());
  EXPECT_FALSE(t->uses_fields());
}

TEST(Template, UsesFields) {
  EXPECT_TRUE(Template::parse("{a}")->uses_fields());
  EXPECT_FALSE(Template::parse("{meta.key}-{now:%Y}")->uses_fields());
  EXPECT_FALSE(Template::parse("{meta.key}")->is_literal());
  EXPECT_FALSE(Template::parse("{now:%Y}")->is_literal());
}

TEST(Template, ParseErrorsSayWhatIsWrong) {
  EXPECT_NE(parse_error("a{b").find("unterminated '{'"), std::string::npos);
  EXPECT_NE(parse_error("a}b").find("unmatched '}'"), std::string::npos);
  EXPECT_NE(parse_error("{}").find("empty field reference"), std::string::npos);
  EXPECT_NE(parse_error("{meta.nope}").find("unknown metadata 'meta.nope'"), std::string::npos);
  EXPECT_NE(parse_error("{a..b}").find("empty part"), std::string::npos);
  EXPECT_NE(parse_error("{user_id:%Y}").find("only to meta.timestamp"), std::string::npos);
}

TEST(Template, InvalidJsonPayloadThrowsParseErrorOnlyForPayloadFields) {
  Event e("not json");
  e.meta.key = "k";
  EXPECT_THROW(Template::parse("{a}")->render(e), sluice::ParseError);
  EXPECT_EQ(Template::parse("{meta.key}:{.}")->render(e), "k:not json");
}

TEST(FieldPath, GetConvertsMetadata) {
  const Event e = sample();
  EXPECT_EQ(*FieldPath::parse("meta.partition")->get(e), Json(3));
  EXPECT_EQ(*FieldPath::parse("meta.key")->get(e), Json("k1"));
  EXPECT_EQ(*FieldPath::parse("listing.price")->get(e), Json(9.5));
  EXPECT_EQ((*FieldPath::parse(".")->get(e))["name"], Json("ann"));
  EXPECT_FALSE(FieldPath::parse("missing")->get(e));
  EXPECT_FALSE(FieldPath::parse("meta.error")->get(e));
  EXPECT_TRUE(FieldPath::parse("meta.key")->is_meta());
  EXPECT_FALSE(FieldPath::parse("a.b")->is_meta());
}

TEST(FieldPath, SetCreatesIntermediateObjects) {
  Event e(R"({"a":1})");
  FieldPath::parse("b.c.d")->set(e, Json("x"));
  FieldPath::parse("a")->set(e, Json(2));
  EXPECT_EQ(e.fields(), Json::parse(R"({"a":2,"b":{"c":{"d":"x"}}})"));
  EXPECT_EQ(Json::parse(e.payload()), Json::parse(R"({"a":2,"b":{"c":{"d":"x"}}})"));
}

TEST(FieldPath, SetMetadata) {
  Event e("{}");
  FieldPath::parse("meta.key")->set(e, Json(17));
  FieldPath::parse("meta.header.x-trace")->set(e, Json("t1"));
  FieldPath::parse("meta.header.X-Trace")->set(e, Json("t2"));
  FieldPath::parse("meta.attr.zone")->set(e, Json("eu"));
  FieldPath::parse("meta.topic")->set(e, Json("out"));
  EXPECT_EQ(e.meta.key, "17");
  ASSERT_EQ(e.meta.headers.size(), 1u);
  EXPECT_EQ(e.meta.headers[0].value, "t2");
  EXPECT_EQ(*e.meta.attribute("zone"), "eu");
  EXPECT_EQ(e.meta.topic, "out");
}

TEST(FieldPath, Erase) {
  Event e(R"({"a":{"b":1,"c":2},"l":[1,2,3]})");
  e.meta.headers.push_back({"X-A", "1"});
  EXPECT_TRUE(FieldPath::parse("a.b")->erase(e));
  EXPECT_FALSE(FieldPath::parse("a.b")->erase(e));
  EXPECT_FALSE(FieldPath::parse("x.y")->erase(e));
  EXPECT_TRUE(FieldPath::parse("l.1")->erase(e));
  EXPECT_TRUE(FieldPath::parse("meta.header.x-a")->erase(e));
  EXPECT_TRUE(e.meta.headers.empty());
  EXPECT_EQ(Json::parse(e.payload()), Json::parse(R"({"a":{"c":2},"l":[1,3]})"));
}

TEST(FieldPath, ParseErrors) {
  std::string error;
  EXPECT_FALSE(FieldPath::parse("", &error));
  EXPECT_FALSE(FieldPath::parse("a.", &error));
  EXPECT_FALSE(FieldPath::parse("meta.header.", &error));
  EXPECT_NE(error.find("meta.header."), std::string::npos);
  EXPECT_FALSE(FieldPath::parse("has space", &error));
}
