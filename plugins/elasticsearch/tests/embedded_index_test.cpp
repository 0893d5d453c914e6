// The embedded index's store: writes as Elasticsearch does them, the guard of increments,
// durability across reopening, the lock, and BM25 / hot searches with highlights and paging.
#include "embedded_index.hpp"

#include <filesystem>
#include <random>

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
