#include "runtime/tap.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace sluice::core {
namespace {

/** Header names whose values are credentials: never printed by a tap. */
bool credential_header(const std::string& name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie") return true;
  for (const char* part : {"token", "secret", "password", "passwd", "api-key", "apikey", "api_key", "auth",
                           "session", "signature"})
    if (n.find(part) != std::string::npos) return true;
  return false;
}

/** The payload as one line of JSON: its own bytes when they are (keys in their order), else a JSON string. */
std::string payload_text(const Event& event) {
  const std::string& bytes = event.payload();
  if (bytes.find_first_of("\r\n") == std::string::npos && valid_utf8(bytes) && nlohmann::json::accept(bytes))
    return bytes;
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded()) j = safe_utf8(bytes);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json headers_json(const std::vector<Header>& headers, bool redact) {
  nlohmann::json out = nlohmann::json::object();
  for (const Header& h : headers)
    out[safe_utf8(h.name)] =
        redact && credential_header(h.name) ? std::string("[redacted]") : safe_utf8(h.value);
  return out;
}

}  // namespace

std::string tap_line(const Event& event, bool with_meta) {
  if (!with_meta) return payload_text(event);
  const Metadata& m = event.meta;
  nlohmann::json meta = nlohmann::json::object();
  if (!m.source.empty()) meta["source"] = safe_utf8(m.source);
  if (!m.topic.empty()) meta["topic"] = safe_utf8(m.topic);
  if (m.partition >= 0) meta["partition"] = m.partition;
  if (m.offset >= 0) meta["offset"] = m.offset;
  if (m.key) meta["key"] = safe_utf8(*m.key);
  if (!m.headers.empty()) meta["headers"] = headers_json(m.headers, true);
  if (!m.attributes.empty()) meta["attributes"] = headers_json(m.attributes, true);
  if (!m.error.empty()) meta["error"] = safe_utf8(m.error);
  if (event.timestamp_ms != 0) meta["timestamp_ms"] = event.timestamp_ms;
  return "{\"payload\":" + payload_text(event) +
         ",\"meta\":" + meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "}";
}

// ---------------------------------------------------------------------------- TapSession

TapSession::TapSession(double rate, bool with_meta, std::size_t capacity)
    : rate_(rate),
      with_meta_(with_meta),
      capacity_(std::max<std::size_t>(capacity, 1)),
      tokens_(std::max(rate, 1.0)),
      refilled_(Clock::now()),
      polled_(refilled_) {}

bool TapSession::offer(const Batch& batch) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    if (!closed_.empty()) return false;
    if (now - polled_ > kIdleExpiry) {
      closed_ = "no poll for " + std::to_string(kIdleExpiry.count()) + " s";
      return false;
    }
    const double burst = std::max(rate_, 1.0);
    tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - refilled_).count() * rate_);
    refilled_ = now;
    if (tokens_ < 1.0) {  // the common case on a busy pipeline: nothing to copy
      skipped_rate_ += batch.size();
      return true;
    }
    for (const Event& e : batch) {
      if (tokens_ < 1.0) {
        ++skipped_rate_;
        continue;
      }
      if (lines_.size() >= capacity_) {
        ++skipped_overflow_;
        continue;
      }
      tokens_ -= 1.0;
      lines_.push_back(tap_line(e, with_meta_));
    }
    if (!lines_.empty() && on_data_) wake = std::exchange(on_data_, {});
  }
  if (wake) wake();
  return true;
}

TapTake TapSession::take(std::size_t max, std::function<void()> on_data) {
  std::lock_guard lock(mu_);
  polled_ = Clock::now();
  TapTake t;
  const std::size_t n = std::min(max, lines_.size());
  t.lines.assign(std::make_move_iterator(lines_.begin()), std::make_move_iterator(lines_.begin() + n));
  lines_.erase(lines_.begin(), lines_.begin() + n);
  t.skipped_rate = skipped_rate_;
  t.skipped_overflow = skipped_overflow_;
  t.closed = closed_;
  if (t.lines.empty() && closed_.empty()) on_data_ = std::move(on_data);
  return t;
}

void TapSession::give_back(std::vector<std::string> lines) {
  std::lock_guard lock(mu_);
  lines_.insert(lines_.begin(), std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end()));
}

void TapSession::close(const std::string& why) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (closed_.empty()) closed_ = why;
    wake = std::exchange(on_data_, {});
  }
  if (wake) wake();
}

bool TapSession::expired(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  return !closed_.empty() || now - polled_ > kIdleExpiry;
}

// ---------------------------------------------------------------------------- TapPoint

TapPoint::~TapPoint() {
  close_all("the pipeline stopped or was replaced");
}

void TapPoint::attach(std::shared_ptr<TapSession> session) {
  std::lock_guard lock(mu_);
  sessions_.push_back(std::move(session));
  listeners_.store(static_cast<int>(sessions_.size()), std::memory_order_relaxed);
}

void TapPoint::close_all(const std::string& why) {
  std::vector<std::shared_ptr<TapSession>> gone;
  {
    std::lock_guard lock(mu_);
    gone.swap(sessions_);
    listeners_.store(0, std::memory_order_relaxed);
  }
  for (auto& s : gone) s->close(why);
}

void TapPoint::offer_listening(const Batch& batch) {
  // Under the lock: attach() and close_all() are rare, and a session's wake-up only hands an
  // answer to the event loop.
  std::lock_guard lock(mu_);
  const std::size_t before = sessions_.size();
  std::erase_if(sessions_, [&](const auto& s) { return !s->offer(batch); });
  if (sessions_.size() != before)
    listeners_.store(static_cast<int>(sessions_.size()), std::memory_order_relaxed);
}

}  // namespace sluice::core
