// Source `file` through real pipelines (sluice::testing::Harness): lines and NDJSON, dead
// letters with file and line number, a finite read that ends, the checkpoint across runs,
// and with `follow`: appends, truncation, rotation by rename and a file that appears late.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sluice/sdk.hpp>
#include <sluice/testing.hpp>

#include "read_position.hpp"

namespace sluice::file::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::TempDir;

void write_file(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream out(path, append ? std::ios::app | std::ios::binary : std::ios::trunc | std::ios::binary);
  out << text;
}

/** A pipeline `p` from a file source with @p options to capture sink `out`, dead letters to `dlq`. */
std::string pipeline(const std::string& options) {
  return "pipelines:\n  p:\n    source: {type: file, " + options +
         "}\n    dead_letter: {type: capture, name: dlq}\n    sinks: [{type: capture}]\n";
}

std::vector<std::string> messages(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.fields().value("message", std::string("<no message>")));
  return out;
}

std::string attribute(const Event& e, const char* name) {
  const std::string* v = e.meta.attribute(name);
  return v ? *v : "<none>";
}

/**
 * Waits until pipeline `p` has finished: its finite source ended and every event is acknowledged
 * (Harness::wait_idle() waits so only for `inject` sources).
 */
bool finished(const testing::Harness& h, std::chrono::milliseconds timeout = 20s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    const Json status = h.status();
    for (const auto& p : status["pipelines"])
      if (p["name"] == "p" && p["state"] == "finished") return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

/** Runs a finite file source over its file to the end; the lines it emitted. */
std::vector<std::string> run_to_end(const std::string& options) {
  testing::Harness h;
  h.start(pipeline(options));
  EXPECT_TRUE(finished(h));
  return messages(h.captured("out"));
}

TEST(FileSource, LinesBecomeMessagesAndAFiniteReadEnds) {
  TempDir dir;
  const std::string path = dir / "in.log";
  write_file(path, "first\n\nsecond\r\nlast without newline");
  testing::Harness h;
  h.start(pipeline("path: '" + path + "'"));
  ASSERT_TRUE(finished(h));  // the end of the file ends the source
  const auto events = h.captured("out");
  EXPECT_EQ(messages(events), (std::vector<std::string>{"first", "second", "last without newline"}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(attribute(events[1], "line"), "3");  // the blank line counts
  EXPECT_EQ(attribute(events[1], "offset"), "7");
  EXPECT_EQ(attribute(events[1], "file"), path);
  EXPECT_TRUE(h.captured("dlq").empty());
}

TEST(FileSource, NdjsonInvalidAndOverlongLinesAreDeadLetteredWithFileAndLineNumber) {
  TempDir dir;
  const std::string path = dir / "in.jsonl";
  // Line 4 is longer than max_line_bytes and than one read (64 KiB): it spans chunks.
  write_file(path,
             "{\"n\":1}\nnot json\n{\"n\":2}\n{\"big\":\"" + std::string(200000, 'x') + "\"}\n{\"n\":3}\n");
  testing::Harness h;
  h.start(pipeline("path: '" + path + "', format: ndjson, max_line_bytes: 100KiB, batch_size: 2"));
  ASSERT_TRUE(finished(h));
  const auto out = h.captured("out");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].fields()["n"], 1);
  EXPECT_EQ(out[2].fields()["n"], 3);
  EXPECT_EQ(attribute(out[2], "line"), "5");
  const auto dead = h.captured("dlq");
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_NE(dead[0].meta.error.find("file '" + path + "' line 2: invalid JSON"), std::string::npos)
      << dead[0].meta.error;
  EXPECT_NE(dead[1].meta.error.find("file '" + path + "' line 4 is 200010 bytes, over max_line_bytes"),
            std::string::npos)
      << dead[1].meta.error;
  EXPECT_EQ(dead[1].payload().size(), 256u);  // only the start of an overlong line is kept
  EXPECT_EQ(attribute(dead[1], "line"), "4");
}

TEST(FileSource, TheCheckpointResumesAfterTheAcknowledgedLines) {
  TempDir dir;
  const std::string path = dir / "in.log";
  const std::string options = "path: '" + path + "', checkpoint_dir: '" + (dir / "cp") + "', batch_size: 2";
  write_file(path, "a\nb\nc\n");
  EXPECT_EQ(run_to_end(options), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(run_to_end(options), std::vector<std::string>{});  // a second run emits nothing new
  write_file(path, "d\ne\n", true);
  {
    testing::Harness h;
    h.start(pipeline(options));
    ASSERT_TRUE(finished(h));
    const auto events = h.captured("out");
    EXPECT_EQ(messages(events), (std::vector<std::string>{"d", "e"}));  // only the appended lines
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(attribute(events[0], "line"), "4");  // line numbers go on from the checkpoint
  }
  // One checkpoint file, named by pipeline and path, with the position.
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir / "cp")) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind("p-", 0), 0u) << files[0];
  std::ifstream in(files[0]);
  const Json cp = Json::parse(in);
  EXPECT_EQ(cp["offset"], 10);
  EXPECT_EQ(cp["line"], 5);
  EXPECT_EQ(cp["path"], path);
}

TEST(FileSource, TheDefaultCheckpointIsUnderTheDataDirectory) {
  TempDir dir;
  const std::string path = dir / "in.log";
  write_file(path, "a\n");
  testing::Harness h;
  h.start(pipeline("path: '" + path + "'"));
  ASSERT_TRUE(finished(h));
  h.stop();
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(h.data_dir()) / "file-source")) {
    EXPECT_EQ(entry.path().extension(), ".json") << entry.path();
    ++n;
  }
  EXPECT_EQ(n, 1u);
}

TEST(FileSource, AnotherFileOrAShorterOneAtThePathIsReadFromTheStart) {
  TempDir dir;
  const std::string path = dir / "in.log";
  const std::string options = "path: '" + path + "', checkpoint_dir: '" + (dir / "cp") + "'";
  write_file(path, "one\ntwo\nthree\n");
  EXPECT_EQ(run_to_end(options).size(), 3u);
  // Replaced by another file (another inode), longer than the checkpoint's offset.
  write_file(dir / "new.log", "uno\ndos\ntres\ncuatro\n");
  fs::rename(dir / "new.log", path);
  EXPECT_EQ(run_to_end(options), (std::vector<std::string>{"uno", "dos", "tres", "cuatro"}));
  // The same file, truncated and rewritten shorter than the checkpoint.
  write_file(path, "x\n");
  EXPECT_EQ(run_to_end(options), (std::vector<std::string>{"x"}));
  // The same inode and long enough, but beginning differently (rewritten in place): from the start.
  write_file(path, "y\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n");
  EXPECT_EQ(run_to_end(options).size(), 2u);
  // checkpoint: false reads everything every time.
  const std::string no_cp = "path: '" + path + "', checkpoint: false";
  EXPECT_EQ(run_to_end(no_cp).size(), 2u);
  EXPECT_EQ(run_to_end(no_cp).size(), 2u);
}

TEST(FileSource, AMissingFileFailsTheStartUnlessFollowed) {
  TempDir dir;
  const std::string path = dir / "nope.log";
  testing::Harness h;
  try {
    h.start(pipeline("path: '" + path + "'"));
    FAIL() << "started without the file";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("file source: cannot open '" + path +
                                         "' for reading: No such file or directory"),
              std::string::npos)
        << e.what();
  }

  testing::Harness f;
  f.start(pipeline("path: '" + path + "', follow: true, poll_interval: 10ms"));
  std::this_thread::sleep_for(50ms);
  write_file(path, "late\n");  // waited for, then read from its beginning
  ASSERT_TRUE(f.wait_captured("out", 1, 20s));
  EXPECT_EQ(messages(f.captured("out")), std::vector<std::string>{"late"});
}

TEST(FileSource, FollowReadsAppendedLinesAndHoldsAnUnfinishedOne) {
  TempDir dir;
  const std::string path = dir / "in.log";
  write_file(path, "old\n");
  testing::Harness h;
  h.start(pipeline("path: '" + path + "', follow: true, poll_interval: 10ms, read_from: end"));
  write_file(path, "one\ntw", true);  // read_from: end skips what was there when it started, not this
  ASSERT_TRUE(h.wait_captured("out", 1, 20s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(messages(h.captured("out")), std::vector<std::string>{"one"});  // "tw" has no newline yet
  write_file(path, "o\nthree\n", true);
  ASSERT_TRUE(h.wait_captured("out", 3, 20s));
  EXPECT_EQ(messages(h.captured("out")), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(FileSource, AFollowingSourceResumesFromItsCheckpointAfterAStop) {
  TempDir dir;
  const std::string path = dir / "in.log";
  const std::string options =
      "path: '" + path + "', follow: true, poll_interval: 10ms, checkpoint_dir: '" + (dir / "cp") + "'";
  write_file(path, "a\nb\n");
  {
    testing::Harness h;
    h.start(pipeline(options));
    ASSERT_TRUE(h.wait_captured("out", 2, 20s));
    write_file(path, "c\n", true);
    ASSERT_TRUE(h.wait_captured("out", 3, 20s));
  }  // stopped while following
  write_file(path, "d\n", true);
  testing::Harness h;
  h.start(pipeline(options));
  ASSERT_TRUE(h.wait_captured("out", 1, 20s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(messages(h.captured("out")), std::vector<std::string>{"d"});
}

TEST(FileSource, AReloadedPipelineGoesOnWhereTheReplacedOneStopped) {
  TempDir dir;
  const std::string path = dir / "in.log";
  const std::string options = "path: '" + path + "', follow: true, poll_interval: 10ms";
  write_file(path, "a\nb\nc\n");
  testing::Harness h;
  h.start(pipeline(options));
  ASSERT_TRUE(h.wait_captured("out", 3, 20s));
  // A changed source: a new instance, made before the old one stops and stores its position.
  h.reload(pipeline(options + ", batch_size: 7"));
  write_file(path, "d\n", true);
  const auto has_d = [&] {
    const auto got = messages(h.captured("out"));
    return std::find(got.begin(), got.end(), "d") != got.end();
  };
  for (int i = 0; i < 2000 && !has_d(); ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(100ms);
  const auto got = messages(h.captured("out"));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "d");
  EXPECT_EQ(std::count(got.begin(), got.end(), "a"), got.size() == 1 ? 0 : 1)
      << ::testing::PrintToString(got);
}

TEST(FileSource, FollowReadsATruncatedFileAgainFromTheStart) {
  TempDir dir;
  const std::string path = dir / "in.log";
  write_file(path, "a fairly long first line\nand a second one\n");
  testing::Harness h;
  h.start(pipeline("path: '" + path + "', follow: true, poll_interval: 10ms"));
  ASSERT_TRUE(h.wait_captured("out", 2, 20s));
  write_file(path, "short\n");  // truncated (O_TRUNC), then written: shorter than what was read
  ASSERT_TRUE(h.wait_captured("out", 3, 20s));
  EXPECT_EQ(messages(h.captured("out")).back(), "short");
  EXPECT_NE(h.metrics_text().find("sluice_file_truncations_total"), std::string::npos);
}

TEST(FileSource, FollowFinishesARotatedFileThenReadsTheNewOne) {
  TempDir dir;
  const std::string path = dir / "in.log";
  write_file(path, "1\n");
  testing::Harness h;
  h.start(pipeline("path: '" + path + "', follow: true, poll_interval: 20ms"));
  ASSERT_TRUE(h.wait_captured("out", 1, 20s));
  {
    // The writer appends to its open file while it is renamed away, then moves to a new file.
    std::ofstream writer(path, std::ios::app | std::ios::binary);
    fs::rename(path, dir / "in.log.1");
    writer << "2\n3 without newline" << std::flush;
    write_file(path, "new 1\nnew 2\n");
  }
  ASSERT_TRUE(h.wait_captured("out", 5, 20s));
  EXPECT_EQ(messages(h.captured("out")),
            (std::vector<std::string>{"1", "2", "3 without newline", "new 1", "new 2"}));
  const auto events = h.captured("out");
  EXPECT_EQ(attribute(events[3], "line"), "1");  // the new file's own line numbers
}

TEST(FileSource, ConfigChecks) {
  TempDir dir;
  const std::string path = dir / "in.log";
  write_file(path, "a\n");
  const auto refused = [](const std::string& options, const std::string& expected) {
    testing::Harness h;
    try {
      h.start(pipeline(options));
      ADD_FAILURE() << "accepted: " << options;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  refused("path: '" + path + "', read_from: end", "read_from: end without follow: true reads nothing");
  refused("path: ''", "the path is empty");
  refused("path: '" + path + "', checkpoint: false, checkpoint_dir: /tmp", "checkpoint_dir is set");
  refused("path: '" + path + "', format: csv", "format");
}

ReadPosition at(std::uint64_t offset) {
  ReadPosition p;
  p.file.ino = 7;
  p.offset = offset;
  p.line = offset / 2;
  return p;
}

TEST(AckedPrefix, OnlyTheContiguousAcknowledgedPrefixIsStoredAndAFailureStopsIt) {
  auto acked = std::make_shared<AckedPrefix>();
  const auto a = acked->open();
  const auto b = acked->open();
  const auto c = acked->open();
  const auto d = acked->open();
  acked->close(a, at(10));
  acked->close(b, at(20));
  acked->close(c, at(30));
  acked->close(d, at(40));
  acked->complete(b, AckStatus::Delivered);  // before a: moves nothing
  EXPECT_FALSE(acked->committed());
  acked->complete(a, AckStatus::DeadLettered);  // a dead letter counts as done
  ASSERT_TRUE(acked->committed());
  EXPECT_EQ(acked->committed()->offset, 20u);
  const auto stored = acked->wait_new(std::chrono::steady_clock::now());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->offset, 20u);
  EXPECT_FALSE(acked->wait_new(std::chrono::steady_clock::now()));  // nothing new since
  acked->complete(c, AckStatus::Failed);
  acked->complete(d, AckStatus::Delivered);
  EXPECT_EQ(acked->committed()->offset, 20u);  // never past a failed batch
  EXPECT_EQ(acked->in_flight(), 0u);
}

TEST(AckedPrefix, AHandleCompletesItsBatchOnceEveryCopyIsReleased) {
  auto acked = std::make_shared<AckedPrefix>();
  const auto seq = acked->open();
  AckHandle h = AckedPrefix::handle_for(acked, seq);
  AckHandle copy = h;
  acked->close(seq, at(8));
  h.reset();
  EXPECT_FALSE(acked->committed());
  copy.reset();
  ASSERT_TRUE(acked->committed());
  EXPECT_EQ(acked->committed()->offset, 8u);
}

TEST(CheckpointFile, StoresAndLoadsAPositionNamedByPipelineAndPath) {
  TempDir dir;
  const CheckpointFile cp(dir / "cp", "my pipeline", "/var/log/app.log");
  EXPECT_EQ(fs::path(cp.path()).parent_path(), fs::path(dir / "cp"));
  EXPECT_EQ(fs::path(cp.path()).filename().string().rfind("my_pipeline-", 0), 0u) << cp.path();
  std::string error;
  EXPECT_FALSE(cp.load(&error));
  EXPECT_EQ(error, "");  // none yet is not an error
  ReadPosition p = at(1234);
  p.file.dev = 1;
  p.file.head_len = 3;
  p.file.head_hash = fnv1a64("abc");
  ASSERT_TRUE(cp.store(p, &error)) << error;
  const auto back = cp.load(&error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->offset, 1234u);
  EXPECT_EQ(back->line, 617u);
  EXPECT_EQ(back->file.head_hash, p.file.head_hash);
  EXPECT_TRUE(back->file.same_file(p.file));
  EXPECT_FALSE(fs::exists(cp.path() + ".tmp"));
  // Another path of the same pipeline has a checkpoint of its own.
  EXPECT_NE(CheckpointFile(dir / "cp", "my pipeline", "/var/log/other.log").path(), cp.path());
  write_file(cp.path(), "{not json");
  EXPECT_FALSE(cp.load(&error));
  EXPECT_NE(error.find("is not JSON"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::file::test
