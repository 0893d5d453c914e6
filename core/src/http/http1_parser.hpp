#pragma once
// The HTTP/1.1 request parser of the event-loop server (RFC 9112), apart from
// the connection: it sees bytes and gives a verdict, so it is unit-tested and
// fuzzed on its own (tests/unit/http1_parser_test.cpp, tests/fuzz/fuzz_http1.cpp).
//
// It is strict where leniency lets a request mean two things to two parsers
// (request smuggling behind a proxy): one Host, no whitespace before a colon,
// token characters only in names and methods, no control bytes in values, one
// Content-Length of digits only, Transfer-Encoding only `chunked` and never
// with Content-Length, chunk sizes bounded, CRLF (never a bare LF) in chunked framing. Every message it
// returns is valid UTF-8 and names no more of the client's bytes than needed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::core::http1 {

/** Bounds of a request's head and of a chunked body's framing. */
struct Limits {
  std::size_t max_request_line = 8192;  ///< bytes; longer: 414
  std::size_t max_field_name = 256;     ///< bytes; longer: 431
  std::size_t max_field_value = 8192;   ///< bytes; longer: 431
  std::size_t max_fields = 100;         ///< field lines; more: 431
  std::size_t max_head = 65536;         ///< request line and fields together; more: 431
  std::size_t max_chunk_line = 1024;    ///< a chunk-size line with its extensions
  std::size_t max_trailer = 8192;       ///< a chunked body's trailer section
};

/** A parsed request line and header section. */
struct RequestHead {
  std::string method;
  std::string target;   ///< the request-target as sent
  std::string path;     ///< origin-form path and query ("/clicks?x=1"); "*" for OPTIONS *
  std::string version;  ///< "HTTP/1.1" or "HTTP/1.0"
  /** Field lines in order, values without surrounding whitespace. Host is the target's own in absolute form.
   */
  std::vector<std::pair<std::string, std::string>> fields;
  std::int64_t content_length = -1;  ///< -1: none
  bool chunked = false;
  bool expect_continue = false;
  bool keep_alive = true;
};

/** Where a head ends: the offset of its terminating blank line and that line's length. */
struct HeadEnd {
  std::size_t offset = std::string_view::npos;  ///< npos: not complete yet
  std::size_t length = 0;
};

/**
 * Looks for the blank line that ends a head in @p buf, from @p from on (a caller
 * reading in pieces passes where it stopped). Lines end with CRLF or a bare LF.
 */
HeadEnd find_head_end(std::string_view buf, std::size_t from = 0) noexcept;

/**
 * Parses @p text, a complete head without its terminating blank line. Returns 0, or
 * the status to answer (400, 414, 431, 501, 505) with @p error saying why.
 */
int parse_head(std::string_view text, RequestHead& head, std::string& error, const Limits& limits = {});

/**
 * Decodes a chunked body as its bytes arrive: feed() takes what came since the last
 * call and appends the decoded data to the body, so nothing is decoded twice.
 */
class ChunkedDecoder {
 public:
  enum class State {
    NeedMore,   ///< every byte given was used; more are needed
    Done,       ///< the last chunk and the trailers are in
    TooLarge,   ///< the body is longer than max_body (413)
    Malformed,  ///< not RFC 9112 chunked framing (400); error() says why
  };

  explicit ChunkedDecoder(std::size_t max_body, const Limits& limits = {})
      : max_body_(max_body), limits_(limits) {}

  /**
   * Decodes from @p in, appending data to @p body. @p consumed gets how many bytes of
   * @p in were used: all of them on NeedMore (a partial line is kept inside), up to the
   * end of the body on Done. Calling again after Done, TooLarge or Malformed repeats it.
   */
  State feed(std::string_view in, std::string& body, std::size_t& consumed);

  const std::string& error() const noexcept { return error_; }

 private:
  enum class Step { Size, Data, DataEnd, Trailer, Done };
  State fail(std::string why);
  /** Takes a line ending in @p in from @p pos into line_; false while it is incomplete. */
  bool take_line(std::string_view in, std::size_t& pos, std::size_t limit, bool& too_long);

  const std::size_t max_body_;
  const Limits limits_;
  Step step_ = Step::Size;
  State final_ = State::NeedMore;
  std::uint64_t remaining_ = 0;  ///< data bytes left of the current chunk
  std::size_t trailer_bytes_ = 0;
  std::string line_;   ///< the line being read, across feeds
  bool crlf_ = false;  ///< the last line taken ended with CRLF
  std::string error_;
};

/** True for RFC 9110 token characters (method, field names, transfer codings). */
bool is_tchar(unsigned char c) noexcept;

}  // namespace sluice::core::http1
