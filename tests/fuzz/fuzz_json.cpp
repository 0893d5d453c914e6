// JSON payloads from outside (HTTP bodies, Kafka messages): the scanner that
// field references and Event::validate() use must never accept what
// parse_json() refuses, never read out of bounds, and agree with the parsed document
// on every top-level member; safe_utf8() must always give JSON-printable text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/json_scan.hpp"
#include "sluice/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // parse_json is the reference: nlohmann's parser, minus what it wrongly takes (a NUL ends
  // its input) or cannot survive (nesting past kMaxJsonDepth).
  sluice::Json parsed;
  std::string why;
  const bool accepted = sluice::parse_json(text, parsed, &why);
  if (accepted && !nlohmann::json::accept(text)) std::abort();
  if (!accepted && !sluice::valid_utf8(why)) std::abort();
  if (sluice::detail::scan_valid(text) && !accepted) std::abort();

  sluice::Event event{std::string(text)};
  std::string error;
  if (event.validate(&error) != accepted) std::abort();
  if (accepted && event.fields().is_object()) {
    for (const auto& [key, value] : event.fields().items()) {
      std::string_view found;
      const auto verdict = sluice::detail::scan_path(text, {key}, found);
      if (verdict == sluice::detail::Scan::Missing) std::abort();
      if (verdict == sluice::detail::Scan::Found && sluice::detail::scanned_to_json(found) != value)
        std::abort();
    }
  }

  const std::string safe = sluice::safe_utf8(text);
  if (!sluice::valid_utf8(safe)) std::abort();
  if (sluice::valid_utf8(text) != (safe == text)) std::abort();
  (void)nlohmann::json(safe).dump();  // throws (and so aborts) on invalid UTF-8
  return 0;
}
