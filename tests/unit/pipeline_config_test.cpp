// Pipeline files: structure, validation against the plugins' schemas, errors with positions,
// and hostile files (aliases, depth, encodings). Values and settings are in config_test.cpp.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/pipeline_config.hpp"
#include "sluice/plugin.hpp"

using namespace std::chrono_literals;
using sluice::Config;
using sluice::OptionType;
using sluice::PluginKind;
using sluice::Schema;
using sluice::SchemaBuilder;
using sluice::core::ConfigSet;
using sluice::core::Diagnostics;
using sluice::core::PluginLoader;

// ---------------------------------------------------------------- pipelines

namespace {

// Test plugins: only their schemas matter here; no instance is ever created.
const Schema& source_schema() {
  static const Schema s = SchemaBuilder()
                              .option("interval", OptionType::Duration)
                              .def("1s")
                              .option("count", OptionType::Int)
                              .range(0, std::nullopt)
                              .build();
  return s;
}

const Schema& transform_schema() {
  static const Schema s = SchemaBuilder()
                              .option("field", OptionType::Field)
                              .required()
                              .option("format", OptionType::Template)
                              .def("\"{.}\"")
                              .build();
  return s;
}

const Schema& sink_schema() {
  static const Schema s = SchemaBuilder()
                              .option("topic", OptionType::Template)
                              .required()
                              .option("key", OptionType::Field)
                              .option("acks", OptionType::Enum)
                              .choices({"0", "1", "all"})
                              .def("all")
                              .option("password", OptionType::String)
                              .secret()
                              .option("max_size", OptionType::Size)
                              .def("1MiB")
                              .range(1024, std::nullopt)
                              .option("ratio", OptionType::Float)
                              .range(0, 1)
                              .option("linger", OptionType::Duration)
                              .def("5ms")
                              .option("compress", OptionType::Bool)
                              .def("false")
                              .option("tags", OptionType::StringList)
                              .option("headers", OptionType::StringMap)
                              .option("tls", OptionType::Object)
                              .nested(SchemaBuilder()
                                          .option("enabled", OptionType::Bool)
                                          .def("false")
                                          .option("ca", OptionType::String)
                                          .build())
                              .option("routes", OptionType::ObjectList)
                              .nested(SchemaBuilder()
                                          .option("match", OptionType::String)
                                          .required()
                                          .option("to", OptionType::String)
                                          .build())
                              .passthrough("rdkafka.")
                              .build();
  return s;
}

const Schema& resource_schema() {
  static const Schema s = SchemaBuilder().option("path", OptionType::String).required().build();
  return s;
}

const Schema& numbered_schema() {
  static const Schema s = SchemaBuilder().option("n", OptionType::Int).required().build();
  return s;
}

/** A factory-side check: `n` must not be negative, is claimed across the run, and 13 makes it throw. */
void check_numbered(const Config& config, sluice::ConfigIssues& issues) {
  const auto n = config.integer("n");
  if (n == 13) throw std::runtime_error("unlucky");
  if (n < 0) issues.error(config, "n", "must not be negative");
  issues.claim(config, "n", "number " + std::to_string(n));
}

sluice::PluginDescriptor test_plugin(PluginKind kind, const char* name, const Schema& (*schema)(),
                                     sluice::ConfigCheck check = nullptr) {
  return sluice::PluginDescriptor{
      sizeof(sluice::PluginDescriptor), kind, name, "test plugin", "", schema, nullptr, nullptr, check};
}

const std::vector<sluice::PluginDescriptor>& test_plugins() {
  static const std::vector<sluice::PluginDescriptor> all = {
      test_plugin(PluginKind::Source, "gen", &source_schema),
      test_plugin(PluginKind::Transform, "pick", &transform_schema),
      test_plugin(PluginKind::Sink, "kafka", &sink_schema),
      test_plugin(PluginKind::Sink, "null", &resource_schema),
      test_plugin(PluginKind::Resource, "index", &resource_schema),
      test_plugin(PluginKind::Sink, "numbered", &numbered_schema, &check_numbered),
  };
  return all;
}

class Pipelines : public ::testing::Test {
 protected:
  Pipelines() {
    for (const auto& d : test_plugins()) loader.add_builtin(&d);
  }

  std::optional<ConfigSet> load(const std::string& yaml) {
    diags = Diagnostics();
    return sluice::core::load_config_text(yaml, "p.yaml", loader, diags);
  }

  /** The formatted diagnostics, one per line. */
  std::string errors() const { return diags.format(); }

  PluginLoader loader;
  Diagnostics diags;
};

const char* kValid = R"(pipelines:
  clicks:
    source:
      type: gen
      count: 10
    transforms:
      - type: pick
        field: user_id
    sinks:
      - type: kafka
        topic: "clicks-{meta.timestamp:%Y}"
        batch_max_events: 50
        retry_max_attempts: 0
        rdkafka.linger.ms: 5
      - type: null
        path: /dev/null
    dead_letter:
      type: null
      path: /tmp/dlq
    queue_max_events: 200
resources:
  main_index:
    type: index
    path: /var/lib/x
)";

}  // namespace

TEST_F(Pipelines, ValidFileGivesSpecs) {
  auto set = load(kValid);
  ASSERT_TRUE(set) << errors();
  ASSERT_EQ(set->pipelines.size(), 1u);
  const auto& p = set->pipelines[0];
  EXPECT_EQ(p.name, "clicks");
  EXPECT_EQ(p.file, "p.yaml");
  EXPECT_EQ(p.queue_max_events, 200u);
  EXPECT_EQ(p.shutdown_timeout, 30s);
  EXPECT_EQ(p.source.id, "clicks.source.gen");
  EXPECT_EQ(p.source.type, "gen");
  ASSERT_NE(p.source.plugin, nullptr);
  ASSERT_EQ(p.transforms.size(), 1u);
  EXPECT_EQ(p.transforms[0].id, "clicks.transform.pick");
  ASSERT_EQ(p.sinks.size(), 2u);
  EXPECT_EQ(p.sinks[0].id, "clicks.sink.kafka");
  EXPECT_EQ(p.sinks[1].id, "clicks.sink.null");
  EXPECT_EQ(p.sinks[0].kind, PluginKind::Sink);
  ASSERT_TRUE(p.dead_letter);
  EXPECT_EQ(p.dead_letter->id, "clicks.dead_letter.null");
  ASSERT_EQ(set->resources.size(), 1u);
  EXPECT_EQ(set->resources[0].component.name, "main_index");
  EXPECT_EQ(set->resources[0].component.kind, PluginKind::Resource);
  EXPECT_EQ(set->resources[0].component.config.str("path"), "/var/lib/x");
  EXPECT_FALSE(p.fingerprint.empty());
}

TEST_F(Pipelines, RuntimeKeysFillTheSpecAndLeaveThePluginConfig) {
  auto set = load(kValid);
  ASSERT_TRUE(set) << errors();
  const auto& kafka = set->pipelines[0].sinks[0];
  EXPECT_EQ(kafka.batch_max_events, 50u);
  EXPECT_EQ(kafka.retry_max_attempts, 0u);
  EXPECT_EQ(kafka.concurrency, 1u);
  EXPECT_EQ(kafka.retry_initial_backoff, 100ms);
  EXPECT_EQ(kafka.retry_max_backoff, 30s);
  EXPECT_FALSE(kafka.config.has("batch_max_events"));
  EXPECT_FALSE(kafka.config.has("concurrency"));
  EXPECT_FALSE(kafka.config.has("type"));
  EXPECT_EQ(kafka.config.passthrough("rdkafka.").at("linger.ms"), "5");
  EXPECT_EQ(kafka.config.path(), "pipelines.clicks.sinks[0]");
  EXPECT_EQ(kafka.config.where("topic"), "p.yaml:11:9");
}

TEST_F(Pipelines, DefaultsAreFilled) {
  auto set = load(kValid);
  ASSERT_TRUE(set) << errors();
  const auto& p = set->pipelines[0];
  EXPECT_EQ(p.source.config.duration("interval"), 1s);
  EXPECT_EQ(p.transforms[0].config.str("format"), "{.}");
  const Config& k = p.sinks[0].config;
  EXPECT_EQ(k.str("acks"), "all");
  EXPECT_EQ(k.size("max_size"), 1048576u);
  EXPECT_EQ(k.duration("linger"), 5ms);
  EXPECT_FALSE(k.boolean("compress"));
  EXPECT_FALSE(k.has("key"));
  // An optional object without required keys gets its nested defaults.
  EXPECT_FALSE(k.child("tls").boolean("enabled"));
}

TEST_F(Pipelines, UnknownKeyInSinkPointsAtTheKey) {
  auto set = load(R"(pipelines:
  clicks:
    source: {type: gen}
    sinks:
      - type: kafka
        topic: clicks
        topik: typo
)");
  EXPECT_FALSE(set);
  ASSERT_EQ(diags.items().size(), 1u) << errors();
  const auto& d = diags.items()[0];
  EXPECT_EQ(d.file, "p.yaml");
  EXPECT_EQ(d.line, 7);
  EXPECT_EQ(d.column, 9);
  EXPECT_EQ(d.path, "pipelines.clicks.sinks[0].topik");
  EXPECT_EQ(d.format().rfind("p.yaml:7:9: pipelines.clicks.sinks[0].topik: unknown key 'topik'; expected one "
                             "of: topic, key, acks,",
                             0),
            0u)
      << d.format();
  EXPECT_NE(d.message.find("batch_max_events"), std::string::npos);
  EXPECT_NE(d.message.find("keys starting with rdkafka."), std::string::npos);
  EXPECT_NE(d.message.find("(did you mean 'topic'?)"), std::string::npos);
}

TEST_F(Pipelines, EveryMistakeIsReported) {
  auto set = load(R"(pipelines:
  a:
    source: {type: gen, interval: abc, count: -1}
    transforms:
      - type: pick
        format: "{oops"
    sinks:
      - type: kafka
        topic: t
        acks: none
        linger: forever
        ratio: 2
        max_size: 10
        compress: maybe
        password: hunter2hunter2
        key: "meta.bogus"
        tls: {enabled: true, cert: x}
        routes: [{to: b}, 5]
        tags: [a, [b]]
        headers: {a: [1]}
        concurrency: 0
        rdkafka.acks: all
    queue_max_events: zero
    extra: 1
)");
  EXPECT_FALSE(set);
  const std::string e = errors();
  auto has = [&](const std::string& needle) { return e.find(needle) != std::string::npos; };
  EXPECT_TRUE(
      has("p.yaml:3:35: pipelines.a.source.interval: expected a duration like 5s, 250ms or 1m30s, got 'abc'"))
      << e;
  EXPECT_TRUE(has("p.yaml:3:47: pipelines.a.source.count: value '-1' is out of range: must be at least 0"))
      << e;
  EXPECT_TRUE(has("p.yaml:5:9: pipelines.a.transforms[0].field: missing required key 'field'")) << e;
  EXPECT_TRUE(has("p.yaml:6:17: pipelines.a.transforms[0].format: invalid template: unterminated '{'")) << e;
  EXPECT_TRUE(has("p.yaml:10:15: pipelines.a.sinks[0].acks: expected one of: 0, 1, all; got 'none'")) << e;
  EXPECT_TRUE(has("p.yaml:11:17: pipelines.a.sinks[0].linger: expected a duration")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].ratio: value '2' is out of range: must be between 0 and 1")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].max_size: value '10' is out of range: must be at least 1024 bytes"))
      << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].compress: expected true or false, got 'maybe'")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].key: invalid field reference: unknown metadata 'meta.bogus'")) << e;
  EXPECT_TRUE(
      has("p.yaml:17:30: pipelines.a.sinks[0].tls.cert: unknown key 'cert'; expected one of: enabled, ca"))
      << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].routes[0].match: missing required key 'match'")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].routes[1]: expected a map, got '5'")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].tags[1]: expected a string, got a list")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].headers.a: expected a string, got a list")) << e;
  EXPECT_TRUE(has("pipelines.a.sinks[0].concurrency: value '0' is out of range")) << e;
  EXPECT_TRUE(has("p.yaml:23:23: pipelines.a.queue_max_events: expected an integer, got 'zero'")) << e;
  EXPECT_TRUE(has("p.yaml:24:5: pipelines.a.extra: unknown key 'extra'")) << e;
  EXPECT_FALSE(has("rdkafka")) << e;
  EXPECT_EQ(diags.items().size(), 18u) << e;
}

TEST_F(Pipelines, SecretValuesAreNeverEchoed) {
  const Schema s = SchemaBuilder().option("token", OptionType::Int).secret().build();
  YAML::Node n = YAML::Load("token: s3cr3t-value");
  Diagnostics d;
  sluice::core::validate_options(n, s, "f.yaml", "x", d);
  ASSERT_EQ(d.items().size(), 1u);
  EXPECT_EQ(d.items()[0].format().find("s3cr3t"), std::string::npos) << d.format();
  EXPECT_NE(d.items()[0].message.find("expected an integer"), std::string::npos);
}

TEST_F(Pipelines, YamlSyntaxErrorHasPosition) {
  auto set = load("pipelines:\n  a:\n    source: {type: gen\n    sinks: []\n");
  EXPECT_FALSE(set);
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].file, "p.yaml");
  EXPECT_GT(diags.items()[0].line, 0);
  EXPECT_GT(diags.items()[0].column, 0);
  EXPECT_NE(diags.items()[0].message.find("YAML syntax error: "), std::string::npos);

  load("pipelines:\n  a:\n    source: x y: z\n");
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].format(), "p.yaml:3:16: YAML syntax error: illegal map value");
}

TEST_F(Pipelines, RequiredEnvVariableError) {
  ::unsetenv("SLUICE_T_TOPIC");
  auto set = load(
      "pipelines:\n  a:\n    source: {type: gen}\n    sinks:\n      - {type: kafka, topic: "
      "${SLUICE_T_TOPIC:?set the topic}}\n");
  EXPECT_FALSE(set);
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].format(), "p.yaml:5:30: environment variable SLUICE_T_TOPIC: set the topic");
}

TEST_F(Pipelines, InterpolatedValuesAreValidatedAtTheirPositionAsWritten) {
  ::setenv("SLUICE_T_LONG_TOPIC", "a-rather-long-topic-name", 1);
  auto set = load(R"(pipelines:
  a:
    source: {type: gen}
    sinks: [{type: kafka, topic: ${SLUICE_T_LONG_TOPIC}, acks: x}]
)");
  EXPECT_FALSE(set);
  ASSERT_EQ(diags.items().size(), 1u) << errors();
  EXPECT_EQ(diags.items()[0].line, 4);
  EXPECT_EQ(diags.items()[0].column, 64);
  ::setenv("SLUICE_T_ACKS", "1", 1);
  auto ok = load(
      "pipelines:\n  a:\n    source: {type: gen}\n    sinks: [{type: kafka, topic: t, acks: "
      "\"${SLUICE_T_ACKS}\"}]\n");
  ASSERT_TRUE(ok) << errors();
  EXPECT_EQ(ok->pipelines[0].sinks[0].config.str("acks"), "1");
}

TEST_F(Pipelines, UnknownTypeListsAvailablePlugins) {
  load("pipelines:\n  a:\n    source: {type: gen}\n    sinks: [{type: kafak, topic: t}]\n");
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(
      diags.items()[0].format(),
      "p.yaml:4:20: pipelines.a.sinks[0].type: unknown sink type 'kafak'; available: kafka, null, numbered "
      "(did you mean 'kafka'?)");
}

TEST_F(Pipelines, StructureErrors) {
  load("pipelines:\n  a:\n    source: {type: gen}\n    sinks: []\n");
  EXPECT_NE(errors().find("pipelines.a.sinks: at least one sink is required"), std::string::npos) << errors();
  load("pipelines:\n  a:\n    transforms: []\n");
  EXPECT_NE(errors().find("p.yaml:3:5: pipelines.a.source: missing required key 'source'"), std::string::npos)
      << errors();
  EXPECT_NE(errors().find("pipelines.a.sinks: missing required key 'sinks'"), std::string::npos) << errors();
  load("pipelines:\n  a:\n    source: {count: 1}\n    sinks: [{type: null, path: x}]\n");
  EXPECT_NE(errors().find("pipelines.a.source.type: missing required key 'type'"), std::string::npos)
      << errors();
  load("pipeline:\n  a: {}\n");
  EXPECT_EQ(errors(),
            "p.yaml:1:1: pipeline: unknown key 'pipeline'; expected one of: pipelines, resources (did you "
            "mean 'pipelines'?)\n");
  load("");
  EXPECT_NE(errors().find("empty file"), std::string::npos);
  load("pipelines:\n  a.b:\n    source: {type: gen}\n    sinks: [{type: null, path: x}]\n");
  EXPECT_NE(errors().find("invalid pipeline name 'a.b'"), std::string::npos) << errors();
}

TEST_F(Pipelines, NamesDefaultToTypeWithIndexOnlyWhenNeeded) {
  auto set = load(R"(pipelines:
  p:
    source: {type: gen, name: in}
    sinks:
      - {type: null, path: a}
      - {type: null, path: b}
      - {type: kafka, topic: t}
      - {type: kafka, topic: u, name: audit}
)");
  ASSERT_TRUE(set) << errors();
  const auto& sinks = set->pipelines[0].sinks;
  EXPECT_EQ(set->pipelines[0].source.id, "p.source.in");
  EXPECT_EQ(sinks[0].id, "p.sink.null#0");
  EXPECT_EQ(sinks[1].id, "p.sink.null#1");
  EXPECT_EQ(sinks[2].id, "p.sink.kafka");
  EXPECT_EQ(sinks[3].id, "p.sink.audit");
  EXPECT_EQ(sinks[3].name, "audit");
  EXPECT_FALSE(sinks[3].config.has("name"));

  load(
      "pipelines:\n  p:\n    source: {type: gen}\n    sinks:\n      - {type: null, path: a, name: x}\n      "
      "- {type: null, path: b, name: x}\n");
  EXPECT_NE(errors().find("p.yaml:6:37: pipelines.p.sinks[1].name: duplicate sink name 'x'"),
            std::string::npos)
      << errors();
}

TEST_F(Pipelines, FingerprintIgnoresFormattingButNotValues) {
  auto a = load("pipelines:\n  p:\n    source: {type: gen, count: 1}\n    sinks: [{type: null, path: a}]\n");
  auto b = load(
      "pipelines:\n  p:\n    sinks:\n      - path: a   # same\n        type: null\n    source:\n      count: "
      "1\n      type: gen\n");
  auto c = load("pipelines:\n  p:\n    source: {type: gen, count: 2}\n    sinks: [{type: null, path: a}]\n");
  ASSERT_TRUE(a && b && c) << errors();
  EXPECT_EQ(a->pipelines[0].fingerprint, b->pipelines[0].fingerprint);
  EXPECT_NE(a->pipelines[0].fingerprint, c->pipelines[0].fingerprint);
}

TEST_F(Pipelines, SeveralFilesAndDuplicateNames) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string one = (dir / "one.yaml").string(), two = (dir / "two.yaml").string();
  std::ofstream(one) << "pipelines:\n  p:\n    source: {type: gen}\n    sinks: [{type: null, path: a}]\n"
                        "resources:\n  r: {type: index, path: x}\n";
  std::ofstream(two) << "pipelines:\n  q:\n    source: {type: gen}\n    sinks: [{type: null, path: a}]\n";
  auto set = sluice::core::load_config({one, two}, loader, diags);
  ASSERT_TRUE(set) << errors();
  EXPECT_EQ(set->pipelines.size(), 2u);
  EXPECT_EQ(set->files, (std::vector<std::string>{one, two}));

  std::ofstream(two) << "resources:\n  r: {type: index, path: y}\n"
                        "pipelines:\n  p:\n    source: {type: gen}\n    sinks: [{type: null, path: a}]\n";
  diags = Diagnostics();
  EXPECT_FALSE(sluice::core::load_config({one, two}, loader, diags));
  const std::string e = errors();
  EXPECT_NE(e.find(two + ":4:3: pipelines.p: duplicate pipeline name 'p'; first defined at " + one + ":2:3"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(two + ":2:3: resources.r: duplicate resource name 'r'; first defined at " + one + ":6:3"),
            std::string::npos)
      << e;

  diags = Diagnostics();
  EXPECT_FALSE(sluice::core::load_config({(dir / "missing.yaml").string()}, loader, diags));
  EXPECT_NE(errors().find("missing.yaml: cannot read file"), std::string::npos) << errors();
  std::filesystem::remove_all(dir);
}

TEST_F(Pipelines, DuplicateKeysAreErrors) {
  load("pipelines:\n  p:\n    source: {type: gen}\n    sinks: [{type: kafka, topic: a, topic: b}]\n");
  EXPECT_NE(errors().find("pipelines.p.sinks[0].topic: duplicate key 'topic'"), std::string::npos)
      << errors();
}

// ---------------------------------------------------------------- hostile files

namespace {

/** A pipeline file whose only sink is `numbered` with @p n. */
std::string numbered_pipeline(const std::string& name, int n) {
  return "pipelines:\n  " + name +
         ":\n    source: {type: gen}\n    sinks: [{type: numbered, n: " + std::to_string(n) + "}]\n";
}

}  // namespace

TEST_F(Pipelines, AliasBombIsRefusedBeforeAnyTreeWalk) {
  // The "billion laughs": 10^9 nodes when written out, a few hundred bytes as written.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i)
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + [&] {
      std::string items;
      for (int k = 0; k < 10; ++k) items += (k ? ", *a" : "*a") + std::to_string(i - 1);
      return items;
    }() + "]\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(load("pipelines:\n  p:\n    source:\n      type: gen\n      extra:\n" + [&] {
    std::string indented;
    std::size_t from = 0;
    while (from < bomb.size()) {
      const std::size_t nl = bomb.find('\n', from);
      indented += "        " + bomb.substr(from, nl - from + 1);
      from = nl + 1;
    }
    return indented;
  }()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_EQ(diags.items().size(), 1u) << errors();
  EXPECT_NE(errors().find("aliases expand the document past 100000 nodes (an alias bomb?)"),
            std::string::npos)
      << errors();
  EXPECT_EQ(diags.items()[0].line, 10) << errors();  // at the first alias past the bound: in a4
}

TEST_F(Pipelines, AliasesOfALongValueAreBoundedByBytes) {
  // 3000 nodes, but 6 MB of values once written out (the fingerprint and every copy would hold them).
  std::string list = "[&v \"" + std::string(2000, 'x') + "\"";
  for (int i = 0; i < 3000; ++i) list += ", *v";
  EXPECT_FALSE(load("pipelines:\n  p:\n    source: {type: gen, extra: " + list + "]}\n"));
  EXPECT_NE(errors().find("p.yaml:3:"), std::string::npos) << errors();
  EXPECT_NE(errors().find("aliases expand the document's values past 4 MiB (an alias bomb?)"),
            std::string::npos)
      << errors();
}

TEST_F(Pipelines, AnAliasedComponentIsReadAsWrittenByEveryPipeline) {
  // The loader takes the keys that are not the plugin's (type, batch_max_events) out of what the plugin
  // sees: not out of the anchor's node, which the alias is too.
  auto set = load(
      "pipelines:\n"
      "  a:\n    source: {type: gen}\n    sinks:\n      - &sink\n        type: kafka\n"
      "        topic: t\n        batch_max_events: 7\n"
      "  b:\n    source: {type: gen}\n    sinks: [*sink]\n");
  ASSERT_TRUE(set) << errors();
  ASSERT_EQ(set->pipelines.size(), 2u);
  for (const auto& p : set->pipelines) {
    ASSERT_EQ(p.sinks.size(), 1u) << p.name;
    EXPECT_EQ(p.sinks[0].type, "kafka") << p.name;
    EXPECT_EQ(p.sinks[0].batch_max_events, 7u) << p.name;
    EXPECT_EQ(p.sinks[0].config.str("topic"), "t") << p.name;
    EXPECT_FALSE(p.sinks[0].config.has("type")) << p.name;
    EXPECT_EQ(p.sinks[0].config.where("topic"), "p.yaml:7:9") << p.name;  // where the anchor wrote it
  }
}

TEST_F(Pipelines, SelfReferencingAnchorIsACycleError) {
  EXPECT_FALSE(load("pipelines: &p\n  a: *p\n"));
  EXPECT_EQ(errors(), "p.yaml:2:6: this alias refers to a node that contains it (a cycle)\n");
  EXPECT_FALSE(load("pipelines:\n  a:\n    source: &s {type: gen, more: [*s]}\n"));
  EXPECT_NE(errors().find("p.yaml:3:35: this alias refers to a node that contains it"), std::string::npos)
      << errors();
}

TEST_F(Pipelines, DepthNodesAndSizeAreBounded) {
  EXPECT_FALSE(load("pipelines: " + std::string(100, '[') + std::string(100, ']') + "\n"));
  EXPECT_NE(errors().find("p.yaml:1:75: maps and lists are nested more than 64 deep"), std::string::npos)
      << errors();

  std::string many = "pipelines: [";
  for (int i = 0; i < 100001; ++i) many += "1,";
  many += "]\n";
  EXPECT_FALSE(load(many));
  EXPECT_NE(errors().find("the document has more than 100000 nodes"), std::string::npos) << errors();

  std::string big = "# " + std::string(2 << 20, 'x') + "\n";
  EXPECT_FALSE(load(big));
  EXPECT_EQ(errors(),
            "p.yaml:1:1048577: the file is longer than 1024 KiB, the most a sluice file may have\n");
  // Not read whole: an endless file is refused after the bound.
  Diagnostics endless;
  EXPECT_FALSE(sluice::core::load_config({"/dev/zero"}, loader, endless));
  EXPECT_EQ(endless.format(),
            "/dev/zero:1:1048577: the file is longer than 1024 KiB, the most a sluice file may have\n");
}

TEST_F(Pipelines, InvalidUtf8IsAnErrorAtItsByte) {
  EXPECT_FALSE(load("pipelines:\n  a:\n    source: {type: gen, extra: caf\xE9}\n"));
  EXPECT_EQ(errors(),
            "p.yaml:3:35: invalid UTF-8 (byte 0xE9); sluice files are UTF-8 (was it saved as Latin-1?)\n");
  // Escapes are read by YAML: a lone surrogate is no UTF-8 either.
  EXPECT_FALSE(load("pipelines:\n  a:\n    source: {type: gen, extra: \"\\ud800\"}\n"));
  EXPECT_NE(errors().find("p.yaml:3:39: YAML syntax error: invalid unicode"), std::string::npos) << errors();
  ::setenv("SLUICE_T_LATIN1", "caf\xE9", 1);
  EXPECT_FALSE(load("pipelines:\n  a:\n    source: {type: gen, extra: ${SLUICE_T_LATIN1}}\n"));
  EXPECT_EQ(errors(), "p.yaml:3:32: the environment variable substituted here is not valid UTF-8\n");
  ::unsetenv("SLUICE_T_LATIN1");
}

TEST_F(Pipelines, ByteOrderMarkIsSkipped) {
  auto set = load(std::string("\xEF\xBB\xBF") + kValid);
  ASSERT_TRUE(set) << errors();
  EXPECT_EQ(set->pipelines.size(), 1u);
  EXPECT_FALSE(load("\xEF\xBB\xBFpipelines:\n  a:\n    source: {type: gen}\n    sinks: [{type: nope}]\n"));
  EXPECT_NE(errors().find("p.yaml:4:20: pipelines.a.sinks[0].type: unknown sink type 'nope'"),
            std::string::npos)
      << errors();
}

TEST_F(Pipelines, SecondDocumentIsAnError) {
  EXPECT_FALSE(load(std::string(kValid) + "---\npipelines: {}\n"));
  EXPECT_NE(errors().find("p.yaml:25:1: a second YAML document starts here"), std::string::npos) << errors();
  EXPECT_FALSE(load(std::string(kValid) + "---\n"));
  EXPECT_NE(errors().find("a second YAML document"), std::string::npos) << errors();
}

TEST_F(Pipelines, EmptyPipelinesIsAnError) {
  for (const char* text : {"pipelines:\n", "pipelines: {}\n", "pipelines: ~\n"}) {
    EXPECT_FALSE(load(text)) << text;
    EXPECT_NE(errors().find("p.yaml:1:"), std::string::npos) << errors();
    EXPECT_NE(errors().find("no pipelines declared"), std::string::npos) << errors();
  }
  EXPECT_FALSE(load("{}\n"));
  EXPECT_NE(errors().find("empty map; expected 'pipelines:' and/or 'resources:'"), std::string::npos);
}

TEST_F(Pipelines, NamesAreIdentifiers) {
  for (const char* name : {"\"a b\"", "caf\xC3\xA9", "\"-x\"", "\"\\xFF\"", "\"a\\u0000b\""}) {
    EXPECT_FALSE(load("pipelines:\n  " + std::string(name) +
                      ":\n    source: {type: gen}\n    sinks: [{type: null, path: x}]\n"))
        << name;
    EXPECT_NE(errors().find("invalid pipeline name"), std::string::npos) << errors();
    for (const auto& d : diags.items()) EXPECT_TRUE(sluice::valid_utf8(d.format())) << d.format();
  }
  EXPECT_FALSE(load(numbered_pipeline(std::string(65, 'a'), 1)));
  EXPECT_TRUE(load(numbered_pipeline(std::string(64, 'a'), 1))) << errors();
  EXPECT_TRUE(load(numbered_pipeline("game-api_2", 1))) << errors();
}

TEST_F(Pipelines, PluginCheckReportsAtTheKey) {
  EXPECT_FALSE(load(numbered_pipeline("a", -1)));
  EXPECT_EQ(errors(), "p.yaml:4:30: pipelines.a.sinks[0].n: must not be negative\n");
  EXPECT_FALSE(load(numbered_pipeline("a", 13)));
  EXPECT_EQ(errors(), "p.yaml:4:13: pipelines.a.sinks[0]: the plugin's config check failed: unlucky\n");
}

TEST_F(Pipelines, ClaimsClashAcrossPipelinesAndFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("sluice-claims-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.yaml") << numbered_pipeline("a", 7);
  std::ofstream(dir / "b.yaml") << numbered_pipeline("b", 8) +
                                       "  c:\n    source: {type: gen}\n    sinks: [{type: numbered, n: 7}]\n";
  Diagnostics d;
  EXPECT_FALSE(sluice::core::load_config({(dir / "a.yaml").string(), (dir / "b.yaml").string()}, loader, d));
  ASSERT_EQ(d.items().size(), 1u) << d.format();
  EXPECT_EQ(d.items()[0].format(), (dir / "b.yaml").string() +
                                       ":7:30: pipelines.c.sinks[0].n: number 7 is already declared by "
                                       "pipelines.a.sinks[0].n (" +
                                       (dir / "a.yaml").string() + ":4:30)");
  std::filesystem::remove_all(dir);
}
