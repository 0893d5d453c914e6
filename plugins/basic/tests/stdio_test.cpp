// The stdin source and the stdout and null sinks in real pipelines through the test harness: standard
// input and output are a pipe and gtest's capture here.
#include <gtest/gtest.h>
#include <unistd.h>
#include <sluice/testing.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "events.hpp"

using namespace std::chrono_literals;
using sluice::testing::Harness;

namespace {

/** Makes @p input the process's standard input for the scope (read to its end, then end of file). */
class StdinFrom {
 public:
  explicit StdinFrom(const std::string& input) : saved_(::dup(0)) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    EXPECT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::close(fds[1]);
    ::dup2(fds[0], 0);
    ::close(fds[0]);
    // An earlier test in this process may have read standard input to its end.
    std::clearerr(stdin);
    std::cin.clear();
  }
  ~StdinFrom() {
    ::dup2(saved_, 0);
    ::close(saved_);
  }
  StdinFrom(const StdinFrom&) = delete;
  StdinFrom& operator=(const StdinFrom&) = delete;

 private:
  int saved_;
};

TEST(Stdin, NdjsonLinesAreEventsAndAnInvalidLineIsDeadLetteredWithItsNumber) {
  StdinFrom input("{\"n\":1}\r\n\nnot json\n{\"n\":2}\n");
  Harness h;
  h.start(R"(
pipelines:
  s:
    source: {type: stdin, format: ndjson, batch_size: 1}
    dead_letter: {type: capture, name: dlq}
    sinks: [{type: capture}]
)");
  ASSERT_TRUE(h.wait_captured("out", 2, 20s));
  ASSERT_TRUE(h.wait_captured("dlq", 1, 20s));
  ASSERT_TRUE(h.wait_idle(20s));  // end of input ends the source
  const auto got = fields(h.captured("out"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["n"], 1);
  EXPECT_EQ(got[1]["n"], 2);
  const auto events = h.captured("out");  // a copy: keep it while pointing into it
  const std::string* line = events[1].meta.attribute("line");
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(*line, "4");  // the blank line counts
  const auto dead = h.captured("dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].meta.error.find("stdin line 3: invalid JSON"), std::string::npos) << dead[0].meta.error;
}

TEST(Stdin, LinesBecomeMessages) {
  StdinFrom input("first\nsecond\n");
  Harness h;
  h.start(R"(
pipelines:
  s:
    source: {type: stdin}
    sinks: [{type: capture}]
)");
  ASSERT_TRUE(h.wait_captured("out", 2, 20s));
  const auto got = fields(h.captured("out"));
  EXPECT_EQ(got[0], (sluice::Json{{"message", "first"}}));
  EXPECT_EQ(got[1], (sluice::Json{{"message", "second"}}));
}

TEST(Stdout, TemplateLinesInOrderAndNullCounts) {
  testing::internal::CaptureStdout();
  {
    Harness h;
    h.start(R"(
pipelines:
  o:
    source: {type: generate, count: 3, template: {user: "u{seq}", item: "{seq}"}}
    sinks:
      - {type: stdout, format: template, template: "{user}\t{item}"}
      - {type: "null"}
      - {type: capture}
)");
    // Once the capture sink has all three and the pipeline is idle, every sink has acknowledged them.
    ASSERT_TRUE(h.wait_captured("out", 3, 20s));
    ASSERT_TRUE(h.wait_idle(20s));
    EXPECT_NE(h.metrics_text().find("sluice_null_events_total"), std::string::npos);
    h.stop();
  }
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "u1\t1\nu2\t2\nu3\t3\n");
}

}  // namespace
