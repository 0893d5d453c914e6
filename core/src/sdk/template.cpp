// Field references and templates: parsed once at plugin creation, then read
// per event without allocating beyond the output string.
#include "sluice/template.hpp"

#include "sdk/json_scan.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace sluice {

namespace {

bool parse_index(const std::string& part, std::size_t& out) {
  if (part.empty()) return false;
  auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
  return ec == std::errc() && p == part.data() + part.size();
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, p);
}

/** Appends a JSON value as text: strings raw, scalars as JSON, null as nothing. */
void append_json(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      out += v.get_ref<const std::string&>();
      return;
    case Json::value_t::number_integer:
      append_int(out, v.get<std::int64_t>());
      return;
    case Json::value_t::number_unsigned: {
      char buf[24];
      auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v.get<std::uint64_t>());
      (void)ec;
      out.append(buf, p);
      return;
    }
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      if (!std::isfinite(d)) {
        out += "null";  // what nlohmann::json writes for NaN and infinities
        return;
      }
      char buf[32];
      auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d);
      (void)ec;
      out.append(buf, p);
      // JSON text keeps a float a float ("3.0", not "3"), as dump() does.
      if (std::find_if(buf, p, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == p) out += ".0";
      return;
    }
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::null:
    case Json::value_t::discarded:
      return;
    default:
      out += v.dump();
  }
}

/** Walks @p parts from @p root; nullptr when some part is missing. */
const Json* walk(const Json& root, const std::vector<std::string>& parts, std::size_t count) {
  const Json* cur = &root;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& part = parts[i];
    if (cur->is_object()) {
      auto it = cur->find(part);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      std::size_t idx = 0;
      if (!parse_index(part, idx) || idx >= cur->size()) return nullptr;
      cur = &(*cur)[idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

void format_time(std::int64_t ms, const std::string& format, std::string& out) {
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  // Events of one batch mostly share their second: remembering the last few
  // results per thread skips gmtime and strftime for most of them.
  struct Entry {
    std::time_t secs = 0;
    std::string format;
    std::string text;
    bool used = false;
  };
  thread_local Entry cache[4];
  thread_local unsigned next = 0;
  for (const Entry& e : cache) {
    if (e.used && e.secs == secs && e.format == format) {
      out += e.text;
      return;
    }
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[256];
  const std::size_t n = std::strftime(buf, sizeof(buf), format.c_str(), &tm);
  out.append(buf, n);
  Entry& e = cache[next++ % 4];
  e.secs = secs;
  e.format = format;
  e.text.assign(buf, n);
  e.used = true;
}

constexpr const char* kMetaNames =
    "key, topic, partition, offset, timestamp, source, error, header.<name>, attr.<name>";
constexpr const char* kDefaultTimeFormat = "%Y-%m-%dT%H:%M:%SZ";

}  // namespace

// ---------------------------------------------------------------- FieldPath

std::optional<FieldPath> FieldPath::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<FieldPath> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  FieldPath f;
  f.text_ = std::string(text);
  if (text.empty()) return fail("empty field reference");
  for (char c : text)
    if (c == '{' || c == '}' || std::isspace(static_cast<unsigned char>(c)))
      return fail("invalid character in field reference '" + std::string(text) + "'");
  if (text == ".") {
    f.kind_ = Kind::Whole;
    return f;
  }
  if (text.substr(0, 5) == "meta." || text == "meta") {
    const std::string_view rest = text.size() > 5 ? text.substr(5) : std::string_view{};
    static const std::pair<std::string_view, Kind> simple[] = {
        {"key", Kind::Key},       {"topic", Kind::Topic},         {"partition", Kind::Partition},
        {"offset", Kind::Offset}, {"timestamp", Kind::Timestamp}, {"source", Kind::Source},
        {"error", Kind::Error},
    };
    for (const auto& [name, kind] : simple) {
      if (rest == name) {
        f.kind_ = kind;
        return f;
      }
    }
    for (const auto& [prefix, kind] : {std::pair<std::string_view, Kind>{"header.", Kind::Header},
                                       std::pair<std::string_view, Kind>{"attr.", Kind::Attr}}) {
      if (rest.substr(0, prefix.size()) == prefix) {
        // The rest is one name even if it has dots: header names may.
        const std::string_view name = rest.substr(prefix.size());
        if (name.empty()) return fail("missing name after 'meta." + std::string(prefix) + "'");
        f.kind_ = kind;
        f.parts_.emplace_back(name);
        return f;
      }
    }
    return fail("unknown metadata '" + std::string(text) +
                "'; expected meta. followed by one of: " + kMetaNames);
  }
  f.kind_ = Kind::Field;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part =
        text.substr(start, dot == std::string_view::npos ? text.size() - start : dot - start);
    if (part.empty()) return fail("empty part in field reference '" + std::string(text) + "'");
    f.parts_.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return f;
}

namespace {

/** A small unparsed payload: read the field from the text, without building the DOM. */
bool scannable(const Event& event) {
  return !event.has_fields() && event.payload().size() <= detail::kScanMaxBytes;
}

}  // namespace

std::optional<Json> FieldPath::get(const Event& event) const {
  const Metadata& m = event.meta;
  switch (kind_) {
    case Kind::Field: {
      if (scannable(event)) {
        std::string_view text;
        const detail::Scan r = detail::scan_path(event.payload(), parts_, text);
        if (r == detail::Scan::Missing) return std::nullopt;
        if (r == detail::Scan::Found) return detail::scanned_to_json(text);
      }
      const Json* v = walk(event.fields(), parts_, parts_.size());
      if (!v) return std::nullopt;
      return *v;
    }
    case Kind::Whole:
      return event.fields();
    case Kind::Key:
      if (!m.key) return std::nullopt;
      return Json(*m.key);
    case Kind::Topic:
      if (m.topic.empty()) return std::nullopt;
      return Json(m.topic);
    case Kind::Partition:
      if (m.partition < 0) return std::nullopt;
      return Json(m.partition);
    case Kind::Offset:
      if (m.offset < 0) return std::nullopt;
      return Json(m.offset);
    case Kind::Timestamp:
      if (event.timestamp_ms == 0) return std::nullopt;
      return Json(event.timestamp_ms);
    case Kind::Source:
      if (m.source.empty()) return std::nullopt;
      return Json(m.source);
    case Kind::Error:
      if (m.error.empty()) return std::nullopt;
      return Json(m.error);
    case Kind::Header:
      if (const std::string* h = m.header(parts_[0])) return Json(*h);
      return std::nullopt;
    case Kind::Attr:
      if (const std::string* a = m.attribute(parts_[0])) return Json(*a);
      return std::nullopt;
  }
  return std::nullopt;
}

bool FieldPath::append_text(const Event& event, std::string& out) const {
  const Metadata& m = event.meta;
  switch (kind_) {
    case Kind::Field: {
      if (scannable(event)) {
        std::string_view text;
        const detail::Scan r = detail::scan_path(event.payload(), parts_, text);
        if (r == detail::Scan::Missing) return false;
        if (r == detail::Scan::Found) {
          if (!detail::append_scanned(text, out)) append_json(out, detail::scanned_to_json(text));
          return true;
        }
      }
      const Json* v = walk(event.fields(), parts_, parts_.size());
      if (!v) return false;
      append_json(out, *v);
      return true;
    }
    case Kind::Whole:
      // The bytes are the payload's JSON text already; no parse needed.
      out += event.payload();
      return true;
    case Kind::Key:
      if (!m.key) return false;
      out += *m.key;
      return true;
    case Kind::Topic:
      if (m.topic.empty()) return false;
      out += m.topic;
      return true;
    case Kind::Partition:
      if (m.partition < 0) return false;
      append_int(out, m.partition);
      return true;
    case Kind::Offset:
      if (m.offset < 0) return false;
      append_int(out, m.offset);
      return true;
    case Kind::Timestamp:
      if (event.timestamp_ms == 0) return false;
      append_int(out, event.timestamp_ms);
      return true;
    case Kind::Source:
      if (m.source.empty()) return false;
      out += m.source;
      return true;
    case Kind::Error:
      if (m.error.empty()) return false;
      out += m.error;
      return true;
    case Kind::Header:
      if (const std::string* h = m.header(parts_[0])) {
        out += *h;
        return true;
      }
      return false;
    case Kind::Attr:
      if (const std::string* a = m.attribute(parts_[0])) {
        out += *a;
        return true;
      }
      return false;
  }
  return false;
}

namespace {

std::string as_text(const Json& v) {
  std::string s;
  append_json(s, v);
  return s;
}

std::int64_t as_int(const Json& v, std::int64_t fallback) {
  if (v.is_number()) return v.get<std::int64_t>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return fallback;
}

}  // namespace

void FieldPath::set(Event& event, Json value) const {
  Metadata& m = event.meta;
  switch (kind_) {
    case Kind::Field: {
      Json* cur = &event.mutable_fields();
      for (const std::string& part : parts_) {
        std::size_t idx = 0;
        if (cur->is_array() && parse_index(part, idx) && idx < cur->size()) {
          cur = &(*cur)[idx];
          continue;
        }
        // Anything else on the way becomes an object, as `a.b = v` means.
        if (!cur->is_object()) *cur = Json::object();
        cur = &(*cur)[part];
      }
      *cur = std::move(value);
      return;
    }
    case Kind::Whole:
      event.set_fields(std::move(value));
      return;
    case Kind::Key:
      if (value.is_null())
        m.key.reset();
      else
        m.key = as_text(value);
      return;
    case Kind::Topic:
      m.topic = as_text(value);
      return;
    case Kind::Partition:
      m.partition = static_cast<std::int32_t>(as_int(value, -1));
      return;
    case Kind::Offset:
      m.offset = as_int(value, -1);
      return;
    case Kind::Timestamp:
      event.timestamp_ms = as_int(value, 0);
      return;
    case Kind::Source:
      m.source = as_text(value);
      return;
    case Kind::Error:
      m.error = as_text(value);
      return;
    case Kind::Header: {
      std::string text = as_text(value);
      for (auto& h : m.headers) {
        if (iequals(h.name, parts_[0])) {
          h.value = std::move(text);
          return;
        }
      }
      m.headers.push_back({parts_[0], std::move(text)});
      return;
    }
    case Kind::Attr:
      m.set_attribute(parts_[0], as_text(value));
      return;
  }
}

bool FieldPath::erase(Event& event) const {
  Metadata& m = event.meta;
  switch (kind_) {
    case Kind::Field: {
      // Look first through the const view so a miss does not mark the payload stale.
      const Json* parent = walk(event.fields(), parts_, parts_.size() - 1);
      if (!parent) return false;
      const std::string& last = parts_.back();
      std::size_t idx = 0;
      if (parent->is_object()) {
        if (parent->find(last) == parent->end()) return false;
      } else if (!(parent->is_array() && parse_index(last, idx) && idx < parent->size())) {
        return false;
      }
      Json* p = const_cast<Json*>(walk(event.mutable_fields(), parts_, parts_.size() - 1));
      if (p->is_object())
        p->erase(last);
      else
        p->erase(idx);
      return true;
    }
    case Kind::Whole:
      event.set_fields(Json::object());
      return true;
    case Kind::Key: {
      const bool had = m.key.has_value();
      m.key.reset();
      return had;
    }
    case Kind::Topic: {
      const bool had = !m.topic.empty();
      m.topic.clear();
      return had;
    }
    case Kind::Partition: {
      const bool had = m.partition >= 0;
      m.partition = -1;
      return had;
    }
    case Kind::Offset: {
      const bool had = m.offset >= 0;
      m.offset = -1;
      return had;
    }
    case Kind::Timestamp: {
      const bool had = event.timestamp_ms != 0;
      event.timestamp_ms = 0;
      return had;
    }
    case Kind::Source: {
      const bool had = !m.source.empty();
      m.source.clear();
      return had;
    }
    case Kind::Error: {
      const bool had = !m.error.empty();
      m.error.clear();
      return had;
    }
    case Kind::Header: {
      const auto before = m.headers.size();
      std::erase_if(m.headers, [&](const Header& h) { return iequals(h.name, parts_[0]); });
      return m.headers.size() != before;
    }
    case Kind::Attr: {
      const auto before = m.attributes.size();
      std::erase_if(m.attributes, [&](const Header& a) { return a.name == parts_[0]; });
      return m.attributes.size() != before;
    }
  }
  return false;
}

// ---------------------------------------------------------------- Template

// A piece is one of: literal text (no field, empty format); a field reference;
// or the current time (no field, non-empty format) for `{now}`.

std::optional<Template> Template::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Template> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  Template t;
  t.text_ = std::string(text);
  std::string literal;
  auto flush_literal = [&] {
    if (literal.empty()) return;
    Piece p;
    p.literal = std::move(literal);
    literal.clear();
    t.pieces_.push_back(std::move(p));
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        i += 2;
        continue;
      }
      return fail("unmatched '}' at offset " + std::to_string(i) + " in template '" + std::string(text) +
                  "'; write '}}' for a literal brace");
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      i += 2;
      continue;
    }
    const std::size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos)
      return fail("unterminated '{' at offset " + std::to_string(i) + " in template '" + std::string(text) +
                  "'; write '{{' for a literal brace");
    std::string_view inner = text.substr(i + 1, close - i - 1);
    i = close + 1;

    Piece piece;
    const std::size_t bar = inner.find('|');
    if (bar != std::string_view::npos) {
      piece.fallback = std::string(inner.substr(bar + 1));
      inner = inner.substr(0, bar);
    }
    const std::size_t colon = inner.find(':');
    std::string_view path = inner;
    if (colon != std::string_view::npos) {
      piece.format = std::string(inner.substr(colon + 1));
      path = inner.substr(0, colon);
      if (piece.format.empty()) return fail("empty time format after ':' in '{" + std::string(inner) + "}'");
    }
    if (path == "now") {
      if (piece.format.empty()) piece.format = kDefaultTimeFormat;
      flush_literal();
      t.pieces_.push_back(std::move(piece));
      continue;
    }
    std::string why;
    auto field = FieldPath::parse(path, &why);
    if (!field) return fail(why + " in template '" + std::string(text) + "'");
    if (!piece.format.empty() && field->text() != "meta.timestamp")
      return fail("a time format (':" + piece.format + "') applies only to meta.timestamp and now, not to '" +
                  std::string(path) + "'");
    piece.field = std::move(field);
    flush_literal();
    t.pieces_.push_back(std::move(piece));
  }
  flush_literal();
  return t;
}

bool Template::render_to(const Event& event, std::string& out) const {
  bool complete = true;
  for (const Piece& p : pieces_) {
    if (!p.field) {
      if (p.format.empty())
        out += p.literal;
      else
        format_time(now_ms(), p.format, out);
      continue;
    }
    if (!p.format.empty()) {
      // meta.timestamp with a strftime format (checked at parse).
      if (event.timestamp_ms != 0) {
        format_time(event.timestamp_ms, p.format, out);
        continue;
      }
    } else if (p.field->append_text(event, out)) {
      continue;
    }
    if (p.fallback)
      out += *p.fallback;
    else
      complete = false;
  }
  return complete;
}

std::string Template::render(const Event& event) const {
  std::string out;
  render_to(event, out);
  return out;
}

bool Template::is_literal() const noexcept {
  for (const Piece& p : pieces_)
    if (p.field || !p.format.empty()) return false;
  return true;
}

bool Template::uses_fields() const noexcept {
  for (const Piece& p : pieces_)
    if (p.field && !p.field->is_meta()) return true;
  return false;
}

}  // namespace sluice
