// Prometheus text exposition (see metrics_text.hpp).
#include "app/top/metrics_text.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

namespace sluice::app::top {
namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

/** Reads a metric or label name at @p i; empty when there is none. */
std::string read_name(std::string_view line, std::size_t& i) {
  const std::size_t start = i;
  if (i < line.size() && name_start(line[i])) {
    ++i;
    while (i < line.size() && name_char(line[i])) ++i;
  }
  return std::string(line.substr(start, i - start));
}

void skip_spaces(std::string_view line, std::size_t& i) {
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
}

/** `{a="x",b="y"}` at @p i (which is at '{'); nullopt when malformed. */
std::optional<std::map<std::string, std::string>> read_labels(std::string_view line, std::size_t& i) {
  std::map<std::string, std::string> labels;
  ++i;  // '{'
  for (;;) {
    skip_spaces(line, i);
    if (i < line.size() && line[i] == '}') {
      ++i;
      return labels;
    }
    std::string key = read_name(line, i);
    if (key.empty()) return std::nullopt;
    skip_spaces(line, i);
    if (i >= line.size() || line[i] != '=') return std::nullopt;
    ++i;
    skip_spaces(line, i);
    if (i >= line.size() || line[i] != '"') return std::nullopt;
    ++i;
    std::string value;
    for (;;) {
      if (i >= line.size()) return std::nullopt;
      const char c = line[i++];
      if (c == '"') break;
      if (c == '\\') {
        if (i >= line.size()) return std::nullopt;
        const char e = line[i++];
        value.push_back(e == 'n' ? '\n' : e);  // \\ \" \n
      } else {
        value.push_back(c);
      }
    }
    labels[std::move(key)] = std::move(value);
    skip_spaces(line, i);
    if (i < line.size() && line[i] == ',') ++i;
  }
}

std::optional<double> read_value(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

std::optional<Sample> parse_line(std::string_view line) {
  std::size_t i = 0;
  skip_spaces(line, i);
  if (i >= line.size() || line[i] == '#') return std::nullopt;
  Sample s;
  s.name = read_name(line, i);
  if (s.name.empty()) return std::nullopt;
  if (i < line.size() && line[i] == '{') {
    auto labels = read_labels(line, i);
    if (!labels) return std::nullopt;
    s.labels = std::move(*labels);
  }
  skip_spaces(line, i);
  std::size_t end = i;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  const auto value = read_value(line.substr(i, end - i));
  if (!value) return std::nullopt;
  s.value = *value;
  return s;  // a timestamp after the value is ignored
}

}  // namespace

std::vector<Sample> parse_metrics_text(std::string_view text) {
  std::vector<Sample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto s = parse_line(line)) out.push_back(std::move(*s));
    pos = nl + 1;
  }
  return out;
}

}  // namespace sluice::app::top
