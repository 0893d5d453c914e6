// The JSON scanner reads fields of unparsed payloads: whatever it answers
// must be what the parsed document says, for valid and invalid payloads alike.
#include "sdk/json_scan.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "sluice/template.hpp"

using sluice::Event;
using sluice::FieldPath;
using sluice::Json;
using sluice::detail::Scan;

namespace {

struct Outcome {
  bool threw = false;
  std::optional<Json> value;
  bool appended = false;
  std::string text;
};

/** get() and append_text() of @p path on @p payload, unparsed (scanner) or parsed first (DOM). */
Outcome read(const std::string& payload, const FieldPath& path, bool parsed_first) {
  Outcome o;
  Event e(payload);
  if (parsed_first && !e.parse()) {
    o.threw = true;
    return o;
  }
  try {
    o.value = path.get(e);
    Event e2(payload);
    if (parsed_first) e2.parse();
    o.appended = path.append_text(e2, o.text);
  } catch (const sluice::ParseError&) {
    o.threw = true;
  }
  return o;
}

void expect_same(const std::string& payload, const std::string& field) {
  const auto path = FieldPath::parse(field);
  ASSERT_TRUE(path) << field;
  const Outcome scanned = read(payload, *path, false);
  const Outcome dom = read(payload, *path, true);
  ASSERT_EQ(scanned.threw, dom.threw) << payload << " / " << field;
  if (dom.threw) return;
  ASSERT_EQ(scanned.value.has_value(), dom.value.has_value()) << payload << " / " << field;
  if (dom.value) {
    EXPECT_EQ(*scanned.value, *dom.value) << payload << " / " << field;
    EXPECT_EQ(scanned.value->type(), dom.value->type()) << payload << " / " << field;
  }
  EXPECT_EQ(scanned.appended, dom.appended) << payload << " / " << field;
  EXPECT_EQ(scanned.text, dom.text) << payload << " / " << field;
}

const char* const kFields[] = {"a", "b", "a.b", "a.0", "a.1", "b.c.d", "0", "x"};

}  // namespace

TEST(JsonScan, ReadsFieldsAsTheParsedDocumentDoes) {
  const char* const docs[] = {
      R"({"a":1,"b":"two"})",
      R"( {"a" : -0 , "b" : [1, 2.50, -3e2, 1E400, 18446744073709551616]} )",
      R"({"a":{"b":{"c":true}},"b":{"c":{"d":null}}})",
      R"({"a":[10,{"b":1}],"x":"\"quoted\" \\ \/ \u00e9 \n"})",
      R"({"a":1,"a":2})",                                // the last of duplicate keys wins
      R"({"a":{"b":1},"a":"flat"})",                     // ... also for the path through it
      R"({"\u0061":5,"b":1})",                           // an escaped key: left to the parser
      R"({"a":"\ud83d\ude00","b":"\ud800"})",            // surrogates: left to the parser
      "{\"a\":\"caf\xc3\xa9\",\"b\":\"\xe2\x82\xac\"}",  // UTF-8
      "{\"a\":\"\xc3\x28\"}",                            // invalid UTF-8
      "{\"a\":\"\xed\xa0\x80\"}",                        // UTF-8 surrogate: invalid
      "\xef\xbb\xbf{\"a\":1}",                           // byte-order mark
      R"([1,[2,3]])",
      R"("just a string")",
      R"(42)",
      R"({"a":1,})",
      R"({"a":01})",
      R"({"a":1} x)",
      R"({"a":"tab	inside"})",
      R"({"a":tru})",
      R"({"a":[1,2)",
      "",
      "   ",
      R"({"a":1.0,"b":1e2,"x":-12.5e-3})",
      R"({"a":9223372036854775807,"b":-9223372036854775808,"x":-9223372036854775809})",
      R"({"a":{},"b":[],"x":{"":1}})",
  };
  for (const char* doc : docs)
    for (const char* field : kFields) expect_same(doc, field);
}

TEST(JsonScan, NeverAcceptsWhatTheParserRefuses) {
  const char* const invalid[] = {"{",  "}",  "[1,]",    "{\"a\" 1}", "nul",        "-",     "1.",
                                 ".5", "1e", "\"\\x\"", "\"\\u12\"", "{\"a\":1}}", "[] []", "\"\x01\""};
  for (const char* doc : invalid) {
    EXPECT_FALSE(sluice::detail::scan_valid(doc)) << doc;
    EXPECT_FALSE(Json::accept(doc)) << doc;
  }
}

TEST(JsonScan, RandomDocumentsAgreeWithTheParser) {
  std::mt19937 rng(12345);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* const strings[] = {"\"a\"",   "\"b\"",       "\"x\"",
                                 "\"0\"",   "\"\"",        "\"caf\xc3\xa9\"",
                                 "\"\\n\"", "\"\\u0041\"", "\"\\ud83d\\ude00\""};
  const char* const scalars[] = {"0",    "-0",    "1",    "-7",    "2.5",        "1e3",
                                 "true", "false", "null", "\"s\"", "\"t\\\"u\"", "123456789012345678901234"};
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    const int k = depth > 3 ? 2 : pick(4);
    if (k == 0) {
      std::string s = "{";
      for (int i = 0, n = pick(4); i < n; ++i) {
        if (i) s += pick(2) ? "," : " , ";
        s += strings[pick(9)];
        s += ":";
        s += gen(depth + 1);
      }
      return s + "}";
    }
    if (k == 1) {
      std::string s = "[";
      for (int i = 0, n = pick(4); i < n; ++i) {
        if (i) s += ",";
        s += gen(depth + 1);
      }
      return s + "]";
    }
    return scalars[pick(12)];
  };
  for (int i = 0; i < 3000; ++i) {
    std::string doc = gen(0);
    if (i % 7 == 0 && !doc.empty())
      doc.erase(static_cast<std::size_t>(pick(static_cast<int>(doc.size()))), 1);
    if (sluice::detail::scan_valid(doc)) {
      EXPECT_TRUE(Json::accept(doc)) << doc;
    }
    for (const char* field : kFields) expect_same(doc, field);
  }
}

TEST(JsonScan, ValidateKeepsSmallPayloadsUnparsedAndRefusesInvalidOnes) {
  Event ok(R"({"user_id":7,"item_id":9})");
  EXPECT_TRUE(ok.validate());
  EXPECT_FALSE(ok.has_fields());
  std::string error;
  Event bad(R"({"user_id":7,)");
  EXPECT_FALSE(bad.validate(&error));
  EXPECT_NE(error.find("parse error"), std::string::npos) << error;
  Event unusual(R"({"name":"\ud83d\ude00"})");  // valid, but the scanner leaves it to the parser
  EXPECT_TRUE(unusual.validate());
  EXPECT_TRUE(unusual.has_fields());
}
