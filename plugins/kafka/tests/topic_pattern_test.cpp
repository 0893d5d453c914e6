// The size bound of topic patterns: what regcomp would build, before it builds it.
#include "topic_pattern.hpp"

#include <gtest/gtest.h>

#include <string>

using sluice::kafka::kMaxTopicPatternNodes;
using sluice::kafka::topic_pattern_nodes;

TEST(TopicPattern, EverydayPatternsAreSmall) {
  for (const char* p :
       {"^page-.*", "^(clicks|views)-[0-9]+$", "^logs\\.[a-z]{2,8}\\.v[0-9]?$", "^[^.]+$", "^a{1000}"})
    EXPECT_LT(topic_pattern_nodes(p), 2000) << p;
}

TEST(TopicPattern, NestedRepetitionsMultiply) {
  EXPECT_GT(topic_pattern_nodes("^(a{100}){100}"), 10000);
  EXPECT_LT(topic_pattern_nodes("^(a{100}){100}"), kMaxTopicPatternNodes);
  EXPECT_GT(topic_pattern_nodes("^((a{100}){100}){100}"), kMaxTopicPatternNodes);
  EXPECT_GT(topic_pattern_nodes("^(b" + std::string(100, '+') + "ad)"),
            kMaxTopicPatternNodes);  // the fuzzer's
  EXPECT_GT(topic_pattern_nodes("^" + std::string(40, '(') + "a" +
                                [] {
                                  std::string s;
                                  for (int i = 0; i < 40; ++i) s += ")+";
                                  return s;
                                }()),
            kMaxTopicPatternNodes);
  // Twenty nested groups without repetition stay linear.
  EXPECT_LT(topic_pattern_nodes("^" + std::string(20, '(') + "a" + std::string(20, ')')), 100);
}

TEST(TopicPattern, MalformedPatternsAreLeftToRegcomp) {
  for (const char* p : {"^(a", "^a)", "^[abc", "^a{", "^a{2,", "^\\"})
    EXPECT_LT(topic_pattern_nodes(p), 100) << p;
}
