// The elasticsearch sink's schema table, its factory-side check and the
// parsing of a checked config into Settings.
#include "es_settings.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sluice::elasticsearch {
namespace {

const std::vector<std::string> kActions = {"index",  "create", "update",   "upsert",
                                           "script", "delete", "increment"};

Action action_of(const std::string& name) {
  for (std::size_t i = 0; i < kActions.size(); ++i)
    if (kActions[i] == name) return static_cast<Action>(i);
  return Action::Index;
}

const Schema& script_schema() {
  static const Schema s =
      SchemaBuilder()
          .option("source", OptionType::String)
          .doc(
              "Inline Painless source. Values come from `params`: never paste event "
              "data into it (each distinct source is compiled, and the server limits "
              "compilations per minute).")
          .option("id", OptionType::String)
          .doc("Id of a stored script, instead of `source`.")
          .option("lang", OptionType::String)
          .def("painless")
          .doc("Script language.")
          .option("params", OptionType::StringMap)
          .doc("Script parameters: name → field reference (`count: n`, `seen: meta.offset`).")
          .build();
  return s;
}

const Schema& increment_schema() {
  static const Schema s =
      SchemaBuilder()
          .option("field", OptionType::String)
          .required()
          .doc("The counter: a top-level field of the document (e.g. `visits`); missing counts as 0.")
          .option("by", OptionType::Field)
          .doc("The event field holding the amount (a number); 1 when unset.")
          .option("guard_key", OptionType::Template)
          .doc(
              "Idempotency guard: names the stream of increments (e.g. `{meta.partition}`). With "
              "`guard_sequence`, an increment whose sequence is not above the last one applied for its key "
              "is skipped (`noop`), so a replayed increment is not counted twice.")
          .option("guard_sequence", OptionType::Field)
          .doc("The number that grows along the guard's stream (e.g. `meta.offset`, a window's sequence).")
          .option("guard_field", OptionType::String)
          .def("sluice_applied")
          .doc(
              "Object field of the document recording the last sequence applied per guard key (map it "
              "`enabled: false`).")
          .build();
  return s;
}

const Schema& create_index_schema() {
  static const Schema s = SchemaBuilder()
                              .option("settings", OptionType::Any)
                              .doc("Index settings (e.g. `{number_of_shards: 1, number_of_replicas: 0}`).")
                              .option("mappings", OptionType::Any)
                              .doc("Mappings (`properties: {title: {type: text}}`); no mapping types.")
                              .option("file", OptionType::String)
                              .doc("A JSON file holding the whole body (`settings`, `mappings`), instead.")
                              .build();
  return s;
}

/** `script:` was written (the object is always there, filled with its defaults). */
bool has_script(const Config& config) {
  const Config sc = config.child("script");
  return sc.has("source") || sc.has("id") || sc.has("params");
}

/** `create_index:` was written. */
bool has_create_index(const Config& config) {
  const Config ci = config.child("create_index");
  return ci.has("settings") || ci.has("mappings") || ci.has("file");
}

bool top_level_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c == '.' || c == '\'' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool valid_index_name(const std::string& name, std::string& why) {
  if (name.empty() || name.size() > 200) {
    why = "an index name has 1 to 200 characters";
    return false;
  }
  if (name == "." || name == ".." || name.front() == '-' || name.front() == '_' || name.front() == '+' ||
      name.front() == '.') {
    why = "an index name cannot start with '-', '_', '+' or '.'";
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) {
      why = "an index name has lower-case letters, digits, '-', '_' and '.' only";
      return false;
    }
  }
  return true;
}

namespace {

/** The rules of `hosts: embedded`: what only a server does is refused, not silently ignored. */
void check_embedded(const Config& config, Action a, ConfigIssues& issues) {
  std::string error, why;
  const auto index = Template::parse(config.str("index"), &error);
  if (index && !index->is_literal())
    issues.error(
        config, "index",
        "the embedded index needs a literal `index` (this one is a template: " + config.str("index") + ")");
  else if (index && !valid_index_name(config.str("index"), why))
    issues.error(config, "index", "invalid index name '" + config.str("index") + "': " + why);
  if (a == Action::Script)
    issues.error(config, "action",
                 "the embedded index runs no scripts: use index, create, update, upsert, "
                 "delete or increment, or point `hosts` at a server");
  for (const char* key : {"version", "routing", "pipeline"})
    if (config.has(key))
      issues.error(config, key,
                   std::string("`") + key + "` needs a server: the embedded index does not take it");
}

}  // namespace

const char* bulk_verb(Action action) noexcept {
  switch (action) {
    case Action::Index:
      return "index";
    case Action::Create:
      return "create";
    case Action::Delete:
      return "delete";
    default:
      return "update";
  }
}

const Schema& sink_schema() {
  static const Schema s =
      SchemaBuilder()
          .option("hosts", OptionType::StringList)
          .def("[\"http://127.0.0.1:9200\"]")
          .doc(
              "Base URLs of the nodes (`http://` or `https://`, a path prefix is kept); one string may hold "
              "several separated by commas (`${ES_HOSTS}`). Bulk requests are spread over the hosts that "
              "answer; a failing host is left alone for a while, then tried again.")
          .option("index", OptionType::Template)
          .required()
          .doc("Target index, a template (`listings`, `logs-{meta.timestamp:%Y.%m.%d}`).")
          .option("id", OptionType::Template)
          .doc(
              "Document id, a template (`{id}`). Unset: the server picks one, so a redelivered event is "
              "indexed twice (a warning says so at start).")
          .option("action", OptionType::Enum)
          .choices(kActions)
          .def("index")
          .doc(
              "`index` (replace), `create` (only when missing; 409 counts as delivered), `update` (partial "
              "document), `upsert` (`doc_as_upsert`: merge, insert when missing), `script` (run `script`), "
              "`delete`, `increment` (add to a counter: see `increment`).")
          .option("routing", OptionType::Template)
          .doc("Shard routing value, a template.")
          .option("pipeline", OptionType::String)
          .doc("Ingest pipeline (index and create).")
          .option("version", OptionType::Field)
          .doc(
              "External version: the event field holding it (`meta.offset`, `updated_at`); index, create and "
              "delete. A 409 (an equal or newer version is there) counts as delivered.")
          .option("version_type", OptionType::Enum)
          .choices({"external", "external_gte"})
          .def("external")
          .doc("How `version` compares.")
          .option("document", OptionType::Field)
          .doc("Write this field of the event as the document, instead of the whole event.")
          .option("exclude", OptionType::StringList)
          .doc("Fields left out of the document (`meta` is never written).")
          .option("create_only", OptionType::StringList)
          .doc(
              "action upsert: fields written when the document is created, and left as they are when it "
              "already exists (the bulk item's `upsert` holds them, its `doc` does not). For a value that "
              "another pipeline keeps up to date: an initial `visits` in a listing must not reset the "
              "counted one when the listing is sent again.")
          .option("retry_on_conflict", OptionType::Int)
          .def("3")
          .range(0, 100)
          .doc("update, upsert, script, increment: retries of a version conflict inside the server.")
          .option("script", OptionType::Object)
          .nested(script_schema())
          .doc("The script of `action: script`.")
          .option("upsert", OptionType::Bool)
          .def("false")
          .doc("script: when the document is missing, insert the event's document instead.")
          .option("scripted_upsert", OptionType::Bool)
          .def("false")
          .doc("script: when the document is missing, run the script on an empty one.")
          .option("increment", OptionType::Object)
          .nested(increment_schema())
          .doc(
              "What `action: increment` adds: a Painless script with parameters (compiled once), run as a "
              "scripted upsert, so a missing document starts at 0.")
          .option("max_bulk_bytes", OptionType::Size)
          .def("10MiB")
          .range(1024, 1024.0 * 1024 * 1024)
          .doc("Largest bulk request body; a batch over it is sent as several requests. A 413 halves it.")
          .option("compression", OptionType::Enum)
          .choices({"none", "gzip"})
          .def("none")
          .doc("Request body compression.")
          .option("timeout", OptionType::Duration)
          .def("60s")
          .range(1, 3600000)
          .doc(
              "Longest wait for a connection, for sending, and for each read of an answer; then the request "
              "is retried (on another host when there is one).")
          .option("refresh", OptionType::Enum)
          .choices({"false", "true", "wait_for"})
          .def("false")
          .doc(
              "`refresh` of each bulk request: `wait_for` returns once the documents are searchable (tests, "
              "demos); `true` makes tiny segments.")
          .option("retry_initial_backoff", OptionType::Duration)
          .def("200ms")
          .doc("First backoff cap of a refused request or item (429, 502, 503, 504, a connection error).")
          .option("retry_max_backoff", OptionType::Duration)
          .def("60s")
          .doc("Largest backoff cap. A `Retry-After` of the server is honoured when longer.")
          .option("retry_limit", OptionType::Int)
          .def("0")
          .range(0, std::nullopt)
          .doc(
              "Retries of a refused item before the core's retry and dead-letter policy takes over; 0: retry "
              "for as long as it takes (the pipeline's queues fill and the source pauses: nothing is "
              "dropped).")
          .with(connection_options)
          .option("create_index", OptionType::Object)
          .nested(create_index_schema())
          .doc(
              "Create the index at start when it is missing (an existing index is left alone). Only with a "
              "literal `index`.")
          .build();
  return s;
}

void check_sink(const Config& config, ConfigIssues& issues) {
  const std::vector<std::string> hosts = host_list(config);
  const std::string action = config.str("action");
  const Action a = action_of(action);
  check_connection(config, issues);
  if (std::find(hosts.begin(), hosts.end(), kEmbeddedHost) != hosts.end()) check_embedded(config, a, issues);
  const bool needs_id = a != Action::Index && a != Action::Create;
  if (needs_id && !config.has("id"))
    issues.error(config, "action", "action " + action + " needs `id` (the document to change)");
  if (config.has("version") && !config.has("id"))
    issues.error(config, "version", "external versioning needs `id`");
  if (config.has("version") && a != Action::Index && a != Action::Create && a != Action::Delete)
    issues.error(config, "version",
                 "external versioning works with index, create and delete only (the update API refuses it)");
  if (config.has("pipeline") && a != Action::Index && a != Action::Create)
    issues.error(config, "pipeline", "an ingest pipeline runs on index and create only");
  if (config.has("pipeline") && config.str("pipeline").empty())
    issues.error(config, "pipeline", "the pipeline name is empty");
  if (a == Action::Delete && (config.has("document") || config.has("exclude")))
    issues.error(config, config.has("document") ? "document" : "exclude", "delete writes no document");
  if (config.has("create_only") && a != Action::Upsert)
    issues.error(config, "create_only",
                 "create_only is for action upsert (the other actions create, or update, "
                 "never both)");

  if (a == Action::Script) {
    if (!has_script(config)) {
      issues.error(config, "action", "action script needs `script` (source or id)");
    } else {
      const Config sc = config.child("script");
      if (sc.has("source") == sc.has("id")) issues.error(sc, "", "give exactly one of source, id");
      if (sc.has("source") && sc.str("source").empty()) issues.error(sc, "source", "the script is empty");
      if (sc.has("params"))
        for (const auto& [name, ref] : sc.string_map("params")) {
          std::string error;
          if (!FieldPath::parse(ref, &error)) issues.error(sc, "params", "param " + name + ": " + error);
        }
    }
    if (config.boolean("upsert") && config.boolean("scripted_upsert"))
      issues.error(config, "scripted_upsert", "upsert and scripted_upsert exclude each other");
  } else {
    if (has_script(config)) issues.error(config, "script", "`script` is for action script");
    if (config.boolean("upsert"))
      issues.error(config, "upsert", "`upsert` is for action script (or use action upsert)");
    if (config.boolean("scripted_upsert"))
      issues.error(config, "scripted_upsert", "`scripted_upsert` is for action script");
  }

  if (a == Action::Increment) {
    if (!config.has("increment")) {
      issues.error(config, "action", "action increment needs `increment` (at least `field`)");
    } else {
      const Config ic = config.child("increment");
      if (!top_level_name(ic.str("field")))
        issues.error(ic, "field", "the counter must be a top-level field name (no dots or quotes)");
      if (ic.has("guard_key") != ic.has("guard_sequence"))
        issues.error(ic, ic.has("guard_key") ? "guard_key" : "guard_sequence",
                     "guard_key and guard_sequence go together");
      if (!top_level_name(ic.str("guard_field")))
        issues.error(ic, "guard_field", "must be a top-level field name (no dots or quotes)");
      if (ic.str("guard_field") == ic.str("field"))
        issues.error(ic, "guard_field", "must differ from the counter field");
    }
  } else if (config.has("increment")) {
    issues.error(config, "increment", "`increment` is for action increment");
  }

  if (has_create_index(config)) {
    const Config ci = config.child("create_index");
    if (ci.has("file") && (ci.has("settings") || ci.has("mappings")))
      issues.error(ci, "file", "give either `file` or `settings`/`mappings`, not both");
    std::string error;
    const auto index = Template::parse(config.str("index"), &error);
    if (index && !index->is_literal())
      issues.error(
          ci, "",
          "create_index needs a literal `index` (this one is a template: " + config.str("index") + ")");
    for (const char* key : {"settings", "mappings"})
      if (ci.has(key) && !yaml_to_json(ci.node(key)).is_object())
        issues.error(ci, key, std::string(key) + " must be a map");
  }
}

Settings load_settings(const Config& config) {
  Settings s;
  ClientSettings& c = s.client;
  read_connection(config, c);
  s.embedded = is_embedded(c.hosts);
  c.timeout = config.duration("timeout");
  c.gzip = config.str("compression") == "gzip";

  auto tmpl = [&](const std::string& key) {
    std::string error;
    auto t = Template::parse(config.str(key), &error);
    if (!t) throw std::runtime_error(config.where(key) + ": " + key + ": " + error);
    return *t;
  };
  auto field = [](const Config& cfg, const std::string& key) {
    std::string error;
    auto f = FieldPath::parse(cfg.str(key), &error);
    if (!f) throw std::runtime_error(cfg.where(key) + ": " + key + ": " + error);
    return *f;
  };
  s.action = action_of(config.str("action"));
  s.index = tmpl("index");
  if (config.has("id")) s.id = tmpl("id");
  if (config.has("routing")) s.routing = tmpl("routing");
  if (config.has("pipeline")) s.pipeline = config.str("pipeline");
  if (config.has("version")) s.version = field(config, "version");
  s.version_type = config.str("version_type");
  if (config.has("document")) s.document = field(config, "document");
  // Field lists; `meta` is never part of the document.
  auto fields = [&config](const std::string& key, std::vector<FieldPath>& out) {
    if (!config.has(key)) return;
    for (const std::string& f : config.strings(key)) {
      std::string error;
      auto path = FieldPath::parse(f, &error);
      if (!path) throw std::runtime_error(config.where(key) + ": " + key + ": " + error);
      if (!path->is_meta()) out.push_back(*path);
    }
  };
  fields("exclude", s.exclude);
  fields("create_only", s.create_only);
  s.retry_on_conflict = static_cast<int>(config.integer("retry_on_conflict"));
  if (has_script(config)) {
    const Config sc = config.child("script");
    if (sc.has("source")) s.script.source = sc.str("source");
    if (sc.has("id")) s.script.id = sc.str("id");
    s.script.lang = sc.str("lang");
    if (sc.has("params"))
      for (const auto& [name, ref] : sc.string_map("params")) {
        std::string error;
        auto path = FieldPath::parse(ref, &error);
        if (!path) throw std::runtime_error(sc.where("params") + ": params." + name + ": " + error);
        s.script.params.emplace_back(name, *path);
      }
  }
  s.upsert_document = config.boolean("upsert");
  s.scripted_upsert = config.boolean("scripted_upsert");
  if (config.has("increment")) {
    const Config ic = config.child("increment");
    s.increment.field = ic.str("field");
    if (ic.has("by")) s.increment.by = field(ic, "by");
    if (ic.has("guard_key")) {
      std::string error;
      auto t = Template::parse(ic.str("guard_key"), &error);
      if (!t) throw std::runtime_error(ic.where("guard_key") + ": guard_key: " + error);
      s.increment.guard_key = *t;
      s.increment.guard_sequence = field(ic, "guard_sequence");
    }
    s.increment.guard_field = ic.str("guard_field");
  }
  s.max_bulk_bytes = config.size("max_bulk_bytes");
  s.refresh = config.str("refresh");
  s.retry_initial_backoff = config.duration("retry_initial_backoff");
  s.retry_max_backoff = config.duration("retry_max_backoff");
  s.retry_limit = static_cast<std::uint64_t>(config.integer("retry_limit"));
  if (has_create_index(config)) {
    const Config ci = config.child("create_index");
    if (ci.has("file")) {
      const std::string path = ci.str("file");
      Json body;
      std::string error;
      std::string text;
      try {
        text = read_file(path);
      } catch (const std::exception& e) {
        throw std::runtime_error(ci.where("file") + ": create_index.file: " + e.what());
      }
      if (!parse_json(text, body, &error) || !body.is_object())
        throw std::runtime_error(ci.where("file") + ": create_index.file: " + path +
                                 (error.empty() ? " does not hold a JSON object" : ": " + error));
      s.create_index = std::move(body);
    } else {
      Json body = Json::object();
      if (ci.has("settings")) body["settings"] = yaml_to_json(ci.node("settings"));
      if (ci.has("mappings")) body["mappings"] = yaml_to_json(ci.node("mappings"));
      s.create_index = std::move(body);
    }
  }
  return s;
}

}  // namespace sluice::elasticsearch
