// `sluice new-plugin NAME --kind source|transform|sink [--dir D]`: a plugin
// folder in the project's layout that builds against an installed sluice
// (find_package(Sluice)), with its schema table, a README whose example
// works, and a test through the harness.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "app/commands.hpp"

namespace sluice::app {
namespace {

namespace fs = std::filesystem;

const char* const kCMake = R"~~(cmake_minimum_required(VERSION 3.22)
project(sluice_plugin_@name@ CXX)
set(CMAKE_CXX_STANDARD 20)
enable_testing()
find_package(Sluice @version@ REQUIRED)
sluice_add_plugin(@name@ SOURCES src/@name@.cpp TESTS tests/@name@_test.cpp)
)~~";

const char* const kSource =
    R"~~(// Source `@name@`: emits `count` events {"seq": N, "text": ...}, then ends. Put your input here.
#include <sluice/sdk.hpp>

#include <atomic>

namespace {

class @Class@ final : public sluice::Source {
 public:
  @Class@(sluice::PluginContext&, const sluice::Config& config)
      : count_(config.integer("count")), text_(config.str("text")) {}

  static const sluice::Schema& schema() {
    static const sluice::Schema s = sluice::SchemaBuilder()
                                        .option("count", sluice::OptionType::Int).def("10").range(0, 1000000000)
                                        .doc("Events to emit before the source ends.")
                                        .option("text", sluice::OptionType::String).def("hello")
                                        .doc("The `text` field of every event.")
                                        .build();
    return s;
  }

  void run(sluice::SourceContext& ctx) override {
    sluice::Batch batch;
    for (std::int64_t seq = 1; seq <= count_ && !stop_; ++seq) {
      batch.push_back(sluice::Event::from_json({{"seq", seq}, {"text", text_}}));
      if (batch.size() < 100 && seq < count_) continue;
      if (!ctx.emit(batch)) return;  // the pipeline is stopping
      batch.clear();
    }
  }
  void stop() override { stop_ = true; }

 private:
  std::int64_t count_;
  std::string text_;
  std::atomic<bool> stop_{false};
};

const char* const docs = "Emits `count` events, then ends.\n\n```yaml\nsource:\n  type: @name@\n  count: 3\n```\n";

}  // namespace

SLUICE_PLUGIN_LIBRARY("@name@", sluice::describe<@Class@>(sluice::PluginKind::Source, "@name@",
                                                          "Emits count events, then ends", docs, &@Class@::schema))
)~~";

const char* const kTransform =
    R"~~(// Transform `@name@`: sets `field` to `value` in every event. Put your change here.
#include <sluice/sdk.hpp>

namespace {

class @Class@ final : public sluice::Transform {
 public:
  @Class@(sluice::PluginContext& ctx, const sluice::Config& config)
      : ctx_(ctx), field_(*sluice::FieldPath::parse(config.str("field"))), value_(config.str("value")) {}

  static const sluice::Schema& schema() {
    static const sluice::Schema s = sluice::SchemaBuilder()
                                        .option("field", sluice::OptionType::Field).required()
                                        .doc("The field to set (user.name, meta.key, ...).")
                                        .option("value", sluice::OptionType::String).def("")
                                        .doc("The text it is set to.")
                                        .build();
    return s;
  }

  void process(sluice::Batch& batch) override {
    std::size_t kept = 0;
    for (sluice::Event& e : batch) {
      try {
        field_.set(e, value_);
      } catch (const sluice::ParseError& err) {  // the payload is not JSON
        ctx_.dead_letter(std::move(e), std::string("@name@: ") + err.what());
        continue;
      }
      if (&batch[kept] != &e) batch[kept] = std::move(e);
      ++kept;
    }
    batch.resize(kept);
  }

 private:
  sluice::PluginContext& ctx_;
  sluice::FieldPath field_;
  std::string value_;
};

const char* const docs =
    "Sets a field.\n\n```yaml\ntransforms:\n  - type: @name@\n    field: env\n    value: prod\n```\n";

}  // namespace

SLUICE_PLUGIN_LIBRARY("@name@", sluice::describe<@Class@>(sluice::PluginKind::Transform, "@name@",
                                                          "Sets a field", docs, &@Class@::schema))
)~~";

const char* const kSink =
    R"~~(// Sink `@name@`: appends each event's payload as a line to `path`. Put your destination here.
#include <sluice/sdk.hpp>

#include <fstream>

namespace {

class @Class@ final : public sluice::Sink {
 public:
  @Class@(sluice::PluginContext&, const sluice::Config& config) : path_(config.str("path")) {
    out_.open(path_, std::ios::app);
    if (!out_) throw std::runtime_error("@name@: cannot open " + path_);
  }

  static const sluice::Schema& schema() {
    static const sluice::Schema s = sluice::SchemaBuilder()
                                        .option("path", sluice::OptionType::String).required()
                                        .doc("The file the lines are appended to.")
                                        .build();
    return s;
  }

  sluice::WriteResult write(sluice::Batch& batch) override {
    for (const sluice::Event& e : batch) out_ << e.payload() << '\n';
    out_.flush();
    // Ok only once the destination has the events; Retry asks the core to try again later.
    if (!out_) {
      out_.clear();
      return sluice::WriteResult::retry("@name@: writing " + path_ + " failed");
    }
    return sluice::WriteResult::ok();
  }

 private:
  std::string path_;
  std::ofstream out_;
};

const char* const docs =
    "Appends each event as a line to a file.\n\n```yaml\nsinks:\n  - type: @name@\n    path: @name@.out\n```\n";

}  // namespace

SLUICE_PLUGIN_LIBRARY("@name@", sluice::describe<@Class@>(sluice::PluginKind::Sink, "@name@",
                                                          "Appends events to a file", docs, &@Class@::schema))
)~~";

const char* const kSourceTest = R"~~(// `@name@` in a real pipeline, through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

using namespace std::chrono_literals;

TEST(@Class@, EmitsItsEventsThenEnds) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  h.start("pipelines:\n  p:\n    source: {type: @name@, count: 250, text: hi}\n    sinks: [{type: capture}]\n");
  ASSERT_TRUE(h.wait_captured("out", 250, 10s));
  const auto out = h.captured("out");
  ASSERT_EQ(out.size(), 250u);
  EXPECT_EQ(out[0].fields()["seq"], 1);
  EXPECT_EQ(out[249].fields()["text"], "hi");
  h.stop();
}
)~~";

const char* const kTransformTest = R"~~(// `@name@` in a real pipeline, through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

using namespace std::chrono_literals;

TEST(@Class@, SetsTheFieldAndDeadLettersWhatIsNotJson) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  h.start(R"Y(
pipelines:
  p:
    source: {type: inject, finite: true}
    transforms: [{type: @name@, field: env, value: prod}]
    sinks: [{type: capture}]
    dead_letter: {type: capture, name: dlq}
)Y");
  h.inject_json("in", {R"({"user": 1})", "not json"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  const auto out = h.captured("out");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fields()["env"], "prod");
  EXPECT_EQ(out[0].fields()["user"], 1);
  EXPECT_EQ(h.captured("dlq").size(), 1u);
  h.stop();
}
)~~";

const char* const kSinkTest = R"~~(// `@name@` in a real pipeline, through the test harness.
#include <gtest/gtest.h>
#include <sluice/testing.hpp>

#include <filesystem>
#include <fstream>

using namespace std::chrono_literals;

TEST(@Class@, AppendsEveryEventAsALine) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  const std::string path = h.data_dir() + "/out.txt";
  h.start("pipelines:\n  p:\n    source: {type: inject, finite: true}\n    sinks: [{type: @name@, path: " + path +
          "}]\n");
  h.inject_json("in", {R"({"n":1})", R"({"n":2})"});
  h.close("in");
  ASSERT_TRUE(h.wait_idle(10s));
  h.stop();
  std::ifstream in(path);
  std::string a, b;
  ASSERT_TRUE(std::getline(in, a) && std::getline(in, b));
  EXPECT_EQ(a, R"({"n":1})");
  EXPECT_EQ(b, R"({"n":2})");
}
)~~";

const char* const kReadme = R"~~(# @name@: a sluice @kind@ plugin

Made by `sluice new-plugin @name@ --kind @kind@`; replace the example logic in
`src/@name@.cpp` with yours.

@example@
Build and test it against an installed sluice (`cmake --install` of sluice
into PREFIX), then run it:

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=PREFIX && cmake --build build && ctest --test-dir build
PREFIX/bin/sluice plugins --plugin-dir build/plugins @name@    # its options
PREFIX/bin/sluice run --plugin-dir build/plugins pipeline.yaml
```

- `src/@name@.cpp`: the plugin, its schema table (options, defaults, docs) and
  its descriptor; `sluice validate` checks a config against the table.
- `tests/@name@_test.cpp`: the plugin in a real pipeline through
  `sluice::testing::Harness` (an `inject` source and a `capture` sink).
)~~";

std::string replace_all(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars)
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  return text;
}

std::string class_name(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 40 || !std::islower(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_'))
      return false;
  return true;
}

}  // namespace

int new_plugin_command(const CliOptions& opts) {
  if (opts.args.size() != 1) {
    std::cerr << "sluice: `sluice new-plugin` takes one NAME\n";
    return exit_usage;
  }
  const std::string name = opts.args[0];
  if (!valid_name(name)) {
    std::cerr << "sluice: plugin name '" << name
              << "': lower-case letters, digits and _, starting with a letter (at most 40)\n";
    return exit_usage;
  }
  const char* code = opts.kind == "source"      ? kSource
                     : opts.kind == "transform" ? kTransform
                     : opts.kind == "sink"      ? kSink
                                                : nullptr;
  if (!code) {
    std::cerr << "sluice: --kind is source, transform or sink, not '" << opts.kind << "'\n";
    return exit_usage;
  }
  const char* test = opts.kind == "source"      ? kSourceTest
                     : opts.kind == "transform" ? kTransformTest
                                                : kSinkTest;
  const fs::path dir = opts.dir.empty() ? fs::path(name) : fs::path(opts.dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    std::cerr << "sluice: " << dir.string() << " exists and is not empty: nothing written\n";
    return exit_failure;
  }
  std::string version = SLUICE_VERSION;
  version = version.substr(0, version.rfind('.'));  // find_package(Sluice 0.1): same minor version
  const std::map<std::string, std::string> vars = {
      {"@name@", name}, {"@Class@", class_name(name)}, {"@kind@", opts.kind}, {"@version@", version}};
  const std::string example =
      opts.kind == "source" ? "```yaml\npipelines:\n  try:\n    source: {type: @name@, count: 3}\n    sinks: "
                              "[{type: stdout}]\n```\n"
      : opts.kind == "transform"
          ? "```yaml\npipelines:\n  try:\n    source: {type: generate, count: 3}\n    transforms: [{type: "
            "@name@, field: env, value: prod}]\n    sinks: [{type: stdout}]\n```\n"
          : "```yaml\npipelines:\n  try:\n    source: {type: generate, count: 3}\n    sinks: [{type: @name@, "
            "path: @name@.out}]\n```\n";
  const std::map<fs::path, std::string> files = {
      {"CMakeLists.txt", replace_all(kCMake, vars)},
      {fs::path("src") / (name + ".cpp"), replace_all(code, vars)},
      {fs::path("tests") / (name + "_test.cpp"), replace_all(test, vars)},
      {"README.md", replace_all(replace_all(kReadme, {{"@example@", example}}), vars)},
  };
  for (const auto& [rel, text] : files) {
    const fs::path path = dir / rel;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path);
    out << text;
    if (!out) {
      std::cerr << "sluice: cannot write " << path.string() << "\n";
      return exit_failure;
    }
  }
  std::cout << "wrote " << dir.string() << "/: CMakeLists.txt, src/" << name << ".cpp, tests/" << name
            << "_test.cpp, README.md\n";
  return exit_ok;
}

}  // namespace sluice::app
