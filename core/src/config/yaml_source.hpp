#pragma once
// Shared by pipeline files and conf/sluice.yaml: ${ENV} interpolation that
// remembers where each piece of text came from, YAML parsing with positions
// mapped back to the file as written, and schema validation.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"
#include "sluice/config.hpp"

namespace sluice::core {

/** Maps offsets of interpolated text back to line and column of the text as written. */
class SourceMap {
 public:
  /** Without the original text: marks are taken as they are. */
  SourceMap() = default;
  explicit SourceMap(const std::string& original);
  /** Output [out_begin, ...) copies input from in_begin on, one to one. */
  void literal(std::size_t out_begin, std::size_t in_begin);
  /** Output from out_begin is a substituted value; it maps to the `${` at in_begin. */
  void substitution(std::size_t out_begin, std::size_t in_begin);
  /** 1-based {line, column} in the original text of output offset @p out_pos. */
  std::pair<int, int> locate_offset(std::size_t out_pos) const;
  /** Same for a YAML mark of the interpolated text; {0, 0} for a null mark. */
  std::pair<int, int> locate(const YAML::Mark& mark) const;
  /** 1-based {line, column} of input offset @p in_pos. */
  std::pair<int, int> locate_input(std::size_t in_pos) const;

 private:
  struct Segment {
    std::size_t out_begin;
    std::size_t in_begin;
    bool literal;
  };
  std::vector<Segment> segments_;
  std::vector<std::size_t> line_starts_{0};
  bool has_text_ = false;
};

/** A parsed YAML file and how to report positions in it. */
struct YamlSource {
  std::string file;
  YAML::Node root;
  SourceMap map;
  std::string text;  ///< the interpolated text @p root was parsed from

  /**
   * The plain word a null node was written as ("null", "~", ""), read from
   * the text: YAML reads `type: null` as null, but `null` is also a plugin name.
   */
  std::string null_text(const YAML::Node& node) const;

  /** Adds a diagnostic at @p mark (mapped to the file as written). */
  void report(Diagnostics& diags, const YAML::Mark& mark, std::string path, std::string message) const;
};

/**
 * Bounds of a YAML file, so that no file can make the loader take much time or
 * memory: yaml-cpp builds an alias as a node shared with its anchor, and every
 * walk over the tree (validation, fingerprints) then visits it once per use, so
 * a few lines of nested aliases (the "billion laughs") would be visited 10^9
 * times. The nodes are counted as if every alias were written out.
 */
inline constexpr std::size_t kMaxYamlBytes = 1 << 20;  ///< size of a file, before and after ${ENV}
inline constexpr std::size_t kMaxYamlNodes = 100000;   ///< nodes, aliases expanded
inline constexpr std::size_t kMaxYamlDepth = 64;       ///< nesting of maps and lists, aliases expanded
inline constexpr std::size_t kMaxYamlExpandedBytes = 4 << 20;  ///< bytes of all values, aliases expanded

/** Interpolates ${ENV} in @p text, recording positions into @p map when given. */
std::string interpolate_env(const std::string& text, const std::string& file, Diagnostics& diags,
                            SourceMap* map);

/**
 * Interpolates and parses @p text: one UTF-8 document (a leading byte order
 * mark is skipped) within the bounds above. A YAML syntax error, invalid UTF-8,
 * a second document or a bound passed is reported with its position; nullopt
 * then, or when interpolation failed.
 */
std::optional<YamlSource> parse_yaml(const std::string& text, const std::string& file, Diagnostics& diags);

/**
 * Reads @p path into @p out, never more than kMaxYamlBytes and a few bytes (enough for
 * parse_yaml() to refuse a longer file); false (with a diagnostic) when it cannot.
 */
bool read_file(const std::string& path, std::string& out, Diagnostics& diags);

/** validate_options with positions mapped through @p src. */
void validate_options(YAML::Node node, const Schema& schema, const YamlSource& src, const std::string& path,
                      Diagnostics& diags);

/** " (did you mean 'x'?)" for the candidate nearest to @p word, or "" when none is near. */
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/** "a.b" (or "b" when @p base is empty). */
std::string join_path(const std::string& base, const std::string& key);

/** A canonical text of @p node: map keys sorted, scalars quoted; equal configs give equal text. */
std::string canonical_text(const YAML::Node& node);

}  // namespace sluice::core
