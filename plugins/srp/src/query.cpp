// Parsing and clamping of a search request's parameters (see query.hpp).
#include "query.hpp"

#include <algorithm>
#include <limits>

namespace sluice::srp {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_component(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** A positive decimal number, saturated at SIZE_MAX; nullopt when it is not one. */
std::optional<std::size_t> positive_number(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  std::size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::size_t d = static_cast<std::size_t>(c - '0');
    v = v > (std::numeric_limits<std::size_t>::max() - d) / 10 ? std::numeric_limits<std::size_t>::max()
                                                               : v * 10 + d;
  }
  if (v == 0) return std::nullopt;
  return v;
}

/** @p s cut to at most @p max bytes, never inside a UTF-8 sequence (s is well-formed). */
std::string cut_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::string shown(std::string_view s) {
  std::string out = safe_utf8(s.substr(0, 40));
  return s.size() > 40 ? out + "…" : out;
}

}  // namespace

std::map<std::string, std::string> parse_query_string(std::string_view raw) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= raw.size()) {
    std::size_t amp = raw.find('&', start);
    if (amp == std::string_view::npos) amp = raw.size();
    const std::string_view pair = raw.substr(start, amp - start);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      const std::string name = decode_component(pair.substr(0, eq));
      out[name] = eq == std::string_view::npos ? std::string() : decode_component(pair.substr(eq + 1));
    }
    start = amp + 1;
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  return rest.substr(0, rest.find('#'));
}

std::optional<SearchSort> parse_sort(std::string_view name) {
  if (name == "relevant" || name == "relevance") return SearchSort::Relevance;
  if (name == "hot") return SearchSort::Hot;
  if (name == "newest") return SearchSort::Newest;
  return std::nullopt;
}

const char* sort_name(SearchSort sort) noexcept {
  switch (sort) {
    case SearchSort::Hot:
      return "hot";
    case SearchSort::Newest:
      return "newest";
    default:
      return "relevant";
  }
}

bool parse_search(const std::map<std::string, std::string>& params, const QueryLimits& limits,
                  SearchParams& out, std::string& error) {
  out = SearchParams{};
  out.size = limits.default_size;
  auto get = [&](const char* name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (const std::string* q = get("q")) {
    if (!valid_utf8(*q)) out.notices.push_back("Bytes of the query that are not UTF-8 text were replaced.");
    std::string text = safe_utf8(*q);
    if (text.size() > limits.max_query_bytes) {
      text = cut_utf8(std::move(text), limits.max_query_bytes);
      out.notices.push_back("The query was shortened to its first " + std::to_string(limits.max_query_bytes) +
                            " bytes.");
    }
    out.q = std::move(text);
  }
  if (const std::string* s = get("sort")) {
    const auto sort = parse_sort(*s);
    if (!sort) {
      error = "unknown sort '" + shown(*s) + "': use relevant, hot or newest";
      return false;
    }
    out.sort = *sort;
  }
  if (const std::string* s = get("size")) {
    const auto size = positive_number(*s);
    if (!size) {
      error = "size must be a positive whole number, not '" + shown(*s) + "'";
      return false;
    }
    out.size = *size;
    if (out.size > limits.max_size) {
      out.size = limits.max_size;
      out.notices.push_back("At most " + std::to_string(limits.max_size) + " results are shown per page.");
    }
  }
  if (const std::string* s = get("page")) {
    const auto page = positive_number(*s);
    if (!page) {
      error = "page must be a positive whole number, not '" + shown(*s) + "'";
      return false;
    }
    out.page = *page;
  }
  const std::size_t last = kMaxResultWindow / out.size;  // the deepest page whose hits all lie within
  if (out.page > last) {
    out.page = std::max<std::size_t>(last, 1);
    out.notices.push_back("Only the first " + std::to_string(kMaxResultWindow) +
                          " results can be browsed: showing page " + std::to_string(out.page) +
                          ". Refine the search to see others.");
  }
  return true;
}

std::size_t page_count(std::uint64_t total, std::size_t size) {
  if (size == 0) return 0;
  const std::uint64_t shown_hits = std::min<std::uint64_t>(total, kMaxResultWindow);
  return static_cast<std::size_t>((shown_hits + size - 1) / size);
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace sluice::srp
