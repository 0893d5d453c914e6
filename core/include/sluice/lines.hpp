#pragma once
/**
 * @file lines.hpp
 * @brief Line-oriented input (standard input, a file): one line, one event.
 *
 * The `stdin` and `file` sources take the same options for it and turn a
 * line into an event the same way, so that a pipeline reading a sample from
 * a file and one reading it from a pipe see the same events and the same
 * dead-letter reasons.
 */
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/config.hpp"
#include "sluice/event.hpp"

namespace sluice {

/**
 * Declares the options of line input: `format` (`lines` / `ndjson`, default `lines`),
 * `batch_size` (default 256) and `max_line_bytes` (default 1MiB). Use with
 * SchemaBuilder::with().
 */
SchemaBuilder& line_options(SchemaBuilder& builder);

/** Turns lines into events as the options of line_options() say. */
class LineDecoder {
 public:
  /** What decode() made of a line. */
  enum class Result {
    Event,       ///< an event to emit
    DeadLetter,  ///< an event for the dead-letter destination, with the reason
    Skip,        ///< an empty line: nothing
  };

  /** From a config whose schema has line_options(); @p origin names the input in reasons ("stdin"). */
  LineDecoder(const Config& config, std::string origin);

  /**
   * Decodes line number @p lineno (from 1). @p text is the line without its '\n' (one
   * trailing '\r' is dropped); when the input kept only the start of a long line, @p text is
   * that start and @p length the line's full length (else pass text.size()). An empty line
   * is skipped. A line longer than `max_line_bytes` is a dead letter holding its first 256
   * bytes; with `format: ndjson` so is a line that is not one JSON document. Reasons name
   * the origin and the line number: "stdin line 3: invalid JSON: ...". An event gets the
   * time now as its timestamp and its line number as attribute `line`.
   */
  Result decode(std::string_view text, std::uint64_t length, std::uint64_t lineno, Event& out,
                std::string& reason) const;

  std::size_t batch_size() const noexcept { return batch_size_; }
  std::uint64_t max_line_bytes() const noexcept { return max_line_; }

 private:
  bool ndjson_;
  std::size_t batch_size_;
  std::uint64_t max_line_;
  std::string origin_;
};

}  // namespace sluice
