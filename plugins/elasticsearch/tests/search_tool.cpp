// sluice_search_tool (--embedded DATA_DIR | --hosts URL) INDEX: applies the SDK's SearchIndex
// calls read from stdin, one JSON object a line, to the index open_search_index() opens, and
// prints one JSON answer a line, for the integration tests (the same calls on the embedded index
// and on an OpenSearch node). Calls:
//   {"op": "index"|"create"|"update"|"upsert", "id": I, "doc": D}    → {"result": "created"|...}
//   {"op": "remove", "id": I},
//   {"op": "increment", "id": I, "field": F, "by": N, "guard": {field, key, sequence}}
//   {"op": "commit"}, {"op": "get", "id": I} → {"doc": D|null}, {"op": "count"} → {"count": N}
//   {"op": "search", "text": T, "sort": "relevance"|"hot"|"newest", "from", "size", "missing", "pre", "post"}
//       → {"total": N, "hits": [{"id", "score", "title", "snippet", "source"}], "took_us": µs of the call}
// A call that throws answers {"error": "<what>"}.
#include <chrono>
#include <iostream>
#include <string>

#include "open_search_index.hpp"

namespace es = sluice::elasticsearch;
using sluice::IndexResult;
using sluice::Json;

namespace {

class StderrLogger : public sluice::Logger {
 public:
  bool enabled(sluice::LogLevel) const noexcept override { return true; }
  void write(sluice::LogLevel, std::string_view message) override { std::cerr << message << "\n"; }
};

const char* result_name(IndexResult r) {
  switch (r) {
    case IndexResult::Created:
      return "created";
    case IndexResult::Updated:
      return "updated";
    case IndexResult::Deleted:
      return "deleted";
    case IndexResult::Noop:
      return "noop";
    case IndexResult::Exists:
      return "exists";
    case IndexResult::Missing:
      return "missing";
  }
  return "?";
}

std::string id_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

Json perform(sluice::SearchIndex& index, const Json& call) {
  const std::string op = call.value("op", "");
  if (op == "index") return {{"result", result_name(index.index(id_of(call.at("id")), call.at("doc")))}};
  if (op == "create") return {{"result", result_name(index.create(id_of(call.at("id")), call.at("doc")))}};
  if (op == "update") return {{"result", result_name(index.update(id_of(call.at("id")), call.at("doc")))}};
  if (op == "upsert") return {{"result", result_name(index.upsert(id_of(call.at("id")), call.at("doc")))}};
  if (op == "remove") return {{"result", result_name(index.remove(id_of(call.at("id"))))}};
  if (op == "increment") {
    std::optional<sluice::IncrementGuard> guard;
    if (call.contains("guard")) {
      const Json& g = call["guard"];
      guard = sluice::IncrementGuard{g.value("field", "sluice_applied"), g.at("key").get<std::string>(),
                                     g.at("sequence").get<std::int64_t>()};
    }
    return {{"result", result_name(index.increment(id_of(call.at("id")), call.at("field").get<std::string>(),
                                                   call.value("by", Json(1)), guard))}};
  }
  if (op == "commit") {
    index.commit();
    return {{"result", "ok"}};
  }
  if (op == "get") {
    const std::optional<Json> doc = index.get(id_of(call.at("id")));
    return {{"doc", doc ? *doc : Json(nullptr)}};
  }
  if (op == "count") return {{"count", index.count()}};
  if (op == "search") {
    sluice::SearchRequest r;
    r.text = call.value("text", "");
    const std::string sort = call.value("sort", "relevance");
    r.sort = sort == "hot"      ? sluice::SearchSort::Hot
             : sort == "newest" ? sluice::SearchSort::Newest
                                : sluice::SearchSort::Relevance;
    r.from = call.value("from", std::size_t{0});
    r.size = call.value("size", std::size_t{10});
    r.visits_missing = call.value("missing", 0.0);
    r.pre_tag = call.value("pre", std::string("<em>"));
    r.post_tag = call.value("post", std::string("</em>"));
    const auto started = std::chrono::steady_clock::now();
    const sluice::SearchResult result = index.search(r);
    const auto took = std::chrono::steady_clock::now() - started;
    Json hits = Json::array();
    for (const sluice::SearchHit& h : result.hits)
      hits.push_back({{"id", h.id},
                      {"score", h.score},
                      {"title", h.title_highlight},
                      {"snippet", h.snippet_highlight},
                      {"source", h.source}});
    return {{"total", result.total},
            {"hits", hits},
            {"took_us", std::chrono::duration_cast<std::chrono::microseconds>(took).count()}};
  }
  throw std::invalid_argument("unknown op " + op);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::string(argv[1]) != "--embedded" && std::string(argv[1]) != "--hosts")) {
    std::cerr << "usage: sluice_search_tool (--embedded DATA_DIR | --hosts URL) INDEX\n";
    return 2;
  }
  const bool embedded = std::string(argv[1]) == "--embedded";
  StderrLogger log;
  es::ClientSettings client;
  if (!embedded) client.hosts = {argv[2]};
  try {
    auto index = es::open_search_index(log, embedded ? argv[2] : "", client, embedded, argv[3]);
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      Json answer;
      try {
        answer = perform(*index, Json::parse(line));
      } catch (const std::exception& e) {
        answer = {{"error", e.what()}};
      }
      std::cout << answer.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "sluice_search_tool: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
