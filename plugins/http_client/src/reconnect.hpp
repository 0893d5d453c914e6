#pragma once
// When the http_client source tries again, by the class of what went wrong,
// after X's published reconnect guidelines for its streams: network errors
// (refused, reset, cut, stalled) back off linearly, HTTP errors and rate limits
// exponentially, and a refusal of the credentials stops the source. Every number
// comes from the config; nothing here sleeps or reads a clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::http_client {

using std::chrono::milliseconds;

/** What went wrong with one connection or request. */
enum class ErrorClass : std::uint8_t {
  Network,      ///< no answer, cut short, stalled
  Http,         ///< an HTTP status the server may stop answering (5xx, other 4xx)
  RateLimited,  ///< 420 or 429
  Auth,         ///< 401 or 403: the credentials are refused; retrying would only hammer the server
};

/** The class's name, as metrics and logs spell it ("network", "http", "rate_limited", "auth"). */
const char* to_string(ErrorClass c) noexcept;

/** The class of an HTTP status that is not 2xx or 304. */
ErrorClass classify_status(int status) noexcept;

/** The schedule's numbers (the config's). */
struct BackoffSettings {
  milliseconds network_step{250};  ///< network: step, 2 × step, ... up to network_max
  milliseconds network_max{16000};
  milliseconds http_initial{5000};  ///< HTTP errors: initial, doubling up to http_max
  milliseconds http_max{320000};
  milliseconds rate_limit_initial{60000};  ///< 420/429: initial, doubling up to rate_limit_max
  milliseconds rate_limit_max{960000};
};

/**
 * Consecutive failures per class, and the wait each one calls for. A connection
 * that the server accepted (a 2xx or 304 answer) resets every class.
 */
class Backoff {
 public:
  explicit Backoff(BackoffSettings settings) : s_(settings) {}
  /**
   * The wait before the next attempt after a failure of class @p c (never called for
   * Auth). @p server_wait is what the server asked for (Retry-After, x-rate-limit-reset):
   * the wait is never shorter than that.
   */
  milliseconds failure(ErrorClass c, std::optional<milliseconds> server_wait = std::nullopt);
  /** The server answered: the next failure starts each schedule again. */
  void success() noexcept { network_ = http_ = rate_ = 0; }

 private:
  BackoffSettings s_;
  std::uint32_t network_ = 0, http_ = 0, rate_ = 0;
};

/**
 * The wait a 420/429/503 answer asks for: `Retry-After` (seconds or an HTTP date) or
 * `x-rate-limit-reset` (epoch seconds of the reset, X's header), the longer of the two;
 * nullopt when neither is given or readable. @p now_ms: the current time (ms since the epoch).
 */
std::optional<milliseconds> server_wait(const std::string& retry_after, const std::string& rate_limit_reset,
                                        std::int64_t now_ms);

}  // namespace sluice::http_client
