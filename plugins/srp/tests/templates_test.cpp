// The search page's template renderer: escaping by default, raw only where asked,
// sections, missing fields, and parse errors that name the file and line.
#include "templates.hpp"

#include <gtest/gtest.h>

using sluice::Json;
using sluice::srp::html_escape;
using sluice::srp::PageTemplate;

namespace {

std::string render(const std::string& text, const Json& data) {
  std::string error;
  auto t = PageTemplate::parse(text, "t.html", error);
  EXPECT_TRUE(t.has_value()) << error;
  return t ? t->render(data) : std::string();
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto t = PageTemplate::parse(text, "t.html", error);
  EXPECT_FALSE(t.has_value()) << "parsed: " << text;
  return error;
}

}  // namespace

TEST(Templates, EscapesEveryHtmlSpecialCharacter) {
  EXPECT_EQ(html_escape(R"(<a href="x" onclick='y'>&</a>)"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(render("<p>{{q}}</p>", {{"q", "<script>alert(1)</script><img src=x onerror=alert(1)>"}}),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</p>");
  // Inside a quoted attribute a quote cannot end it.
  EXPECT_EQ(render(R"x(<input value="{{q}}">)x", {{"q", "\" autofocus onfocus=\"alert(1)"}}),
            R"x(<input value="&quot; autofocus onfocus=&quot;alert(1)">)x");
}

TEST(Templates, TripleBracesAreRawForTextThatIsHtmlAlready) {
  EXPECT_EQ(render("{{{h}}}|{{h}}", {{"h", "<em>air</em> &amp;"}}),
            "<em>air</em> &amp;|&lt;em&gt;air&lt;/em&gt; &amp;amp;");
}

TEST(Templates, MissingAndNonTextValuesRenderNothingOrJson) {
  EXPECT_EQ(
      render("[{{nope}}][{{a.b.c}}][{{n}}][{{t}}][{{z}}][{{o}}][{{l}}]",
             {{"n", 42}, {"t", true}, {"z", nullptr}, {"o", {{"x", 1}}}, {"l", {1, 2}}, {"a", {{"b", 1}}}}),
      "[][][42][true][][][]");
  EXPECT_EQ(render("{{a.b}}", {{"a", {{"b", "deep"}}}}), "deep");
}

TEST(Templates, SectionsRepeatForListsAndLookOutwards) {
  const Json data = {{"site", "M"}, {"hits", {{{"t", "a"}}, {{"t", "<b>"}}}}};
  EXPECT_EQ(render("{{#hits}}<li>{{t}}@{{site}}</li>{{/hits}}", data), "<li>a@M</li><li>&lt;b&gt;@M</li>");
  EXPECT_EQ(render("{{#l}}{{.}},{{/l}}", {{"l", {"x", "<"}}}), "x,&lt;,");
  EXPECT_EQ(render("{{#flag}}yes{{/flag}}{{^flag}}no{{/flag}}", {{"flag", true}}), "yes");
  EXPECT_EQ(render("{{#flag}}yes{{/flag}}{{^flag}}no{{/flag}}", {{"flag", false}}), "no");
  EXPECT_EQ(render("{{#l}}x{{/l}}{{^l}}empty{{/l}}", {{"l", Json::array()}}), "empty");
  EXPECT_EQ(render("{{#missing}}x{{/missing}}{{^missing}}none{{/missing}}", Json::object()), "none");
  EXPECT_EQ(render("{{#o}}{{x}}{{/o}}", {{"o", {{"x", "in"}}}}), "in");
  EXPECT_EQ(render("a{{! a comment }}b", Json::object()), "ab");
}

TEST(Templates, SectionsNestedOverOneListAreStoppedNotRunForHours) {
  // Found by fuzz_srp_request: 40 s for a 4 KB template. Each `{{#hits}}` inside `{{#hits}}` looks
  // outwards to the same list: 100^depth iterations on a page of 100 hits.
  Json hits = Json::array();
  for (int i = 0; i < 100; ++i) hits.push_back({{"t", "x"}});
  const Json data = {{"hits", hits}};
  std::string text;
  for (int i = 0; i < 5; ++i) text += "{{#hits}}";
  text += "{{t}}";
  for (int i = 0; i < 5; ++i) text += "{{/hits}}";
  std::string error;
  auto t = PageTemplate::parse(text, "deep.html", error);
  ASSERT_TRUE(t) << error;
  try {
    (void)t->render(data);
    FAIL() << "rendered 10^10 values";
  } catch (const sluice::srp::TemplateTooCostly& e) {
    EXPECT_EQ(std::string(e.what()).rfind("deep.html: rendering stopped after", 0), 0u) << e.what();
  }
  // Two levels (10,000 values) are an ordinary page.
  EXPECT_EQ(render("{{#hits}}{{#hits}}{{t}}{{/hits}}{{/hits}}", data).size(), 10000u);
}

TEST(Templates, ParseErrorsNameTheFileAndLine) {
  EXPECT_EQ(parse_error("line one\n{{#a}}\n"), "t.html:2: section {{#a}} is never closed");
  EXPECT_EQ(parse_error("{{#a}}\n{{/b}}"), "t.html:2: {{/b}} closes {{#a}} of line 1");
  EXPECT_EQ(parse_error("\n\n{{/a}}"), "t.html:3: {{/a}} closes no section");
  EXPECT_EQ(parse_error("x {{ y"), "t.html:1: a tag opened here is never closed");
  EXPECT_EQ(parse_error("{{}}"), "t.html:1: invalid name ''");
  EXPECT_EQ(parse_error("{{a b}}"), "t.html:1: invalid name 'a b'");
}

TEST(Templates, UserTextIsNeverParsedAsTemplate) {
  // A value holding template syntax is data, rendered once and escaped.
  EXPECT_EQ(render("{{q}}", {{"q", "{{{x}}} {{#y}}"}}), "{{{x}}} {{#y}}");
}
