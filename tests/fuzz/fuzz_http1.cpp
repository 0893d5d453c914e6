// Request bytes from any client: the HTTP/1 parser must give a verdict for
// every input without crashing, hanging or reading out of bounds; its
// messages must be printable JSON; a chunked body must decode the same
// whatever pieces it arrives in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/http1_parser.hpp"
#include "sluice/event.hpp"

namespace http1 = sluice::core::http1;

namespace {

void check_message(const std::string& message) {
  if (!sluice::valid_utf8(message)) std::abort();
  (void)nlohmann::json{{"error", message}}.dump();
}

/** Decodes @p body whole and in pieces cut by @p step; both must agree. */
void check_chunked(std::string_view body, std::size_t step) {
  constexpr std::size_t kMax = 4096;
  http1::ChunkedDecoder whole(kMax);
  std::string a;
  std::size_t used_a = 0;
  const auto sa = whole.feed(body, a, used_a);
  check_message(whole.error());

  http1::ChunkedDecoder pieces(kMax);
  std::string b;
  std::size_t fed = 0;
  auto sb = http1::ChunkedDecoder::State::NeedMore;
  for (std::size_t end = 0; end < body.size() && sb == http1::ChunkedDecoder::State::NeedMore;) {
    end = std::min(body.size(), end + step);
    std::size_t used = 0;
    sb = pieces.feed(body.substr(fed, end - fed), b, used);
    fed += used;
    if (fed > end) std::abort();
  }
  if (sa != sb) std::abort();
  if (sa == http1::ChunkedDecoder::State::Done && (a != b || used_a != fed)) std::abort();
  if (a.size() > kMax || used_a > body.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const http1::HeadEnd end = http1::find_head_end(in);
  if (end.offset == std::string_view::npos) {
    check_chunked(in, 1 + size % 5);
    return 0;
  }
  if (end.offset + end.length > in.size()) std::abort();
  http1::RequestHead head;
  std::string error;
  const int status = http1::parse_head(in.substr(0, end.offset), head, error);
  check_message(error);
  if (status == 0) {
    if (head.chunked && head.content_length >= 0) std::abort();
    if (head.path.empty() || (head.path[0] != '/' && head.path != "*")) std::abort();
    for (const auto& [name, value] : head.fields) {
      if (name.empty()) std::abort();
      for (const char c : name)
        if (!http1::is_tchar(static_cast<unsigned char>(c))) std::abort();
    }
    if (head.chunked) check_chunked(in.substr(end.offset + end.length), 1 + size % 7);
  } else if (status < 400 || status > 505) {
    std::abort();
  }
  return 0;
}
