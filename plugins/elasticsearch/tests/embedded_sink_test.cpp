// The elasticsearch sink with `hosts: embedded`, through the real loader and runtime: each action
// against the embedded index, with the acknowledgements a server's answers give, read back from
// the index on disk (read-only, as another process would).
#include <sluice/testing.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <xapian.h>

using sluice::AckStatus;
using sluice::Json;

namespace {

/** Runs @p events (JSON texts) through a sink with @p options; returns their acknowledgements. */
std::vector<AckStatus> run(sluice::testing::Harness& h, const std::string& options,
                           const std::vector<std::string>& events) {
  h.start(
      "pipelines:\n  p:\n    source: {type: inject, finite: true}\n    sinks:\n      - type: elasticsearch\n"
      "        hosts: embedded\n        index: listings\n" +
      options);
  h.inject_json("in", events);
  h.close("in");
  EXPECT_TRUE(h.wait_idle(std::chrono::seconds(20)));
  auto acks = h.ack_statuses("in");
  h.stop();
  return acks;
}

/** Documents of the index as committed on disk: id → source. */
std::map<std::string, Json> on_disk(const sluice::testing::Harness& h, const std::string& name = "listings") {
  Xapian::Database db((std::filesystem::path(h.data_dir()) / "search-index" / name).string());
  std::map<std::string, Json> out;
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    Xapian::Document d = db.get_document(*it);
    out[d.get_value(2)] = Json::parse(d.get_data());
  }
  return out;
}

using Acks = std::vector<AckStatus>;
constexpr AckStatus D = AckStatus::Delivered;
constexpr AckStatus DL = AckStatus::DeadLettered;

}  // namespace

TEST(EmbeddedSink, IndexReplacesAndCreateOfATakenIdIsDelivered) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  EXPECT_EQ(run(h, "        id: '{id}'\n        action: create\n",
                {R"({"id":1,"title":"first"})", R"({"id":1,"title":"second"})", R"({"id":2,"title":"x"})"}),
            (Acks{D, D, D}));  // the second create finds 1 taken: 409, delivered
  auto docs = on_disk(h);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs["1"]["title"], "first");
}

TEST(EmbeddedSink, EachActionOnOneIndex) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  const std::string yaml =
      "pipelines:\n"
      "  idx:\n    source: {type: inject, name: i, finite: true}\n    sinks:\n"
      "      - {type: elasticsearch, hosts: embedded, index: listings, id: '{id}', action: index}\n"
      "  upd:\n    source: {type: inject, name: u, finite: true}\n    sinks:\n"
      "      - {type: elasticsearch, hosts: embedded, index: listings, id: '{id}', action: update}\n"
      "  ups:\n    source: {type: inject, name: s, finite: true}\n    sinks:\n"
      "      - {type: elasticsearch, hosts: embedded, index: listings, id: '{id}', action: upsert}\n"
      "  del:\n    source: {type: inject, name: d, finite: true}\n    sinks:\n"
      "      - {type: elasticsearch, hosts: embedded, index: listings, id: '{id}', action: delete}\n";
  h.start(yaml);
  // Two plugins (here four) naming the same index share it: every pipeline sees the others' writes.
  h.inject_json("i", {R"({"id":1,"title":"lamp","visits":5})", R"({"id":2,"title":"chair"})",
                      R"({"id":3,"title":"desk"})"});
  h.close("i");
  ASSERT_TRUE(h.wait_idle(std::chrono::seconds(20)));
  h.inject_json("u", {R"({"id":1,"description":"bright"})", R"({"id":9,"title":"nowhere"})"});
  h.inject_json("s", {R"({"id":2,"description":"wooden"})", R"({"id":7,"title":"new"})"});
  h.inject_json("d", {R"({"id":3})", R"({"id":99})"});
  h.close("u");
  h.close("s");
  h.close("d");
  ASSERT_TRUE(h.wait_idle(std::chrono::seconds(20)));
  EXPECT_EQ(h.ack_statuses("i"), (Acks{D, D, D}));
  EXPECT_EQ(h.ack_statuses("u"), (Acks{D, DL}));  // an update of a missing document: 404, dead letter
  EXPECT_EQ(h.ack_statuses("s"), (Acks{D, D}));
  EXPECT_EQ(h.ack_statuses("d"), (Acks{D, D}));  // deleting a missing document: delivered, as on ES
  h.stop();
  auto docs = on_disk(h);
  EXPECT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs["1"], (Json{{"id", 1}, {"title", "lamp"}, {"visits", 5}, {"description", "bright"}}));
  EXPECT_EQ(docs["2"], (Json{{"id", 2}, {"title", "chair"}, {"description", "wooden"}}));
  EXPECT_EQ(docs["7"], (Json{{"id", 7}, {"title", "new"}}));
  EXPECT_FALSE(docs.count("3"));
  EXPECT_FALSE(docs.count("9"));
  // The dead letter says why, as a server's 404 would.
  bool found = false;
  for (auto& e : std::filesystem::recursive_directory_iterator(h.data_dir()))
    if (e.path().extension() == ".jsonl") {
      std::ifstream f(e.path());
      std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      found = found || text.find("document_missing_exception") != std::string::npos;
    }
  EXPECT_TRUE(found);
}

TEST(EmbeddedSink, UpsertKeepsTheCreateOnlyFieldsOfAnExistingDocument) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  EXPECT_EQ(run(h, "        id: '{id}'\n        action: upsert\n        create_only: [visits]\n",
                {R"({"id":1,"title":"lamp","visits":70})", R"({"id":1,"title":"brass lamp","visits":0})",
                 R"({"id":2,"title":"chair"})"}),
            (Acks{D, D, D}));
  auto docs = on_disk(h);
  EXPECT_EQ(docs["1"],
            (Json{{"id", 1}, {"title", "brass lamp"}, {"visits", 70}}));  // sent again: visits kept
  EXPECT_EQ(docs["2"], (Json{{"id", 2}, {"title", "chair"}}));
}

TEST(EmbeddedSink, AReplayedIncrementIsNotAppliedTwice) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  const std::string options =
      "        id: '{item_id}'\n        action: increment\n"
      "        increment: {field: visits, by: views, guard_key: 'page-views-{p}', guard_sequence: seq}\n";
  EXPECT_EQ(run(h, options,
                {R"({"item_id":42,"views":3,"p":0,"seq":10})", R"({"item_id":42,"views":3,"p":0,"seq":10})",
                 R"({"item_id":42,"views":2,"p":1,"seq":4})", R"({"item_id":42,"views":5,"p":0,"seq":9})",
                 R"({"item_id":42,"views":1,"p":0,"seq":11})"}),
            (Acks{D, D, D, D, D}));  // replays are noops: delivered, not applied
  auto docs = on_disk(h);
  EXPECT_EQ(docs["42"]["visits"], 6);
  EXPECT_EQ(docs["42"]["sluice_applied"], (Json{{"page-views-0", 11}, {"page-views-1", 4}}));
}

TEST(EmbeddedSink, WithoutIdEveryEventIsItsOwnDocument) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  EXPECT_EQ(run(h, "", {R"({"title":"a"})", R"({"title":"a"})", R"([1,2])"}), (Acks{D, D, DL}));
  EXPECT_EQ(on_disk(h).size(), 2u);
}

TEST(EmbeddedSink, ConfigRulesOfTheEmbeddedIndex) {
  const auto diagnostics = [](const std::string& options) {
    sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
    try {
      h.start("pipelines:\n  p:\n    source: {type: inject}\n    sinks:\n      - type: elasticsearch\n" +
              options);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    h.stop(std::chrono::milliseconds(100));
    return std::string();
  };
  EXPECT_NE(diagnostics("        hosts: [embedded, 'http://127.0.0.1:9200']\n        index: i\n")
                .find("cannot be mixed with servers"),
            std::string::npos);
  EXPECT_NE(diagnostics("        hosts: embedded\n        index: 'i-{x}'\n").find("needs a literal `index`"),
            std::string::npos);
  EXPECT_NE(diagnostics("        hosts: embedded\n        index: '../x'\n").find("invalid index name"),
            std::string::npos);
  EXPECT_NE(
      diagnostics("        hosts: embedded\n        index: i\n        id: '{id}'\n        action: script\n"
                  "        script: {source: 'ctx.op = \"none\"'}\n")
          .find("runs no scripts"),
      std::string::npos);
  EXPECT_NE(diagnostics("        hosts: embedded\n        index: i\n        routing: '{r}'\n")
                .find("needs a server"),
            std::string::npos);
  EXPECT_EQ(diagnostics("        hosts: embedded\n        index: listing_index\n"), "");
}
