// One harness over every plugin in the build tree's plugin directory (as
// Vector's component compliance tests): it loads, its schema table is well
// formed, validation refuses an unknown key, and an instance can be created,
// stopped and destroyed.
//
// Required options are filled from defaults or from a conformance example in
// the plugin's docs: a fenced block whose info string is `yaml conformance`:
//
//   ```yaml conformance
//   topic: conformance
//   ```
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "app/standalone_context.hpp"
#include "config/pipeline_config.hpp"
#include "loader.hpp"

using sluice::Option;
using sluice::OptionType;
using sluice::PluginKind;
using sluice::Schema;
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

/** The `yaml conformance` block of the docs, or an empty map. */
YAML::Node conformance_example(const char* docs) {
  const std::string text = docs ? docs : "";
  const std::string marker = "```yaml conformance\n";
  const auto begin = text.find(marker);
  if (begin == std::string::npos) return YAML::Node(YAML::NodeType::Map);
  const auto body = begin + marker.size();
  const auto end = text.find("```", body);
  return YAML::Load(text.substr(body, end == std::string::npos ? std::string::npos : end - body));
}

class Conformance : public testing::TestWithParam<Param> {
 protected:
  const LoadedPlugin& plugin() const {
    const LoadedPlugin* p = loaded().loader.find(GetParam().kind, GetParam().name);
    EXPECT_NE(p, nullptr);
    return *p;
  }
  const Schema& schema() const { return plugin().descriptor->schema(); }
};

}  // namespace

TEST(ConformanceLoad, EveryBuiltPluginLoads) {
  EXPECT_EQ(loaded().error, "") << "refused: " << loaded().error;
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
  YAML::Node node = conformance_example(plugin().descriptor->docs);
  node["sluice_conformance_no_such_key"] = 1;
  Diagnostics diags;
  sluice::core::validate_options(node, schema(), "<test>", "component", diags);
  bool named = false;
  for (const auto& d : diags.items())
    named = named || d.path.find("sluice_conformance_no_such_key") != std::string::npos;
  EXPECT_TRUE(named) << "no diagnostic names the unknown key; got:\n" << diags.format();
}

TEST_P(Conformance, CreateStopDestroy) {
  const PluginKind kind = GetParam().kind;
  if (kind == PluginKind::Service || kind == PluginKind::Resource)
    GTEST_SKIP() << "services and resources are started by their own tests";
  YAML::Node node = conformance_example(plugin().descriptor->docs);
  for (const Option& o : schema().options)
    if (o.required && !node[o.name])
      GTEST_SKIP() << "required option '" << o.name
                   << "' has no value: add a ```yaml conformance block to the docs";
  Diagnostics diags;
  sluice::core::validate_options(node, schema(), "<conformance>", "component", diags);
  ASSERT_TRUE(diags.empty()) << "the conformance example is invalid:\n" << diags.format();
  const sluice::Config config(node, "<conformance>", "component");
  sluice::core::StandaloneContext ctx("conformance", "conformance.component." + GetParam().name);
  const PluginLoader& loader = loaded().loader;
  switch (kind) {
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
    default:
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Plugins, Conformance, testing::ValuesIn(params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);
