// EsSearchIndex's requests without a server: the seed's query shapes (simple_query_string over
// title^2 and description, hot = function_score log1p on visits, newest), highlights, paging
// within 10,000, reading an answer, the increment body; and a server that is down is an error.
#include "es_search_index.hpp"

#include <gtest/gtest.h>

#include "increment_script.hpp"
#include "open_search_index.hpp"

namespace es = sluice::elasticsearch;
using sluice::Json;
using sluice::SearchRequest;
using sluice::SearchSort;

namespace {

SearchRequest request(const std::string& text, SearchSort sort = SearchSort::Relevance) {
  SearchRequest r;
  r.text = text;
  r.sort = sort;
  return r;
}

class QuietLogger : public sluice::Logger {
 public:
  bool enabled(sluice::LogLevel) const noexcept override { return false; }
  void write(sluice::LogLevel, std::string_view) override {}
};

}  // namespace

TEST(EsSearchBody, RelevanceIsSimpleQueryStringOverTitleAndDescription) {
  const Json body = es::search_body(request("MacBook Air"));
  const Json& q = body["query"]["simple_query_string"];
  EXPECT_EQ(q["query"], "macbook air");
  EXPECT_EQ(q["fields"], Json::array({"title^2", "description"}));
  EXPECT_EQ(q["default_operator"], "or");
  EXPECT_EQ(body["track_total_hits"], true);
  EXPECT_EQ(body["from"], 0);
  EXPECT_EQ(body["size"], 10);
  EXPECT_FALSE(body.contains("sort"));
}

TEST(EsSearchBody, UserSyntaxIsOnlyWords) {
  // Quotes, operators and brackets are no syntax: the words the embedded index would match.
  const Json body = es::search_body(request("\"unbalanced -(café) +OR* ~2 | don't 1,000"));
  EXPECT_EQ(body["query"]["simple_query_string"]["query"], "unbalanced cafe or 2 don't 1,000");
  // No words at all: everything, as in the embedded index.
  EXPECT_EQ(es::search_body(request("!!! ---"))["query"], Json({{"match_all", Json::object()}}));
  EXPECT_EQ(es::search_body(request(""))["query"], Json({{"match_all", Json::object()}}));
  // Invalid UTF-8 still makes a body that serializes.
  EXPECT_NO_THROW(es::search_body(request("caf\xc3 \xff\xfe bike")).dump());
}

TEST(EsSearchBody, AHugeQueryStaysUnderTheClauseLimit) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "w" + std::to_string(i) + " ";
  const std::string q = es::search_body(request(text))["query"]["simple_query_string"]["query"];
  EXPECT_EQ(std::count(q.begin(), q.end(), ' ') + 1, 400);
}

TEST(EsSearchBody, HotIsFunctionScoreLog1pOnVisits) {
  SearchRequest r = request("bike", SearchSort::Hot);
  r.visits_missing = 0.1;
  const Json body = es::search_body(r);
  const Json& fs = body["query"]["function_score"];
  EXPECT_EQ(fs["query"]["simple_query_string"]["query"], "bike");
  EXPECT_EQ(fs["field_value_factor"], Json({{"field", "visits"}, {"modifier", "log1p"}, {"missing", 0.1}}));
  EXPECT_EQ(fs["boost_mode"], "multiply");
}

TEST(EsSearchBody, NewestIsTheOrderOfWrites) {
  const Json body = es::search_body(request("bike", SearchSort::Newest));
  EXPECT_EQ(body["sort"], Json::parse(R"([{"_seq_no":"desc"},"_score"])"));
  EXPECT_EQ(body["track_scores"], true);
}

TEST(EsSearchBody, HighlightsWithTheRequestsTagsHtmlEncoded) {
  SearchRequest r = request("bike");
  r.pre_tag = "<mark>";
  r.post_tag = "</mark>";
  const Json h = es::search_body(r)["highlight"];
  EXPECT_EQ(h["pre_tags"], Json::array({"<mark>"}));
  EXPECT_EQ(h["post_tags"], Json::array({"</mark>"}));
  EXPECT_EQ(h["encoder"], "html");
  EXPECT_EQ(h["fields"]["title"]["number_of_fragments"], 0);
  EXPECT_EQ(h["fields"]["description"]["number_of_fragments"], 1);
}

TEST(EsSearchBody, PagingStaysWithinTheResultWindow) {
  SearchRequest r = request("bike");
  r.from = 9995;
  r.size = 50;
  Json body = es::search_body(r);
  EXPECT_EQ(body["from"], 9995);
  EXPECT_EQ(body["size"], 5);
  r.from = 20000;
  body = es::search_body(r);
  EXPECT_EQ(body["from"], 10000);
  EXPECT_EQ(body["size"], 0);
}

TEST(EsSearchResult, ReadsHitsHighlightsAndTotal) {
  const Json answer = Json::parse(R"({"hits": {"total": {"value": 12, "relation": "eq"}, "hits": [
    {"_id": "42", "_score": 1.5, "_source": {"title": "Used MacBook Air 13\"", "description": "A <great> laptop"},
     "highlight": {"title": ["Used <em>MacBook</em> <em>Air</em> 13&quot;"]}},
    {"_id": "7", "_score": 0.5, "_source": {"title": "Bike & lock", "description": "only the description matched"},
     "highlight": {"description": ["only the <em>description</em> matched"]}}]}})");
  const sluice::SearchResult r = es::search_result(answer, request("macbook air description"));
  EXPECT_EQ(r.total, 12u);
  ASSERT_EQ(r.hits.size(), 2u);
  EXPECT_EQ(r.hits[0].id, "42");
  EXPECT_DOUBLE_EQ(r.hits[0].score, 1.5);
  EXPECT_EQ(r.hits[0].title_highlight, "Used <em>MacBook</em> <em>Air</em> 13&quot;");
  // Fields without a highlight are shown HTML-escaped, as the embedded index shows them.
  EXPECT_EQ(r.hits[0].snippet_highlight, "A &lt;great&gt; laptop");
  EXPECT_EQ(r.hits[1].title_highlight, "Bike &amp; lock");
  EXPECT_EQ(r.hits[1].snippet_highlight, "only the <em>description</em> matched");
  EXPECT_EQ(r.hits[1].source["title"], "Bike & lock");
  EXPECT_THROW(es::search_result(Json::parse(R"({"error": "x"})"), request("a")), std::runtime_error);
}

TEST(EsIncrementBody, TheSinksScriptAsAScriptedUpsert) {
  const Json plain = es::increment_body("visits", 3, std::nullopt);
  EXPECT_EQ(plain["script"]["source"], es::kIncrementScript);
  EXPECT_EQ(plain["script"]["params"], Json({{"f", "visits"}, {"by", 3}, {"gf", "sluice_applied"}}));
  EXPECT_EQ(plain["scripted_upsert"], true);
  EXPECT_EQ(plain["upsert"], Json::object());
  const Json guarded = es::increment_body("visits", 1, sluice::IncrementGuard{"applied", "views-0", 17});
  EXPECT_EQ(guarded["script"]["params"],
            Json({{"f", "visits"}, {"by", 1}, {"gf", "applied"}, {"k", "views-0"}, {"s", 17}}));
}

TEST(EsSearchIndex, PathSegmentsArePercentEncoded) {
  EXPECT_EQ(es::path_segment("a/b?c#d e+f%é"), "a%2Fb%3Fc%23d%20e%2Bf%25%C3%A9");
  EXPECT_EQ(es::path_segment("listing_index-1.x~"), "listing_index-1.x~");
}

TEST(EsSearchIndex, AServerThatIsDownIsAClearError) {
  QuietLogger log;
  es::ClientSettings settings;
  settings.hosts = {"http://127.0.0.1:1"};  // nothing listens on port 1
  settings.timeout = std::chrono::milliseconds(2000);
  auto index = es::open_search_index(log, "/nonexistent", settings, false, "listing_index");
  EXPECT_EQ(index->name(), "listing_index");
  try {
    index->search(request("bike"));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("listing_index: no host answers"), std::string::npos) << e.what();
  }
  EXPECT_THROW(index->index("1", Json::object()), std::runtime_error);
}
