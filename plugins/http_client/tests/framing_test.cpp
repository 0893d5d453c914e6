// The splitters, fed the way sockets deliver: whole, byte by byte, and cut anywhere.
#include "framing.hpp"

#include <gtest/gtest.h>

namespace sluice::http_client {
namespace {

std::vector<std::string> datas(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.data);
  return out;
}

/** Feeds @p text in pieces of @p piece bytes. */
std::vector<Record> feed(Splitter& s, std::string_view text, std::size_t piece, FeedResult* total = nullptr) {
  std::vector<Record> out;
  for (std::size_t i = 0; i < text.size(); i += piece) {
    const FeedResult r = s.feed(text.substr(i, piece), out);
    if (total) {
      total->keepalives += r.keepalives;
      total->oversize += r.oversize;
    }
  }
  return out;
}

const std::string kXStream =
    "{\"data\":{\"id\":\"1\",\"text\":\"a\"}}\r\n\r\n{\"data\":{\"id\":\"2\",\"text\":\"b\"}}\r\n\r\n\r\n"
    "{\"data\":{\"id\":\"3\",\"text\":\"c\"}}\r\n";

TEST(LineSplitter, XStreamShapeInAnyPieces) {
  for (std::size_t piece :
       {kXStream.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{33}}) {
    LineSplitter s(1024);
    FeedResult total;
    const auto out = feed(s, kXStream, piece, &total);
    EXPECT_EQ(datas(out), (std::vector<std::string>{"{\"data\":{\"id\":\"1\",\"text\":\"a\"}}",
                                                    "{\"data\":{\"id\":\"2\",\"text\":\"b\"}}",
                                                    "{\"data\":{\"id\":\"3\",\"text\":\"c\"}}"}))
        << "pieces of " << piece;
    EXPECT_EQ(total.keepalives, 3u) << "pieces of " << piece;
    EXPECT_EQ(s.reset(), 0u);
  }
}

TEST(LineSplitter, ALineCutByADisconnectIsNeverEmitted) {
  LineSplitter s(1024);
  std::vector<Record> out;
  s.feed("{\"id\":1}\r\n{\"id\":", out);
  EXPECT_EQ(datas(out), std::vector<std::string>{"{\"id\":1}"});
  EXPECT_EQ(s.reset(), 6u);
  out.clear();
  // The next connection starts clean: nothing of the cut line leaks into its first one.
  s.feed("2}\r\n{\"id\":3}\r\n", out);
  EXPECT_EQ(datas(out), (std::vector<std::string>{"2}", "{\"id\":3}"}));
}

TEST(LineSplitter, LfAloneAndSpacesOnlyLines) {
  LineSplitter s(1024);
  std::vector<Record> out;
  s.feed("a\n \t\r\nb\r\n", out);
  EXPECT_EQ(datas(out), (std::vector<std::string>{"a", "b"}));
}

TEST(LineSplitter, ALineOverTheBoundIsSkippedToItsEnd) {
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{100}}) {
    LineSplitter s(4);
    FeedResult total;
    const auto out = feed(s, "abcd\r\nabcde\r\nxyz\n123456789\nok\n", piece, &total);
    EXPECT_EQ(datas(out), (std::vector<std::string>{"abcd", "xyz", "ok"})) << "pieces of " << piece;
    EXPECT_EQ(total.oversize, 2u) << "pieces of " << piece;
  }
}

TEST(LineSplitter, AnOverlongLineCutByADisconnectDoesNotSkipTheNextConnection) {
  LineSplitter s(4);
  std::vector<Record> out;
  const FeedResult r = s.feed("abcdefgh", out);
  EXPECT_EQ(r.oversize, 1u);
  s.reset();
  s.feed("ok\n", out);
  EXPECT_EQ(datas(out), std::vector<std::string>{"ok"});
}

TEST(SseSplitter, EventsWithTypesIdsAndMultilineData) {
  const std::string text =
      ": keep-alive\n\nevent: tweet\nid: 7\ndata: {\"a\":\ndata: 1}\n\ndata:x\r\n\r\nretry: 10\nid\n\n"
      "data\n\n";
  for (std::size_t piece : {text.size(), std::size_t{1}, std::size_t{5}}) {
    SseSplitter s(1024);
    FeedResult total;
    const auto out = feed(s, text, piece, &total);
    ASSERT_EQ(out.size(), 3u) << "pieces of " << piece;
    EXPECT_EQ(out[0].data, "{\"a\":\n1}");
    EXPECT_EQ(out[0].event, "tweet");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_EQ(out[1].data, "x");
    EXPECT_EQ(out[1].event, "");
    EXPECT_EQ(out[1].id, "7");
    EXPECT_EQ(out[2].data, "");  // `data` with no colon: an empty data line
    EXPECT_EQ(out[2].id, "");    // `id` with no value resets the id
    EXPECT_EQ(total.keepalives, 1u);
  }
}

TEST(SseSplitter, CrAloneEndsLinesEvenAcrossPieces) {
  SseSplitter s(1024);
  std::vector<Record> out;
  s.feed("data: a\r", out);
  s.feed("\r", out);
  s.feed("data: b\r", out);
  s.feed("\n\r\n", out);
  EXPECT_EQ(datas(out), (std::vector<std::string>{"a", "b"}));
}

TEST(SseSplitter, AnEventNotEndedByABlankLineIsDroppedOnReset) {
  SseSplitter s(1024);
  std::vector<Record> out;
  s.feed("id: 1\ndata: whole\n\ndata: cut\n", out);
  EXPECT_EQ(datas(out), std::vector<std::string>{"whole"});
  EXPECT_GT(s.reset(), 0u);
  EXPECT_EQ(s.last_event_id(), "1");  // sent back as Last-Event-ID
  out.clear();
  s.feed("\ndata: next\n\n", out);
  EXPECT_EQ(datas(out), std::vector<std::string>{"next"});
}

TEST(SseSplitter, TheIdOfAnEventCutByADisconnectIsNotSentBack) {
  // The server would resume after that id: the cut event would be lost.
  SseSplitter s(1024);
  std::vector<Record> out;
  s.feed("id: 1\ndata: whole\n\nid: 2\ndata: cut", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "1");
  EXPECT_EQ(s.last_event_id(), "1");
  s.reset();
  EXPECT_EQ(s.last_event_id(), "1");
  out.clear();
  s.feed("data: resent, no id line\n\n", out);  // an event without `id:` keeps the last id
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "1");
}

TEST(SseSplitter, AnEventOverTheBoundIsDropped) {
  SseSplitter s(8);
  std::vector<Record> out;
  FeedResult total;
  out = feed(s, "data: 1234\ndata: 5678\n\ndata: ok\n\ndata: 0123456789abc\n\ndata: ok2\n\n", 3, &total);
  EXPECT_EQ(datas(out), (std::vector<std::string>{"ok", "ok2"}));
  EXPECT_EQ(total.oversize, 2u);
}

}  // namespace
}  // namespace sluice::http_client
