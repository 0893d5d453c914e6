#include "request_body.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::http_source {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_object(std::string_view text, Json& out, std::string& error, const std::string& what) {
  std::string why;
  if (!parse_json(text, out, &why)) {
    error = "could not decode json" + what + ": " + why;
    return false;
  }
  if (!out.is_object()) {
    error = "expected a JSON object" + what + ", got " + std::string(out.type_name());
    return false;
  }
  return true;
}

}  // namespace

std::optional<BodyMode> parse_body_mode(std::string_view text) {
  if (text == "json") return BodyMode::Json;
  if (text == "json_array") return BodyMode::JsonArray;
  if (text == "ndjson") return BodyMode::Ndjson;
  if (text == "none") return BodyMode::None;
  return std::nullopt;
}

bool parse_objects(BodyMode mode, const std::string& body, std::vector<Json>& out, std::string& error) {
  out.clear();
  switch (mode) {
    case BodyMode::None:
      out.emplace_back(Json::object());
      return true;
    case BodyMode::Json: {
      Json j;
      if (!parse_object(body, j, error, "")) return false;
      out.push_back(std::move(j));
      return true;
    }
    case BodyMode::JsonArray: {
      Json j;
      std::string why;
      if (!parse_json(body, j, &why)) {
        error = "could not decode json: " + why;
        return false;
      }
      if (j.is_object()) {
        out.push_back(std::move(j));
        return true;
      }
      if (!j.is_array()) {
        error = std::string("expected a JSON array of objects, got ") + j.type_name();
        return false;
      }
      if (j.empty()) {
        error = "the JSON array holds no events";
        return false;
      }
      for (std::size_t i = 0; i < j.size(); ++i) {
        if (!j[i].is_object()) {
          error = "element " + std::to_string(i) + " of the array is " + j[i].type_name() + ", not an object";
          out.clear();
          return false;
        }
        out.push_back(std::move(j[i]));
      }
      return true;
    }
    case BodyMode::Ndjson: {
      std::size_t line_no = 0, pos = 0;
      while (pos <= body.size()) {
        std::size_t nl = body.find('\n', pos);
        if (nl == std::string::npos) nl = body.size();
        ++line_no;
        const std::string_view line = trim(std::string_view(body).substr(pos, nl - pos));
        pos = nl + 1;
        if (line.empty()) continue;
        Json j;
        if (!parse_object(line, j, error, " on line " + std::to_string(line_no))) {
          out.clear();
          return false;
        }
        out.push_back(std::move(j));
      }
      if (out.empty()) {
        error = "the body holds no events";
        return false;
      }
      return true;
    }
  }
  return false;
}

bool is_single_object(const std::string& body, std::string& error) {
  const std::string_view t = trim(body);
  if (t.empty()) {
    error = "could not decode json: the body is empty";
    return false;
  }
  Json ignored;
  return parse_object(t, ignored, error, "");
}

bool has_required(const Batch& batch, const std::vector<FieldPath>& fields, std::string& error) {
  for (std::size_t i = 0; i < batch.size(); ++i)
    for (const FieldPath& f : fields) {
      const std::optional<Json> v = f.get(batch[i]);  // the events are valid JSON objects by now
      if (v && !v->is_null() && !(v->is_string() && v->get_ref<const std::string&>().empty())) continue;
      error = "field '" + f.text() + "' is required" +
              (batch.size() > 1 ? " (missing in event " + std::to_string(i + 1) + " of " +
                                      std::to_string(batch.size()) + ")"
                                : std::string()) +
              (v ? (v->is_null() ? ": it is null" : ": it is empty") : std::string());
      return false;
    }
  return true;
}

bool content_type_allowed(BodyMode mode, const std::string& content_type) {
  if (mode == BodyMode::None) return true;
  std::string type = content_type.substr(0, content_type.find(';'));
  type = std::string(trim(type));
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.empty()) return true;  // no Content-Type: the body is taken as JSON
  if (type == "application/json") return true;
  if (type.size() > 5 && type.rfind("application/", 0) == 0 && type.compare(type.size() - 5, 5, "+json") == 0)
    return true;
  if (mode != BodyMode::Json)
    return type == "application/x-ndjson" || type == "application/ndjson" || type == "application/jsonl" ||
           type == "application/x-jsonlines" || type == "application/jsonlines";
  return false;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

}  // namespace sluice::http_source
