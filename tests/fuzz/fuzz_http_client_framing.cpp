// Stream bodies from outside (an HTTP server, or whatever answers in its place)
// through the http_client source's splitters: they must never crash or hang, and
// the records must not depend on how the bytes were cut into reads: the body fed
// whole and fed in pieces (sizes taken from the input) give the same records,
// keep-alives and oversize counts. Every record is within its bound; an NDJSON
// record holds no line end and is never blank. The first byte picks the splitter,
// its bound and the piece sizes; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "framing.hpp"

namespace {

namespace hc = sluice::http_client;

std::unique_ptr<hc::Splitter> make(bool sse, std::size_t bound) {
  if (sse) return std::make_unique<hc::SseSplitter>(bound);
  return std::make_unique<hc::LineSplitter>(bound);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool sse = data[0] & 1;
  const std::size_t bound = 1 + ((data[0] >> 1) & 0x0f) * 4;  // small: the bound is reached often
  const std::size_t piece = 1 + (data[0] >> 5);
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  auto whole = make(sse, bound);
  std::vector<hc::Record> a;
  const hc::FeedResult ra = whole->feed(body, a);

  auto cut = make(sse, bound);
  std::vector<hc::Record> b;
  hc::FeedResult rb;
  for (std::size_t i = 0; i < body.size(); i += piece) {
    const hc::FeedResult r = cut->feed(body.substr(i, piece), b);
    rb.keepalives += r.keepalives;
    rb.oversize += r.oversize;
  }
  if (a.size() != b.size() || ra.keepalives != rb.keepalives || ra.oversize != rb.oversize) std::abort();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].data != b[i].data || a[i].event != b[i].event || a[i].id != b[i].id) std::abort();
  for (const hc::Record& r : a) {
    if (r.data.size() > bound) std::abort();
    if (!sse) {
      if (r.data.find('\n') != std::string::npos) std::abort();
      if (r.data.find_first_not_of(" \t\r") == std::string::npos) std::abort();
    }
  }
  // What the disconnect drops is what was held; afterwards the splitter starts clean.
  if (whole->reset() != cut->reset()) std::abort();
  std::vector<hc::Record> after;
  whole->feed(sse ? "data: x\n\n" : "x\n", after);
  // (An SSE event's bound counts the newline its data line ends with: "x" needs 2.)
  if (bound >= 2 && (after.size() != 1 || after[0].data != "x")) std::abort();
  return 0;
}
