// One line, one event: what the stdin and file sources share.
#include "sluice/lines.hpp"

#include <algorithm>

namespace sluice {

SchemaBuilder& line_options(SchemaBuilder& builder) {
  return builder.option("format", OptionType::Enum)
      .choices({"lines", "ndjson"})
      .def("lines")
      .doc(
          "lines: each line becomes {\"message\": line}; ndjson: each line is a JSON event (invalid lines "
          "are "
          "dead-lettered with their line number).")
      .option("batch_size", OptionType::Int)
      .def("256")
      .range(1, 100000)
      .doc("Lines per batch.")
      .option("max_line_bytes", OptionType::Size)
      .def("1MiB")
      .doc("Longer lines are dead-lettered.");
}

LineDecoder::LineDecoder(const Config& config, std::string origin)
    : ndjson_(config.str("format") == "ndjson"),
      batch_size_(static_cast<std::size_t>(config.integer("batch_size"))),
      max_line_(config.size("max_line_bytes")),
      origin_(std::move(origin)) {}

LineDecoder::Result LineDecoder::decode(std::string_view text, std::uint64_t length, std::uint64_t lineno,
                                        Event& out, std::string& reason) const {
  if (length == text.size() && !text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
    --length;
  }
  if (length == 0) return Result::Skip;
  const auto where = [&] { return origin_ + " line " + std::to_string(lineno); };
  if (length > max_line_) {
    out = Event(std::string(text.substr(0, 256)));
    reason = where() + " is " + std::to_string(length) + " bytes, over max_line_bytes";
    return Result::DeadLetter;
  }
  if (ndjson_) {
    out = Event(std::string(text));
    std::string error;
    if (!out.parse(&error)) {
      reason = where() + ": invalid JSON: " + error;
      return Result::DeadLetter;
    }
  } else {
    out = Event::from_json(Json{{"message", std::string(text)}});
  }
  out.timestamp_ms = now_ms();
  out.meta.set_attribute("line", std::to_string(lineno));
  return Result::Event;
}

}  // namespace sluice
