// Writes into the embedded index (see embedded_writer.hpp).
#include "embedded_writer.hpp"

#include <atomic>
#include <chrono>
#include <random>

namespace sluice::elasticsearch {
namespace {

/** An id for a document written without `id` (ES makes one up too): time and randomness, URL-safe. */
std::string generated_id() {
  static const char* const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t t = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
  std::uint64_t r = rng();
  std::string id;
  for (int i = 0; i < 9; ++i, t >>= 6) id.push_back(abc[t & 63]);
  for (int i = 0; i < 11; ++i, r >>= 6) id.push_back(abc[r & 63]);
  return id;
}

/** Applies one encoded item (its action line and body) to @p index. */
std::pair<Outcome, std::string> apply(SearchIndex& index, Action action, std::string_view lines) {
  const std::size_t nl = lines.find('\n');
  Json head, body;
  if (nl == std::string_view::npos || !parse_json(lines.substr(0, nl), head) || !head.is_object() ||
      head.empty())
    return {Outcome::Error, "embedded index: the item cannot be read back"};
  const Json& meta = head.begin().value();
  std::string id = meta.contains("_id") ? meta["_id"].get<std::string>() : std::string();
  if (action != Action::Delete) {
    const std::string_view rest = lines.substr(nl + 1);
    const std::size_t end = rest.find('\n');
    if (!parse_json(rest.substr(0, end), body) || !body.is_object())
      return {Outcome::Error, "embedded index: the document is not a JSON object"};
  }
  if (id.empty()) id = generated_id();
  if (id.size() > kMaxEmbeddedIdBytes)
    return {Outcome::Error, "embedded index: the id has " + std::to_string(id.size()) + " bytes, more than " +
                                std::to_string(kMaxEmbeddedIdBytes)};
  IndexResult r = IndexResult::Noop;
  switch (action) {
    case Action::Index:
      r = index.index(id, body);
      break;
    case Action::Create:
      r = index.create(id, body);  // Exists: ES answers 409, which counts as delivered
      break;
    case Action::Update:
      r = index.update(id, body.value("doc", Json::object()));
      break;
    case Action::Upsert:
      if (body.contains("upsert")) {  // create_only: the existing document keeps those fields
        r = index.update(id, body.value("doc", Json::object()));
        if (r == IndexResult::Missing) r = index.create(id, body["upsert"]);
        if (r == IndexResult::Exists)
          r = index.update(id, body.value("doc", Json::object()));  // created since
      } else {
        r = index.upsert(id, body.value("doc", Json::object()));
      }
      break;
    case Action::Delete:
      r = index.remove(id);
      break;
    case Action::Increment: {
      const Json& p = body["script"]["params"];
      std::optional<IncrementGuard> guard;
      if (p.contains("k"))
        guard =
            IncrementGuard{p["gf"].get<std::string>(), p["k"].get<std::string>(), p["s"].get<std::int64_t>()};
      r = index.increment(id, p["f"].get<std::string>(), p["by"], guard);
      break;
    }
    case Action::Script:
      return {Outcome::Error, "embedded index: scripts need a server"};
  }
  if (r == IndexResult::Missing)
    return {Outcome::Error, "404 document_missing_exception: [" + id + "]: document missing"};
  return {Outcome::Ok, std::string()};
}

}  // namespace

WriteResult write_embedded(SearchIndex& index, const Settings& settings, const BulkEncoder& encoder,
                           Batch& batch, Logger& log) {
  const std::size_t n = batch.size();
  std::vector<std::pair<Outcome, std::string>> verdicts(n, {Outcome::Ok, std::string()});
  bool all_ok = true;
  std::string lines, why;
  try {
    for (std::size_t i = 0; i < n; ++i) {
      lines.clear();
      if (!encoder.encode(batch[i], lines, why)) {
        verdicts[i] = {Outcome::Error, "elasticsearch: " + why};
        all_ok = false;
        continue;
      }
      verdicts[i] = apply(index, settings.action, lines);
      if (verdicts[i].first != Outcome::Ok) all_ok = false;
    }
    index.commit();
  } catch (const std::exception& e) {
    // Some of the batch may be applied (and, unless the failure was the commit's, made durable by a later
    // commit): sending all of it again is harmless with ids, and nothing is acknowledged before a commit.
    const std::string reason = std::string("embedded index ") + index.name() + ": " + e.what();
    log.error(reason);
    return WriteResult::retry(reason);
  }
  if (all_ok) return WriteResult::ok();
  WriteResult r;
  r.per_event = std::move(verdicts);
  return r;
}

}  // namespace sluice::elasticsearch
