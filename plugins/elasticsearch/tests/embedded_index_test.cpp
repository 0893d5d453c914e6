// The embedded index's store: writes as Elasticsearch does them, the guard of increments,
// durability across reopening, the lock, and BM25 / hot searches with highlights and paging.
#include "embedded_index.hpp"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

namespace es = sluice::elasticsearch;
using sluice::IncrementGuard;
using sluice::IndexResult;
using sluice::Json;
using sluice::SearchRequest;
using sluice::SearchSort;

namespace {

class RecordingLogger : public sluice::Logger {
 public:
  bool enabled(sluice::LogLevel) const noexcept override { return true; }
  void write(sluice::LogLevel, std::string_view message) override { lines.emplace_back(message); }
  std::vector<std::string> lines;
};

class EmbeddedIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-index-test-" + std::to_string(std::random_device{}()) + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::shared_ptr<es::EmbeddedIndex> open(const std::string& name = "listings") {
    return es::EmbeddedIndex::acquire(log_, dir_.string(), name);
  }
  std::filesystem::path dir_;
  RecordingLogger log_;
};

std::vector<std::string> ids(const sluice::SearchResult& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits) out.push_back(h.id);
  return out;
}

}  // namespace

TEST_F(EmbeddedIndexTest, WritesAnswerAsElasticsearchDoes) {
  auto idx = open();
  EXPECT_EQ(idx->index("1", Json{{"title", "a"}}), IndexResult::Created);
  EXPECT_EQ(idx->index("1", Json{{"title", "b"}}), IndexResult::Updated);
  EXPECT_EQ(*idx->get("1"), (Json{{"title", "b"}}));  // index replaces the whole document
  EXPECT_EQ(idx->create("1", Json{{"title", "c"}}), IndexResult::Exists);
  EXPECT_EQ(*idx->get("1"), (Json{{"title", "b"}}));
  EXPECT_EQ(idx->update("2", Json{{"x", 1}}), IndexResult::Missing);
  EXPECT_FALSE(idx->get("2"));
  EXPECT_EQ(idx->update("1", Json{{"visits", 3}, {"o", {{"a", 1}}}}), IndexResult::Updated);
  EXPECT_EQ(idx->update("1", Json{{"o", {{"b", 2}}}}), IndexResult::Updated);
  EXPECT_EQ(*idx->get("1"), (Json{{"title", "b"}, {"visits", 3}, {"o", {{"a", 1}, {"b", 2}}}}));
  EXPECT_EQ(idx->update("1", Json{{"visits", 3}}), IndexResult::Noop);
  EXPECT_EQ(idx->upsert("3", Json{{"title", "t"}}), IndexResult::Created);
  EXPECT_EQ(idx->upsert("3", Json{{"description", "d"}}), IndexResult::Updated);
  EXPECT_EQ(*idx->get("3"), (Json{{"title", "t"}, {"description", "d"}}));
  EXPECT_EQ(idx->remove("3"), IndexResult::Deleted);
  EXPECT_EQ(idx->remove("3"), IndexResult::Noop);
  EXPECT_EQ(idx->count(), 1u);
}

TEST_F(EmbeddedIndexTest, GuardedIncrementsApplyOncePerSequence) {
  auto idx = open();
  const IncrementGuard g5{"sluice_applied", "page-views-0", 5};
  EXPECT_EQ(idx->increment("42", "visits", 2, g5), IndexResult::Created);  // a missing document starts at 0
  EXPECT_EQ(idx->increment("42", "visits", 2, g5), IndexResult::Noop);     // replayed: not applied twice
  EXPECT_EQ(idx->increment("42", "visits", 7, IncrementGuard{"sluice_applied", "page-views-0", 4}),
            IndexResult::Noop);  // older than the mark
  EXPECT_EQ(idx->increment("42", "visits", 3, IncrementGuard{"sluice_applied", "page-views-1", 1}),
            IndexResult::Updated);  // another partition has its own mark
  EXPECT_EQ(idx->increment("42", "visits", 1, std::nullopt), IndexResult::Updated);
  const Json doc = *idx->get("42");
  EXPECT_EQ(doc["visits"], 6);
  EXPECT_TRUE(doc["visits"].is_number_integer());
  EXPECT_EQ(doc["sluice_applied"], (Json{{"page-views-0", 5}, {"page-views-1", 1}}));
  // The listings pipeline's upsert keeps the counted visits.
  EXPECT_EQ(idx->upsert("42", Json{{"id", 42}, {"title", "Macbook"}}), IndexResult::Updated);
  EXPECT_EQ((*idx->get("42"))["visits"], 6);
}

TEST_F(EmbeddedIndexTest, CommittedWritesSurviveReopening) {
  {
    auto idx = open();
    idx->index("1", Json{{"title", "kept"}});
    idx->increment("1", "visits", 4, IncrementGuard{"g", "k", 1});
    idx->commit();
  }
  auto idx = open();
  ASSERT_TRUE(idx->get("1"));
  EXPECT_EQ((*idx->get("1"))["visits"], 4);
  EXPECT_EQ(idx->increment("1", "visits", 4, IncrementGuard{"g", "k", 1}), IndexResult::Noop);
  EXPECT_EQ(idx->search(SearchRequest{.text = "kept"}).total, 1u);
}

TEST_F(EmbeddedIndexTest, SaysAtStartThatItServesOneMachine) {
  auto idx = open();
  ASSERT_FALSE(log_.lines.empty());
  EXPECT_NE(log_.lines[0].find("serves this machine only"), std::string::npos) << log_.lines[0];
}

TEST_F(EmbeddedIndexTest, OneIndexPerNameSharedInProcess) {
  auto a = open("listings");
  auto b = open("listings");
  auto c = open("other");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  a->index("1", Json::object());
  EXPECT_TRUE(b->get("1"));
  EXPECT_FALSE(c->get("1"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "search-index" / "listings"));
}

TEST_F(EmbeddedIndexTest, ASecondWriterIsRefusedWithAClearMessage) {
  auto a = open();
  // Another EmbeddedIndex on the same path (what another process would do) finds the lock taken.
  try {
    es::EmbeddedIndex other("listings", es::embedded_index_path(dir_.string(), "listings"));
    FAIL() << "a second writer opened the index";
  } catch (const Xapian::DatabaseLockError&) {
  }
}

TEST_F(EmbeddedIndexTest, RelevanceWeighsTitleAboveDescriptionAndHighlights) {
  auto idx = open();
  idx->index("1", Json{{"title", "Used Macbook Air 13\""},
                       {"description", "This is a used Macbook Air in great condition"}});
  idx->index("2", Json{{"title", "Macbook charger"}, {"description", "fits an air too"}});
  idx->index("3", Json{{"title", "Bicycle"}, {"description", "a macbook would not fit on it"}});
  idx->index("4", Json{{"title", "Sofa"}, {"description", "comfortable"}});
  const auto r = idx->search(SearchRequest{.text = "macbook"});
  EXPECT_EQ(r.total, 3u);
  ASSERT_EQ(r.hits.size(), 3u);
  EXPECT_EQ(r.hits[2].id, "3");  // only a description match: last
  for (const auto& h : r.hits)
    if (h.id == "2") {
      EXPECT_EQ(h.title_highlight, "<em>Macbook</em> charger");
    }
  EXPECT_EQ(r.hits[0].title_highlight, "Used <em>Macbook</em> Air 13&quot;");  // escaped
  const auto air = idx->search(SearchRequest{.text = "MACBOOK air"});
  ASSERT_FALSE(air.hits.empty());
  EXPECT_EQ(air.hits[0].id, "1");
  EXPECT_EQ(air.hits[0].snippet_highlight, "This is a used <em>Macbook</em> <em>Air</em> in great condition");
  EXPECT_EQ(idx->search(SearchRequest{.text = "\"unbalanced ( \\"}).total, 0u);  // never a syntax error
}

TEST_F(EmbeddedIndexTest, HotRanksByRelevanceTimesLog1pOfVisits) {
  auto idx = open();
  idx->index("a", Json{{"title", "lamp"}, {"visits", 9}});
  idx->index("b", Json{{"title", "lamp lamp"}, {"visits", 99}});
  idx->index("c", Json{{"title", "lamp"}});  // no visits: the missing value
  const auto rel = idx->search(SearchRequest{.text = "lamp"});
  const auto hot = idx->search(SearchRequest{.text = "lamp", .sort = SearchSort::Hot});
  ASSERT_EQ(hot.hits.size(), 3u);
  EXPECT_EQ(ids(hot), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_DOUBLE_EQ(hot.hits[2].score, 0.0);  // log1p(0) with missing: 0, as on ES
  // score = relevance × log10(1 + visits): with 9 visits, the relevance itself.
  for (const auto& r : rel.hits)
    if (r.id == "a") {
      EXPECT_NEAR(hot.hits[1].score, r.score, 1e-9);
    }
  const auto hot_missing =
      idx->search(SearchRequest{.text = "lamp", .sort = SearchSort::Hot, .visits_missing = 999});
  EXPECT_EQ(hot_missing.hits[0].id, "c");
}

TEST_F(EmbeddedIndexTest, PagesCountsAndTheResultWindow) {
  auto idx = open();
  for (int i = 0; i < 25; ++i) idx->index(std::to_string(i), Json{{"title", "chair " + std::to_string(i)}});
  const auto p1 = idx->search(SearchRequest{.text = "chair", .from = 0, .size = 10});
  const auto p3 = idx->search(SearchRequest{.text = "chair", .from = 20, .size = 10});
  EXPECT_EQ(p1.total, 25u);
  EXPECT_EQ(p1.hits.size(), 10u);
  EXPECT_EQ(p3.total, 25u);
  EXPECT_EQ(p3.hits.size(), 5u);
  const auto far = idx->search(SearchRequest{.text = "chair", .from = 1000000000, .size = 1000000});
  EXPECT_EQ(far.total, 25u);
  EXPECT_TRUE(far.hits.empty());
  const auto newest = idx->search(SearchRequest{.text = "", .sort = SearchSort::Newest, .size = 2});
  EXPECT_EQ(newest.total, 25u);
  EXPECT_EQ(ids(newest), (std::vector<std::string>{"24", "23"}));
}

namespace {

/** (id, score) of the hits of @p text. */
std::vector<std::pair<std::string, double>> scores(es::EmbeddedIndex& idx, const std::string& text) {
  SearchRequest r;
  r.text = text;
  r.size = 100;
  std::vector<std::pair<std::string, double>> out;
  for (const auto& h : idx.search(r).hits) out.emplace_back(h.id, h.score);
  return out;
}

}  // namespace

TEST_F(EmbeddedIndexTest, Bm25IsLuceneWithOneLengthPerField) {
  auto idx = open();
  // A long description does not dilute a title match (Lucene keeps one length per field).
  idx->index("short", Json{{"title", "road bike"}, {"description", "a bike"}});
  idx->index("long", Json{{"title", "road bike"},
                          {"description",
                           "a bike with new tires, new brake pads, lights, a lock, a bell, "
                           "fenders and a rack; tuned up last month at the shop downtown"}});
  idx->index("other", Json{{"title", "sofa"}, {"description", "gray fabric"}});
  const auto s = scores(*idx, "road");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_FLOAT_EQ(s[0].second, s[1].second);
  // Lucene's legacy BM25 (k1 = 1.2, b = 0.75, idf = ln(1 + (N - n + 0.5) / (n + 0.5)), times k1 + 1),
  // the title boost 2: "road" in 2 of 3 titles of 2 words each (average length 5/3).
  const double idf = std::log(1 + (3 - 2 + 0.5) / (2 + 0.5));
  const double norm = 1.2 * (0.25 + 0.75 * 2 / (5.0 / 3));
  EXPECT_NEAR(s[0].second, 2 * 2.2 * idf * 1 / (1 + norm), 1e-5);
}

TEST_F(EmbeddedIndexTest, FieldStatisticsFollowEveryWriteAndSurviveReopening) {
  const auto a_dir = dir_ / "a";
  {
    auto a = es::EmbeddedIndex::acquire(log_, a_dir.string(), "listings");
    a->index("1", Json{{"title", "old title words"}, {"description", "gone soon"}});
    a->index("1", Json{{"title", "trek bike"}, {"description", "a hybrid bike for the city"}});
    a->index("2", Json{{"title", "sofa"}});
    a->upsert("2", Json{{"description", "a gray sofa bed"}});
    a->index("3", Json{{"title", "deleted bike listing"}, {"description", "bike bike"}});
    a->remove("3");
    a->increment("4", "visits", 3, std::nullopt);  // no text at all
    a->commit();
  }
  // The same documents written once each.
  auto b = open("fresh");
  b->index("1", Json{{"title", "trek bike"}, {"description", "a hybrid bike for the city"}});
  b->index("2", Json{{"title", "sofa"}, {"description", "a gray sofa bed"}});
  b->index("4", Json{{"visits", 3}});
  auto a = es::EmbeddedIndex::acquire(log_, a_dir.string(), "listings");  // reopened
  for (const char* q : {"bike", "sofa", "a gray city", "trek sofa bed"})
    EXPECT_EQ(scores(*a, q), scores(*b, q)) << q;
  // An index made before the statistics were kept (no metadata) gets them when opened.
  const std::string path = a->path();
  a.reset();
  {
    Xapian::WritableDatabase db(path);
    db.set_metadata("sluice.field_stats", "");
    db.commit();
  }
  a = es::EmbeddedIndex::acquire(log_, a_dir.string(), "listings");
  for (const char* q : {"bike", "sofa", "a gray city"}) EXPECT_EQ(scores(*a, q), scores(*b, q)) << q;
}

TEST_F(EmbeddedIndexTest, ParallelSearchesFollowAWriterThatCommits) {
  // The search page's threads on the committed revisions' readers while the sink writes and
  // commits (each commit makes readers reopen; two commits during one search make it start again).
  auto idx = open();
  constexpr int kDocs = 600;
  constexpr int kPerCommit = 20;
  std::atomic<bool> done{false};
  std::atomic<int> searches{0};
  std::vector<std::string> failures(4);
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&, t] {
      std::uint64_t last = 0;
      while (!done.load()) {
        const auto r = idx->search(
            SearchRequest{.text = "lamp", .sort = t % 2 ? SearchSort::Hot : SearchSort::Relevance});
        searches.fetch_add(1);
        if (r.total < last)
          failures[t] = "total went back from " + std::to_string(last) + " to " + std::to_string(r.total);
        last = r.total;
        for (const auto& h : r.hits)
          if (h.source.value("title", "") != "brass lamp " + h.id)
            failures[t] = "hit " + h.id + ": " + h.source.dump();
      }
    });
  for (int i = 0; i < kDocs; ++i) {
    idx->index(std::to_string(i), Json{{"title", "brass lamp " + std::to_string(i)}, {"visits", i}});
    if ((i + 1) % kPerCommit == 0) idx->commit();
  }
  // Every reader has searched the last revision at least once more.
  const int after = searches.load();
  while (searches.load() < after + 8) std::this_thread::yield();
  done = true;
  for (auto& r : readers) r.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  EXPECT_EQ(idx->search(SearchRequest{.text = "lamp"}).total, static_cast<std::uint64_t>(kDocs));
  const auto hot = idx->search(SearchRequest{.text = "lamp", .sort = SearchSort::Hot, .size = 1});
  ASSERT_EQ(hot.hits.size(), 1u);
  EXPECT_EQ(hot.hits[0].id, std::to_string(kDocs - 1));
}
