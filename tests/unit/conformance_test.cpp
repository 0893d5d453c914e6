// One harness over every plugin in the build tree's plugin directory (as
// Vector's component compliance tests): it loads, its schema table is well
// formed, validation refuses an unknown key, and an instance can be created,
// stopped and destroyed.
//
// The configuration comes from the first ```yaml example of the plugin's docs
// (what `sluice plugins NAME` and docs/reference.md show users), loaded as a
// user's pipeline file would be: so every docs example is also checked to be
// valid. A fragment without a source or sinks is completed with `generate`
// and `null`. A plugin whose docs have no example is configured with its
// defaults alone, which must then be enough.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "app/standalone_context.hpp"
#include "config/pipeline_config.hpp"
#include "loader.hpp"

using sluice::Option;
using sluice::OptionType;
using sluice::PluginKind;
using sluice::Schema;
using sluice::core::ComponentSpec;
using sluice::core::ConfigSet;
using sluice::core::Diagnostics;
using sluice::core::LoadedPlugin;
using sluice::core::PluginLoader;

namespace {

struct Loaded {
  PluginLoader loader;
  std::string error;
};

Loaded& loaded() {
  static Loaded* l = [] {
    auto* x = new Loaded;
    try {
      x->loader.load_directories({SLUICE_TEST_PLUGIN_DIR});
    } catch (const std::exception& e) {
      x->error = e.what();
    }
    return x;
  }();
  return *l;
}

struct Param {
  PluginKind kind;
  std::string name;
};

// Readable names in test output and ctest listings.
[[maybe_unused]] void PrintTo(const Param& p, std::ostream* os) {
  *os << sluice::to_string(p.kind) << " " << p.name;
}

std::vector<Param> params() {
  std::vector<Param> out;
  for (const LoadedPlugin* p : loaded().loader.all())
    out.push_back({p->descriptor->kind, p->descriptor->name});
  return out;
}

std::string param_name(const testing::TestParamInfo<Param>& info) {
  std::string s = std::string(sluice::to_string(info.param.kind)) + "_" + info.param.name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

bool valid_type(OptionType t) {
  return static_cast<int>(t) >= static_cast<int>(OptionType::String) &&
         static_cast<int>(t) <= static_cast<int>(OptionType::Any);
}

void check_schema(const Schema& schema, const std::string& where) {
  std::set<std::string> names;
  for (const Option& o : schema.options) {
    const std::string at = where + o.name;
    EXPECT_FALSE(o.name.empty()) << where << ": option without a name";
    EXPECT_TRUE(names.insert(o.name).second) << at << ": declared twice";
    EXPECT_TRUE(valid_type(o.type)) << at << ": invalid type " << static_cast<int>(o.type);
    EXPECT_FALSE(o.description.empty()) << at << ": no description";
    if (o.type == OptionType::Enum) {
      EXPECT_FALSE(o.choices.empty()) << at << ": enum without choices";
    }
    if (o.type == OptionType::Object || o.type == OptionType::ObjectList) {
      EXPECT_TRUE(o.nested != nullptr) << at << ": object without a nested schema";
      if (o.nested) check_schema(*o.nested, at + ".");
    }
    EXPECT_FALSE(o.required && !o.default_value.empty()) << at << ": required and with a default";
  }
}

/** @p schema with nothing required, so that defaults alone can be validated. */
Schema optional_copy(const Schema& schema) {
  Schema s = schema;
  for (Option& o : s.options) {
    o.required = false;
    if (o.nested) o.nested = std::make_shared<const Schema>(optional_copy(*o.nested));
  }
  return s;
}

/** The first ```yaml block of @p docs, or "" when there is none. */
std::string docs_example(const char* docs) {
  const std::string text = docs ? docs : "";
  const std::string marker = "```yaml\n";
  const auto begin = text.find(marker);
  if (begin == std::string::npos) return {};
  const auto body = begin + marker.size();
  const auto end = text.find("```", body);
  return text.substr(body, end == std::string::npos ? std::string::npos : end - body);
}

std::string indented(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) out += (line.empty() ? "" : prefix) + line + "\n";
  return out;
}

/**
 * A pipeline file around @p p's docs example (or around `{type: NAME}`): a
 * `resources:` example stands as it is; a pipeline fragment gets a source
 * and sinks when it has none.
 */
std::string example_file(const Param& p, const char* docs) {
  std::string example = docs_example(docs);
  if (example.empty()) {
    const char* role = p.kind == PluginKind::Source      ? "source: "
                       : p.kind == PluginKind::Transform ? "transforms:\n  - "
                       : p.kind == PluginKind::Sink      ? "sinks:\n  - "
                                                         : nullptr;
    if (!role) return "resources:\n  conformance:\n    type: " + p.name + "\n";
    example = std::string(role) + "{type: " + p.name + "}\n";
  }
  const YAML::Node raw = YAML::Load(example);
  if (raw["resources"] && !raw["source"] && !raw["sinks"] && !raw["transforms"]) return example;
  std::string file = "pipelines:\n  conformance:\n" + indented(example, "    ");
  if (!raw["source"]) file += "    source: {type: generate, count: 0}\n";
  if (!raw["sinks"]) file += "    sinks: [{type: null}]\n";
  return file;
}

/** The first component of @p set made by plugin @p p. */
const ComponentSpec* find_component(const ConfigSet& set, const Param& p) {
  auto match = [&](const ComponentSpec& c) { return c.kind == p.kind && c.type == p.name; };
  for (const auto& r : set.resources)
    if (match(r.component)) return &r.component;
  for (const auto& pipeline : set.pipelines) {
    if (match(pipeline.source)) return &pipeline.source;
    for (const auto& t : pipeline.transforms)
      if (match(t)) return &t;
    for (const auto& s : pipeline.sinks)
      if (match(s)) return &s;
  }
  return nullptr;
}

/** Runs the test in a directory of its own: examples may name relative paths (./data/access.log). */
class ScopedDirectory {
 public:
  explicit ScopedDirectory(const std::string& dir) : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~ScopedDirectory() { std::filesystem::current_path(previous_); }

 private:
  std::filesystem::path previous_;
};

class Conformance : public testing::TestWithParam<Param> {
 protected:
  const LoadedPlugin& plugin() const {
    const LoadedPlugin* p = loaded().loader.find(GetParam().kind, GetParam().name);
    EXPECT_NE(p, nullptr);
    return *p;
  }
  const Schema& schema() const { return plugin().descriptor->schema(); }

  /** The validated example (see the top of this file); fails the test when it is invalid. */
  std::optional<ConfigSet> example() const {
    const std::string file = example_file(GetParam(), plugin().descriptor->docs);
    Diagnostics diags;
    auto set = sluice::core::load_config_text(file, "<docs example>", loaded().loader, diags);
    EXPECT_TRUE(set.has_value())
        << "the docs example (or, without one, the defaults) is not a valid configuration "
        << "for this plugin:\n"
        << diags.format() << "\nas loaded:\n"
        << file;
    if (set && !find_component(*set, GetParam())) {
      ADD_FAILURE() << "the docs example has no component of type " << GetParam().name << ":\n" << file;
      return std::nullopt;
    }
    return set;
  }
};

}  // namespace

TEST(ConformanceLoad, EveryBuiltPluginLoads) {
  EXPECT_EQ(loaded().error, "") << "refused: " << loaded().error;
}

// The tests below are instantiated per loaded plugin: without this, a plugin (or a whole
// family) that failed to build or load would simply have no tests, and the suite would pass.
TEST(ConformanceLoad, TheExpectedPluginsWereLoaded) {
  // Plugins of the families shipped here; a family without an entry must load at least one.
  const std::map<std::string, std::set<std::string>> expected = {
      {"basic",
       {"source generate", "source stdin", "transform filter", "transform remap", "sink null",
        "sink stdout"}},
      {"file", {"sink file"}},
      {"http", {"source http"}},
      {"kafka", {"source kafka", "sink kafka", "resource kafka_embedded"}},
  };
  std::map<std::string, std::set<std::string>> got;
  for (const LoadedPlugin* p : loaded().loader.all())
    got[p->library_name].insert(std::string(sluice::to_string(p->descriptor->kind)) + " " +
                                p->descriptor->name);
  std::set<std::string> families;
  std::stringstream list(SLUICE_TEST_PLUGIN_FAMILIES);
  for (std::string f; std::getline(list, f, ',');)
    if (!f.empty()) families.insert(f);
  ASSERT_FALSE(families.empty()) << "the build enables no plugin family";
  for (const auto& family : families) {
    const auto& loaded_here = got[family];
    EXPECT_FALSE(loaded_here.empty())
        << "no plugin of family '" << family << "' was loaded from " << SLUICE_TEST_PLUGIN_DIR;
    auto it = expected.find(family);
    if (it == expected.end()) continue;
    for (const auto& name : it->second)
      EXPECT_TRUE(loaded_here.count(name)) << "family '" << family << "': " << name << " was not loaded";
  }
}

TEST_P(Conformance, DescriptorIsComplete) {
  const auto& d = *plugin().descriptor;
  EXPECT_GE(d.struct_size, sizeof(sluice::PluginDescriptor));
  ASSERT_NE(d.description, nullptr);
  EXPECT_STRNE(d.description, "") << d.name << ": no description";
  EXPECT_FALSE(plugin().library_path.empty());
}

TEST_P(Conformance, SchemaIsWellFormed) {
  check_schema(schema(), std::string(GetParam().name) + ": ");
}

TEST_P(Conformance, DefaultsAreValidForTheirTypes) {
  YAML::Node node(YAML::NodeType::Map);
  for (const Option& o : schema().options)
    if (!o.default_value.empty()) node[o.name] = YAML::Load(o.default_value);
  Diagnostics diags;
  sluice::core::validate_options(node, optional_copy(schema()), "<defaults>", GetParam().name, diags);
  EXPECT_TRUE(diags.empty()) << diags.format();
}

TEST_P(Conformance, UnknownKeyIsRefused) {
  const auto set = example();
  ASSERT_TRUE(set);
  YAML::Node node = YAML::Clone(find_component(*set, GetParam())->config.root());
  node["sluice_conformance_no_such_key"] = 1;
  Diagnostics diags;
  sluice::core::validate_options(node, schema(), "<test>", "component", diags);
  bool named = false;
  for (const auto& d : diags.items())
    named = named || d.path.find("sluice_conformance_no_such_key") != std::string::npos;
  EXPECT_TRUE(named) << "no diagnostic names the unknown key; got:\n" << diags.format();
}

TEST_P(Conformance, CreateStopDestroy) {
  const auto set = example();
  ASSERT_TRUE(set);
  const sluice::Config& config = find_component(*set, GetParam())->config;
  sluice::core::StandaloneContext ctx("conformance", "conformance.component." + GetParam().name);
  const ScopedDirectory in_data_dir(ctx.data_dir());
  const PluginLoader& loader = loaded().loader;
  switch (GetParam().kind) {
    case PluginKind::Source: {
      auto source = loader.create<sluice::Source>(plugin(), ctx, config);
      ctx.request_stop();
      source->stop();
      break;
    }
    case PluginKind::Transform: {
      auto transform = loader.create<sluice::Transform>(plugin(), ctx, config);
      sluice::Batch batch;
      transform->process(batch);
      sluice::Batch held;
      transform->flush(held);
      EXPECT_TRUE(held.empty()) << "a transform given nothing holds nothing";
      break;
    }
    case PluginKind::Sink: {
      auto sink = loader.create<sluice::Sink>(plugin(), ctx, config);
      ctx.request_stop();
      sink->flush(std::chrono::milliseconds(1000));
      break;
    }
    case PluginKind::Service: {
      auto service = loader.create<sluice::Service>(plugin(), ctx, config);
      service->start();
      ctx.request_stop();
      service->stop();
      break;
    }
    case PluginKind::Resource: {
      auto resource = loader.create<sluice::Resource>(plugin(), ctx, config);
      resource->start();
      EXPECT_TRUE(resource->status().is_object()) << "/status facts must be a JSON object";
      ctx.request_stop();
      resource->stop();
      break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Plugins, Conformance, testing::ValuesIn(params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);
