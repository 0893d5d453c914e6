// Prints the HTTP/1 parser's verdict on each file given, one line per file:
// "<path>\tok <method> <path> <body bytes>", "<path>\treject <status>" or
// "<path>\tincomplete". tests/integration/http1_h11_differential_test.py
// compares these with h11's on a randomized corpus.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "http/http1_parser.hpp"

namespace http1 = sluice::core::http1;

namespace {

std::string verdict(const std::string& in) {
  const http1::HeadEnd end = http1::find_head_end(in);
  if (end.offset == std::string::npos) return "incomplete";
  http1::RequestHead head;
  std::string error;
  if (const int status = http1::parse_head(std::string_view(in).substr(0, end.offset), head, error))
    return "reject " + std::to_string(status);
  const std::string_view rest = std::string_view(in).substr(end.offset + end.length);
  std::size_t body = 0;
  if (head.chunked) {
    http1::ChunkedDecoder decoder(1 << 20);
    std::string decoded;
    std::size_t used = 0;
    switch (decoder.feed(rest, decoded, used)) {
      case http1::ChunkedDecoder::State::NeedMore:
        return "incomplete";
      case http1::ChunkedDecoder::State::TooLarge:
        return "reject 413";
      case http1::ChunkedDecoder::State::Malformed:
        return "reject 400";
      case http1::ChunkedDecoder::State::Done:
        body = decoded.size();
        break;
    }
  } else if (head.content_length > 0) {
    if (rest.size() < static_cast<std::size_t>(head.content_length)) return "incomplete";
    body = static_cast<std::size_t>(head.content_length);
  }
  return "ok " + head.method + " " + head.path + " " + std::to_string(body);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    std::cout << argv[i] << '\t' << verdict(s.str()) << '\n';
  }
  return 0;
}
