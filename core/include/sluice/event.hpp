#pragma once
/**
 * @file event.hpp
 * @brief The unit of data flowing through a pipeline.
 *
 * An Event holds its payload as bytes and parses it into JSON only when a
 * plugin asks for fields. Once fields are changed, the payload is
 * re-serialised lazily the next time payload() is read. Events are owned by
 * one thread at a time and are not thread-safe.
 */
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sluice/ack.hpp"
#include "sluice/checkpoint.hpp"

namespace sluice {

using Json = nlohmann::json;

/** Thrown by Event::fields() when the payload is not valid JSON. */
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** ASCII case-insensitive equality, as header names and units compare. */
bool iequals(std::string_view a, std::string_view b) noexcept;

/** True when @p bytes are well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
bool valid_utf8(std::string_view bytes) noexcept;

/**
 * @p bytes as well-formed UTF-8, each invalid sequence replaced by U+FFFD. Use it
 * for every message that carries bytes from a client, a file or a broker before it
 * is logged or put into JSON (nlohmann::json::dump() throws on invalid UTF-8).
 */
std::string safe_utf8(std::string_view bytes);

/** Deepest nesting of arrays and objects parse_json() accepts. */
constexpr std::size_t kMaxJsonDepth = 512;

/**
 * Parses JSON text from outside (a request body, a message). Never throws:
 * false, with a message that is safe to print and to put into JSON, for text
 * that is not one JSON document, a raw NUL byte (which nlohmann::json takes
 * for the end of input, accepting `{"a":1}\0garbage`), a number out of range
 * (`1e999999`), or nesting deeper than kMaxJsonDepth (which dump() and the
 * destructor would recurse through).
 */
bool parse_json(std::string_view text, Json& out, std::string* error = nullptr);

/** One header (Kafka record header, HTTP request header). Order is kept. */
struct Header {
  std::string name;
  std::string value;
};

/** Where an event came from and what travels beside its payload. */
struct Metadata {
  std::string source;              ///< id of the component that produced it
  std::string topic;               ///< Kafka topic (or HTTP path for the http source)
  std::int32_t partition = -1;     ///< Kafka partition, -1 when none
  std::int64_t offset = -1;        ///< Kafka offset, -1 when none
  std::optional<std::string> key;  ///< Kafka key
  std::vector<Header> headers;     ///< record or request headers
  std::vector<Header> attributes;  ///< free-form (path parameters, client address, ...)
  std::string error;               ///< why it was dead-lettered, set by the core
  /** The durable position the event was read at (a Kafka partition's assignment); may be null. */
  std::shared_ptr<Checkpoint> checkpoint;

  /** First header named @p name (case-insensitive), or nullptr. */
  const std::string* header(std::string_view name) const noexcept;
  /** Attribute named @p name (case-sensitive), or nullptr. */
  const std::string* attribute(std::string_view name) const noexcept;
  /** Sets (replacing) attribute @p name. */
  void set_attribute(std::string name, std::string value);
};

/** One event: payload, lazily parsed fields, metadata, timestamp and acknowledgement. */
class Event {
 public:
  Event() = default;
  /** An event whose payload is @p payload (parsed on first use of fields()). */
  explicit Event(std::string payload) : payload_(std::move(payload)), state_(State::Bytes) {}
  /** An event built from fields; the payload is serialised when first read. */
  static Event from_json(Json fields) {
    Event e;
    e.json_ = std::move(fields);
    e.state_ = State::Json;
    return e;
  }

  Event(Event&&) noexcept = default;
  Event& operator=(Event&&) noexcept = default;
  /** Copies share the acknowledgement (both must complete). */
  Event(const Event&) = default;
  Event& operator=(const Event&) = default;

  /** The payload bytes; serialises fields first when they changed. */
  const std::string& payload() const;
  /** Replaces the payload bytes; drops parsed fields. */
  void set_payload(std::string payload);

  /** Parsed fields (parsing on first call); throws ParseError. */
  const Json& fields() const;
  /** Parsed fields for change; marks the payload stale. Throws ParseError. */
  Json& mutable_fields();
  /** Replaces the fields. */
  void set_fields(Json fields);
  /**
   * Parses if needed and reports instead of throwing: true when fields are
   * available; otherwise @p error (if given) receives the reason.
   */
  bool parse(std::string* error = nullptr) const;
  /**
   * Checks that the payload is JSON, as parse() does, but leaves a small
   * payload unparsed when a scanner is sure of it: field references then read
   * it without building the parsed fields (no allocation per member). Use it
   * where a source must refuse what is not JSON but rarely needs the fields.
   */
  bool validate(std::string* error = nullptr) const;
  /** True when fields are parsed (or the event was built from JSON). */
  bool has_fields() const noexcept { return state_ != State::Bytes; }

  std::int64_t timestamp_ms = 0;  ///< event time, milliseconds since the epoch (0 = unknown)
  Metadata meta;                  ///< source metadata
  AckHandle ack;                  ///< completes when every sink accepted or dead-lettered it

 private:
  enum class State : std::uint8_t { Bytes, Both, Json };
  mutable std::string payload_;
  mutable Json json_;
  mutable State state_ = State::Bytes;
};

/** Events travel in batches between stages. */
using Batch = std::vector<Event>;

/** Milliseconds since the epoch, from the system clock. */
std::int64_t now_ms() noexcept;

}  // namespace sluice
