// Bulk request lines (see bulk_request.hpp).
#include "bulk_request.hpp"

#include <cstdlib>

namespace sluice::elasticsearch {
namespace {

constexpr auto kDump = Json::error_handler_t::replace;

void append_dump(std::string& out, const Json& j) {
  out += j.dump(-1, ' ', false, kDump);
}

/** Removes the field at dotted @p path from @p doc (objects only; a number walks arrays). */
void erase_path(Json& doc, const std::string& path) {
  Json* at = &doc;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      if (at->is_object()) at->erase(part);
      return;
    }
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return;
      at = &*it;
    } else if (at->is_array()) {
      char* end = nullptr;
      const unsigned long i = std::strtoul(part.c_str(), &end, 10);
      if (part.empty() || *end || i >= at->size()) return;
      at = &(*at)[i];
    } else {
      return;
    }
    start = dot + 1;
  }
}

/** Renders @p t into @p out as a JSON string; false when it is empty or not UTF-8. */
bool rendered_string(const Template& t, const Event& event, std::string& out, const char* what,
                     std::string& why) {
  std::string text;
  try {
    t.render_to(event, text);
  } catch (const std::exception& e) {
    why = std::string(what) + " " + t.text() + ": " + e.what();
    return false;
  }
  if (text.empty()) {
    why = std::string(what) + " " + t.text() + " rendered empty (a field is missing)";
    return false;
  }
  if (!valid_utf8(text)) {
    why = std::string(what) + " " + t.text() + " is not valid UTF-8";
    return false;
  }
  append_json_string(out, text);
  return true;
}

bool field_value(const FieldPath& f, const Event& event, Json& value, const char* what, std::string& why) {
  std::optional<Json> v;
  try {
    v = f.get(event);
  } catch (const std::exception& e) {
    why = std::string(what) + " " + f.text() + ": " + e.what();
    return false;
  }
  if (!v) {
    why = std::string(what) + " " + f.text() + " is missing";
    return false;
  }
  value = std::move(*v);
  return true;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static const char* const hex = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

BulkEncoder::BulkEncoder(const Settings& settings) : s_(settings) {
  if (!s_.index.is_literal()) return;
  std::string why;
  literal_prefix_ = std::string("{\"") + bulk_verb(s_.action) + "\":{\"_index\":";
  // An index that cannot render (empty) keeps the per-event path and its error.
  if (!rendered_string(s_.index, Event{}, literal_prefix_, "index", why)) literal_prefix_.clear();
}

bool BulkEncoder::encode(const Event& event, std::string& out, std::string& why) const {
  const std::size_t mark = out.size();
  // The root cause first: an event that is not JSON fails every field reference after it.
  const bool reads_fields = s_.action != Action::Delete || (s_.id && s_.id->uses_fields()) ||
                            (s_.routing && s_.routing->uses_fields()) || s_.index.uses_fields();
  if (reads_fields && !event.validate(&why)) {
    why = "the event is not JSON: " + why;
    return false;
  }
  const bool writes_event = !s_.document && (s_.action == Action::Index || s_.action == Action::Create ||
                                             s_.action == Action::Update || s_.action == Action::Upsert ||
                                             (s_.action == Action::Script && s_.upsert_document));
  if (writes_event && !event.has_fields()) {
    const std::string& p = event.payload();
    const std::size_t first = p.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || p[first] != '{') {
      why = "the event is not a JSON object";
      return false;
    }
  } else if (writes_event && !event.fields().is_object()) {
    why = "the event is not a JSON object";
    return false;
  }
  bool ok = action_line(event, out, why);
  if (ok) {
    switch (s_.action) {
      case Action::Delete:
        break;
      case Action::Index:
      case Action::Create:
        ok = document(event, out, why);
        break;
      case Action::Update:
        out += "{\"doc\":";
        ok = document(event, out, why);
        out += "}";
        break;
      case Action::Upsert:
        out += "{\"doc\":";
        if (s_.create_only.empty()) {
          ok = document(event, out, why);
          out += ",\"doc_as_upsert\":true}";
        } else {  // the existing document keeps its create_only fields; a new one gets them
          ok = document(event, out, why, true);
          out += ",\"upsert\":";
          ok = ok && document(event, out, why);
          out += "}";
        }
        break;
      case Action::Script:
        ok = script_body(event, out, why);
        break;
      case Action::Increment:
        ok = increment_body(event, out, why);
        break;
    }
    if (s_.action != Action::Delete) out.push_back('\n');
  }
  if (!ok) out.resize(mark);
  return ok;
}

bool BulkEncoder::action_line(const Event& event, std::string& out, std::string& why) const {
  if (!literal_prefix_.empty()) {
    out += literal_prefix_;
  } else {
    out += "{\"";
    out += bulk_verb(s_.action);
    out += "\":{\"_index\":";
    if (!rendered_string(s_.index, event, out, "index", why)) return false;
  }
  if (s_.id) {
    out += ",\"_id\":";
    if (!rendered_string(*s_.id, event, out, "id", why)) return false;
  }
  if (s_.routing) {
    out += ",\"routing\":";
    if (!rendered_string(*s_.routing, event, out, "routing", why)) return false;
  }
  if (!s_.pipeline.empty()) {
    out += ",\"pipeline\":";
    append_json_string(out, s_.pipeline);
  }
  if (s_.version) {
    Json v;
    if (!field_value(*s_.version, event, v, "version", why)) return false;
    if (!v.is_number_integer() || (v.is_number_integer() && v.get<std::int64_t>() < 0)) {
      why = "version " + s_.version->text() + " is not a non-negative integer";
      return false;
    }
    out += ",\"version\":";
    out += std::to_string(v.get<std::int64_t>());
    out += ",\"version_type\":";
    append_json_string(out, s_.version_type);
  }
  if (s_.action != Action::Index && s_.action != Action::Create && s_.action != Action::Delete) {
    out += ",\"retry_on_conflict\":";
    out += std::to_string(s_.retry_on_conflict);
  }
  out += "}}\n";
  return true;
}

bool BulkEncoder::document(const Event& event, std::string& out, std::string& why, bool update) const {
  if (!s_.document && s_.exclude.empty() && !update) {
    // The fast path: the payload's own bytes, when they are one line of JSON (encode() checked that
    // it is a JSON object).
    const std::string& payload = event.payload();
    if (payload.find('\n') == std::string::npos) {
      out += payload;
      return true;
    }
    append_dump(out, event.fields());  // pretty-printed JSON: one line of it
    return true;
  }
  Json doc;
  if (s_.document) {
    if (!field_value(*s_.document, event, doc, "document", why)) return false;
  } else {
    try {
      doc = event.fields();
    } catch (const std::exception& e) {
      why = std::string("the event is not JSON: ") + e.what();
      return false;
    }
  }
  if (!doc.is_object()) {
    why = s_.document ? "document " + s_.document->text() + " is not a JSON object"
                      : "the event is not a JSON object";
    return false;
  }
  for (const FieldPath& f : s_.exclude) erase_path(doc, f.text());
  if (update)
    for (const FieldPath& f : s_.create_only) erase_path(doc, f.text());
  append_dump(out, doc);
  return true;
}

bool BulkEncoder::script_body(const Event& event, std::string& out, std::string& why) const {
  out += "{\"script\":{";
  if (!s_.script.id.empty()) {
    out += "\"id\":";
    append_json_string(out, s_.script.id);
  } else {
    out += "\"source\":";
    append_json_string(out, s_.script.source);
    out += ",\"lang\":";
    append_json_string(out, s_.script.lang);
  }
  out += ",\"params\":{";
  bool first = true;
  for (const auto& [name, field] : s_.script.params) {
    Json v;
    if (!field_value(field, event, v, ("script param " + name + ":").c_str(), why)) return false;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, name);
    out.push_back(':');
    append_dump(out, v);
  }
  out += "}}";
  if (s_.upsert_document) {
    out += ",\"upsert\":";
    if (!document(event, out, why)) return false;
  } else if (s_.scripted_upsert) {
    out += ",\"upsert\":{},\"scripted_upsert\":true";
  }
  out.push_back('}');
  return true;
}

bool BulkEncoder::increment_body(const Event& event, std::string& out, std::string& why) const {
  const IncrementSettings& inc = s_.increment;
  std::string by = "1";
  if (inc.by) {
    Json v;
    if (!field_value(*inc.by, event, v, "increment.by", why)) return false;
    if (!v.is_number()) {
      why = "increment.by " + inc.by->text() + " is not a number";
      return false;
    }
    by = v.dump();
  }
  out += "{\"script\":{\"source\":";
  append_json_string(out, kIncrementScript);
  out += ",\"lang\":\"painless\",\"params\":{\"f\":";
  append_json_string(out, inc.field);
  out += ",\"gf\":";
  append_json_string(out, inc.guard_field);
  out += ",\"by\":";
  out += by;
  if (inc.guard_key) {
    out += ",\"k\":";
    if (!rendered_string(*inc.guard_key, event, out, "increment.guard_key", why)) return false;
    Json seq;
    if (!field_value(*inc.guard_sequence, event, seq, "increment.guard_sequence", why)) return false;
    if (!seq.is_number_integer()) {
      why = "increment.guard_sequence " + inc.guard_sequence->text() + " is not an integer";
      return false;
    }
    out += ",\"s\":";
    out += seq.dump();
  }
  out += "}},\"upsert\":{},\"scripted_upsert\":true}";
  return true;
}

}  // namespace sluice::elasticsearch
