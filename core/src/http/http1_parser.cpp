// RFC 9112 request heads and chunked bodies (see http1_parser.hpp).
#include "http/http1_parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "sluice/event.hpp"

namespace sluice::core::http1 {
namespace {

constexpr std::array<bool, 256> make_tchar() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = make_tchar();

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s)
    if (!kTchar[static_cast<unsigned char>(c)]) return false;
  return true;
}

/** A field value byte: visible ASCII, obs-text, SP or HTAB (no control bytes, no DEL). */
bool is_value_byte(unsigned char c) noexcept {
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/** Calls @p f on each non-empty element of a comma-separated list (RFC 9110 5.6.1). */
template <typename F>
void each_element(std::string_view list, F&& f) {
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view e = trim_ows(list.substr(pos, comma - pos));
    if (!e.empty()) f(e);
    pos = comma + 1;
  }
}

/** Host: uri-host [":" port], so reg-name, IPv4 or an IP literal in brackets; may be empty. */
bool valid_host(std::string_view v) noexcept {
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    std::string_view("-._~!$&'()*+,;=:[]%").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

int fail(std::string& error, int status, std::string message) {
  error = std::move(message);
  return status;
}

/** The next line of @p text from @p pos, without its LF (and CR); false at the end. */
bool next_line(std::string_view text, std::size_t& pos, std::string_view& line, bool& bare_cr) {
  if (pos >= text.size()) return false;
  std::size_t eol = text.find('\n', pos);
  if (eol == std::string_view::npos) eol = text.size();
  line = text.substr(pos, eol - pos);
  pos = eol + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  bare_cr = line.find('\r') != std::string_view::npos;
  return true;
}

/** Sets head.path from the request-target; 0 or a status. */
int parse_target(RequestHead& h, std::string& error, std::string& authority) {
  const std::string_view t = h.target;
  for (const char ch : t) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '#')
      return fail(error, 400, "invalid character in the request target");
  }
  if (h.method == "CONNECT") return fail(error, 501, "CONNECT is not supported");
  if (t.front() == '/') {
    h.path = h.target;
    return 0;
  }
  if (t == "*") {
    if (h.method != "OPTIONS") return fail(error, 400, "the asterisk target is for OPTIONS only");
    h.path = "*";
    return 0;
  }
  // Absolute form (RFC 9112 3.2.2): the target's authority stands for Host.
  std::size_t scheme_len = 0;
  if (istarts_with(t, "http://"))
    scheme_len = 7;
  else if (istarts_with(t, "https://"))
    scheme_len = 8;
  else
    return fail(error, 400, "invalid request target (expected /path or an absolute http URI)");
  const std::string_view rest = t.substr(scheme_len);
  const std::size_t end = std::min(rest.find_first_of("/?"), rest.size());
  authority = std::string(rest.substr(0, end));
  if (authority.empty() || authority.find('@') != std::string::npos || !valid_host(authority))
    return fail(error, 400, "invalid authority in the request target");
  const std::string_view path = rest.substr(end);
  h.path = path.empty() ? "/" : path.front() == '?' ? "/" + std::string(path) : std::string(path);
  return 0;
}

}  // namespace

bool is_tchar(unsigned char c) noexcept {
  return kTchar[c];
}

HeadEnd find_head_end(std::string_view buf, std::size_t from) noexcept {
  // A blank line is an LF followed by LF or CRLF; resume a little before where the last
  // search stopped, so a terminator split across reads is found.
  std::size_t pos = from > 3 ? from - 3 : 0;
  for (;;) {
    const std::size_t lf = buf.find('\n', pos);
    if (lf == std::string_view::npos) return {};
    if (lf + 1 < buf.size() && buf[lf + 1] == '\n') return {lf + 1, 1};
    if (lf + 2 < buf.size() && buf[lf + 1] == '\r' && buf[lf + 2] == '\n') return {lf + 1, 2};
    pos = lf + 1;
  }
}

int parse_head(std::string_view text, RequestHead& h, std::string& error, const Limits& limits) {
  if (text.size() > limits.max_head)
    return fail(error, 431, "request header section over " + std::to_string(limits.max_head) + " bytes");
  std::size_t pos = 0;
  std::string_view line;
  bool bare_cr = false;
  if (!next_line(text, pos, line, bare_cr) || line.empty()) return fail(error, 400, "empty request line");
  if (line.size() > limits.max_request_line)
    return fail(error, 414, "request line over " + std::to_string(limits.max_request_line) + " bytes");
  if (bare_cr) return fail(error, 400, "bare CR in the request line");

  // request-line = method SP request-target SP HTTP-version
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(error, 400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(error, 400, "invalid method");
  const bool version_shape = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
                             version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9';
  if (!version_shape) return fail(error, 400, "malformed protocol version");
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return fail(error, 505, "unsupported protocol version " + std::string(version));
  h.method = method;
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  h.version = version;
  std::string authority;
  if (const int status = parse_target(h, error, authority)) return status;

  bool connection_close = false, connection_keep_alive = false;
  std::size_t hosts = 0, host_index = 0;
  std::vector<std::string_view> codings;
  while (next_line(text, pos, line, bare_cr)) {
    if (line.empty()) return fail(error, 400, "blank line inside the header section");
    if (bare_cr) return fail(error, 400, "bare CR in a header field");
    if (line.front() == ' ' || line.front() == '\t')
      return fail(error, 400, "folded header lines (obs-fold) are not accepted");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(error, 400, "header line without a colon");
    const std::string_view name = line.substr(0, colon);
    if (name.size() > limits.max_field_name)
      return fail(error, 431, "header field name over " + std::to_string(limits.max_field_name) + " bytes");
    // Whitespace before the colon is a token error too: RFC 9112 5.1 asks for 400.
    if (!is_token(name)) return fail(error, 400, "invalid character in a header field name");
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (value.size() > limits.max_field_value)
      return fail(error, 431,
                  "value of header " + std::string(name) + " over " + std::to_string(limits.max_field_value) +
                      " bytes");
    for (const char c : value)
      if (!is_value_byte(static_cast<unsigned char>(c)))
        return fail(error, 400, "control character in the value of header " + std::string(name));
    if (h.fields.size() >= limits.max_fields)
      return fail(error, 431, "more than " + std::to_string(limits.max_fields) + " header fields");

    if (iequals(name, "Host")) {
      if (++hosts > 1) return fail(error, 400, "more than one Host header");
      if (!valid_host(value)) return fail(error, 400, "invalid Host header");
      host_index = h.fields.size();
    } else if (iequals(name, "Content-Length")) {
      if (h.content_length >= 0) return fail(error, 400, "more than one Content-Length header");
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(error, 400, "invalid Content-Length");
      std::int64_t n = 0;
      for (const char c : value) n = n * 10 + (c - '0');
      h.content_length = n;
    } else if (iequals(name, "Transfer-Encoding")) {
      each_element(value, [&](std::string_view e) { codings.push_back(e); });
    } else if (iequals(name, "Connection")) {
      each_element(value, [&](std::string_view e) {
        connection_close = connection_close || iequals(e, "close");
        connection_keep_alive = connection_keep_alive || iequals(e, "keep-alive");
      });
    } else if (iequals(name, "Expect")) {
      h.expect_continue = iequals(value, "100-continue");
    }
    h.fields.emplace_back(name, value);
  }

  if (h.version == "HTTP/1.1" && hosts == 0) return fail(error, 400, "missing Host header");
  if (!authority.empty() && hosts == 1) h.fields[host_index].second = authority;
  if (!codings.empty()) {
    // RFC 9112 6.1: chunked exactly once and last; anything else cannot be framed here.
    if (h.version == "HTTP/1.0") return fail(error, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (h.content_length >= 0) return fail(error, 400, "both Content-Length and Transfer-Encoding");
    const auto chunked = std::count_if(codings.begin(), codings.end(),
                                       [](std::string_view c) { return iequals(c, "chunked"); });
    if (chunked == 0 || !iequals(codings.back(), "chunked") || chunked > 1) {
      const bool others = static_cast<std::size_t>(chunked) < codings.size();
      if (chunked == 0 || others) return fail(error, 501, "unsupported transfer coding (only chunked is)");
      return fail(error, 400, "chunked given more than once");
    }
    if (codings.size() > 1) return fail(error, 501, "unsupported transfer coding (only chunked is)");
    h.chunked = true;
  }
  h.keep_alive = h.version == "HTTP/1.1" ? !connection_close : connection_keep_alive && !connection_close;
  return 0;
}

// A bare LF ends a line of the head (RFC 9112 2.2 allows it), but not of chunked framing:
// parsers that differ there let one request be read as two ("funky chunks" smuggling).
constexpr const char* kBareLf = "chunked framing lines must end with CRLF";

ChunkedDecoder::State ChunkedDecoder::fail(std::string why) {
  error_ = std::move(why);
  final_ = State::Malformed;
  return final_;
}

bool ChunkedDecoder::take_line(std::string_view in, std::size_t& pos, std::size_t limit, bool& too_long) {
  const std::size_t lf = in.find('\n', pos);
  const std::size_t end = lf == std::string_view::npos ? in.size() : lf;
  // +1: the CR before the LF does not count against the limit.
  if (line_.size() + (end - pos) > limit + 1) {
    too_long = true;
    return false;
  }
  line_.append(in, pos, end - pos);
  if (lf == std::string_view::npos) {
    pos = in.size();
    return false;
  }
  pos = lf + 1;
  crlf_ = !line_.empty() && line_.back() == '\r';
  if (crlf_) line_.pop_back();
  return true;
}

ChunkedDecoder::State ChunkedDecoder::feed(std::string_view in, std::string& body, std::size_t& consumed) {
  consumed = 0;
  if (final_ != State::NeedMore) return final_;
  std::size_t pos = 0;
  bool too_long = false;
  while (pos < in.size() || step_ == Step::Done) {
    switch (step_) {
      case Step::Size: {
        if (!take_line(in, pos, limits_.max_chunk_line, too_long)) {
          if (too_long) return fail("chunk size line too long");
          break;
        }
        if (!crlf_) return fail(kBareLf);
        const std::string_view l = line_;
        for (const char c : l)
          if (!is_value_byte(static_cast<unsigned char>(c)))
            return fail("control character in a chunk size line");
        std::size_t digits = 0;
        while (digits < l.size() && std::isxdigit(static_cast<unsigned char>(l[digits]))) ++digits;
        if (digits == 0) return fail("invalid chunk size");
        const std::string_view ext = trim_ows(l.substr(digits));
        if (!ext.empty() && ext.front() != ';') return fail("invalid chunk size");
        std::size_t first = 0;
        while (first + 1 < digits && l[first] == '0') ++first;
        if (digits - first > 16) return fail("chunk size overflows");
        std::uint64_t size = 0;
        for (std::size_t i = first; i < digits; ++i) {
          const char c = l[i];
          const unsigned v =
              c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>((c | 0x20) - 'a' + 10);
          size = size << 4 | v;
        }
        line_.clear();
        if (size == 0) {
          step_ = Step::Trailer;
        } else {
          if (size > max_body_ - std::min(max_body_, body.size())) {
            final_ = State::TooLarge;
            return final_;
          }
          remaining_ = size;
          step_ = Step::Data;
        }
        break;
      }
      case Step::Data: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - pos));
        body.append(in, pos, n);
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) step_ = Step::DataEnd;
        break;
      }
      case Step::DataEnd:
        if (!take_line(in, pos, 0, too_long)) {
          // Only a CR may wait for its LF: any other byte after the data is wrong already.
          if (too_long || (!line_.empty() && line_ != "\r")) return fail("chunk data not followed by CRLF");
          break;
        }
        if (!line_.empty() || !crlf_) return fail("chunk data not followed by CRLF");
        step_ = Step::Size;
        break;
      case Step::Trailer: {
        const std::size_t before = pos;
        const bool whole = take_line(in, pos, limits_.max_trailer, too_long);
        trailer_bytes_ += pos - before;
        if (too_long || trailer_bytes_ > limits_.max_trailer) return fail("trailer section too large");
        if (!whole) break;
        if (!crlf_) return fail(kBareLf);
        if (line_.empty()) {
          step_ = Step::Done;
          break;
        }
        const std::size_t colon = line_.find(':');
        if (colon == std::string::npos || !is_token(std::string_view(line_).substr(0, colon)))
          return fail("malformed trailer field");
        for (std::size_t i = colon + 1; i < line_.size(); ++i)
          if (!is_value_byte(static_cast<unsigned char>(line_[i])))
            return fail("control character in a trailer");
        line_.clear();
        break;
      }
      case Step::Done:
        consumed = pos;
        final_ = State::Done;
        return final_;
    }
  }
  consumed = pos;
  return State::NeedMore;
}

}  // namespace sluice::core::http1
