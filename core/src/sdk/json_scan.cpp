// JSON scanner: validation and path lookup over the text (see json_scan.hpp).
#include "sdk/json_scan.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace sluice::detail {

namespace {

constexpr int kMaxDepth = 64;

/** Bytes that need no attention inside a string: printable ASCII except '"' and '\\'. */
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

struct Scanner {
  const char* p;
  const char* end;

  void ws() noexcept {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }

  static bool hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** One UTF-8 sequence starting with a byte >= 0x80 (RFC 3629, as nlohmann's lexer checks). */
  bool utf8() noexcept {
    const auto b0 = static_cast<unsigned char>(*p);
    int n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 2;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 3;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      const auto b = static_cast<unsigned char>(p[i]);
      if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return false;
    }
    p += n + 1;
    return true;
  }

  /** Skips whole 16-byte blocks of plain bytes (SSE2, part of every x86-64), up to the first other one. */
  void skip_plain() noexcept {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      // Signed compare: below 0x20 catches the control bytes and, as negatives, every byte >= 0x80.
      const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                        _mm_cmplt_epi8(v, space));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p += 16;
    }
#endif
  }

  /** A string at p (at the opening quote); @p escaped tells whether it held a backslash. */
  bool string(bool& escaped) noexcept {
    ++p;
    escaped = false;
    while (p < end) {
      // Plain ASCII runs are the common case: 16 bytes at a time, then one table lookup per byte.
      skip_plain();
      while (p < end && kPlain[static_cast<unsigned char>(*p)]) ++p;
      if (p >= end) return false;
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        ++p;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        escaped = true;
        if (++p >= end) return false;
        switch (*p) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            ++p;
            break;
          case 'u': {
            if (end - p < 5 || !hex(p[1]) || !hex(p[2]) || !hex(p[3]) || !hex(p[4])) return false;
            // Surrogates must pair up; leave that to the real parser.
            const char a = static_cast<char>(p[1] | 0x20), b = static_cast<char>(p[2] | 0x20);
            if (a == 'd' && (b >= '8' && b <= 'f')) return false;
            p += 5;
            break;
          }
          default:
            return false;
        }
      } else if (c >= 0x80) {
        if (!utf8()) return false;
      } else {
        ++p;
      }
    }
    return false;
  }

  bool digits() noexcept {
    const char* s = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    return p > s;
  }

  bool number() noexcept {
    if (*p == '-') ++p;
    if (p >= end) return false;
    if (*p == '0') {
      ++p;
    } else {
      const char* s = p;
      // Beyond about 300 digits a number is infinite as a double, which the parser refuses.
      if (!digits() || p - s > 300) return false;
    }
    if (p < end && *p == '.') {
      ++p;
      if (!digits()) return false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      const char* s = p;
      if (!digits() || p - s > 2) return false;  // 1e400 overflows: leave such exponents to the parser
    }
    return true;
  }

  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word)
      return false;
    p += word.size();
    return true;
  }

  /**
   * Skips the object at p, checking it. With @p want, also finds the last
   * member of that name (@p found is empty when there is none); false when
   * invalid or unsure, or when a key with escapes could be the one wanted.
   */
  bool object(int depth, const std::string* want, std::string_view* found) noexcept {
    if (depth >= kMaxDepth) return false;
    ++p;
    ws();
    if (p < end && *p == '}') {
      ++p;
      return true;
    }
    bool escaped;
    for (;;) {
      const char* k = p;
      if (p >= end || *p != '"' || !string(escaped)) return false;
      const bool match =
          want && std::string_view(k + 1, static_cast<std::size_t>(p - k - 2)) == std::string_view(*want);
      if (want && escaped) return false;  // its text is not its name
      ws();
      if (p >= end || *p != ':') return false;
      ++p;
      ws();
      const char* vb = p;
      if (!value(depth + 1)) return false;
      if (match) *found = std::string_view(vb, static_cast<std::size_t>(p - vb));
      ws();
      if (p >= end) return false;
      if (*p == '}') {
        ++p;
        return true;
      }
      if (*p != ',') return false;
      ++p;
      ws();
    }
  }

  /** Skips one value, checking it; false when invalid or unsure. */
  bool value(int depth) noexcept {
    if (p >= end) return false;
    bool escaped;
    switch (*p) {
      case '{':
        return object(depth, nullptr, nullptr);
      case '[': {
        if (depth >= kMaxDepth) return false;
        ++p;
        ws();
        if (p < end && *p == ']') {
          ++p;
          return true;
        }
        for (;;) {
          if (!value(depth + 1)) return false;
          ws();
          if (p >= end) return false;
          if (*p == ']') {
            ++p;
            return true;
          }
          if (*p != ',') return false;
          ++p;
          ws();
        }
      }
      case '"':
        return string(escaped);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return (*p == '-' || (*p >= '0' && *p <= '9')) && number();
    }
  }
};

bool parse_index(std::string_view part, std::size_t& out) {
  if (part.empty()) return false;
  auto [q, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
  return ec == std::errc() && q == part.data() + part.size();
}

/**
 * In the (valid) container at @p v, the member named @p part (the last one,
 * as nlohmann keeps the last of duplicate keys) or the element at that index.
 */
Scan child(std::string_view v, const std::string& part, std::string_view& out) {
  Scanner s{v.data(), v.data() + v.size()};
  bool escaped;
  if (*s.p == '{') {
    bool found = false;
    ++s.p;
    s.ws();
    if (*s.p == '}') return Scan::Missing;
    for (;;) {
      const char* k = s.p;
      if (!s.string(escaped)) return Scan::Unsure;
      if (escaped) return Scan::Unsure;  // the key's text is not its value
      const std::string_view key(k + 1, static_cast<std::size_t>(s.p - k - 2));
      s.ws();
      ++s.p;  // ':'
      s.ws();
      const char* vb = s.p;
      if (!s.value(0)) return Scan::Unsure;
      if (key == part) {
        out = std::string_view(vb, static_cast<std::size_t>(s.p - vb));
        found = true;
      }
      s.ws();
      if (*s.p == '}') return found ? Scan::Found : Scan::Missing;
      ++s.p;  // ','
      s.ws();
    }
  }
  if (*s.p == '[') {
    std::size_t idx = 0;
    if (!parse_index(part, idx)) return Scan::Missing;
    ++s.p;
    s.ws();
    if (*s.p == ']') return Scan::Missing;
    for (std::size_t i = 0;; ++i) {
      const char* vb = s.p;
      if (!s.value(0)) return Scan::Unsure;
      if (i == idx) {
        out = std::string_view(vb, static_cast<std::size_t>(s.p - vb));
        return Scan::Found;
      }
      s.ws();
      if (*s.p == ']') return Scan::Missing;
      ++s.p;  // ','
      s.ws();
    }
  }
  return Scan::Missing;  // a scalar has no fields
}

bool is_plain_integer(std::string_view v) {
  for (char c : v)
    if (c == '.' || c == 'e' || c == 'E') return false;
  return true;
}

}  // namespace

bool scan_valid(std::string_view text) {
  Scanner s{text.data(), text.data() + text.size()};
  s.ws();
  if (!s.value(0)) return false;
  s.ws();
  return s.p == s.end;
}

Scan scan_path(std::string_view text, const std::vector<std::string>& parts, std::string_view& value) {
  Scanner s{text.data(), text.data() + text.size()};
  s.ws();
  const char* vb = s.p;
  std::string_view cur;
  std::size_t next = 0;
  if (vb < s.end && *vb == '{' && !parts.empty()) {
    // The usual case, a field of an object: found while checking the document, in one pass.
    if (!s.object(0, &parts[0], &cur)) return Scan::Unsure;
    next = 1;
  } else {
    if (!s.value(0)) return Scan::Unsure;
    cur = std::string_view(vb, static_cast<std::size_t>(s.p - vb));
  }
  s.ws();
  if (s.p != s.end) return Scan::Unsure;
  if (next == 1 && cur.empty()) return Scan::Missing;
  for (std::size_t i = next; i < parts.size(); ++i) {
    const Scan r = child(cur, parts[i], cur);
    if (r != Scan::Found) return r;
  }
  value = cur;
  return Scan::Found;
}

Json scanned_to_json(std::string_view v) {
  switch (v.front()) {
    case '"': {
      const std::string_view inner = v.substr(1, v.size() - 2);
      if (inner.find('\\') == std::string_view::npos) return Json(std::string(inner));
      break;
    }
    case 't':
      return Json(true);
    case 'f':
      return Json(false);
    case 'n':
      return Json(nullptr);
    case '{':
    case '[':
      break;
    default: {
      // The types nlohmann's lexer gives: unsigned for non-negative integers,
      // signed for negative ones, double otherwise (and when out of range).
      const char* b = v.data();
      const char* e = v.data() + v.size();
      if (is_plain_integer(v)) {
        if (v.front() == '-') {
          std::int64_t i = 0;
          auto [q, ec] = std::from_chars(b, e, i);
          if (ec == std::errc() && q == e) return Json(i);
        } else {
          std::uint64_t u = 0;
          auto [q, ec] = std::from_chars(b, e, u);
          if (ec == std::errc() && q == e) return Json(u);
        }
      } else {
        double d = 0;
        auto [q, ec] = std::from_chars(b, e, d);
        if (ec == std::errc() && q == e && std::isfinite(d)) return Json(d);
      }
      break;
    }
  }
  return Json::parse(v);
}

bool append_scanned(std::string_view v, std::string& out) {
  switch (v.front()) {
    case '"': {
      const std::string_view inner = v.substr(1, v.size() - 2);
      if (inner.find('\\') != std::string_view::npos) return false;
      out.append(inner);
      return true;
    }
    case 't':
    case 'f':
      out.append(v);
      return true;
    case 'n':
      return true;
    case '{':
    case '[':
      return false;
    default:
      // Integers print as written, except "-0" (an integer 0 once parsed); floats are reformatted.
      if (!is_plain_integer(v) || v == "-0" || v.size() > 18) return false;
      out.append(v);
      return true;
  }
}

}  // namespace sluice::detail
