// The search page's request parsing (what any browser or script sends to /search and
// /api/search) and its templates (what a user's web_root holds): the request target's
// query string is decoded, checked and clamped; the clamps must hold for every input,
// every text that reaches a page must be valid UTF-8, and a value that went through
// url_encode() must come back whole. The input, split at its first NUL, is also a
// template parsed and rendered with hostile data: never a crash, and a refusal says where.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "query.hpp"
#include "templates.hpp"

namespace {

void check_request(std::string_view target) {
  using namespace sluice::srp;
  const auto params = parse_query_string(query_of(target));
  const QueryLimits limits{10, 100, 1024};
  SearchParams p;
  std::string error;
  if (!parse_search(params, limits, p, error)) {
    if (error.empty() || !sluice::valid_utf8(error)) std::abort();
    return;
  }
  if (!sluice::valid_utf8(p.q) || p.q.size() > limits.max_query_bytes) std::abort();
  if (p.page < 1 || p.size < 1 || p.size > limits.max_size) std::abort();
  if (first_hit(p) + p.size > kMaxResultWindow) std::abort();
  for (const auto& n : p.notices)
    if (!sluice::valid_utf8(n)) std::abort();
  if (parse_query_string("q=" + url_encode(p.q))["q"] != p.q) std::abort();  // round trip
}

void check_template(std::string_view text) {
  std::string error;
  auto t = sluice::srp::PageTemplate::parse(text, "fuzz.html", error);
  if (!t) {
    if (error.rfind("fuzz.html:", 0) != 0) std::abort();
    return;
  }
  sluice::Json data = {
      {"q", "<script>alert(1)</script>"},
      {"hits", sluice::Json::array({{{"title", "a & b"}, {"visits", 3}}, {{"title", "\"x\""}}})},
      {"total", 2},
      {"nested", {{"a", {{"b", "c"}}}}},
      {"empty", sluice::Json::array()},
      {"flag", true}};
  try {
    (void)t->render(data);
  } catch (const sluice::srp::TemplateTooCostly& e) {  // bounded work: a refusal that says where
    if (std::string_view(e.what()).rfind("fuzz.html:", 0) != 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  check_request(input.substr(0, nul));
  if (nul != std::string_view::npos) check_template(input.substr(nul + 1));
  return 0;
}
