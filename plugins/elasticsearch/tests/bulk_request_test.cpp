// The bulk lines the encoder writes, read back as the server would read them.
#include "bulk_request.hpp"

#include <gtest/gtest.h>

namespace es = sluice::elasticsearch;
using sluice::Event;
using sluice::Json;

namespace {

sluice::Template tmpl(const std::string& t) {
  return *sluice::Template::parse(t);
}
sluice::FieldPath field(const std::string& f) {
  return *sluice::FieldPath::parse(f);
}

es::Settings base(es::Action action = es::Action::Index) {
  es::Settings s;
  s.action = action;
  s.index = tmpl("listings");
  s.id = tmpl("{id}");
  return s;
}

/** The lines of one encoded event, each parsed as JSON. */
std::vector<Json> lines(const es::Settings& s, const Event& e) {
  es::BulkEncoder enc(s);
  std::string out, why;
  EXPECT_TRUE(enc.encode(e, out, why)) << why;
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  std::vector<Json> result;
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t nl = out.find('\n', start);
    result.push_back(Json::parse(out.substr(start, nl - start)));
    start = nl + 1;
  }
  return result;
}

std::string refused(const es::Settings& s, const Event& e) {
  es::BulkEncoder enc(s);
  std::string out = "before", why;
  EXPECT_FALSE(enc.encode(e, out, why));
  EXPECT_EQ(out, "before") << "a refused event leaves nothing behind";
  return why;
}

}  // namespace

TEST(BulkRequest, IndexWritesTheActionLineAndThePayloadAsItIs) {
  const Event e(R"({"id":"l-1","title":"MacBook Air","price":900})");
  const auto l = lines(base(), e);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], Json::parse(R"({"index":{"_index":"listings","_id":"l-1"}})"));
  EXPECT_EQ(l[1], Json::parse(e.payload()));
}

TEST(BulkRequest, IdsAndIndexNamesAreEscaped) {
  es::Settings s = base();
  s.routing = tmpl("{user}");
  const Event e(R"({"id":"a\"b\\c\nd\u0001","user":"ü/ß"})");
  const auto l = lines(s, e);
  EXPECT_EQ(l[0]["index"]["_id"], "a\"b\\c\nd\x01");
  EXPECT_EQ(l[0]["index"]["routing"], "ü/ß");
}

TEST(BulkRequest, PrettyPrintedJsonBecomesOneLine) {
  const Event e("{\n  \"id\": 7,\n  \"title\": \"two\\nlines\"\n}\n");
  const auto l = lines(base(), e);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0]["index"]["_id"], "7");
  EXPECT_EQ(l[1]["title"], "two\nlines");
}

TEST(BulkRequest, RefusesWhatTheServerCouldNotRead) {
  EXPECT_NE(refused(base(), Event("not json")).find("not JSON"), std::string::npos);
  EXPECT_NE(refused(base(), Event("[1,2]")).find("not a JSON object"), std::string::npos);
  EXPECT_NE(refused(base(), Event(R"({"title":"no id"})")).find("id {id} rendered empty"), std::string::npos);
  es::Settings s = base();
  s.index = tmpl("{kind}");
  EXPECT_NE(refused(s, Event(R"({"id":1})")).find("index {kind} rendered empty"), std::string::npos);
}

TEST(BulkRequest, DocumentFieldAndExclude) {
  es::Settings s = base();
  s.document = field("listing");
  s.exclude = {field("secret"), field("nested.drop")};
  const Event e(R"({"id":"x","listing":{"title":"t","secret":1,"nested":{"drop":2,"keep":3}}})");
  const auto l = lines(s, e);
  EXPECT_EQ(l[1], Json::parse(R"({"title":"t","nested":{"keep":3}})"));
  EXPECT_EQ(e.fields()["listing"]["secret"], 1) << "the event itself is not changed";
  s.document = field("missing");
  EXPECT_NE(refused(s, e).find("document missing is missing"), std::string::npos);
}

TEST(BulkRequest, UpdateAndUpsert) {
  const Event e(R"({"id":"x","title":"t"})");
  auto l = lines(base(es::Action::Update), e);
  EXPECT_EQ(l[0], Json::parse(R"({"update":{"_index":"listings","_id":"x","retry_on_conflict":3}})"));
  EXPECT_EQ(l[1], Json::parse(R"({"doc":{"id":"x","title":"t"}})"));
  l = lines(base(es::Action::Upsert), e);
  EXPECT_EQ(l[1], Json::parse(R"({"doc":{"id":"x","title":"t"},"doc_as_upsert":true})"));
}

TEST(BulkRequest, UpsertWithCreateOnlyFieldsSplitsDocAndUpsert) {
  es::Settings s = base(es::Action::Upsert);
  s.create_only = {field("visits"), field("stats.first_seen")};
  const Event e(R"({"id":"x","title":"t","visits":70,"stats":{"first_seen":1,"n":2}})");
  const auto l = lines(s, e);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1],
            Json::parse(R"({"doc":{"id":"x","title":"t","stats":{"n":2}},)"
                        R"("upsert":{"id":"x","title":"t","visits":70,"stats":{"first_seen":1,"n":2}}})"));
  EXPECT_FALSE(l[1].contains("doc_as_upsert"));
}

TEST(BulkRequest, DeleteHasNoSourceLine) {
  const auto l = lines(base(es::Action::Delete), Event(R"({"id":"x"})"));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], Json::parse(R"({"delete":{"_index":"listings","_id":"x"}})"));
}

TEST(BulkRequest, ExternalVersion) {
  es::Settings s = base();
  s.version = field("meta.offset");
  s.version_type = "external";
  Event e(R"({"id":"x"})");
  e.meta.offset = 42;
  const auto l = lines(s, e);
  EXPECT_EQ(l[0]["index"]["version"], 42);
  EXPECT_EQ(l[0]["index"]["version_type"], "external");
  s.version = field("v");
  EXPECT_NE(refused(s, Event(R"({"id":"x","v":"new"})")).find("not a non-negative integer"),
            std::string::npos);
}

TEST(BulkRequest, ScriptValuesArePassedAsParamsNeverInTheSource) {
  es::Settings s = base(es::Action::Script);
  s.script.source = "ctx._source.n += params.by";
  s.script.lang = "painless";
  s.script.params = {{"by", field("n")}};
  s.scripted_upsert = true;
  const Event a(R"({"id":"x","n":2})"), b(R"({"id":"y","n":"'; drop"})");
  const auto la = lines(s, a), lb = lines(s, b);
  EXPECT_EQ(la[1]["script"]["source"], lb[1]["script"]["source"]) << "one source: compiled once";
  EXPECT_EQ(la[1]["script"]["params"]["by"], 2);
  EXPECT_EQ(lb[1]["script"]["params"]["by"], "'; drop");
  EXPECT_EQ(la[1]["scripted_upsert"], true);
  EXPECT_EQ(la[1]["upsert"], Json::object());
  s.scripted_upsert = false;
  s.upsert_document = true;
  EXPECT_EQ(lines(s, a)[1]["upsert"], Json::parse(a.payload()));
  EXPECT_NE(refused(s, Event(R"({"id":"x"})")).find("script param by: n is missing"), std::string::npos);
}

TEST(BulkRequest, IncrementIsOneScriptWithParams) {
  es::Settings s = base(es::Action::Increment);
  s.increment.field = "visits";
  s.increment.by = field("count");
  s.increment.guard_key = tmpl("p{meta.partition}");
  s.increment.guard_sequence = field("meta.offset");
  s.increment.guard_field = "sluice_applied";
  Event e(R"({"id":"x","count":5})");
  e.meta.partition = 3;
  e.meta.offset = 99;
  const auto l = lines(s, e);
  EXPECT_EQ(l[0]["update"]["_id"], "x");
  const Json& body = l[1];
  EXPECT_EQ(body["script"]["source"], es::kIncrementScript);
  EXPECT_EQ(body["script"]["params"],
            Json::parse(R"({"f":"visits","gf":"sluice_applied","by":5,"k":"p3","s":99})"));
  EXPECT_EQ(body["scripted_upsert"], true);
  EXPECT_NE(refused(s, Event(R"({"id":"x","count":"five"})")).find("not a number"), std::string::npos);
}

TEST(BulkRequest, JsonStringEscapingRoundTrips) {
  std::string all;
  for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "é€😀";
  std::string out;
  es::append_json_string(out, all);
  EXPECT_EQ(Json::parse(out).get<std::string>(), all);
}
