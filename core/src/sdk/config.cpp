// Schema tables, the validated Config view a plugin reads, and the duration /
// size syntaxes shared by every option of those types.
#include "sluice/config.hpp"

#include "sluice/event.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace sluice {

const char* to_string(OptionType type) noexcept {
  switch (type) {
    case OptionType::String:
      return "string";
    case OptionType::Int:
      return "integer";
    case OptionType::Float:
      return "number";
    case OptionType::Bool:
      return "bool";
    case OptionType::Duration:
      return "duration";
    case OptionType::Size:
      return "size";
    case OptionType::Enum:
      return "enum";
    case OptionType::Template:
      return "template";
    case OptionType::Field:
      return "field";
    case OptionType::StringList:
      return "list of string";
    case OptionType::StringMap:
      return "map of string";
    case OptionType::Object:
      return "object";
    case OptionType::ObjectList:
      return "list of object";
    case OptionType::Any:
      return "any";
  }
  return "unknown";
}

const Option* Schema::find(std::string_view name) const noexcept {
  for (const auto& o : options)
    if (o.name == name) return &o;
  return nullptr;
}

// ---------------------------------------------------------------- SchemaBuilder

Option& SchemaBuilder::last() {
  // A modifier before any option() is a programming error in a plugin's
  // static table; failing loudly at start-up beats a silently wrong schema.
  if (schema_.options.empty()) throw std::logic_error("SchemaBuilder: modifier called before option()");
  return schema_.options.back();
}

SchemaBuilder& SchemaBuilder::option(std::string name, OptionType type) {
  Option o;
  o.name = std::move(name);
  o.type = type;
  schema_.options.push_back(std::move(o));
  return *this;
}

SchemaBuilder& SchemaBuilder::def(std::string yaml_default) {
  last().default_value = std::move(yaml_default);
  return *this;
}

SchemaBuilder& SchemaBuilder::required(bool yes) {
  last().required = yes;
  return *this;
}

SchemaBuilder& SchemaBuilder::secret(bool yes) {
  last().secret = yes;
  return *this;
}

SchemaBuilder& SchemaBuilder::doc(std::string description) {
  last().description = std::move(description);
  return *this;
}

SchemaBuilder& SchemaBuilder::choices(std::vector<std::string> values) {
  last().choices = std::move(values);
  return *this;
}

SchemaBuilder& SchemaBuilder::range(std::optional<double> min, std::optional<double> max) {
  last().min = min;
  last().max = max;
  return *this;
}

SchemaBuilder& SchemaBuilder::nested(Schema schema) {
  last().nested = std::make_shared<const Schema>(std::move(schema));
  return *this;
}

SchemaBuilder& SchemaBuilder::passthrough(std::string prefix) {
  schema_.passthrough_prefixes.push_back(std::move(prefix));
  return *this;
}

// ---------------------------------------------------------------- parsing

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/** Reads a non-negative decimal number ("12", "1.5") from the front of @p s. */
std::optional<double> take_number(std::string_view& s) {
  std::size_t i = 0;
  bool digits = false, dot = false;
  while (i < s.size()) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + i, v);
  if (ec != std::errc() || p != s.data() + i) return std::nullopt;
  s.remove_prefix(i);
  return v;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  double total_ms = 0;
  bool first = true;
  while (!s.empty()) {
    auto n = take_number(s);
    if (!n) return std::nullopt;
    std::size_t u = 0;
    while (u < s.size() && std::isalpha(static_cast<unsigned char>(s[u]))) ++u;
    const std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale = 0;
    if (unit.empty()) {
      // A bare number is milliseconds, and only on its own ("5" but not "1m5").
      if (!first || !s.empty()) return std::nullopt;
      scale = 1;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "us") {
      scale = 0.001;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return std::nullopt;
    }
    total_ms += *n * scale;
    first = false;
  }
  if (!(total_ms < 9.2e18)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::string_view s = trim(text);
  auto n = take_number(s);
  if (!n) return std::nullopt;
  s = trim(s);
  double scale = 0;
  struct Unit {
    const char* name;
    double scale;
  };
  static constexpr Unit units[] = {
      {"", 1},
      {"b", 1},
      {"k", 1024.0},
      {"kb", 1e3},
      {"kib", 1024.0},
      {"m", 1048576.0},
      {"mb", 1e6},
      {"mib", 1048576.0},
      {"g", 1073741824.0},
      {"gb", 1e9},
      {"gib", 1073741824.0},
      {"t", 1099511627776.0},
      {"tb", 1e12},
      {"tib", 1099511627776.0},
  };
  for (const auto& u : units)
    if (iequals(s, u.name)) scale = u.scale;
  if (scale == 0) return std::nullopt;
  const double bytes = *n * scale;
  if (!(bytes < 1.8e19)) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

// ---------------------------------------------------------------- Config

Config::Config(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

namespace {

std::string key_path(const std::string& base, const std::string& key) {
  if (base.empty()) return key;
  return base + "." + key;
}

}  // namespace

YAML::Node Config::get(const std::string& key) const {
  const YAML::Node& n = node_;
  if (n.IsMap()) {
    YAML::Node v = n[key];
    if (v.IsDefined() && !v.IsNull()) return v;
  }
  throw ConfigError(key_path(path_, key) + ": option is not set (not declared in the schema, or no default)");
}

bool Config::has(const std::string& key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node& n = node_;
  YAML::Node v = n[key];
  return v.IsDefined() && !v.IsNull();
}

std::string Config::str(const std::string& key) const {
  YAML::Node v = get(key);
  if (!v.IsScalar()) throw ConfigError(key_path(path_, key) + ": expected a string");
  return v.Scalar();
}

std::int64_t Config::integer(const std::string& key) const {
  YAML::Node v = get(key);
  try {
    return v.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    throw ConfigError(key_path(path_, key) + ": expected an integer");
  }
}

double Config::number(const std::string& key) const {
  YAML::Node v = get(key);
  try {
    return v.as<double>();
  } catch (const YAML::Exception&) {
    throw ConfigError(key_path(path_, key) + ": expected a number");
  }
}

bool Config::boolean(const std::string& key) const {
  YAML::Node v = get(key);
  try {
    return v.as<bool>();
  } catch (const YAML::Exception&) {
    throw ConfigError(key_path(path_, key) + ": expected true or false");
  }
}

std::chrono::milliseconds Config::duration(const std::string& key) const {
  YAML::Node v = get(key);
  if (v.IsScalar())
    if (auto d = parse_duration(v.Scalar())) return *d;
  throw ConfigError(key_path(path_, key) + ": expected a duration like 5s");
}

std::uint64_t Config::size(const std::string& key) const {
  YAML::Node v = get(key);
  if (v.IsScalar())
    if (auto s = parse_size(v.Scalar())) return *s;
  throw ConfigError(key_path(path_, key) + ": expected a size like 64KiB");
}

std::vector<std::string> Config::strings(const std::string& key) const {
  YAML::Node v = get(key);
  std::vector<std::string> out;
  if (v.IsScalar()) {
    out.push_back(v.Scalar());
    return out;
  }
  if (!v.IsSequence()) throw ConfigError(key_path(path_, key) + ": expected a list of strings");
  for (const auto& item : v) {
    if (!item.IsScalar()) throw ConfigError(key_path(path_, key) + ": expected a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

std::map<std::string, std::string> Config::string_map(const std::string& key) const {
  YAML::Node v = get(key);
  if (!v.IsMap()) throw ConfigError(key_path(path_, key) + ": expected a map of strings");
  std::map<std::string, std::string> out;
  for (const auto& kv : v) {
    if (!kv.second.IsScalar() && !kv.second.IsNull())
      throw ConfigError(key_path(path_, key) + ": expected a map of strings");
    out[kv.first.Scalar()] = kv.second.IsNull() ? std::string() : kv.second.Scalar();
  }
  return out;
}

Config Config::child(const std::string& key) const {
  YAML::Node v = get(key);
  if (!v.IsMap()) throw ConfigError(key_path(path_, key) + ": expected an object");
  return Config(v, file_, key_path(path_, key));
}

std::vector<Config> Config::children(const std::string& key) const {
  YAML::Node v = get(key);
  if (!v.IsSequence()) throw ConfigError(key_path(path_, key) + ": expected a list of objects");
  std::vector<Config> out;
  std::size_t i = 0;
  for (const auto& item : v) {
    out.emplace_back(item, file_, key_path(path_, key) + "[" + std::to_string(i) + "]");
    ++i;
  }
  return out;
}

std::map<std::string, std::string> Config::passthrough(const std::string& prefix) const {
  std::map<std::string, std::string> out;
  if (!node_.IsMap()) return out;
  // Both spellings are accepted: flat keys ("rdkafka.linger.ms: 5") and a map
  // under the prefix without its dot ("rdkafka: {linger.ms: 5}").
  std::string bare = prefix;
  if (!bare.empty() && bare.back() == '.') bare.pop_back();
  for (const auto& kv : node_) {
    const std::string& k = kv.first.Scalar();
    if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0 && kv.second.IsScalar()) {
      out[k.substr(prefix.size())] = kv.second.Scalar();
    } else if (!bare.empty() && k == bare && kv.second.IsMap()) {
      for (const auto& inner : kv.second)
        if (inner.second.IsScalar()) out[inner.first.Scalar()] = inner.second.Scalar();
    }
  }
  return out;
}

YAML::Node Config::node(const std::string& key) const {
  if (!node_.IsMap()) return YAML::Node();
  const YAML::Node& n = node_;
  YAML::Node v = n[key];
  return v.IsDefined() ? v : YAML::Node();
}

YAML::Mark Config::mark(const std::string& key) const {
  YAML::Mark mark = node_.Mark();
  if (!key.empty() && node_.IsMap()) {
    for (const auto& kv : node_) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        // Nodes made by validation (defaults) carry a zero or null mark, not a
        // position in the file; keep the map's then.
        const YAML::Mark& m = kv.first.Mark();
        if (!m.is_null() && m.pos > 0) mark = m;
        break;
      }
    }
  }
  return mark;
}

std::string Config::where(const std::string& key) const {
  const YAML::Mark m = mark(key);
  std::string out = file_;
  if (!m.is_null() && m.line >= 0) {
    out += ':';
    out += std::to_string(m.line + 1);
    out += ':';
    out += std::to_string(m.column + 1);
  }
  return out;
}

}  // namespace sluice
