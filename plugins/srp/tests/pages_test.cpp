// The pages rendered from the built-in templates: hostile listings and queries
// are text, never markup; the highlights are the only raw HTML; the numbers a
// user checks (total, page N of M, visits) are there.
#include "pages.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sluice/log.hpp>

using namespace sluice::srp;
using sluice::Json;
using sluice::SearchHit;
using sluice::SearchResult;

namespace {

const std::string kHostile = "<script>alert(1)</script><img src=x onerror=alert(1)>";

class NullLogger : public sluice::Logger {
 public:
  bool enabled(sluice::LogLevel) const noexcept override { return false; }
  void write(sluice::LogLevel, std::string_view) override {}
};

Pages builtin_pages() {
  NullLogger log;
  return Pages(WebFiles::load("", log));
}

SearchHit hit(const std::string& id, const std::string& title, const std::string& title_html,
              const std::string& snippet_html, int visits) {
  SearchHit h;
  h.id = id;
  h.source = {{"id", id}, {"title", title}, {"visits", visits}};
  h.title_highlight = title_html;
  h.snippet_highlight = snippet_html;
  return h;
}

SearchParams params(const std::string& q, std::size_t page = 1, std::size_t size = 10) {
  SearchParams p;
  p.q = q;
  p.page = page;
  p.size = size;
  return p;
}

/** True when the page has no element a hostile text could have made. */
void expect_no_injected_markup(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
}

}  // namespace

TEST(Pages, EveryBuiltInTemplateLoads) {
  NullLogger log;
  auto web = WebFiles::load("", log);
  for (const char* p : {"layout", "home", "results", "no_results", "item", "error"})
    EXPECT_NE(web->page(p), nullptr) << p;
  const Asset* css = web->asset("style.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_FALSE(css->gzipped.empty());
  EXPECT_EQ(web->asset_url("style.css"), "/static/style.css?v=" + css->version);
}

TEST(Pages, HostileTitleIsShownAsTextInResultsHomeAndItem) {
  const Pages pages = builtin_pages();
  SearchResult r;
  r.total = 1;
  // The index escapes the title in its highlight; the page must not undo that.
  r.hits.push_back(hit("7", kHostile, "&lt;script&gt;<em>alert</em>(1)&lt;/script&gt;", "", 3));
  const std::string results = pages.results(params("alert"), r).body;
  expect_no_injected_markup(results);
  EXPECT_NE(results.find("&lt;script&gt;<em>alert</em>(1)&lt;/script&gt;"), std::string::npos);

  const std::string home = pages.home(r, r, 1).body;
  expect_no_injected_markup(home);
  EXPECT_NE(home.find("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"),
            std::string::npos);

  const Json doc = {{"id", "7"}, {"title", kHostile}, {"description", kHostile}, {"price", kHostile}};
  const std::string item = pages.item("7", doc).body;
  expect_no_injected_markup(item);
  EXPECT_NE(item.find("<h1>&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << item;
}

TEST(Pages, HostileQueryIsEscapedEverywhereItIsEchoed) {
  const Pages pages = builtin_pages();
  const std::string q = "\"><script>alert(1)</script>";
  SearchResult r;
  r.total = 1;
  r.hits.push_back(hit("1", "x", "x", "", 0));
  for (const std::string& html :
       {pages.results(params(q), r).body, pages.results(params(q), SearchResult{}).body,
        pages.error(400, q, q).body}) {
    expect_no_injected_markup(html);
    EXPECT_EQ(html.find("\"><script"), std::string::npos) << html;
    EXPECT_NE(html.find("&quot;&gt;&lt;script&gt;"), std::string::npos) << html;
  }
  // In links the query is percent-encoded (then the & of the query string escaped).
  const std::string html = pages.results(params(q), r).body;
  EXPECT_NE(html.find("/search?q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;sort=hot"),
            std::string::npos)
      << html;
}

TEST(Pages, ResultsShowTotalHighlightsVisitsAndPageOfPages) {
  const Pages pages = builtin_pages();
  SearchResult r;
  r.total = 23;
  r.hits.push_back(hit("42", "Used MacbookAir 13\"", "Used <em>MacbookAir</em> 13&quot;",
                       "This is a used <em>Macbook</em> <em>Air</em> in great condition", 17));
  const std::string html = pages.results(params("macbook air", 2), r).body;
  EXPECT_NE(html.find("Results for “<span class=\"query\">macbook air</span>”"), std::string::npos) << html;
  EXPECT_NE(html.find("<strong>23</strong> results"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"/item/42\">Used <em>MacbookAir</em> 13&quot;</a>"), std::string::npos);
  EXPECT_NE(html.find("This is a used <em>Macbook</em> <em>Air</em> in great condition"), std::string::npos);
  EXPECT_NE(html.find("17 visits"), std::string::npos);
  EXPECT_NE(html.find("Page 2 of 3"), std::string::npos);
  EXPECT_NE(html.find("rel=\"prev\" href=\"/search?q=macbook%20air&amp;size=10\""), std::string::npos)
      << html;
  EXPECT_NE(html.find("rel=\"next\" href=\"/search?q=macbook%20air&amp;page=3&amp;size=10\""),
            std::string::npos);
  EXPECT_NE(html.find("<strong class=\"current\" aria-current=\"true\">Relevant</strong>"),
            std::string::npos);
  EXPECT_NE(html.find("start=\"11\""), std::string::npos);
}

TEST(Pages, NoResultsPageAndNotices) {
  const Pages pages = builtin_pages();
  SearchParams p = params("zzzz");
  p.notices.push_back("At most 100 results are shown per page.");
  const std::string html = pages.results(p, SearchResult{}).body;
  EXPECT_NE(html.find("No results for “<span class=\"query\">zzzz</span>”"), std::string::npos) << html;
  EXPECT_NE(html.find("<p class=\"notice\">At most 100 results are shown per page.</p>"), std::string::npos);
}

TEST(Pages, ErrorPagesSayWhatHappened) {
  const Pages pages = builtin_pages();
  const Answer a = pages.error(503, "The search index does not answer right now.");
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.body.find("Search is unavailable right now"), std::string::npos);
  EXPECT_NE(a.body.find("try again"), std::string::npos);
  const Answer j = Pages::error_json(400, "bad \xFF sort");
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(Json::parse(j.body)["error"], "bad \xEF\xBF\xBD sort");
}

TEST(Pages, JsonApiCarriesTheSameResults) {
  const Pages pages = builtin_pages();
  SearchResult r;
  r.total = 23;
  r.hits.push_back(hit("42", kHostile, "t", "s", 5));
  SearchParams p = params("mac", 3, 10);
  const Json body = Json::parse(pages.results_json(p, r).body);
  EXPECT_EQ(body["query"], "mac");
  EXPECT_EQ(body["sort"], "relevant");
  EXPECT_EQ(body["page"], 3);
  EXPECT_EQ(body["pages"], 3);
  EXPECT_EQ(body["total"], 23);
  ASSERT_EQ(body["hits"].size(), 1u);
  EXPECT_EQ(body["hits"][0]["id"], "42");
  EXPECT_EQ(body["hits"][0]["title"], kHostile);  // JSON carries the text; escaping is the page's job
  EXPECT_EQ(body["hits"][0]["title_html"], "t");
  EXPECT_EQ(body["hits"][0]["visits"], 5);
  EXPECT_EQ(body["hits"][0]["href"], "/item/42");
}

TEST(Pages, WebRootReplacesFilesOfTheSameName) {
  const std::string dir = testing::TempDir() + "/srp-web-root";
  std::filesystem::create_directories(dir + "/templates");
  std::filesystem::create_directories(dir + "/static");
  {
    std::ofstream(dir + "/templates/error.html") << "<p class=mine>{{message}}</p>";
    std::ofstream(dir + "/static/style.css") << "body{color:red}";
  }
  NullLogger log;
  const Pages pages(WebFiles::load(dir, log));
  const std::string html = pages.error(404, "<x>").body;
  EXPECT_NE(html.find("<p class=mine>&lt;x&gt;</p>"), std::string::npos) << html;
  EXPECT_NE(html.find("<header class=\"site-header\">"), std::string::npos);  // the built-in layout stays
  EXPECT_EQ(pages.web().asset("style.css")->body, "body{color:red}");

  std::ofstream(dir + "/templates/error.html") << "{{#open}} never closed";
  try {
    WebFiles::load(dir, log);
    ADD_FAILURE() << "a broken template loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("templates/error.html:1: section {{#open}} is never closed"),
              std::string::npos)
        << e.what();
  }
}

TEST(Pages, GzipRoundTripsAndAcceptEncodingIsRead) {
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip(""));
  const std::string z = gzip(std::string(1000, 'a'));
  ASSERT_GT(z.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
  EXPECT_LT(z.size(), 100u);
}
