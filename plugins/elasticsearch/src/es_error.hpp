#pragma once
// The text of an Elasticsearch error object, for logs, dead letters and exceptions. Inline: the
// sink's bulk reader and EsSearchIndex (in libsluice-search) both use it.
#include <string>

#include <sluice/sdk.hpp>

namespace sluice::elasticsearch {

/** The text of an error object (`type: reason`, with its caused_by). */
inline std::string error_text(const Json& error) {
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

}  // namespace sluice::elasticsearch
