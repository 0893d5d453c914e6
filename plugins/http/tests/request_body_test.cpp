// Body modes, Content-Type rules and the constant-time compare of the http source.
#include "request_body.hpp"

#include <gtest/gtest.h>

using namespace sluice::http_source;

TEST(RequestBody, JsonObjectOnly) {
  std::vector<sluice::Json> out;
  std::string err;
  EXPECT_TRUE(parse_objects(BodyMode::Json, R"({"a": 1})", out, err));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["a"], 1);
  EXPECT_FALSE(parse_objects(BodyMode::Json, R"({"a": 1)", out, err));
  EXPECT_NE(err.find("could not decode json"), std::string::npos) << err;
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(parse_objects(BodyMode::Json, "[1]", out, err));
  EXPECT_NE(err.find("expected a JSON object"), std::string::npos) << err;
}

TEST(RequestBody, ArrayIsAllOrNothing) {
  std::vector<sluice::Json> out;
  std::string err;
  EXPECT_TRUE(parse_objects(BodyMode::JsonArray, R"([{"n": 1}, {"n": 2}])", out, err));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_TRUE(parse_objects(BodyMode::JsonArray, R"({"n": 1})", out, err));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(parse_objects(BodyMode::JsonArray, R"([{"n": 1}, 2])", out, err));
  EXPECT_NE(err.find("element 1"), std::string::npos) << err;
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(parse_objects(BodyMode::JsonArray, "[]", out, err));
}

TEST(RequestBody, NdjsonNamesTheBadLine) {
  std::vector<sluice::Json> out;
  std::string err;
  EXPECT_TRUE(parse_objects(BodyMode::Ndjson, "{\"n\": 1}\n\n{\"n\": 2}\r\n", out, err));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_FALSE(parse_objects(BodyMode::Ndjson, "{\"n\": 1}\n{oops\n", out, err));
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(parse_objects(BodyMode::Ndjson, "\n", out, err));
}

TEST(RequestBody, SingleObjectCheckWithoutParsing) {
  std::string err;
  EXPECT_TRUE(is_single_object(" {\"a\": [1, 2]}\n", err));
  EXPECT_FALSE(is_single_object("{\"a\": ", err));
  EXPECT_FALSE(is_single_object("", err));
  EXPECT_FALSE(is_single_object("[{}]", err));
  EXPECT_FALSE(is_single_object("{} {}", err));
}

TEST(RequestBody, ContentTypes) {
  EXPECT_TRUE(content_type_allowed(BodyMode::Json, ""));
  EXPECT_TRUE(content_type_allowed(BodyMode::Json, "application/json; charset=utf-8"));
  EXPECT_TRUE(content_type_allowed(BodyMode::Json, "Application/JSON"));
  EXPECT_TRUE(content_type_allowed(BodyMode::Json, "application/vnd.click+json"));
  EXPECT_FALSE(content_type_allowed(BodyMode::Json, "application/x-www-form-urlencoded"));
  EXPECT_FALSE(content_type_allowed(BodyMode::Json, "application/x-ndjson"));
  EXPECT_TRUE(content_type_allowed(BodyMode::Ndjson, "application/x-ndjson"));
  EXPECT_FALSE(content_type_allowed(BodyMode::Ndjson, "text/html"));
  EXPECT_TRUE(content_type_allowed(BodyMode::None, "text/html"));
}

TEST(RequestBody, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3creT"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cret2"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal("", ""));
}
