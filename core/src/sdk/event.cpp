// Event: lazy JSON parsing and lazy re-serialisation.
#include "sluice/event.hpp"

#include <chrono>

#include "sdk/json_scan.hpp"

namespace sluice {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

const std::string* Metadata::header(std::string_view name) const noexcept {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

const std::string* Metadata::attribute(std::string_view name) const noexcept {
  for (const auto& a : attributes)
    if (a.name == name) return &a.value;
  return nullptr;
}

void Metadata::set_attribute(std::string name, std::string value) {
  for (auto& a : attributes) {
    if (a.name == name) {
      a.value = std::move(value);
      return;
    }
  }
  attributes.push_back({std::move(name), std::move(value)});
}

const std::string& Event::payload() const {
  if (state_ == State::Json) {
    // replace: a payload with invalid UTF-8 must still serialise, not throw mid-pipeline.
    payload_ = json_.dump(-1, ' ', false, Json::error_handler_t::replace);
    state_ = State::Both;
  }
  return payload_;
}

void Event::set_payload(std::string payload) {
  payload_ = std::move(payload);
  json_ = Json();
  state_ = State::Bytes;
}

bool Event::parse(std::string* error) const {
  if (state_ != State::Bytes) return true;
  try {
    json_ = Json::parse(payload_);
  } catch (const Json::exception& e) {
    if (error) *error = e.what();
    return false;
  }
  state_ = State::Both;
  return true;
}

bool Event::validate(std::string* error) const {
  if (state_ != State::Bytes) return true;
  if (payload_.size() <= detail::kScanMaxBytes && detail::scan_valid(payload_)) return true;
  return parse(error);  // unsure or invalid: the parser decides, and says why
}

const Json& Event::fields() const {
  std::string error;
  if (!parse(&error)) throw ParseError("payload is not valid JSON: " + error);
  return json_;
}

Json& Event::mutable_fields() {
  fields();
  state_ = State::Json;
  payload_.clear();
  return json_;
}

void Event::set_fields(Json fields) {
  json_ = std::move(fields);
  payload_.clear();
  state_ = State::Json;
}

std::int64_t now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sluice
