// The http_client source's splitters (see framing.hpp).
#include "framing.hpp"

#include <algorithm>

namespace sluice::http_client {
namespace {

/** Bytes an SSE line may hold beyond max_event: the field name, its colon and space. */
constexpr std::size_t kFieldRoom = 64;

bool blank(std::string_view line) noexcept {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

FeedResult LineSplitter::feed(std::string_view bytes, std::vector<Record>& out) {
  FeedResult r;
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    if (!skipping_) {
      if (line_.size() + piece.size() > max_line_ + 1) {
        // Over the bound (a `\r` before the `\n` is allowed beyond it): drop what is held and the
        // rest of this line.
        skipping_ = true;
        line_.clear();
        ++r.oversize;
      } else {
        line_.append(piece);
      }
    }
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    if (!skipping_) {
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      if (line_.size() > max_line_) {
        ++r.oversize;
      } else if (blank(line_)) {
        ++r.keepalives;
      } else {
        out.push_back(Record{std::move(line_), {}, {}});
      }
    }
    line_.clear();
    skipping_ = false;
  }
  return r;
}

std::size_t LineSplitter::reset() {
  const std::size_t held = line_.size();
  line_.clear();
  skipping_ = false;
  return held;
}

void SseSplitter::line(std::string_view text, std::vector<Record>& out, FeedResult& r) {
  if (text.empty()) {
    // Dispatch: the id buffer becomes the stream's last event id (what a reconnect sends back,
    // so an id line of an event cut by a disconnect never counts); an event needs data; its
    // type and the data buffer reset either way.
    last_id_ = id_buffer_;
    if (has_data_ && !oversize_) {
      if (!data_.empty() && data_.back() == '\n') data_.pop_back();
      out.push_back(Record{std::move(data_), std::move(event_), last_id_});
    }
    data_.clear();
    event_.clear();
    has_data_ = false;
    oversize_ = false;
    return;
  }
  if (text.front() == ':') {
    ++r.keepalives;
    return;
  }
  const std::size_t colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (oversize_) return;
    if (data_.size() + value.size() + 1 > max_event_) {
      oversize_ = true;
      has_data_ = true;
      data_.clear();
      ++r.oversize;
      return;
    }
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  }
}

FeedResult SseSplitter::feed(std::string_view bytes, std::vector<Record>& out) {
  FeedResult r;
  for (std::size_t i = 0; i < bytes.size();) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[i] == '\n') {
        ++i;
        continue;
      }
    }
    std::size_t end = i;
    while (end < bytes.size() && bytes[end] != '\n' && bytes[end] != '\r') ++end;
    const std::string_view piece = bytes.substr(i, end - i);
    if (!skipping_) {
      if (line_.size() + piece.size() > max_event_ + kFieldRoom) {
        // A line longer than an event may be (with its field name): its event is dropped.
        skipping_ = true;
        line_.clear();
        if (!oversize_) ++r.oversize;
        oversize_ = true;
        has_data_ = true;
      } else {
        line_.append(piece);
      }
    }
    if (end == bytes.size()) break;
    after_cr_ = bytes[end] == '\r';
    i = end + 1;
    if (skipping_) {
      skipping_ = false;
    } else {
      line(line_, out, r);
    }
    line_.clear();
  }
  return r;
}

std::size_t SseSplitter::reset() {
  const std::size_t held = line_.size() + data_.size();
  line_.clear();
  data_.clear();
  event_.clear();
  id_buffer_ = last_id_;  // an id line of the cut event does not count
  has_data_ = false;
  oversize_ = false;
  skipping_ = false;
  after_cr_ = false;
  return held;
}

}  // namespace sluice::http_client
