// Text analysis of the embedded index (see text_analysis.hpp).
#include "text_analysis.hpp"

#include <xapian.h>

namespace sluice::elasticsearch {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;
constexpr std::size_t kMaxTermBytes = 255;

/** Decodes one code point at @p i (advanced past it); kInvalid for a bad sequence (one byte consumed). */
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t n = 0;
  char32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3;
    cp = c & 0x07;
  } else {
    ++i;
    return kInvalid;
  }
  if (i + n >= s.size()) {
    ++i;
    return kInvalid;
  }
  for (std::size_t k = 1; k <= n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static const char32_t min_for[] = {0, 0x80, 0x800, 0x10000};
  if (cp < min_for[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kInvalid;
  }
  i += n + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

enum class Kind { Other, Letter, Digit, Connector, Ideograph, Mark };

bool ideograph(char32_t c) {
  return (c >= 0x3040 && c <= 0x309F) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

Kind kind_of(char32_t c) {
  if (c == kInvalid) return Kind::Other;
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Kind::Letter;
    if (c >= '0' && c <= '9') return Kind::Digit;
    if (c == '_') return Kind::Connector;
    return Kind::Other;
  }
  if (ideograph(c)) return Kind::Ideograph;
  using namespace Xapian::Unicode;
  switch (get_category(static_cast<unsigned>(c))) {
    case UPPERCASE_LETTER:
    case LOWERCASE_LETTER:
    case TITLECASE_LETTER:
    case MODIFIER_LETTER:
    case OTHER_LETTER:
      return Kind::Letter;
    case DECIMAL_DIGIT_NUMBER:
    case LETTER_NUMBER:
    case OTHER_NUMBER:
      return Kind::Digit;
    case CONNECTOR_PUNCTUATION:
      return Kind::Connector;
    case NON_SPACING_MARK:
    case ENCLOSING_MARK:
    case COMBINING_SPACING_MARK:
      return Kind::Mark;
    default:
      return Kind::Other;
  }
}

/** UAX #29 MidLetter / MidNumLet / Single_Quote: joins two letters. */
bool joins_letters(char32_t c) {
  return c == '\'' || c == '.' || c == ':' || c == 0x00B7 || c == 0x2018 || c == 0x2019 || c == 0x2024 ||
         c == 0xFE52 || c == 0xFF07 || c == 0xFF0E;
}

/** UAX #29 MidNum / MidNumLet / Single_Quote: joins two digits. */
bool joins_digits(char32_t c) {
  return c == '\'' || c == '.' || c == ',' || c == ';' || c == 0x2018 || c == 0x2019 || c == 0x2024 ||
         c == 0x037E || c == 0x060C || c == 0x066C || c == 0xFE50 || c == 0xFE54 || c == 0xFF0C ||
         c == 0xFF1B;
}

struct FoldRange {
  char32_t lo, hi;
  const char* ascii;
};

// Lower-case Latin letters with diacritics and ligatures → ASCII, as Lucene's ASCIIFoldingFilter does.
constexpr FoldRange kFolds[] = {
    {0xDF, 0xDF, "ss"},    {0xE0, 0xE5, "a"},    {0xE6, 0xE6, "ae"},  {0xE7, 0xE7, "c"},
    {0xE8, 0xEB, "e"},     {0xEC, 0xEF, "i"},    {0xF0, 0xF0, "d"},   {0xF1, 0xF1, "n"},
    {0xF2, 0xF6, "o"},     {0xF8, 0xF8, "o"},    {0xF9, 0xFC, "u"},   {0xFD, 0xFD, "y"},
    {0xFE, 0xFE, "th"},    {0xFF, 0xFF, "y"},    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},
    {0x10E, 0x111, "d"},   {0x112, 0x11B, "e"},  {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},
    {0x128, 0x131, "i"},   {0x132, 0x133, "ij"}, {0x134, 0x135, "j"}, {0x136, 0x138, "k"},
    {0x139, 0x142, "l"},   {0x143, 0x14B, "n"},  {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"},
    {0x154, 0x159, "r"},   {0x15A, 0x161, "s"},  {0x162, 0x167, "t"}, {0x168, 0x173, "u"},
    {0x174, 0x175, "w"},   {0x176, 0x178, "y"},  {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
    {0x2018, 0x2019, "'"},
};

void append_folded(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return;
  }
  c = static_cast<char32_t>(Xapian::Unicode::tolower(static_cast<unsigned>(c)));
  for (const FoldRange& f : kFolds) {
    if (c >= f.lo && c <= f.hi) {
      out += f.ascii;
      return;
    }
  }
  append_utf8(out, c);
}

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#x27;";
        break;
      default:
        out.push_back(c);
    }
  }
}

}  // namespace

std::vector<Token> analyze(std::string_view text) {
  // Code points with their byte offsets, decoded once.
  struct Cp {
    char32_t c;
    std::size_t at;
    Kind kind;
  };
  std::vector<Cp> cps;
  cps.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t at = i;
    const char32_t c = next_code_point(text, i);
    cps.push_back({c, at, kind_of(c)});
  }
  const auto end_of = [&](std::size_t k) { return k + 1 < cps.size() ? cps[k + 1].at : text.size(); };
  const auto wordish = [](Kind k) { return k == Kind::Letter || k == Kind::Digit || k == Kind::Connector; };

  std::vector<Token> out;
  std::size_t k = 0;
  while (k < cps.size()) {
    if (cps[k].kind == Kind::Ideograph) {
      Token t;
      t.begin = cps[k].at;
      t.end = end_of(k);
      append_folded(t.term, cps[k].c);
      out.push_back(std::move(t));
      ++k;
      continue;
    }
    if (!wordish(cps[k].kind)) {
      ++k;
      continue;
    }
    Token t;
    t.begin = cps[k].at;
    Kind last = Kind::Other;  // the last letter or digit of the word
    for (; k < cps.size(); ++k) {
      const Cp& p = cps[k];
      if (p.kind == Kind::Mark) continue;  // combining marks fold away
      if (wordish(p.kind)) {
        if (t.term.size() < kMaxTermBytes) append_folded(t.term, p.c);
        if (p.kind != Kind::Connector) last = p.kind;
        t.end = end_of(k);
        continue;
      }
      // A joiner between two letters or two digits stays in the word.
      if (k + 1 < cps.size() && last != Kind::Other && cps[k + 1].kind == last &&
          ((last == Kind::Letter && joins_letters(p.c)) || (last == Kind::Digit && joins_digits(p.c)))) {
        if (t.term.size() < kMaxTermBytes) append_folded(t.term, p.c);
        continue;
      }
      break;
    }
    if (t.term.size() > kMaxTermBytes) t.term.resize(kMaxTermBytes);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> terms_of(std::string_view text) {
  std::vector<std::string> out;
  for (Token& t : analyze(text)) out.push_back(std::move(t.term));
  return out;
}

std::string highlight(std::string_view text, const std::vector<std::string>& terms, const std::string& pre,
                      const std::string& post, std::size_t max_bytes) {
  const std::vector<Token> tokens = analyze(text);
  const auto matches = [&](const Token& t) {
    for (const std::string& term : terms)
      if (t.term == term) return true;
    return false;
  };
  std::size_t from = 0, to = text.size();
  if (max_bytes > 0 && text.size() > max_bytes) {
    std::size_t first = 0;
    for (const Token& t : tokens) {
      if (matches(t)) {
        first = t.begin;
        break;
      }
    }
    // Start a few words before the first match, end at the last word that fits.
    from = first > max_bytes / 4 ? first - max_bytes / 4 : 0;
    to = std::min(text.size(), from + max_bytes);
    std::size_t new_from = from, new_to = to;
    bool found_from = from == 0;
    for (const Token& t : tokens) {
      if (!found_from && t.begin >= from) {
        new_from = t.begin;
        found_from = true;
      }
      if (t.end <= to) new_to = t.end;
    }
    from = new_from;
    to = std::max(new_to, from);
    if (to == from) to = std::min(text.size(), from + max_bytes);
  }
  std::string out;
  if (from > 0) out += "\u2026";
  std::size_t at = from;
  for (const Token& t : tokens) {
    if (t.begin < from || t.end > to || !matches(t)) continue;
    append_escaped(out, text.substr(at, t.begin - at));
    out += pre;
    append_escaped(out, text.substr(t.begin, t.end - t.begin));
    out += post;
    at = t.end;
  }
  append_escaped(out, text.substr(at, to - at));
  if (to < text.size()) out += "\u2026";
  return out;
}

std::string text_field(const Json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  std::string out;
  if (it->is_array())
    for (const Json& v : *it)
      if (v.is_string()) out += (out.empty() ? "" : " ") + v.get<std::string>();
  return out;
}

}  // namespace sluice::elasticsearch
