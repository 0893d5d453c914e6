#pragma once
// The embedded index's text analysis, close to Elasticsearch's `standard`
// analyzer with `asciifolding`: words split by the rules of Unicode's word
// boundaries (UAX #29) as far as they matter for listings, lower-cased, and
// accented Latin letters folded to ASCII ("Café" -> "cafe", "Straße" -> "strasse").
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/event.hpp>

namespace sluice::elasticsearch {

/** One term of a text, with the bytes of the text it came from. */
struct Token {
  std::string term;       ///< lower-cased, folded
  std::size_t begin = 0;  ///< byte offset in the text
  std::size_t end = 0;    ///< one past its last byte
};

/**
 * The terms of @p text in order. Letters, digits and `_` make words; `'`, `’` and `.`
 * join two letters ("don't", "e.g") or two digits ("3.5"), `,` and `;` join two digits
 * ("1,000"); each CJK ideograph is a word of its own; every other character separates.
 * Invalid UTF-8 bytes separate words too. Terms longer than 255 bytes are cut there.
 */
std::vector<Token> analyze(std::string_view text);

/** The terms of @p text only. */
std::vector<std::string> terms_of(std::string_view text);

/**
 * @p text HTML-escaped, with each token whose term is in @p terms wrapped in @p pre / @p post.
 * With @p max_bytes > 0, a fragment of about that many bytes around the first match (the
 * start when there is none), cut at word boundaries, with "…" where it was cut.
 */
std::string highlight(std::string_view text, const std::vector<std::string>& terms, const std::string& pre,
                      const std::string& post, std::size_t max_bytes = 0);

/** The text of field @p name of @p doc, as both indexes read it: a string, or the strings of an array joined
 * by spaces. */
std::string text_field(const Json& doc, const char* name);

}  // namespace sluice::elasticsearch
