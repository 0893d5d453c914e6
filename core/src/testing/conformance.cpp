// The conformance checks of every plugin (sluice/conformance.hpp): the in-tree
// tests/unit/conformance_test.cpp runs them over the build's plugins, and
// sluice-conformance over an out-of-tree plugin.
#include "sluice/conformance.hpp"

#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "app/standalone_context.hpp"
#include "config/pipeline_config.hpp"
#include "loader.hpp"
#include "sluice/sdk.hpp"
#include "sluice/testing.hpp"

namespace sluice::testing {

namespace {

using core::ComponentSpec;
using core::ConfigSet;
using core::Diagnostics;
using core::LoadedPlugin;
using core::PluginLoader;

bool valid_type(OptionType t) {
  return static_cast<int>(t) >= static_cast<int>(OptionType::String) &&
         static_cast<int>(t) <= static_cast<int>(OptionType::Any);
}

void check_schema(const Schema& schema, const std::string& where, std::vector<std::string>& problems) {
  std::set<std::string> names;
  for (const Option& o : schema.options) {
    const std::string at = where + o.name;
    if (o.name.empty()) problems.push_back(where + ": an option without a name");
    if (!names.insert(o.name).second) problems.push_back(at + ": declared twice");
    if (!valid_type(o.type))
      problems.push_back(at + ": invalid type " + std::to_string(static_cast<int>(o.type)));
    if (o.description.empty()) problems.push_back(at + ": no description");
    if (o.type == OptionType::Enum && o.choices.empty()) problems.push_back(at + ": an enum without choices");
    if (o.type == OptionType::Object || o.type == OptionType::ObjectList) {
      if (!o.nested)
        problems.push_back(at + ": an object without a nested schema");
      else
        check_schema(*o.nested, at + ".", problems);
    }
    if (o.required && !o.default_value.empty()) problems.push_back(at + ": required and with a default");
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
 * A pipeline file around @p d's docs example (or around `{type: NAME}`): a
 * `resources:` example stands as it is; a pipeline fragment gets a source
 * and sinks when it has none.
 */
std::string example_file(const PluginDescriptor& d) {
  std::string example = docs_example(d.docs);
  const std::string name = d.name;
  if (example.empty()) {
    const char* role = d.kind == PluginKind::Source      ? "source: "
                       : d.kind == PluginKind::Transform ? "transforms:\n  - "
                       : d.kind == PluginKind::Sink      ? "sinks:\n  - "
                                                         : nullptr;
    if (!role) return "resources:\n  conformance:\n    type: " + name + "\n";
    example = std::string(role) + "{type: " + name + "}\n";
  }
  YAML::Node raw;
  try {
    raw = YAML::Load(example);
  } catch (const YAML::Exception&) {
    return example;  // the loader reports it, with its position
  }
  if (!raw.IsMap()) return example;
  if (raw["resources"] && !raw["source"] && !raw["sinks"] && !raw["transforms"]) return example;
  std::string file = "pipelines:\n  conformance:\n" + indented(example, "    ");
  if (!raw["source"]) file += "    source: {type: generate, count: 0}\n";
  if (!raw["sinks"]) file += "    sinks: [{type: null}]\n";
  return file;
}

/** The first component of @p set made by plugin @p d. */
const ComponentSpec* find_component(const ConfigSet& set, const PluginDescriptor& d) {
  auto match = [&](const ComponentSpec& c) { return c.kind == d.kind && c.type == d.name; };
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

/** Runs in a directory of its own: examples may name relative paths (./data/access.log). */
class ScopedDirectory {
 public:
  explicit ScopedDirectory(const std::string& dir) : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~ScopedDirectory() { std::filesystem::current_path(previous_); }
  ScopedDirectory(const ScopedDirectory&) = delete;
  ScopedDirectory& operator=(const ScopedDirectory&) = delete;

 private:
  std::filesystem::path previous_;
};

void create_stop_destroy(const PluginLoader& loader, const LoadedPlugin& plugin, const Config& config,
                         std::vector<std::string>& problems) {
  const PluginDescriptor& d = *plugin.descriptor;
  core::StandaloneContext ctx("conformance", std::string("conformance.component.") + d.name);
  const ScopedDirectory in_data_dir(ctx.data_dir());
  switch (d.kind) {
    case PluginKind::Source: {
      auto source = loader.create<Source>(plugin, ctx, config);
      ctx.request_stop();
      source->stop();
      break;
    }
    case PluginKind::Transform: {
      auto transform = loader.create<Transform>(plugin, ctx, config);
      Batch batch;
      transform->process(batch);
      Batch held;
      transform->flush(held);
      if (!held.empty()) problems.push_back("a transform given nothing holds " + std::to_string(held.size()));
      break;
    }
    case PluginKind::Sink: {
      auto sink = loader.create<Sink>(plugin, ctx, config);
      ctx.request_stop();
      sink->flush(std::chrono::milliseconds(1000));
      break;
    }
    case PluginKind::Service: {
      auto service = loader.create<Service>(plugin, ctx, config);
      service->start();
      ctx.request_stop();
      service->stop();
      break;
    }
    case PluginKind::Resource: {
      auto resource = loader.create<Resource>(plugin, ctx, config);
      resource->start();
      if (!resource->status().is_object()) problems.push_back("its /status facts are not a JSON object");
      ctx.request_stop();
      resource->stop();
      break;
    }
  }
}

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::string plugin_name(const PluginDescriptor& d) {
  return std::string(to_string(d.kind)) + " " + d.name;
}

/** The checks of one plugin (only @p only_check when not empty), appended to @p out. */
void check_plugin(const PluginLoader& loader, const LoadedPlugin& plugin, const std::string& only_check,
                  std::vector<ConformanceCheck>& out) {
  const PluginDescriptor& d = *plugin.descriptor;
  const std::string who = plugin_name(d);
  auto record = [&](const char* check, auto&& body) {
    if (!only_check.empty() && only_check != check) return;
    std::vector<std::string> problems;
    try {
      body(problems);
    } catch (const std::exception& e) {
      problems.push_back(std::string("threw: ") + e.what());
    }
    out.push_back({who, check, joined(problems)});
  };

  record("descriptor", [&](std::vector<std::string>& problems) {
    if (d.struct_size < sizeof(PluginDescriptor)) problems.push_back("struct_size is smaller than the SDK's");
    if (!d.description || !*d.description) problems.push_back("no description");
  });
  record("schema",
         [&](std::vector<std::string>& problems) { check_schema(d.schema(), who + ": ", problems); });
  record("defaults", [&](std::vector<std::string>& problems) {
    YAML::Node node(YAML::NodeType::Map);
    for (const Option& o : d.schema().options)
      if (!o.default_value.empty()) node[o.name] = YAML::Load(o.default_value);
    Diagnostics diags;
    core::validate_options(node, optional_copy(d.schema()), "<defaults>", d.name, diags);
    if (!diags.empty()) problems.push_back(diags.format());
  });

  // The docs example, loaded whichever checks run: unknown-key and create-stop-destroy need it.
  const std::string file = example_file(d);
  std::optional<ConfigSet> set;
  const ComponentSpec* component = nullptr;
  std::string example_problem;
  try {
    Diagnostics diags;
    set = core::load_config_text(file, "<docs example>", loader, diags);
    if (!set)
      example_problem = "the docs example (or, without one, the defaults) is not a valid configuration:\n" +
                        diags.format() + "\nas loaded:\n" + file;
    else if (!(component = find_component(*set, d)))
      example_problem = "the docs example has no component of type " + std::string(d.name) + ":\n" + file;
  } catch (const std::exception& e) {
    example_problem = std::string("threw: ") + e.what();
  }
  record("example", [&](std::vector<std::string>& problems) {
    if (!example_problem.empty()) problems.push_back(example_problem);
  });
  if (!component) return;  // the two checks below need the example
  record("unknown-key", [&](std::vector<std::string>& problems) {
    YAML::Node node = YAML::Clone(component->config.root());
    node["sluice_conformance_no_such_key"] = 1;
    Diagnostics diags;
    core::validate_options(node, d.schema(), "<test>", "component", diags);
    bool named = false;
    for (const auto& diag : diags.items())
      named = named || diag.path.find("sluice_conformance_no_such_key") != std::string::npos;
    if (!named) problems.push_back("no diagnostic names the unknown key; got: " + diags.format());
  });
  record("create-stop-destroy", [&](std::vector<std::string>& problems) {
    create_stop_destroy(loader, plugin, component->config, problems);
  });
}

}  // namespace

const std::vector<std::string>& conformance_checks() {
  static const std::vector<std::string> names = {"descriptor", "schema",      "defaults",
                                                 "example",    "unknown-key", "create-stop-destroy"};
  return names;
}

std::vector<ConformanceCheck> check_conformance(const std::string& path, const std::string& only_plugin,
                                                const std::string& only_check) {
  std::vector<ConformanceCheck> out;
  PluginLoader loader;
  try {
    if (std::filesystem::is_directory(path)) {
      loader.load_directories({path});
    } else {
      // Its own plugins, and the installed or built ones (generate, null) the examples are completed with.
      loader.load_directories({default_plugin_dir()});
      loader.load_file(path);
    }
  } catch (const std::exception& e) {
    out.push_back({"", "load", e.what()});
    return out;
  }
  namespace fs = std::filesystem;
  const fs::path only = fs::is_directory(path) ? fs::path() : fs::weakly_canonical(path);
  std::size_t checked = 0;
  for (const LoadedPlugin* p : loader.all()) {
    if (p->library_path.empty()) continue;
    if (!only.empty() && fs::weakly_canonical(p->library_path) != only) continue;
    if (!only_plugin.empty() && plugin_name(*p->descriptor) != only_plugin) continue;
    check_plugin(loader, *p, only_check, out);
    ++checked;
  }
  if (checked == 0)
    out.push_back(
        {only_plugin, "load",
         "no plugin" + (only_plugin.empty() ? "" : " " + only_plugin) + " was loaded from " + path});
  return out;
}

int run_conformance(const std::string& path, std::ostream& out) {
  const auto checks = check_conformance(path);
  std::size_t failed = 0;
  for (const auto& c : checks) {
    const std::string who = c.plugin.empty() ? path : c.plugin;
    if (c.problem.empty()) {
      out << "ok    " << who << ": " << c.check << "\n";
    } else {
      out << "FAIL  " << who << ": " << c.check << ": " << c.problem << "\n";
      ++failed;
    }
  }
  out << checks.size() - failed << " of " << checks.size() << " conformance checks passed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace sluice::testing
