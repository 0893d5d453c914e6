// Parsing and clamping of the search parameters: what a hostile or careless
// request (page 10^9, size 10^6, a bad sort, bad bytes) becomes.
#include "query.hpp"

#include <gtest/gtest.h>

using namespace sluice::srp;
using sluice::SearchSort;

namespace {

SearchParams parse_ok(const std::string& query, QueryLimits limits = {}) {
  SearchParams p;
  std::string error;
  EXPECT_TRUE(parse_search(parse_query_string(query), limits, p, error)) << query << ": " << error;
  return p;
}

std::string parse_fails(const std::string& query) {
  SearchParams p;
  std::string error;
  EXPECT_FALSE(parse_search(parse_query_string(query), QueryLimits{}, p, error)) << query;
  return error;
}

}  // namespace

TEST(Query, DecodesPlusAndPercentAndKeepsMalformedEscapes) {
  auto m = parse_query_string("q=macbook+air%21&sort=hot&x&q2=%zz%4");
  EXPECT_EQ(m["q"], "macbook air!");
  EXPECT_EQ(m["sort"], "hot");
  EXPECT_EQ(m["x"], "");
  EXPECT_EQ(m["q2"], "%zz%4");
  EXPECT_EQ(query_of("/search?q=a&b=c#frag"), "q=a&b=c");
  EXPECT_EQ(query_of("/search"), "");
}

TEST(Query, Defaults) {
  const SearchParams p = parse_ok("");
  EXPECT_EQ(p.q, "");
  EXPECT_EQ(p.sort, SearchSort::Relevance);
  EXPECT_EQ(p.page, 1u);
  EXPECT_EQ(p.size, 10u);
  EXPECT_TRUE(p.notices.empty());
}

TEST(Query, Sorts) {
  EXPECT_EQ(parse_ok("sort=relevant").sort, SearchSort::Relevance);
  EXPECT_EQ(parse_ok("sort=hot").sort, SearchSort::Hot);
  EXPECT_EQ(parse_ok("sort=newest").sort, SearchSort::Newest);
  EXPECT_EQ(parse_fails("sort=%3Cscript%3E"), "unknown sort '<script>': use relevant, hot or newest");
  EXPECT_EQ(parse_fails("sort=HOT"), "unknown sort 'HOT': use relevant, hot or newest");
}

TEST(Query, HugePageIsBroughtBackWithinTheResultWindow) {
  const SearchParams p = parse_ok("q=x&page=1000000000");
  EXPECT_EQ(p.page, 1000u);  // 1000 × 10 = 10,000
  EXPECT_LE(first_hit(p) + p.size, kMaxResultWindow);
  ASSERT_EQ(p.notices.size(), 1u);
  EXPECT_NE(p.notices[0].find("first 10000 results"), std::string::npos) << p.notices[0];
  // Digits past any integer saturate instead of wrapping.
  const SearchParams q = parse_ok("page=99999999999999999999999999999999&size=7");
  EXPECT_EQ(q.page, 10000u / 7);
  EXPECT_LE(first_hit(q) + q.size, kMaxResultWindow);
}

TEST(Query, HugeSizeIsBroughtDownToTheMaximum) {
  const SearchParams p = parse_ok("size=1000000");
  EXPECT_EQ(p.size, 100u);
  ASSERT_EQ(p.notices.size(), 1u);
  EXPECT_EQ(p.notices[0], "At most 100 results are shown per page.");
  const SearchParams both = parse_ok("size=1000000&page=1000000000");
  EXPECT_EQ(both.size, 100u);
  EXPECT_EQ(both.page, 100u);
  EXPECT_EQ(first_hit(both) + both.size, kMaxResultWindow);
}

TEST(Query, NotANumberIsRefused) {
  EXPECT_EQ(parse_fails("page=0"), "page must be a positive whole number, not '0'");
  EXPECT_EQ(parse_fails("page=-1"), "page must be a positive whole number, not '-1'");
  EXPECT_EQ(parse_fails("size=1e3"), "size must be a positive whole number, not '1e3'");
  EXPECT_EQ(parse_fails("page=%FF"), "page must be a positive whole number, not '\xEF\xBF\xBD'");
}

TEST(Query, InvalidUtf8IsReplacedAndLongTextShortened) {
  const SearchParams p = parse_ok("q=mac%FF%C3book");
  EXPECT_TRUE(sluice::valid_utf8(p.q));
  EXPECT_EQ(p.q,
            "mac\xEF\xBF\xBD\xEF\xBF\xBD"
            "book");
  EXPECT_EQ(p.notices.size(), 1u);

  const std::string long_text(10240, 'a');
  const SearchParams l = parse_ok("q=" + long_text);
  EXPECT_EQ(l.q.size(), 1024u);
  // Never cut inside a character: 1023 ASCII bytes then a 2-byte character.
  const SearchParams u = parse_ok("q=" + std::string(1023, 'a') + "%C3%A9%C3%A9");
  EXPECT_EQ(u.q, std::string(1023, 'a'));
  EXPECT_TRUE(sluice::valid_utf8(u.q));
}

TEST(Query, PageCountCountsOnlyWhatCanBeShown) {
  EXPECT_EQ(page_count(0, 10), 0u);
  EXPECT_EQ(page_count(1, 10), 1u);
  EXPECT_EQ(page_count(10, 10), 1u);
  EXPECT_EQ(page_count(11, 10), 2u);
  EXPECT_EQ(page_count(1000000, 10), 1000u);
}

TEST(Query, UrlEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(url_encode("macbook air"), "macbook%20air");
  EXPECT_EQ(url_encode("a&b=c\"<"), "a%26b%3Dc%22%3C");
  EXPECT_EQ(url_encode("é"), "%C3%A9");
}
