#pragma once
// Pipeline files: loading, ${ENV} interpolation, validation against plugin
// schemas, and the resulting specs the runtime builds from.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "loader.hpp"
#include "sluice/config.hpp"

namespace sluice::core {

/** One configured component: a source, transform, sink, dead-letter sink or resource. */
struct ComponentSpec {
  PluginKind kind = PluginKind::Source;
  std::string type;     ///< plugin name (`type:` in YAML)
  std::string id;       ///< "<pipeline>.<role>.<name>" e.g. "clicks.sink.kafka"
  std::string name;     ///< `name:` in YAML, or derived from type (and index when needed)
  const LoadedPlugin* plugin = nullptr;
  Config config;        ///< validated, defaults filled; excludes the runtime keys below
  // Runtime keys every sink accepts besides its own schema (see runtime docs):
  std::size_t batch_max_events = 1000;
  std::chrono::milliseconds batch_timeout{0};     ///< linger to fill a batch
  std::size_t concurrency = 1;
  std::size_t retry_max_attempts = 5;             ///< 0: retry forever
  std::chrono::milliseconds retry_initial_backoff{100};
  std::chrono::milliseconds retry_max_backoff{30000};
};

struct PipelineSpec {
  std::string name;
  std::string file;
  ComponentSpec source;
  std::vector<ComponentSpec> transforms;
  std::vector<ComponentSpec> sinks;
  std::optional<ComponentSpec> dead_letter;
  std::size_t queue_max_events = 10000;           ///< per sink queue bound (events)
  std::chrono::milliseconds shutdown_timeout{30000};  ///< drain deadline
  std::string fingerprint;  ///< canonical text of the pipeline's config (reload compares it)
};

struct ResourceSpec {
  ComponentSpec component;  ///< kind Resource
  std::string fingerprint;
};

/** The union of all pipeline files of a run. */
struct ConfigSet {
  std::vector<PipelineSpec> pipelines;
  std::vector<ResourceSpec> resources;
  std::vector<std::string> files;
};

/**
 * Reads, interpolates and validates @p files against the schemas of @p loader.
 * Every error of every file goes into @p diags (a YAML syntax error with its
 * line and column; unknown keys; wrong types; missing required keys; unknown
 * plugin types; duplicate names). Returns the set when @p diags is empty.
 */
std::optional<ConfigSet> load_config(const std::vector<std::string>& files, const PluginLoader& loader,
                                     Diagnostics& diags);
/** Same, from YAML text (used by the test harness and `sluice test`); @p name stands for the file. */
std::optional<ConfigSet> load_config_text(const std::string& yaml, const std::string& name,
                                          const PluginLoader& loader, Diagnostics& diags);

/**
 * Replaces ${VAR}, ${VAR:-default} and ${VAR:?message} in @p text from the
 * environment; `$${` is a literal `${`. Errors (unset ${VAR:?...}, unset
 * ${VAR} without default, unterminated) go to @p diags with their position.
 */
std::string interpolate_env(const std::string& text, const std::string& file, Diagnostics& diags);

/**
 * Validates @p node against @p schema, filling defaults in place. Key paths
 * in messages start with @p path.
 */
void validate_options(YAML::Node node, const Schema& schema, const std::string& file, const std::string& path,
                      Diagnostics& diags);

}  // namespace sluice::core
