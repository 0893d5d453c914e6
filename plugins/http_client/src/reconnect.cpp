// The http_client source's reconnect schedule (see reconnect.hpp).
#include "reconnect.hpp"

#include <algorithm>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>

namespace sluice::http_client {
namespace {

bool digits(const std::string& s) noexcept {
  return !s.empty() && s.size() < 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

milliseconds exponential(milliseconds initial, milliseconds max, std::uint32_t n) {
  milliseconds wait = initial;
  for (std::uint32_t i = 1; i < n && wait < max; ++i) wait *= 2;
  return std::min(wait, max);
}

}  // namespace

const char* to_string(ErrorClass c) noexcept {
  switch (c) {
    case ErrorClass::Network:
      return "network";
    case ErrorClass::Http:
      return "http";
    case ErrorClass::RateLimited:
      return "rate_limited";
    case ErrorClass::Auth:
      return "auth";
  }
  return "?";
}

ErrorClass classify_status(int status) noexcept {
  if (status == 401 || status == 403) return ErrorClass::Auth;
  if (status == 420 || status == 429) return ErrorClass::RateLimited;
  return ErrorClass::Http;
}

milliseconds Backoff::failure(ErrorClass c, std::optional<milliseconds> server) {
  milliseconds wait{0};
  switch (c) {
    case ErrorClass::Network:
      ++network_;
      wait = std::min(s_.network_step * network_, s_.network_max);
      break;
    case ErrorClass::Http:
      wait = exponential(s_.http_initial, s_.http_max, ++http_);
      break;
    case ErrorClass::RateLimited:
      wait = exponential(s_.rate_limit_initial, s_.rate_limit_max, ++rate_);
      break;
    case ErrorClass::Auth:
      break;
  }
  if (server && *server > wait) wait = *server;
  return wait;
}

std::optional<milliseconds> server_wait(const std::string& retry_after, const std::string& rate_limit_reset,
                                        std::int64_t now_ms) {
  std::optional<milliseconds> out;
  auto take = [&out](std::int64_t ms) {
    const milliseconds m{std::max<std::int64_t>(ms, 0)};
    if (!out || m > *out) out = m;
  };
  if (digits(retry_after)) {
    take(std::stoll(retry_after) * 1000);
  } else if (retry_after.size() > 4 && retry_after.compare(retry_after.size() - 4, 4, " GMT") == 0) {
    // An HTTP date (IMF-fixdate ends in GMT; Poco's parser takes nearly anything for one).
    try {
      int tz = 0;
      const Poco::DateTime when =
          Poco::DateTimeParser::parse(Poco::DateTimeFormat::HTTP_FORMAT, retry_after, tz);
      take(when.timestamp().epochMicroseconds() / 1000 - now_ms);
    } catch (...) {
      // An unreadable Retry-After is ignored: the schedule's own wait applies.
    }
  }
  if (digits(rate_limit_reset)) take(std::stoll(rate_limit_reset) * 1000 - now_ms);
  return out;
}

}  // namespace sluice::http_client
