#pragma once
// The elasticsearch sink's configuration: its schema table, the factory-side
// check (every cross-field rule, so `sluice validate` refuses what `run`
// would) and the parsed settings the sink, the client and the encoder use.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/sdk.hpp>

#include "es_client_settings.hpp"
#include "es_connection.hpp"

namespace sluice::elasticsearch {

enum class Action { Index, Create, Update, Upsert, Script, Delete, Increment };

/** The action's name as the bulk API spells its line ("index", "create", "update", "delete"). */
const char* bulk_verb(Action action) noexcept;

/** What an `increment` does to the document. */
struct IncrementSettings {
  std::string field;                        ///< the counter (a top-level field of the document)
  std::optional<FieldPath> by;              ///< the amount; 1 when unset
  std::optional<Template> guard_key;        ///< idempotency guard: the writer's stream (e.g. a partition)
  std::optional<FieldPath> guard_sequence;  ///< … and a number that grows along it
  std::string guard_field;                  ///< where the document records the last sequence per key
};

/** The script of `action: script`. */
struct ScriptSettings {
  std::string source;  ///< inline Painless source, or
  std::string id;      ///< a stored script's id
  std::string lang;
  std::vector<std::pair<std::string, FieldPath>> params;  ///< name → event field
};

/** Everything the sink reads from its config. */
struct Settings {
  ClientSettings client;
  bool embedded = false;  ///< `hosts: embedded`: the embedded index named `index`, no server
  Action action = Action::Index;
  Template index;
  std::optional<Template> id;
  std::optional<Template> routing;
  std::string pipeline;
  std::optional<FieldPath> version;
  std::string version_type;
  std::optional<FieldPath> document;  ///< the body is this field; the whole event when unset
  std::vector<FieldPath> exclude;
  std::vector<FieldPath> create_only;  ///< upsert: in `upsert` (the created document), not in `doc`
  int retry_on_conflict = 3;
  ScriptSettings script;
  bool upsert_document = false;  ///< script: insert the document when missing
  bool scripted_upsert = false;  ///< script: run the script on an empty document when missing
  IncrementSettings increment;
  std::uint64_t max_bulk_bytes = 10u << 20;
  std::string refresh;  ///< "false", "true" or "wait_for"
  std::chrono::milliseconds retry_initial_backoff{200};
  std::chrono::milliseconds retry_max_backoff{60000};
  std::uint64_t retry_limit = 0;     ///< 0: retry server-side refusals for as long as it takes
  std::optional<Json> create_index;  ///< body of `PUT /<index>` (settings, mappings)
};

/** True when @p name can name an embedded index (what Elasticsearch accepts, no path tricks). */
bool valid_index_name(const std::string& name, std::string& why);

const Schema& sink_schema();
void check_sink(const Config& config, ConfigIssues& issues);
/** Parses a config that passed check_sink(); throws std::runtime_error (a secret file, a JSON file). */
Settings load_settings(const Config& config);

}  // namespace sluice::elasticsearch
