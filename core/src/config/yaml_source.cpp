// ${ENV} interpolation with positions, YAML parsing, and validation of option
// maps against schema tables: every mistake of a map is reported, not the
// first only, each at the position of the offending key or value.
#include "config/yaml_source.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include <yaml-cpp/eventhandler.h>
#include <nlohmann/json.hpp>

#include "config/pipeline_config.hpp"
#include "sluice/event.hpp"
#include "sluice/template.hpp"

namespace sluice::core {

// ---------------------------------------------------------------- SourceMap

SourceMap::SourceMap(const std::string& original) : has_text_(true) {
  for (std::size_t i = 0; i < original.size(); ++i)
    if (original[i] == '\n') line_starts_.push_back(i + 1);
}

void SourceMap::literal(std::size_t out_begin, std::size_t in_begin) {
  segments_.push_back({out_begin, in_begin, true});
}

void SourceMap::substitution(std::size_t out_begin, std::size_t in_begin) {
  segments_.push_back({out_begin, in_begin, false});
}

std::pair<int, int> SourceMap::locate_input(std::size_t in_pos) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), in_pos);
  const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());  // 1-based
  return {static_cast<int>(line), static_cast<int>(in_pos - line_starts_[line - 1] + 1)};
}

std::pair<int, int> SourceMap::locate_offset(std::size_t out_pos) const {
  std::size_t in_pos = out_pos;
  if (!segments_.empty()) {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), out_pos,
                               [](std::size_t p, const Segment& s) { return p < s.out_begin; });
    if (it != segments_.begin()) {
      --it;
      in_pos = it->literal ? it->in_begin + (out_pos - it->out_begin) : it->in_begin;
    }
  }
  return locate_input(in_pos);
}

std::pair<int, int> SourceMap::locate(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.pos < 0) return {0, 0};
  if (!has_text_) return {mark.line + 1, mark.column + 1};
  return locate_offset(static_cast<std::size_t>(mark.pos));
}

void YamlSource::report(Diagnostics& diags, const YAML::Mark& mark, std::string path,
                        std::string message) const {
  Diagnostic d;
  d.file = file;
  auto [line, col] = map.locate(mark);
  d.line = line;
  d.column = col;
  d.path = std::move(path);
  d.message = std::move(message);
  diags.add(std::move(d));
}

std::string YamlSource::null_text(const YAML::Node& node) const {
  if (!node.IsDefined() || !node.IsNull()) return {};
  const YAML::Mark m = node.Mark();
  if (m.is_null() || m.pos < 0 || static_cast<std::size_t>(m.pos) >= text.size()) return {};
  std::size_t end = static_cast<std::size_t>(m.pos);
  while (end < text.size() && std::strchr(" \t\r\n,]}#", text[end]) == nullptr) ++end;
  return text.substr(static_cast<std::size_t>(m.pos), end - static_cast<std::size_t>(m.pos));
}

// ---------------------------------------------------------------- interpolation

namespace {

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

std::string interpolate_env(const std::string& text, const std::string& file, Diagnostics& diags,
                            SourceMap* map) {
  SourceMap local(text);
  auto error_at = [&](std::size_t in_pos, std::string message) {
    Diagnostic d;
    d.file = file;
    auto [line, col] = local.locate_input(in_pos);
    d.line = line;
    d.column = col;
    d.message = std::move(message);
    diags.add(std::move(d));
  };

  std::string out;
  out.reserve(text.size());
  // YAML comments are copied untouched, so a commented-out line naming an
  // unset variable is no error. A quote opens only where a scalar can start.
  bool in_comment = false, in_single = false, in_double = false;
  char prev = '\n';
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      in_comment = in_single = in_double = false;
    } else if (!in_comment) {
      if (in_double) {
        if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
          out += c;
          out += text[i + 1];
          prev = text[i + 1];
          i += 2;
          continue;
        }
        if (c == '"') in_double = false;
      } else if (in_single) {
        if (c == '\'') in_single = false;
      } else if (c == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
        in_comment = true;
      } else if ((c == '"' || c == '\'') && std::strchr(" \t\n:[{,-", prev) != nullptr) {
        (c == '"' ? in_double : in_single) = true;
      }
    }
    if (in_comment || c != '$') {
      out += c;
      prev = c;
      ++i;
      continue;
    }
    // "$${" is a literal "${".
    if (i + 2 < text.size() && text[i + 1] == '$' && text[i + 2] == '{') {
      if (map) map->literal(out.size(), i + 1);
      out += "${";
      prev = '{';
      i += 3;
      if (map) map->literal(out.size(), i);
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += c;
      prev = c;
      ++i;
      continue;
    }
    const std::size_t start = i;
    const std::size_t close = text.find('}', i + 2);
    const std::size_t newline = text.find('\n', i + 2);
    if (close == std::string::npos || (newline != std::string::npos && newline < close)) {
      error_at(start, "unterminated '${' (write '$${' for a literal '${')");
      out += c;
      prev = c;
      ++i;
      continue;
    }
    const std::string_view inner(text.data() + i + 2, close - i - 2);
    std::size_t n = 0;
    while (n < inner.size() && is_name_char(inner[n])) ++n;
    const std::string name(inner.substr(0, n));
    const std::string_view rest = inner.substr(n);
    std::string value;
    bool ok = true;
    if (name.empty() || !is_name_start(name[0])) {
      error_at(start, "invalid variable name in '${" + std::string(inner) +
                          "}'; expected ${NAME}, ${NAME:-default} or ${NAME:?message}");
      ok = false;
    } else {
      const char* env = std::getenv(name.c_str());
      const bool set = env != nullptr;
      const bool non_empty = set && *env != '\0';
      if (rest.empty()) {
        if (set) {
          value = env;
        } else {
          error_at(start, "environment variable " + name + " is not set (use ${" + name +
                              ":-default} to give a default)");
          ok = false;
        }
      } else if (rest.substr(0, 2) == ":-") {
        value = non_empty ? std::string(env) : std::string(rest.substr(2));
      } else if (rest.substr(0, 2) == ":?") {
        if (non_empty) {
          value = env;
        } else {
          const std::string_view msg = rest.substr(2);
          error_at(start, "environment variable " + name + ": " +
                              (msg.empty() ? std::string("is not set or empty") : std::string(msg)));
          ok = false;
        }
      } else {
        error_at(start, "invalid interpolation '${" + std::string(inner) +
                            "}'; expected ${NAME}, ${NAME:-default} or ${NAME:?message}");
        ok = false;
      }
    }
    (void)ok;
    if (map) map->substitution(out.size(), start);
    out += value;
    i = close + 1;
    prev = '}';
    if (map) map->literal(out.size(), i);
  }
  return out;
}

std::string interpolate_env(const std::string& text, const std::string& file, Diagnostics& diags) {
  return interpolate_env(text, file, diags, nullptr);
}

namespace {

/** Offset of the first byte that is not part of well-formed UTF-8 (only called once valid_utf8 said no). */
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = 1;
    while (n <= 4 && !(i + n <= s.size() && valid_utf8(s.substr(i, n)))) ++n;
    if (n > 4) return i;
    i += n;
  }
  return s.size();
}

std::string hex_byte(char c) {
  static const char* digits = "0123456789ABCDEF";
  const auto b = static_cast<unsigned char>(c);
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

/** Why a document was refused, and where. */
struct Refused {
  YAML::Mark mark;
  std::string message;
};

/**
 * Walks the parser's events before yaml-cpp builds a tree, counting nodes and
 * depth as if every alias were written out, and throws Refused at the first
 * bound passed, at an alias that refers to a node containing it (yaml-cpp
 * would build a cycle, and every walk over it would recurse until the stack
 * ends), at a value that is not UTF-8 (an escape like "\ud800") and at the
 * start of a second document.
 */
class DocumentBounds : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (started_)
      throw Refused{mark,
                    "a second YAML document starts here; a sluice file holds one document (split it into "
                    "files, or remove the '---')"};
    started_ = true;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 0); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    if (!valid_utf8(value))
      throw Refused{mark, "this value is not valid UTF-8 once its escapes are read (e.g. a lone \\ud800)"};
    leaf(mark, anchor, value.size());
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    for (const Open& o : open_)
      if (o.anchor == anchor) throw Refused{mark, "this alias refers to a node that contains it (a cycle)"};
    const Size s = anchor < sizes_.size() ? sizes_[anchor] : Size{1, 0, 0};
    count(mark, s, true);
    if (open_.size() + s.depth > kMaxYamlDepth)
      throw Refused{mark, "this alias nests the document more than " + std::to_string(kMaxYamlDepth) +
                              " maps and lists deep"};
    child(s);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    start(mark, anchor);
  }
  void OnSequenceEnd() override { end(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    start(mark, anchor);
  }
  void OnMapEnd() override { end(); }

 private:
  /** A subtree as written out: its nodes, its levels of maps and lists (0 for a scalar), its scalars' bytes.
   */
  struct Size {
    std::size_t nodes;
    std::size_t depth;
    std::size_t bytes;
  };
  struct Open {
    YAML::anchor_t anchor;
    Size size;
  };

  void count(const YAML::Mark& mark, Size s, bool alias) {
    // Never overflows: every size recorded is at most the bound.
    total_.nodes += s.nodes;
    total_.bytes += s.bytes;
    if (total_.nodes > kMaxYamlNodes)
      throw Refused{mark, alias ? "aliases expand the document past " + std::to_string(kMaxYamlNodes) +
                                      " nodes (an alias bomb?)"
                                : "the document has more than " + std::to_string(kMaxYamlNodes) + " nodes"};
    // Few aliases of one long value are as costly as many of a short one.
    if (total_.bytes > kMaxYamlExpandedBytes)
      throw Refused{mark, "aliases expand the document's values past " +
                              std::to_string(kMaxYamlExpandedBytes >> 20) + " MiB (an alias bomb?)"};
  }
  void remember(YAML::anchor_t anchor, Size s) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, Size{1, 0, 0});
    sizes_[anchor] = s;
  }
  void child(Size s) {
    if (open_.empty()) return;
    Size& parent = open_.back().size;
    parent.nodes += s.nodes;
    parent.depth = std::max(parent.depth, s.depth + 1);
    parent.bytes += s.bytes;
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, std::size_t bytes) {
    const Size s{1, 0, bytes};
    count(mark, s, false);
    remember(anchor, s);
    child(s);
  }
  void start(const YAML::Mark& mark, YAML::anchor_t anchor) {
    count(mark, Size{1, 0, 0}, false);
    if (open_.size() + 1 > kMaxYamlDepth)
      throw Refused{mark, "maps and lists are nested more than " + std::to_string(kMaxYamlDepth) + " deep"};
    open_.push_back(Open{anchor, Size{1, 1, 0}});
  }
  void end() {
    if (open_.empty()) return;
    const Open o = open_.back();
    open_.pop_back();
    remember(o.anchor, o.size);
    child(o.size);
  }

  bool started_ = false;
  Size total_{0, 0, 0};
  std::vector<Open> open_;
  std::vector<Size> sizes_;  ///< by anchor id (yaml-cpp numbers anchors from 1)
};

std::string size_limit_text() {
  return std::to_string(kMaxYamlBytes / 1024) + " KiB";
}

}  // namespace

std::optional<YamlSource> parse_yaml(const std::string& file_text, const std::string& file,
                                     Diagnostics& diags) {
  YamlSource src;
  src.file = file;
  // A byte order mark is no content, and editors do not count it as a column either.
  static constexpr std::string_view bom = "\xEF\xBB\xBF";
  const std::string_view text =
      std::string_view(file_text).substr(std::string_view(file_text).rfind(bom, 0) == 0 ? bom.size() : 0);
  src.map = SourceMap(std::string(text));
  auto refuse_at = [&](std::pair<int, int> at, std::string message) {
    diags.add(Diagnostic{file, at.first, at.second, "", std::move(message)});
    return std::nullopt;
  };
  if (text.size() > kMaxYamlBytes)
    return refuse_at(src.map.locate_input(kMaxYamlBytes),
                     "the file is longer than " + size_limit_text() + ", the most a sluice file may have");
  if (!valid_utf8(text)) {
    const std::size_t at = first_invalid_utf8(text);
    return refuse_at(src.map.locate_input(at), "invalid UTF-8 (byte " + hex_byte(text[at]) +
                                                   "); sluice files are UTF-8 (was it saved as Latin-1?)");
  }
  const std::size_t before = diags.items().size();
  src.text = interpolate_env(std::string(text), file, diags, &src.map);
  if (diags.items().size() != before) return std::nullopt;
  if (src.text.size() > kMaxYamlBytes)
    return refuse_at(src.map.locate_offset(kMaxYamlBytes),
                     "with ${ENV} substituted, the file passes " + size_limit_text());
  if (!valid_utf8(src.text))
    return refuse_at(src.map.locate_offset(first_invalid_utf8(src.text)),
                     "the environment variable substituted here is not valid UTF-8");
  try {
    {
      std::istringstream in(src.text);
      YAML::Parser parser(in);
      DocumentBounds bounds;
      if (parser.HandleNextDocument(bounds)) parser.HandleNextDocument(bounds);
    }
    src.root = YAML::Load(src.text);
  } catch (const Refused& r) {
    src.report(diags, r.mark, "", r.message);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    src.report(diags, e.mark, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  return src;
}

bool read_file(const std::string& path, std::string& out, Diagnostics& diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.add(Diagnostic{path, 0, 0, "", std::string("cannot read file: ") + std::strerror(errno)});
    return false;
  }
  // No more than parse_yaml() takes (and a BOM and a byte to see it passed): a huge file, or
  // /dev/zero, is refused without being read.
  out.assign(kMaxYamlBytes + 4, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) {
    diags.add(Diagnostic{path, 0, 0, "", std::string("cannot read file: ") + std::strerror(errno)});
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- helpers

std::string join_path(const std::string& base, const std::string& key) {
  if (base.empty()) return key;
  return base + "." + key;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 2));
  std::size_t best = limit + 1;
  const std::string* pick = nullptr;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      pick = &c;
    }
  }
  return pick ? " (did you mean '" + *pick + "'?)" : std::string();
}

namespace {

void canonical(const YAML::Node& n, std::string& out) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      out += nlohmann::json(n.Scalar()).dump();
      return;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : n) {
        if (!first) out += ',';
        first = false;
        canonical(item, out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      // Sorted through indices: assigning a YAML::Node (as std::sort would)
      // rebinds the node it refers to and so rewrites the document.
      std::vector<std::string> keys;
      std::vector<YAML::Node> values;
      for (const auto& kv : n) {
        keys.push_back(kv.first.Scalar());
        values.push_back(kv.second);
      }
      std::vector<std::size_t> order(keys.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
      out += '{';
      bool first = true;
      for (std::size_t i : order) {
        if (!first) out += ',';
        first = false;
        out += nlohmann::json(keys[i]).dump();
        out += ':';
        canonical(values[i], out);
      }
      out += '}';
      return;
    }
    default:
      out += "null";
  }
}

}  // namespace

std::string canonical_text(const YAML::Node& node) {
  std::string out;
  canonical(node, out);
  return out;
}

// ---------------------------------------------------------------- validation

namespace {

std::string shown(const YAML::Node& n, bool secret) {
  if (secret) return "a secret value (not shown)";
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    default:
      return "nothing";
  }
}

std::string format_bound(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

bool has_passthrough(const Schema& schema, const std::string& key, const YAML::Node& value) {
  for (const auto& prefix : schema.passthrough_prefixes) {
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) return true;
    // Also the nested spelling: "rdkafka: {linger.ms: 5}" for prefix "rdkafka.".
    if (!prefix.empty() && prefix.back() == '.' && key == prefix.substr(0, prefix.size() - 1) &&
        value.IsMap())
      return true;
  }
  return false;
}

class Validator {
 public:
  Validator(const YamlSource& src, Diagnostics& diags) : src_(src), diags_(diags) {}

  void map(YAML::Node node, const Schema& schema, const std::string& path) {
    if (!node.IsMap()) {
      error(node.Mark(), path, "expected a map, got " + shown(node, false));
      return;
    }
    std::set<std::string> seen;
    std::vector<std::string> names;
    for (const auto& o : schema.options) names.push_back(o.name);
    for (auto kv : node) {
      const std::string key = kv.first.Scalar();
      const std::string key_path = join_path(path, key);
      if (!seen.insert(key).second) {
        error(kv.first.Mark(), key_path, "duplicate key '" + key + "'");
        continue;
      }
      const Option* opt = schema.find(key);
      if (!opt) {
        if (has_passthrough(schema, key, kv.second)) continue;
        std::string msg = "unknown key '" + key + "'; expected one of: " + join(names);
        if (!schema.passthrough_prefixes.empty())
          msg += ", or keys starting with " + join(schema.passthrough_prefixes);
        msg += did_you_mean(key, names);
        error(kv.first.Mark(), key_path, msg);
        continue;
      }
      if (kv.second.IsNull()) continue;  // "key:" with no value counts as not set
      value(kv.second, *opt, key_path);
    }
    const YAML::Node& const_node = node;  // const lookups never insert
    for (const auto& o : schema.options) {
      YAML::Node v = const_node[o.name];
      if (v.IsDefined() && !v.IsNull()) continue;
      if (o.required) {
        error(node.Mark(), join_path(path, o.name),
              "missing required key '" + o.name + "' (" + to_string(o.type) + ")");
        continue;
      }
      if (!o.default_value.empty()) {
        node[o.name] = default_node(o);
      } else if (o.type == OptionType::Object && o.nested && !has_required(*o.nested)) {
        // An absent optional object still gets its nested defaults, so
        // Config::child() works without checking has() first.
        YAML::Node empty(YAML::NodeType::Map);
        map(empty, *o.nested, join_path(path, o.name));
        node[o.name] = empty;
      }
    }
  }

 private:
  static bool has_required(const Schema& s) {
    return std::any_of(s.options.begin(), s.options.end(), [](const Option& o) { return o.required; });
  }

  static YAML::Node default_node(const Option& o) {
    try {
      return YAML::Load(o.default_value);
    } catch (const YAML::Exception&) {
      return YAML::Node(o.default_value);
    }
  }

  void error(const YAML::Mark& mark, const std::string& path, std::string message) {
    src_.report(diags_, mark, path, std::move(message));
  }

  bool scalar(const YAML::Node& n, const Option& o, const std::string& path, const char* expected) {
    if (n.IsScalar()) return true;
    error(n.Mark(), path, std::string("expected ") + expected + ", got " + shown(n, false));
    (void)o;
    return false;
  }

  void check_range(const YAML::Node& n, const Option& o, const std::string& path, double v,
                   const char* unit) {
    const bool low = o.min && v < *o.min;
    const bool high = o.max && v > *o.max;
    if (!low && !high) return;
    std::string bound;
    if (o.min && o.max)
      bound = "between " + format_bound(*o.min) + unit + " and " + format_bound(*o.max) + unit;
    else if (o.min)
      bound = "at least " + format_bound(*o.min) + unit;
    else
      bound = "at most " + format_bound(*o.max) + unit;
    error(n.Mark(), path,
          "value " + (o.secret ? std::string("(secret)") : shown(n, false)) + " is out of range: must be " +
              bound);
  }

  void value(YAML::Node n, const Option& o, const std::string& path) {
    switch (o.type) {
      case OptionType::String:
        scalar(n, o, path, "a string");
        return;
      case OptionType::Int: {
        if (!scalar(n, o, path, "an integer")) return;
        std::int64_t v = 0;
        if (!YAML::convert<std::int64_t>::decode(n, v)) {
          error(n.Mark(), path, "expected an integer, got " + shown(n, o.secret));
          return;
        }
        check_range(n, o, path, static_cast<double>(v), "");
        return;
      }
      case OptionType::Float: {
        if (!scalar(n, o, path, "a number")) return;
        double v = 0;
        if (!YAML::convert<double>::decode(n, v)) {
          error(n.Mark(), path, "expected a number, got " + shown(n, o.secret));
          return;
        }
        check_range(n, o, path, v, "");
        return;
      }
      case OptionType::Bool: {
        if (!scalar(n, o, path, "true or false")) return;
        bool v = false;
        if (!YAML::convert<bool>::decode(n, v))
          error(n.Mark(), path, "expected true or false, got " + shown(n, o.secret));
        return;
      }
      case OptionType::Duration: {
        if (!scalar(n, o, path, "a duration like 5s")) return;
        auto d = parse_duration(n.Scalar());
        if (!d) {
          error(n.Mark(), path, "expected a duration like 5s, 250ms or 1m30s, got " + shown(n, o.secret));
          return;
        }
        check_range(n, o, path, static_cast<double>(d->count()), "ms");
        return;
      }
      case OptionType::Size: {
        if (!scalar(n, o, path, "a size like 64KiB")) return;
        auto s = parse_size(n.Scalar());
        if (!s) {
          error(n.Mark(), path, "expected a size like 512, 64KiB or 10MB, got " + shown(n, o.secret));
          return;
        }
        check_range(n, o, path, static_cast<double>(*s), " bytes");
        return;
      }
      case OptionType::Enum: {
        if (!scalar(n, o, path, ("one of: " + join(o.choices)).c_str())) return;
        if (std::find(o.choices.begin(), o.choices.end(), n.Scalar()) == o.choices.end())
          error(n.Mark(), path,
                "expected one of: " + join(o.choices) + "; got " + shown(n, o.secret) +
                    (o.secret ? std::string() : did_you_mean(n.Scalar(), o.choices)));
        return;
      }
      case OptionType::Template: {
        if (!scalar(n, o, path, "a template string")) return;
        std::string why;
        if (!Template::parse(n.Scalar(), &why)) error(n.Mark(), path, "invalid template: " + why);
        return;
      }
      case OptionType::Field: {
        if (!scalar(n, o, path, "a field reference")) return;
        std::string why;
        if (!FieldPath::parse(n.Scalar(), &why)) error(n.Mark(), path, "invalid field reference: " + why);
        return;
      }
      case OptionType::StringList: {
        if (n.IsScalar()) return;
        if (!n.IsSequence()) {
          error(n.Mark(), path, "expected a list of strings, got " + shown(n, false));
          return;
        }
        std::size_t i = 0;
        for (const auto& item : n) {
          if (!item.IsScalar())
            error(item.Mark(), path + "[" + std::to_string(i) + "]",
                  "expected a string, got " + shown(item, false));
          ++i;
        }
        return;
      }
      case OptionType::StringMap: {
        if (!n.IsMap()) {
          error(n.Mark(), path, "expected a map of strings, got " + shown(n, false));
          return;
        }
        for (const auto& kv : n)
          if (!kv.second.IsScalar() && !kv.second.IsNull())
            error(kv.second.Mark(), join_path(path, kv.first.Scalar()),
                  "expected a string, got " + shown(kv.second, false));
        return;
      }
      case OptionType::Object: {
        if (!o.nested) {
          if (!n.IsMap()) error(n.Mark(), path, "expected a map, got " + shown(n, false));
          return;
        }
        map(n, *o.nested, path);
        return;
      }
      case OptionType::ObjectList: {
        if (!n.IsSequence()) {
          error(n.Mark(), path, "expected a list of maps, got " + shown(n, false));
          return;
        }
        std::size_t i = 0;
        for (auto item : n) {
          const std::string item_path = path + "[" + std::to_string(i++) + "]";
          if (o.nested)
            map(item, *o.nested, item_path);
          else if (!item.IsMap())
            error(item.Mark(), item_path, "expected a map, got " + shown(item, false));
        }
        return;
      }
      case OptionType::Any:
        return;
    }
  }

  const YamlSource& src_;
  Diagnostics& diags_;
};

}  // namespace

void validate_options(YAML::Node node, const Schema& schema, const YamlSource& src, const std::string& path,
                      Diagnostics& diags) {
  Validator(src, diags).map(node, schema, path);
}

void validate_options(YAML::Node node, const Schema& schema, const std::string& file, const std::string& path,
                      Diagnostics& diags) {
  // Without the text the node came from, positions are taken as they are.
  YamlSource src;
  src.file = file;
  Validator(src, diags).map(node, schema, path);
}

}  // namespace sluice::core
