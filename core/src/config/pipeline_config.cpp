// Pipeline files: structure (pipelines, resources, components), plugin
// lookup, the runtime keys every sink accepts, names and ids, and the
// fingerprints reload compares.
#include "config/pipeline_config.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "config/yaml_source.hpp"

namespace sluice::core {

namespace {

/** Keys every sink (and dead-letter sink) accepts besides its plugin's options; see docs/runtime.md. */
const Schema& sink_runtime_schema() {
  static const Schema schema = SchemaBuilder()
                                   .option("batch_max_events", OptionType::Int)
                                   .def("1000")
                                   .range(1, std::nullopt)
                                   .doc("Most events per write().")
                                   .option("batch_timeout", OptionType::Duration)
                                   .def("0ms")
                                   .doc("How long to wait for a batch to fill.")
                                   .option("concurrency", OptionType::Int)
                                   .def("1")
                                   .range(1, 1024)
                                   .doc("Worker threads calling write().")
                                   .option("retry_max_attempts", OptionType::Int)
                                   .def("5")
                                   .range(0, std::nullopt)
                                   .doc("Retries before dead-lettering; 0 retries forever.")
                                   .option("retry_initial_backoff", OptionType::Duration)
                                   .def("100ms")
                                   .doc("First backoff cap.")
                                   .option("retry_max_backoff", OptionType::Duration)
                                   .def("30s")
                                   .doc("Largest backoff cap.")
                                   .build();
  return schema;
}

/** Keys of every component besides its plugin's options. */
const Schema& component_keys_schema() {
  static const Schema schema = SchemaBuilder()
                                   .option("type", OptionType::String)
                                   .required()
                                   .doc("The plugin to use.")
                                   .option("name", OptionType::String)
                                   .doc("Name in ids, logs and metrics; defaults to the type.")
                                   .build();
  return schema;
}

const Schema& pipeline_schema() {
  static const Schema schema = SchemaBuilder()
                                   .option("source", OptionType::Any)
                                   .required()
                                   .doc("The source: a map with `type:` and its options.")
                                   .option("transforms", OptionType::Any)
                                   .doc("Transforms, in order.")
                                   .option("sinks", OptionType::Any)
                                   .required()
                                   .doc("One or more sinks; each receives every event.")
                                   .option("dead_letter", OptionType::Any)
                                   .doc("Sink for events that failed or could not be parsed.")
                                   .option("queue_max_events", OptionType::Int)
                                   .def("10000")
                                   .range(1, std::nullopt)
                                   .doc("Bound of each sink queue, in events.")
                                   .option("shutdown_timeout", OptionType::Duration)
                                   .def("30s")
                                   .doc("Drain deadline on shutdown and reload.")
                                   .build();
  return schema;
}

const Schema& file_schema() {
  static const Schema schema = SchemaBuilder()
                                   .option("pipelines", OptionType::Any)
                                   .doc("Map of pipeline name to pipeline.")
                                   .option("resources", OptionType::Any)
                                   .doc("Map of resource name to {type, options}.")
                                   .build();
  return schema;
}

std::string where(const YamlSource& src, const YAML::Mark& mark) {
  auto [line, col] = src.map.locate(mark);
  std::string out = src.file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(col);
  return out;
}

/**
 * Names of pipelines, resources and components are identifiers: they make up
 * component ids, metric labels, log lines and file names (the default
 * dead-letter file), so nothing in them needs quoting or escaping anywhere.
 */
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

/** Mark of @p key itself in map @p node (a null value has no useful mark of its own). */
YAML::Mark key_mark(const YAML::Node& node, const std::string& key) {
  for (const auto& kv : node)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first.Mark();
  return node.Mark();
}

const char* const name_rule = "letters, digits, '_' and '-', at most 64, not starting with '-'";

class Loader {
 public:
  Loader(const PluginLoader& plugins, Diagnostics& diags) : plugins_(plugins), diags_(diags) {}

  void add_text(const std::string& text, const std::string& file) {
    set_.files.push_back(file);
    auto src = parse_yaml(text, file, diags_);
    if (!src) return;
    sources_.push_back(std::make_unique<YamlSource>(std::move(*src)));
    const YamlSource& s = *sources_.back();
    YAML::Node root = s.root;
    if (!root.IsMap()) {
      s.report(diags_, root.Mark(), "",
               root.IsNull() ? "empty file; expected 'pipelines:' and/or 'resources:'"
                             : "expected a map with 'pipelines:' and/or 'resources:'");
      return;
    }
    if (root.size() == 0) {
      s.report(diags_, root.Mark(), "", "empty map; expected 'pipelines:' and/or 'resources:'");
      return;
    }
    validate_options(root, file_schema(), s, "", diags_);
    const YAML::Node& croot = root;
    if (YAML::Node r = croot["resources"]; r.IsDefined() && !r.IsNull()) resources(s, r);
    if (YAML::Node p = croot["pipelines"]; p.IsDefined()) {
      // Written but empty: most likely a pipeline lost its indentation, or a file is half-written.
      if (p.IsNull() || (p.IsMap() && p.size() == 0))
        s.report(diags_, p.IsNull() ? key_mark(croot, "pipelines") : p.Mark(), "pipelines",
                 "no pipelines declared; give at least one (or remove 'pipelines:')");
      else
        pipelines(s, p);
    }
  }

  std::optional<ConfigSet> finish(std::size_t diags_before) {
    if (diags_.items().size() != diags_before) return std::nullopt;
    return std::move(set_);
  }

 private:
  void resources(const YamlSource& s, YAML::Node node) {
    if (!node.IsMap()) {
      s.report(diags_, node.Mark(), "resources", "expected a map of resource name to {type: ..., options}");
      return;
    }
    for (auto kv : node) {
      const std::string name = kv.first.Scalar();
      const std::string path = "resources." + name;
      if (!valid_name(name)) {
        s.report(diags_, kv.first.Mark(), path, "invalid resource name '" + name + "' (" + name_rule + ")");
        continue;
      }
      if (!claim(resource_names_, name, s, kv.first.Mark(), path, "resource")) continue;
      ComponentSpec c;
      c.kind = PluginKind::Resource;
      c.name = name;
      c.id = "resource." + name;
      // Taken before validation fills defaults: what the user wrote, interpolated.
      std::string fingerprint = canonical_text(kv.second);
      if (!component(s, kv.second, path, c, false)) continue;
      set_.resources.push_back(ResourceSpec{std::move(c), std::move(fingerprint)});
    }
  }

  void pipelines(const YamlSource& s, YAML::Node node) {
    if (!node.IsMap()) {
      s.report(diags_, node.Mark(), "pipelines", "expected a map of pipeline name to pipeline");
      return;
    }
    for (auto kv : node) {
      const std::string name = kv.first.Scalar();
      const std::string path = "pipelines." + name;
      if (!valid_name(name)) {
        s.report(diags_, kv.first.Mark(), path, "invalid pipeline name '" + name + "' (" + name_rule + ")");
        continue;
      }
      if (!claim(pipeline_names_, name, s, kv.first.Mark(), path, "pipeline")) continue;
      pipeline(s, name, kv.second, path);
    }
  }

  /** Records @p name as taken; reports a duplicate (across files) pointing at both. */
  bool claim(std::map<std::string, std::string>& taken, const std::string& name, const YamlSource& s,
             const YAML::Mark& mark, const std::string& path, const char* what) {
    const std::string here = where(s, mark);
    auto [it, inserted] = taken.emplace(name, here);
    if (inserted) return true;
    s.report(diags_, mark, path,
             std::string("duplicate ") + what + " name '" + name + "'; first defined at " + it->second);
    return false;
  }

  void pipeline(const YamlSource& s, const std::string& name, YAML::Node node, const std::string& path) {
    if (!node.IsMap()) {
      s.report(diags_, node.Mark(), path, "expected a map with source: and sinks:");
      return;
    }
    const std::size_t before = diags_.items().size();
    // Taken before validation fills defaults: what the user wrote, interpolated.
    const std::string fingerprint = canonical_text(node);
    validate_options(node, pipeline_schema(), s, path, diags_);
    const YAML::Node& cnode = node;

    PipelineSpec p;
    p.name = name;
    p.file = s.file;

    if (YAML::Node src = cnode["source"]; src.IsDefined() && !src.IsNull()) {
      p.source.kind = PluginKind::Source;
      if (src.IsMap()) {
        p.source.name = explicit_name(s, src, path + ".source").value_or(type_of(s, src));
        p.source.id = name + ".source." + p.source.name;
      }
      component(s, src, path + ".source", p.source, false);
    }
    p.transforms =
        list(s, cnode["transforms"], name, path + ".transforms", PluginKind::Transform, "transform", false);
    YAML::Node sinks = cnode["sinks"];
    if (sinks.IsDefined() && !sinks.IsNull()) {
      p.sinks = list(s, sinks, name, path + ".sinks", PluginKind::Sink, "sink", true);
      if ((sinks.IsSequence() && sinks.size() == 0))
        s.report(diags_, sinks.Mark(), path + ".sinks", "at least one sink is required");
    }
    if (YAML::Node dl = cnode["dead_letter"]; dl.IsDefined() && !dl.IsNull()) {
      ComponentSpec c;
      c.kind = PluginKind::Sink;
      if (dl.IsMap()) {
        c.name = explicit_name(s, dl, path + ".dead_letter").value_or(type_of(s, dl));
        c.id = name + ".dead_letter." + c.name;
      }
      if (component(s, dl, path + ".dead_letter", c, true)) p.dead_letter = std::move(c);
    }
    if (diags_.items().size() != before) return;
    const Config pc(node, s.file, path);
    p.queue_max_events = static_cast<std::size_t>(pc.integer("queue_max_events"));
    p.shutdown_timeout = pc.duration("shutdown_timeout");
    p.fingerprint = fingerprint;
    set_.pipelines.push_back(std::move(p));
  }

  /**
   * Takes @p key out of component @p node (what its plugin sees), keeping it for restore(): an
   * alias (`*sink`) is the very node of its anchor, which another component reads again. (A copy
   * would not do: yaml-cpp's Clone loses the positions that diagnostics need.)
   */
  void strip(YAML::Node node, const std::string& key) {
    for (auto kv : node) {
      if (!kv.first.IsScalar() || kv.first.Scalar() != key) continue;
      auto it =
          std::find_if(stripped_.begin(), stripped_.end(), [&](const auto& e) { return e.first.is(node); });
      if (it == stripped_.end()) it = stripped_.insert(stripped_.end(), {node, {}});
      it->second.emplace_back(kv.first, kv.second);
      break;
    }
    node.remove(key);
  }

  /** Puts back what strip() took out of @p node, when an alias brings it again. */
  void restore(YAML::Node node) {
    for (auto& [n, keys] : stripped_) {
      if (!n.is(node)) continue;
      for (auto& [k, v] : keys) node.force_insert(k, v);
      keys.clear();
    }
  }

  /** The `type:` of a component map; `type: null` (read by YAML as null) becomes the string "null". */
  static std::string type_of(const YamlSource& s, YAML::Node n) {
    if (!n.IsMap()) return {};
    const YAML::Node& cn = n;
    YAML::Node t = cn["type"];
    if (!t.IsDefined()) return {};  // a missing key gives an invalid node: only IsDefined() is safe
    if (t.IsNull()) {
      const std::string word = s.null_text(t);
      if (word == "null" || word == "Null" || word == "NULL") {
        n["type"] = word;
        return word;
      }
    }
    return t.IsScalar() ? t.Scalar() : std::string();
  }

  std::optional<std::string> explicit_name(const YamlSource& s, const YAML::Node& n,
                                           const std::string& path) {
    const YAML::Node& cn = n;
    YAML::Node v = cn["name"];
    if (!v.IsDefined() || v.IsNull()) return std::nullopt;
    if (!v.IsScalar() || !valid_name(v.Scalar())) {
      s.report(diags_, v.Mark(), path + ".name", std::string("invalid component name (") + name_rule + ")");
      return std::nullopt;
    }
    return v.Scalar();
  }

  std::vector<ComponentSpec> list(const YamlSource& s, YAML::Node node, const std::string& pipeline,
                                  const std::string& path, PluginKind kind, const char* role, bool sink) {
    std::vector<ComponentSpec> out;
    if (!node.IsDefined() || node.IsNull()) return out;
    std::vector<YAML::Node> items;
    if (node.IsSequence()) {
      for (auto item : node) items.push_back(item);
    } else if (node.IsMap()) {
      items.push_back(node);  // a single component may be written without the list
    } else {
      s.report(diags_, node.Mark(), path, std::string("expected a list of ") + role + "s");
      return out;
    }
    // Names default to the type; "type#index" only where that is ambiguous.
    std::vector<std::optional<std::string>> names;
    std::map<std::string, int> count;
    std::set<std::string> explicit_names;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string ipath = path + "[" + std::to_string(i) + "]";
      names.push_back(items[i].IsMap() ? explicit_name(s, items[i], ipath) : std::nullopt);
      if (names.back()) {
        if (!explicit_names.insert(*names.back()).second) {
          const YAML::Node& ci = items[i];
          s.report(diags_, ci["name"].Mark(), ipath + ".name",
                   std::string("duplicate ") + role + " name '" + *names.back() + "' in this pipeline");
        }
      } else if (items[i].IsMap()) {
        ++count[type_of(s, items[i])];
      }
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string ipath = path + "[" + std::to_string(i) + "]";
      ComponentSpec c;
      c.kind = kind;
      if (names[i]) {
        c.name = *names[i];
      } else if (items[i].IsMap()) {
        const std::string type = type_of(s, items[i]);
        c.name = (count[type] > 1 || explicit_names.count(type)) ? type + "#" + std::to_string(i) : type;
      }
      c.id = pipeline + "." + role + "." + c.name;
      if (component(s, items[i], ipath, c, sink)) out.push_back(std::move(c));
    }
    return out;
  }

  /**
   * Looks up the plugin, validates the options (plus the runtime keys of a
   * sink), and fills @p c. The node the plugin sees loses the keys that are
   * not its own (type, name unless declared, runtime keys unless declared).
   */
  bool component(const YamlSource& s, YAML::Node node, const std::string& path, ComponentSpec& c, bool sink) {
    if (!node.IsMap()) {
      s.report(diags_, node.Mark(), path,
               "expected a map with 'type:' and options, got " +
                   std::string(node.IsSequence() ? "a list" : "'" + node.Scalar() + "'"));
      return false;
    }
    restore(node);
    type_of(s, node);
    const YAML::Node& cnode = node;
    YAML::Node type = cnode["type"];
    if (!type.IsDefined() || type.IsNull()) {
      s.report(diags_, node.Mark(), path + ".type",
               std::string("missing required key 'type' (the ") + to_string(c.kind) + " plugin to use)");
      return false;
    }
    if (!type.IsScalar()) {
      s.report(diags_, type.Mark(), path + ".type", "expected a plugin name");
      return false;
    }
    c.type = type.Scalar();
    c.plugin = plugins_.find(c.kind, c.type);
    if (!c.plugin) {
      std::vector<std::string> available;
      for (const LoadedPlugin* p : plugins_.all())
        if (p->descriptor->kind == c.kind) available.push_back(p->descriptor->name);
      std::string msg = std::string("unknown ") + to_string(c.kind) + " type '" + c.type + "'; available: ";
      if (available.empty()) msg += "(none loaded)";
      for (std::size_t i = 0; i < available.size(); ++i) msg += (i ? ", " : "") + available[i];
      msg += did_you_mean(c.type, available);
      s.report(diags_, type.Mark(), path + ".type", msg);
      return false;
    }
    const Schema& own = c.plugin->descriptor->schema();
    Schema combined = own;
    for (const Option& o : component_keys_schema().options)
      if (!own.find(o.name)) combined.options.push_back(o);
    if (sink)
      for (const Option& o : sink_runtime_schema().options)
        if (!own.find(o.name)) combined.options.push_back(o);

    const std::size_t before = diags_.items().size();
    validate_options(node, combined, s, path, diags_);
    if (diags_.items().size() != before) return false;

    if (sink) {
      const Config rc(node, s.file, path);
      c.batch_max_events = static_cast<std::size_t>(rc.integer("batch_max_events"));
      c.batch_timeout = rc.duration("batch_timeout");
      c.concurrency = static_cast<std::size_t>(rc.integer("concurrency"));
      c.retry_max_attempts = static_cast<std::size_t>(rc.integer("retry_max_attempts"));
      c.retry_initial_backoff = rc.duration("retry_initial_backoff");
      c.retry_max_backoff = rc.duration("retry_max_backoff");
      for (const Option& o : sink_runtime_schema().options)
        if (!own.find(o.name)) strip(node, o.name);
    }
    if (!own.find("type")) strip(node, "type");
    if (!own.find("name")) strip(node, "name");
    c.config = Config(node, s.file, path);
    return checked(s, node, path, c);
  }

  /** What a plugin's check reports, as diagnostics at positions in the file as written. */
  class ComponentIssues : public ConfigIssues {
   public:
    ComponentIssues(Loader& loader, const YamlSource& s) : loader_(loader), s_(s) {}
    void error(const Config& at, const std::string& key, std::string message) override {
      s_.report(loader_.diags_, at.mark(key), key.empty() ? at.path() : join_path(at.path(), key),
                std::move(message));
    }
    void claim(const Config& at, const std::string& key, std::string what) override {
      const std::string path = key.empty() ? at.path() : join_path(at.path(), key);
      const YAML::Mark mark = at.mark(key);
      auto [it, fresh] = loader_.claims_.emplace(what, path + " (" + where(s_, mark) + ")");
      if (!fresh) s_.report(loader_.diags_, mark, path, what + " is already declared by " + it->second);
    }

   private:
    Loader& loader_;
    const YamlSource& s_;
  };

  /** Runs the plugin's factory-side check on @p c's config; false when it reported anything. */
  bool checked(const YamlSource& s, const YAML::Node& node, const std::string& path, const ComponentSpec& c) {
    const ConfigCheck check = c.plugin->descriptor->check;
    if (!check) return true;
    const std::size_t before = diags_.items().size();
    ComponentIssues issues(*this, s);
    try {
      check(c.config, issues);
    } catch (const std::exception& e) {
      s.report(diags_, node.Mark(), path, std::string("the plugin's config check failed: ") + e.what());
    }
    return diags_.items().size() == before;
  }

  const PluginLoader& plugins_;
  Diagnostics& diags_;
  ConfigSet set_;
  std::vector<std::unique_ptr<YamlSource>> sources_;
  std::map<std::string, std::string> pipeline_names_, resource_names_;
  std::map<std::string, std::string> claims_;  ///< ConfigIssues::claim: what → "path (file:line:col)"
  /** Component nodes and the keys strip() took out of them. */
  std::vector<std::pair<YAML::Node, std::vector<std::pair<YAML::Node, YAML::Node>>>> stripped_;
};

/**
 * Loads one file. Nothing a file holds may throw out of here (a reload must
 * keep the running config whatever the new one is): what slips through the
 * checks is reported as an error of the file.
 */
void add_text(Loader& l, const std::string& text, const std::string& file, Diagnostics& diags) {
  try {
    l.add_text(text, file);
  } catch (const std::exception& e) {
    diags.add(Diagnostic{file, 0, 0, "", std::string("cannot load this file: ") + e.what()});
  }
}

}  // namespace

std::optional<ConfigSet> load_config(const std::vector<std::string>& files, const PluginLoader& loader,
                                     Diagnostics& diags) {
  const std::size_t before = diags.items().size();
  Loader l(loader, diags);
  for (const auto& file : files) {
    std::string text;
    if (!read_file(file, text, diags)) continue;
    add_text(l, text, file, diags);
  }
  return l.finish(before);
}

std::optional<ConfigSet> load_config_text(const std::string& yaml, const std::string& name,
                                          const PluginLoader& loader, Diagnostics& diags) {
  const std::size_t before = diags.items().size();
  Loader l(loader, diags);
  add_text(l, yaml, name, diags);
  return l.finish(before);
}

}  // namespace sluice::core
