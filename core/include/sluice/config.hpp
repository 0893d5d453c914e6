#pragma once
/**
 * @file config.hpp
 * @brief Plugin configuration: the schema table a plugin declares once, and
 * the validated view of its options it receives at creation.
 *
 * The one schema table drives validation (unknown keys, types, required keys,
 * allowed values, ranges), fills defaults, and produces `sluice plugins`
 * output and the generated reference documentation.
 */
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace sluice {

/** The type of one option. */
enum class OptionType {
  String,      ///< any scalar, as text
  Int,         ///< integer
  Float,       ///< number
  Bool,        ///< true / false
  Duration,    ///< "250ms", "5s", "2m", "1h"; a bare number is milliseconds
  Size,        ///< "512", "64KiB", "10MB", "1GiB"
  Enum,        ///< one of Option::choices
  Template,    ///< text with {field} references (see template.hpp), checked at validation
  Field,       ///< one field reference (user_id, listing.title, meta.key)
  StringList,  ///< list of strings (a single string is accepted as a list of one)
  StringMap,   ///< map of string to string
  Object,      ///< map validated against Option::nested
  ObjectList,  ///< list of maps, each validated against Option::nested
  Any,         ///< any YAML, checked by the plugin
};

/** Name of a type as shown in errors and docs ("duration", "list of string", ...). */
const char* to_string(OptionType type) noexcept;

struct Schema;

/** One row of a schema table. */
struct Option {
  std::string name;
  OptionType type = OptionType::String;
  std::string default_value;  ///< YAML text of the default; empty: no default
  bool required = false;
  bool secret = false;  ///< never printed in logs, /status or errors
  std::string description;
  std::vector<std::string> choices;      ///< allowed values for Enum
  std::optional<double> min, max;        ///< bounds for Int, Float, Duration (ms), Size (bytes)
  std::shared_ptr<const Schema> nested;  ///< for Object / ObjectList
};

/** A plugin's configuration table. */
struct Schema {
  std::vector<Option> options;
  /** Key prefixes passed through unchecked to an underlying library (e.g. "rdkafka."). */
  std::vector<std::string> passthrough_prefixes;
  /** The option named @p name, or nullptr. */
  const Option* find(std::string_view name) const noexcept;
};

/**
 * Fluent construction of a schema table:
 * @code
 * static const sluice::Schema schema = sluice::SchemaBuilder()
 *     .option("topic", sluice::OptionType::Template).required().doc("Topic to write to.")
 *     .option("acks", sluice::OptionType::Enum).choices({"0", "1", "all"}).def("all")
 *     .passthrough("rdkafka.")
 *     .build();
 * @endcode
 */
class SchemaBuilder {
 public:
  SchemaBuilder& option(std::string name, OptionType type);
  SchemaBuilder& def(std::string yaml_default);
  SchemaBuilder& required(bool yes = true);
  SchemaBuilder& secret(bool yes = true);
  SchemaBuilder& doc(std::string description);
  SchemaBuilder& choices(std::vector<std::string> values);
  SchemaBuilder& range(std::optional<double> min, std::optional<double> max);
  SchemaBuilder& nested(Schema schema);
  SchemaBuilder& passthrough(std::string prefix);
  /** Adds the options @p add declares, in place (a group several plugins share, e.g. secret_options). */
  SchemaBuilder& with(SchemaBuilder& (*add)(SchemaBuilder&)) { return add(*this); }
  Schema build() const { return schema_; }

 private:
  Option& last();
  Schema schema_;
};

/** Thrown by Config getters for a missing or mistyped key (a bug: validation ran before). */
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * A validated, default-filled view of one plugin's options. Getters throw
 * ConfigError only if called with a key the schema does not declare.
 */
class Config {
 public:
  Config() = default;
  /** @p node: the option map; @p file: its file; @p path: its key path ("pipelines.x.sinks[0]"). */
  Config(YAML::Node node, std::string file, std::string path);

  bool has(const std::string& key) const;
  std::string str(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::chrono::milliseconds duration(const std::string& key) const;
  std::uint64_t size(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  std::map<std::string, std::string> string_map(const std::string& key) const;
  /** Nested object (Object option). */
  Config child(const std::string& key) const;
  /** Nested objects (ObjectList option). */
  std::vector<Config> children(const std::string& key) const;
  /** Every key that starts with @p prefix, with the prefix removed (pass-through settings). */
  std::map<std::string, std::string> passthrough(const std::string& prefix) const;
  /** The raw node (Any options). */
  YAML::Node node(const std::string& key) const;
  const YAML::Node& root() const { return node_; }

  /** "file:line:col" of @p key (or of this map when empty), for runtime error messages. */
  std::string where(const std::string& key = {}) const;
  /** Position of @p key in the interpolated text (of this map when empty or not written there). */
  YAML::Mark mark(const std::string& key = {}) const;
  /** Key path of this map, e.g. "pipelines.clicks.sinks[0]". */
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

 private:
  YAML::Node get(const std::string& key) const;
  YAML::Node node_;
  std::string file_;
  std::string path_;
};

/**
 * A YAML value (of an `Any` option) as JSON: plain scalars become numbers, booleans or
 * null when they read as such, quoted ones stay strings; maps and lists keep their order.
 */
nlohmann::json yaml_to_json(const YAML::Node& node);

/** Parses "250ms", "5s", "1m30s", "2h"; a bare number is milliseconds. */
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
/** Parses "512", "64KiB", "64KB", "10MB", "1GiB" into bytes. */
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace sluice
