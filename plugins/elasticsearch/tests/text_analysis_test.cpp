// The embedded index's text analysis: what Elasticsearch's standard tokenizer with lowercase and
// asciifolding makes of listing text.
#include "text_analysis.hpp"

#include <gtest/gtest.h>

using sluice::elasticsearch::analyze;
using sluice::elasticsearch::highlight;
using sluice::elasticsearch::terms_of;
using Terms = std::vector<std::string>;

TEST(TextAnalysis, LowerCasesAndSplitsOnPunctuation) {
  EXPECT_EQ(terms_of("Used MacbookAir 13\""), (Terms{"used", "macbookair", "13"}));
  EXPECT_EQ(terms_of("red/blue, (new)!  fast-charging"), (Terms{"red", "blue", "new", "fast", "charging"}));
  EXPECT_EQ(terms_of(""), Terms{});
  EXPECT_EQ(terms_of(" \t\n--"), Terms{});
}

TEST(TextAnalysis, FoldsAccentsToAscii) {
  EXPECT_EQ(terms_of("Café CRÈME brûlée"), (Terms{"cafe", "creme", "brulee"}));
  EXPECT_EQ(terms_of("Straße Ærø Łódź"), (Terms{"strasse", "aero", "lodz"}));
  // A decomposed é (e + combining acute) folds the same way as the precomposed one.
  EXPECT_EQ(terms_of("Cafe\xCC\x81"), (Terms{"cafe"}));
}

TEST(TextAnalysis, KeepsWordsTheStandardTokenizerKeepsWhole) {
  EXPECT_EQ(terms_of("don't e.g. 3.5 1,000 iphone15 foo_bar"),
            (Terms{"don't", "e.g", "3.5", "1,000", "iphone15", "foo_bar"}));
  EXPECT_EQ(terms_of("don\xE2\x80\x99t"), (Terms{"don't"}));  // ’ folds to '
  // A joiner at the end or between a letter and a digit splits.
  EXPECT_EQ(terms_of("end. a.1 1.a"), (Terms{"end", "a", "1", "1", "a"}));
}

TEST(TextAnalysis, IdeographsAreWordsOfTheirOwn) {
  EXPECT_EQ(terms_of("二手电脑 ok"), (Terms{"二", "手", "电", "脑", "ok"}));
}

TEST(TextAnalysis, InvalidUtf8SeparatesWords) {
  EXPECT_EQ(terms_of("abc\xFF"
                     "def\xC3"),
            (Terms{"abc", "def"}));
  EXPECT_EQ(terms_of("\xE2\x82"), Terms{});
}

TEST(TextAnalysis, LongWordsAreCut) {
  const auto t = terms_of(std::string(1000, 'x'));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].size(), 255u);
}

TEST(TextAnalysis, OffsetsPointIntoTheText) {
  const std::string text = "  Café au lait";
  const auto tokens = analyze(text);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(text.substr(tokens[0].begin, tokens[0].end - tokens[0].begin), "Café");
  EXPECT_EQ(text.substr(tokens[2].begin, tokens[2].end - tokens[2].begin), "lait");
}

TEST(TextAnalysis, HighlightMarksMatchesAndEscapesHtml) {
  EXPECT_EQ(highlight("Used <b>Macbook</b> Air & more", {"macbook", "air"}, "<em>", "</em>"),
            "Used &lt;b&gt;<em>Macbook</em>&lt;/b&gt; <em>Air</em> &amp; more");
  EXPECT_EQ(highlight("no match here", {"x"}, "<em>", "</em>"), "no match here");
}

TEST(TextAnalysis, HighlightFragmentsAroundTheFirstMatch) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "filler" + std::to_string(i) + " ";
  text += "macbook ";
  for (int i = 0; i < 50; ++i) text += "tail" + std::to_string(i) + " ";
  const std::string s = highlight(text, {"macbook"}, "[", "]", 100);
  EXPECT_NE(s.find("[macbook]"), std::string::npos) << s;
  EXPECT_LT(s.size(), 120u) << s;
  EXPECT_EQ(s.rfind("\u2026", 0), 0u) << s;              // cut at the start
  EXPECT_NE(s.find("filler4"), std::string::npos) << s;  // a few words before the match
}
