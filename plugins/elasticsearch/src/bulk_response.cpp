// Bulk responses (see bulk_response.hpp).
#include "bulk_response.hpp"

namespace sluice::elasticsearch {

const char* const kBulkFilterPath =
    "errors,items.*.status,items.*.result,items.*.error.type,items.*.error.reason,"
    "items.*.error.caused_by.type,items.*.error.caused_by.reason";

std::string error_text(const Json& error) {
  if (error.is_string()) return error.get<std::string>();
  if (!error.is_object()) return error.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string text;
  auto str = [](const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  text = str(error, "type");
  if (const std::string reason = str(error, "reason"); !reason.empty())
    text += (text.empty() ? "" : ": ") + reason;
  if (auto cause = error.find("caused_by"); cause != error.end() && cause->is_object()) {
    const std::string inner = error_text(*cause);
    if (!inner.empty()) text += " (caused by " + inner + ")";
  }
  return text.empty() ? error.dump(-1, ' ', false, Json::error_handler_t::replace) : text;
}

bool parse_bulk_response(std::string_view body, std::size_t items, Action action, bool external_version,
                         std::vector<ItemVerdict>& out, std::string& why) {
  out.clear();
  Json j;
  if (!parse_json(body, j, &why)) {
    why = "the bulk response is not JSON: " + why;
    return false;
  }
  if (!j.is_object()) {
    why = "the bulk response is not a JSON object";
    return false;
  }
  auto list = j.find("items");
  if (list == j.end() || !list->is_array()) {
    why = "the bulk response has no items";
    return false;
  }
  if (list->size() != items) {
    why = "the bulk response has " + std::to_string(list->size()) + " items for " + std::to_string(items) +
          " in the request";
    return false;
  }
  const std::string verb = bulk_verb(action);
  out.reserve(items);
  for (const Json& item : *list) {
    if (!item.is_object() || item.size() != 1 || item.begin().key() != verb || !item.begin()->is_object()) {
      why = "a bulk response item is not a `" + verb + "` result";
      out.clear();
      return false;
    }
    const Json& r = *item.begin();
    auto st = r.find("status");
    if (st == r.end() || !st->is_number_integer()) {
      why = "a bulk response item has no status";
      out.clear();
      return false;
    }
    ItemVerdict v;
    v.status = st->get<int>();
    const int s = v.status;
    bool ok = s >= 200 && s < 300;
    if (s == 409 && (action == Action::Create || external_version)) ok = true;
    if (s == 404 && action == Action::Delete && r.find("error") == r.end()) ok = true;
    if (!ok) {
      auto err = r.find("error");
      v.reason =
          std::to_string(s) + " " + (err != r.end() ? error_text(*err) : std::string("(no error given)"));
      v.outcome = (s == 429 || s == 408 || s == 409 || s >= 500) ? Outcome::Retry : Outcome::Error;
    }
    out.push_back(std::move(v));
  }
  return true;
}

}  // namespace sluice::elasticsearch
