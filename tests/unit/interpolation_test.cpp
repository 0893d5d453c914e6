// ${ENV} interpolation of configuration text.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/pipeline_config.hpp"
#include "config/yaml_source.hpp"

using sluice::core::Diagnostics;
using sluice::core::interpolate_env;

namespace {

struct Env {
  Env() {
    ::setenv("SLUICE_T_SET", "value", 1);
    ::setenv("SLUICE_T_EMPTY", "", 1);
    ::unsetenv("SLUICE_T_UNSET");
  }
};

std::string run(const std::string& text, Diagnostics& diags) {
  return interpolate_env(text, "f.yaml", diags);
}

std::string ok(const std::string& text) {
  Diagnostics diags;
  std::string out = run(text, diags);
  EXPECT_TRUE(diags.empty()) << diags.format();
  return out;
}

}  // namespace

class Interpolation : public ::testing::Test {
  Env env_;
};

TEST_F(Interpolation, SetVariable) {
  EXPECT_EQ(ok("a: ${SLUICE_T_SET}\nb: x${SLUICE_T_SET}y\n"), "a: value\nb: xvaluey\n");
  EXPECT_EQ(ok("a: ${SLUICE_T_EMPTY}"), "a: ");
}

TEST_F(Interpolation, DefaultWhenUnsetOrEmpty) {
  EXPECT_EQ(ok("a: ${SLUICE_T_UNSET:-localhost:9092}"), "a: localhost:9092");
  EXPECT_EQ(ok("a: ${SLUICE_T_EMPTY:-fallback}"), "a: fallback");
  EXPECT_EQ(ok("a: ${SLUICE_T_SET:-fallback}"), "a: value");
  EXPECT_EQ(ok("a: ${SLUICE_T_UNSET:-}"), "a: ");
}

TEST_F(Interpolation, RequiredWithMessage) {
  Diagnostics diags;
  run("x: 1\npassword: ${SLUICE_T_UNSET:?set the ES password}\n", diags);
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].format(),
            "f.yaml:2:11: environment variable SLUICE_T_UNSET: set the ES password");
  EXPECT_EQ(ok("p: ${SLUICE_T_SET:?needed}"), "p: value");
  Diagnostics empty;
  run("p: ${SLUICE_T_EMPTY:?}", empty);
  ASSERT_EQ(empty.items().size(), 1u);
  EXPECT_NE(empty.items()[0].message.find("is not set or empty"), std::string::npos);
}

TEST_F(Interpolation, UnsetWithoutDefaultIsAnError) {
  Diagnostics diags;
  run("a: 1\n  b: ${SLUICE_T_UNSET}\n", diags);
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].line, 2);
  EXPECT_EQ(diags.items()[0].column, 6);
  EXPECT_NE(diags.items()[0].message.find("SLUICE_T_UNSET is not set"), std::string::npos);
}

TEST_F(Interpolation, DoubleDollarIsLiteral) {
  EXPECT_EQ(ok("a: $${SLUICE_T_SET} costs $5 and $ {x}"), "a: ${SLUICE_T_SET} costs $5 and $ {x}");
}

TEST_F(Interpolation, MalformedReferences) {
  Diagnostics diags;
  run("a: ${SLUICE_T_SET\nb: ${1abc}\nc: ${SLUICE_T_SET:+x}\n", diags);
  ASSERT_EQ(diags.items().size(), 3u);
  EXPECT_NE(diags.items()[0].message.find("unterminated"), std::string::npos);
  EXPECT_EQ(diags.items()[0].line, 1);
  EXPECT_NE(diags.items()[1].message.find("invalid variable name"), std::string::npos);
  EXPECT_EQ(diags.items()[1].line, 2);
  EXPECT_NE(diags.items()[2].message.find("invalid interpolation"), std::string::npos);
  EXPECT_EQ(diags.items()[2].line, 3);
}

TEST_F(Interpolation, EveryErrorIsReported) {
  Diagnostics diags;
  run("a: ${SLUICE_T_UNSET}\nb: ${SLUICE_T_UNSET:?one}\nc: ${SLUICE_T_UNSET:?two}\n", diags);
  EXPECT_EQ(diags.items().size(), 3u);
}

TEST_F(Interpolation, CommentsAreLeftAlone) {
  EXPECT_EQ(ok("# uses ${SLUICE_T_UNSET}\na: 1 # ${SLUICE_T_UNSET}\n"),
            "# uses ${SLUICE_T_UNSET}\na: 1 # ${SLUICE_T_UNSET}\n");
  // A '#' inside quotes or a word does not start a comment.
  EXPECT_EQ(ok("a: \"x # ${SLUICE_T_SET}\"\nb: c#${SLUICE_T_SET}\n"), "a: \"x # value\"\nb: c#value\n");
}

TEST_F(Interpolation, PositionsAfterSubstitutionMapBackToTheFileAsWritten) {
  ::setenv("SLUICE_T_LONG", "a-much-longer-value", 1);
  Diagnostics diags;
  auto src = sluice::core::parse_yaml("a: ${SLUICE_T_LONG}\nb: ${SLUICE_T_LONG} y: z\n", "f.yaml", diags);
  EXPECT_FALSE(src);
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].format(), "f.yaml:2:22: YAML syntax error: illegal map value");

  sluice::core::SourceMap map("k: ${SLUICE_T_LONG} z: 1\n");
  Diagnostics d2;
  const std::string out = sluice::core::interpolate_env("k: ${SLUICE_T_LONG} z: 1\n", "f.yaml", d2, &map);
  EXPECT_EQ(out, "k: a-much-longer-value z: 1\n");
  // "z" is at column 21 as written, 23 after substitution.
  EXPECT_EQ(map.locate_offset(out.find('z')), (std::pair<int, int>{1, 21}));
  // Inside a substituted value: the position of its "${".
  EXPECT_EQ(map.locate_offset(out.find("longer")), (std::pair<int, int>{1, 4}));
}
