#pragma once
/**
 * @file template.hpp
 * @brief The one field-reference and template syntax of sluice.
 *
 * Field references name a value of an event:
 *  - `user_id`, `listing.title`, `items.0.id`: a field of the JSON payload
 *    (dots walk objects; a number walks arrays);
 *  - `meta.key`, `meta.topic`, `meta.partition`, `meta.offset`,
 *    `meta.timestamp`, `meta.source`, `meta.error`;
 *  - `meta.header.User-Agent` (case-insensitive), `meta.attr.item`;
 *  - `.` : the whole payload.
 * Templates are text with references in braces: `"{user_id}\t{item_id}"`,
 * `"logs/{meta.timestamp:%Y-%m-%d}.log"` (strftime format, UTC, for
 * timestamps), `"{kind|default}"` (fallback text when the field is missing).
 * `{{` and `}}` are literal braces.
 */
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/event.hpp"

namespace sluice {

/** A parsed field reference. */
class FieldPath {
 public:
  /** Parses @p text; on failure returns nullopt and sets @p error. */
  static std::optional<FieldPath> parse(std::string_view text, std::string* error = nullptr);

  /**
   * Reads the value as JSON (metadata values are converted); nullopt when missing.
   * Payload references parse the payload on first use: throws ParseError when it is not JSON.
   * A small unparsed payload (up to 2 KiB) is read by scanning its text instead, with the same
   * result and the same ParseError, and stays unparsed.
   */
  std::optional<Json> get(const Event& event) const;
  /** Appends the value as text (strings raw, others as JSON); false when missing. */
  bool append_text(const Event& event, std::string& out) const;
  /** Sets the value (creates intermediate objects; metadata: key, header, attr, topic). */
  void set(Event& event, Json value) const;
  /** Removes the value; false when it was missing. */
  bool erase(Event& event) const;

  bool is_meta() const noexcept { return kind_ != Kind::Field; }
  const std::string& text() const noexcept { return text_; }

 private:
  enum class Kind { Field, Whole, Key, Topic, Partition, Offset, Timestamp, Source, Error, Header, Attr };
  Kind kind_ = Kind::Field;
  std::vector<std::string> parts_;  ///< field path parts, or the header / attribute name
  std::string text_;
};

/** A parsed template. Cheap to render; parse once at plugin creation. */
class Template {
 public:
  Template() = default;
  /** Parses @p text; on failure returns nullopt and sets @p error. */
  static std::optional<Template> parse(std::string_view text, std::string* error = nullptr);

  /**
   * Renders into @p out (appending). Missing fields without fallback render empty and return false.
   * Strings are appended raw, numbers and booleans as JSON text, null as nothing, objects and
   * arrays as compact JSON; `{.}` appends the payload bytes. Throws ParseError when a payload
   * field is referenced and the payload is not JSON (uses_fields() tells in advance).
   */
  bool render_to(const Event& event, std::string& out) const;
  /** Renders into a new string (missing fields render empty). */
  std::string render(const Event& event) const;

  /** True when the template has no field references. */
  bool is_literal() const noexcept;
  /** True when some reference reads payload fields (so rendering parses the payload). */
  bool uses_fields() const noexcept;
  const std::string& text() const noexcept { return text_; }

 private:
  struct Piece {
    std::string literal;               ///< literal text, when field is empty
    std::optional<FieldPath> field;
    std::string format;                ///< strftime format for timestamps
    std::optional<std::string> fallback;
  };
  std::vector<Piece> pieces_;
  std::string text_;
};

}  // namespace sluice
