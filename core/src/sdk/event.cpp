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

namespace {

/** True when @p text nests arrays and objects deeper than @p limit (strings skipped). */
bool deeper_than(std::string_view text, std::size_t limit) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

bool parse_json(std::string_view text, Json& out, std::string* error) {
  const auto fail = [&](std::string why) {
    out = Json();
    if (error) *error = safe_utf8(why);
    return false;
  };
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    return fail("invalid JSON: NUL byte at offset " + std::to_string(nul));
  if (deeper_than(text, kMaxJsonDepth))
    return fail("invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  out = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!out.is_discarded()) return true;
  // Parse again with exceptions for nlohmann's message (position and reason): the error path only.
  try {
    const Json again = Json::parse(text.begin(), text.end());
    (void)again;
  } catch (const Json::exception& e) {
    return fail(e.what());
  }
  return fail("invalid JSON");
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
  if (!parse_json(payload_, json_, error)) return false;
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
