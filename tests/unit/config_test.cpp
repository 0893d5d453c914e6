// Configuration values: schema tables, Config getters, durations and sizes, and the daemon's
// settings file. Pipeline files are in pipeline_config_test.cpp.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/pipeline_config.hpp"
#include "config/settings.hpp"
#include "sluice/plugin.hpp"

using namespace std::chrono_literals;
using sluice::Config;
using sluice::OptionType;
using sluice::Schema;
using sluice::SchemaBuilder;
using sluice::core::Diagnostics;

// ---------------------------------------------------------------- durations, sizes, schema

TEST(Duration, Parses) {
  EXPECT_EQ(sluice::parse_duration("250ms"), 250ms);
  EXPECT_EQ(sluice::parse_duration("5s"), 5000ms);
  EXPECT_EQ(sluice::parse_duration("1m30s"), 90000ms);
  EXPECT_EQ(sluice::parse_duration("2h"), 7200000ms);
  EXPECT_EQ(sluice::parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(sluice::parse_duration("1d"), 86400000ms);
  EXPECT_EQ(sluice::parse_duration("750"), 750ms);
  EXPECT_EQ(sluice::parse_duration(" 0 "), 0ms);
  for (const char* bad : {"", "abc", "5 s", "-1s", "5x", "1m5", "s", "1..5s"})
    EXPECT_FALSE(sluice::parse_duration(bad)) << bad;
}

TEST(Size, Parses) {
  EXPECT_EQ(sluice::parse_size("512"), 512u);
  EXPECT_EQ(sluice::parse_size("64KiB"), 65536u);
  EXPECT_EQ(sluice::parse_size("64KB"), 64000u);
  EXPECT_EQ(sluice::parse_size("10MB"), 10000000u);
  EXPECT_EQ(sluice::parse_size("1GiB"), 1073741824u);
  EXPECT_EQ(sluice::parse_size("1.5 KiB"), 1536u);
  EXPECT_EQ(sluice::parse_size("2mib"), 2097152u);
  for (const char* bad : {"", "KiB", "10 XB", "-5", "1e3"}) EXPECT_FALSE(sluice::parse_size(bad)) << bad;
}

TEST(Schema, BuilderAndFind) {
  const Schema s = SchemaBuilder()
                       .option("topic", OptionType::Template)
                       .required()
                       .doc("Topic.")
                       .option("acks", OptionType::Enum)
                       .choices({"0", "1", "all"})
                       .def("all")
                       .option("password", OptionType::String)
                       .secret()
                       .option("n", OptionType::Int)
                       .range(1, 10)
                       .passthrough("rdkafka.")
                       .build();
  ASSERT_NE(s.find("acks"), nullptr);
  EXPECT_EQ(s.find("acks")->default_value, "all");
  EXPECT_EQ(s.find("acks")->choices.size(), 3u);
  EXPECT_TRUE(s.find("topic")->required);
  EXPECT_TRUE(s.find("password")->secret);
  EXPECT_EQ(s.find("n")->max, 10);
  EXPECT_EQ(s.find("nope"), nullptr);
  EXPECT_EQ(s.passthrough_prefixes, std::vector<std::string>{"rdkafka."});
  EXPECT_STREQ(sluice::to_string(OptionType::Duration), "duration");
  EXPECT_STREQ(sluice::to_string(OptionType::StringList), "list of string");
}

TEST(ConfigView, Getters) {
  YAML::Node n = YAML::Load(R"(
s: hello
i: 42
f: 2.5
b: yes
d: 1m30s
z: 64KiB
l: [a, b]
one: solo
m: {x: "1", y: two}
o: {inner: 1}
ol: [{k: 1}, {k: 2}]
rdkafka.linger.ms: 5
rdkafka: {acks: all}
)");
  const Config c(n, "f.yaml", "pipelines.p.sinks[0]");
  EXPECT_EQ(c.str("s"), "hello");
  EXPECT_EQ(c.integer("i"), 42);
  EXPECT_EQ(c.number("f"), 2.5);
  EXPECT_TRUE(c.boolean("b"));
  EXPECT_EQ(c.duration("d"), 90s);
  EXPECT_EQ(c.size("z"), 65536u);
  EXPECT_EQ(c.strings("l"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.strings("one"), (std::vector<std::string>{"solo"}));
  EXPECT_EQ(c.string_map("m").at("y"), "two");
  EXPECT_EQ(c.child("o").integer("inner"), 1);
  EXPECT_EQ(c.child("o").path(), "pipelines.p.sinks[0].o");
  ASSERT_EQ(c.children("ol").size(), 2u);
  EXPECT_EQ(c.children("ol")[1].integer("k"), 2);
  const auto pt = c.passthrough("rdkafka.");
  EXPECT_EQ(pt.at("linger.ms"), "5");
  EXPECT_EQ(pt.at("acks"), "all");
  EXPECT_TRUE(c.has("s"));
  EXPECT_FALSE(c.has("missing"));
  EXPECT_THROW(c.str("missing"), sluice::ConfigError);
  EXPECT_THROW(c.integer("s"), sluice::ConfigError);
  EXPECT_EQ(c.where("i"), "f.yaml:3:1");
  EXPECT_TRUE(c.node("missing").IsNull() || !c.node("missing").IsDefined());
}

// ---------------------------------------------------------------- settings

TEST(Settings, DefaultsWhenFileIsMissing) {
  ::unsetenv("SLUICE_ADMIN_LISTEN");
  Diagnostics d;
  auto s = sluice::core::load_settings("/nonexistent/sluice.yaml", false, d);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(s.admin_listen, "127.0.0.1:9464");
  EXPECT_EQ(s.log_level, sluice::LogLevel::Info);
  EXPECT_EQ(s.data_dir, "./data");
  sluice::core::load_settings("/nonexistent/sluice.yaml", true, d);
  EXPECT_FALSE(d.empty());
}

TEST(Settings, ReadsFileInterpolatesAndEnvOverridesListen) {
  const auto path =
      std::filesystem::temp_directory_path() / ("sluice-settings-" + std::to_string(::getpid()) + ".yaml");
  ::setenv("SLUICE_T_DATA", "/tmp/sluice-data", 1);
  std::ofstream(path)
      << "plugin_dirs: [/opt/p]\nadmin:\n  listen: 0.0.0.0:9000\nlog:\n  level: debug\n  format: json\n"
         "data_dir: ${SLUICE_T_DATA}\nshutdown_timeout: 5s\n";
  ::unsetenv("SLUICE_ADMIN_LISTEN");
  Diagnostics d;
  auto s = sluice::core::load_settings(path.string(), true, d);
  EXPECT_TRUE(d.empty()) << d.format();
  EXPECT_EQ(s.plugin_dirs, std::vector<std::string>{"/opt/p"});
  EXPECT_EQ(s.admin_listen, "0.0.0.0:9000");
  EXPECT_EQ(s.log_level, sluice::LogLevel::Debug);
  EXPECT_EQ(s.log_format, sluice::core::LogFormat::Json);
  EXPECT_EQ(s.data_dir, "/tmp/sluice-data");
  EXPECT_EQ(s.shutdown_timeout, 5s);
  ::setenv("SLUICE_ADMIN_LISTEN", "127.0.0.1:0", 1);
  EXPECT_EQ(sluice::core::load_settings(path.string(), true, d).admin_listen, "127.0.0.1:0");
  ::unsetenv("SLUICE_ADMIN_LISTEN");

  std::ofstream(path) << "admin:\n  listn: x\nlog: {level: loud}\n";
  Diagnostics bad;
  sluice::core::load_settings(path.string(), true, bad);
  ASSERT_EQ(bad.items().size(), 2u) << bad.format();
  EXPECT_EQ(bad.items()[0].format(),
            path.string() +
                ":2:3: admin.listn: unknown key 'listn'; expected one of: listen (did you mean 'listen'?)");
  EXPECT_NE(bad.items()[1].message.find("expected one of: trace, debug, info, warn, error; got 'loud'"),
            std::string::npos);
  std::filesystem::remove(path);
}

TEST(Settings, ShippedFileIsValid) {
  Diagnostics d;
  auto s = sluice::core::load_settings(std::string(SLUICE_TEST_SOURCE_DIR) + "/conf/sluice.yaml", true, d);
  EXPECT_TRUE(d.empty()) << d.format();
}
