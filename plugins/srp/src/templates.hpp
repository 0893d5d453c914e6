#pragma once
// The search page's HTML templates: a small Mustache-like renderer with no
// dependency, escaping by default.
//
//   {{name}}, {{a.b}}   the value HTML-escaped (strings; numbers and booleans as JSON text;
//                       null and missing render nothing)
//   {{{name}}}          the value unescaped: only for text that is HTML already (the index's
//                       highlights, which escape the document's text and add the markers)
//   {{#name}}…{{/name}} a section: once per element of an array, once for a true value or an
//                       object (whose fields are then looked up first), never for a false,
//                       empty or missing one
//   {{^name}}…{{/name}} the inverse: only when {{#name}} would render nothing
//   {{! comment }}      nothing
// Names are looked up in the innermost section's value first, then outwards; `.` is the
// current value itself.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/event.hpp>

namespace sluice::srp {

/** @p text with `& < > " '` replaced by entities: safe inside elements and quoted attributes. */
std::string html_escape(std::string_view text);
/** Appends html_escape(@p text) to @p out. */
void append_html_escaped(std::string& out, std::string_view text);

/**
 * Thrown by PageTemplate::render() when a page would cost more than kMaxRenderSteps steps (text,
 * values and section iterations) or kMaxRenderBytes bytes: sections nested over one list multiply
 * (`{{#hits}}` in `{{#hits}}` … is 100^depth on a page of 100 hits).
 */
struct TemplateTooCostly : std::runtime_error {
  using std::runtime_error::runtime_error;
};
inline constexpr std::size_t kMaxRenderSteps = 250'000;
inline constexpr std::size_t kMaxRenderBytes = 64u << 20;

/** A parsed template. Parse once (at start), render often; thread-safe to render. */
class PageTemplate {
 public:
  /**
   * Parses @p text (@p name is used in errors); nullopt with @p error ("name:line: what")
   * on an unclosed tag, an unbalanced section or an empty name.
   */
  static std::optional<PageTemplate> parse(std::string_view text, const std::string& name,
                                           std::string& error);

  /** Renders with @p data as the outermost value (usually an object). Throws TemplateTooCostly. */
  std::string render(const Json& data) const;

  struct Node;

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
  std::string name_;
};

}  // namespace sluice::srp
