// Bulk responses (see bulk_response.hpp).
#include "bulk_response.hpp"

namespace sluice::elasticsearch {

const char* const kBulkFilterPath =
    "errors,items.*.status,items.*.result,items.*.error.type,items.*.error.reason,"
    "items.*.error.caused_by.type,items.*.error.caused_by.reason";

namespace {

/**
 * The common answer, read without building a DOM: an object whose `items` array holds, for every
 * item, `{"<verb>": {"status": 2xx, ...}}` with no `error`. Anything else (a failed item, a
 * malformed or unusual body) makes it give up, and the full reader decides: it alone writes
 * reasons and refusals, so both readers cannot disagree on them.
 */
class FastReader final : public nlohmann::json_sax<Json> {
 public:
  FastReader(std::string_view verb, std::size_t expected, std::vector<ItemVerdict>& out)
      : verb_(verb), expected_(expected), out_(out) {}

  /** True when @p body is such an answer for exactly @p expected items (all Ok, in @p out). */
  bool read(std::string_view body) {
    // nlohmann's lexer takes a NUL byte for the end of the input.
    if (body.find('\0') != std::string_view::npos) return false;
    out_.reserve(expected_);
    if (!Json::sax_parse(body.begin(), body.end(), this, nlohmann::json::input_format_t::json, true))
      return false;
    return items_seen_ && out_.size() == expected_;
  }

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t v) override { return number(static_cast<int>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<int>(v)); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return false; }

  bool start_object(std::size_t) override {
    if (!open()) return false;
    if (in_items_ && depth_ == 3) {  // an item
      item_keys_ = 0;
    } else if (in_items_ && depth_ == 4) {  // its result (key() let only the verb through)
      status_ = -1;
      key_ = Key::Other;
    }
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      key_ = k == "items" ? Key::Items : Key::Other;
    } else if (depth_ == 3 && in_items_) {
      if (++item_keys_ > 1 || k != verb_) return false;
      key_ = Key::Verb;
    } else if (depth_ == 4 && in_items_) {
      if (k == "error") return false;
      key_ = k == "status" ? Key::Status : Key::Other;
    }
    return true;
  }
  bool end_object() override {
    if (depth_ == 4 && in_items_) {
      if (status_ < 200 || status_ >= 300 || out_.size() == expected_) return false;
      out_.push_back(ItemVerdict{Outcome::Ok, status_, {}});
    } else if (depth_ == 3 && in_items_ && item_keys_ != 1) {
      return false;
    }
    return close();
  }
  bool start_array(std::size_t) override {
    if (!open()) return false;
    if (depth_ == 1) return false;  // the answer must be an object
    if (depth_ == 2 && key_ == Key::Items) {
      if (items_seen_) return false;
      items_seen_ = in_items_ = true;
      return true;
    }
    return !(in_items_ && depth_ <= 4);  // an item, or an item's result, that is an array
  }
  bool end_array() override {
    if (depth_ == 2 && in_items_) in_items_ = false;
    return close();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Key { Other, Items, Verb, Status };

  bool open() { return ++depth_ <= static_cast<int>(kMaxJsonDepth); }
  bool close() {
    --depth_;
    return true;
  }
  /** A scalar value at the current depth (depth_ counts the containers around it). */
  bool scalar() {
    if (depth_ == 0) return false;                                // the answer must be an object
    if (depth_ == 1 && key_ == Key::Items) return false;          // items is not an array
    if (in_items_ && (depth_ == 2 || depth_ == 3)) return false;  // an item, or its result, not an object
    if (in_items_ && depth_ == 4 && key_ == Key::Status) return false;  // a status that is not an integer
    return true;
  }
  bool number(int v) {
    if (in_items_ && depth_ == 4 && key_ == Key::Status) {
      status_ = v;
      key_ = Key::Other;
      return true;
    }
    return scalar();
  }

  std::string_view verb_;
  std::size_t expected_;
  int depth_ = 0;
  Key key_ = Key::Other;
  bool items_seen_ = false;
  bool in_items_ = false;
  int item_keys_ = 0;
  int status_ = -1;
  std::vector<ItemVerdict>& out_;
};

}  // namespace

bool parse_bulk_response(std::string_view body, std::size_t items, Action action, bool external_version,
                         std::vector<ItemVerdict>& out, std::string& why) {
  out.clear();
  if (FastReader(bulk_verb(action), items, out).read(body)) return true;
  return parse_bulk_response_full(body, items, action, external_version, out, why);
}

bool parse_bulk_response_full(std::string_view body, std::size_t items, Action action, bool external_version,
                              std::vector<ItemVerdict>& out, std::string& why) {
  out.clear();
  Json j;
  if (!parse_json(body, j, &why)) {
    why = "the bulk response is not JSON: " + why;
    return false;
  }
  if (!j.is_object()) {
    why = "the bulk response is not a JSON object";
    return false;
  }
  auto list = j.find("items");
  if (list == j.end() || !list->is_array()) {
    why = "the bulk response has no items";
    return false;
  }
  if (list->size() != items) {
    why = "the bulk response has " + std::to_string(list->size()) + " items for " + std::to_string(items) +
          " in the request";
    return false;
  }
  const std::string verb = bulk_verb(action);
  out.reserve(items);
  for (const Json& item : *list) {
    if (!item.is_object() || item.size() != 1 || item.begin().key() != verb || !item.begin()->is_object()) {
      why = "a bulk response item is not a `" + verb + "` result";
      out.clear();
      return false;
    }
    const Json& r = *item.begin();
    auto st = r.find("status");
    if (st == r.end() || !st->is_number_integer()) {
      why = "a bulk response item has no status";
      out.clear();
      return false;
    }
    ItemVerdict v;
    v.status = st->get<int>();
    const int s = v.status;
    bool ok = s >= 200 && s < 300;
    if (s == 409 && (action == Action::Create || external_version)) ok = true;
    if (s == 404 && action == Action::Delete && r.find("error") == r.end()) ok = true;
    if (!ok) {
      auto err = r.find("error");
      v.reason =
          std::to_string(s) + " " + (err != r.end() ? error_text(*err) : std::string("(no error given)"));
      v.outcome = (s == 429 || s == 408 || s == 409 || s >= 500) ? Outcome::Retry : Outcome::Error;
    }
    out.push_back(std::move(v));
  }
  return true;
}

}  // namespace sluice::elasticsearch
