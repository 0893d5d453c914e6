// The reconnect schedule by error class, after X's guidelines, with the defaults and shrunk numbers.
#include "reconnect.hpp"

#include <gtest/gtest.h>

namespace sluice::http_client {
namespace {

using std::chrono::seconds;

std::vector<long> waits(Backoff& b, ErrorClass c, int n) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<long>(b.failure(c).count()));
  return out;
}

TEST(Backoff, NetworkErrorsAreLinearBy250msUpTo16s) {
  Backoff b{BackoffSettings{}};
  const auto w = waits(b, ErrorClass::Network, 66);
  EXPECT_EQ(w[0], 250);
  EXPECT_EQ(w[1], 500);
  EXPECT_EQ(w[3], 1000);
  EXPECT_EQ(w[63], 16000);
  EXPECT_EQ(w[65], 16000);
}

TEST(Backoff, HttpErrorsDoubleFrom5sUpTo320s) {
  Backoff b{BackoffSettings{}};
  EXPECT_EQ(waits(b, ErrorClass::Http, 9),
            (std::vector<long>{5000, 10000, 20000, 40000, 80000, 160000, 320000, 320000, 320000}));
}

TEST(Backoff, RateLimitsDoubleFrom60sAndHonourTheServer) {
  Backoff b{BackoffSettings{}};
  EXPECT_EQ(b.failure(ErrorClass::RateLimited).count(), 60000);
  EXPECT_EQ(b.failure(ErrorClass::RateLimited).count(), 120000);
  // The server asks for longer than the schedule: its wait wins; shorter: the schedule's.
  EXPECT_EQ(b.failure(ErrorClass::RateLimited, milliseconds{900000}).count(), 900000);
  EXPECT_EQ(b.failure(ErrorClass::RateLimited, milliseconds{1000}).count(), 480000);
}

TEST(Backoff, ClassesCountApartAndAnAnswerResetsThem) {
  BackoffSettings s;
  s.network_step = milliseconds{10};
  s.http_initial = milliseconds{100};
  Backoff b{s};
  EXPECT_EQ(b.failure(ErrorClass::Network).count(), 10);
  EXPECT_EQ(b.failure(ErrorClass::Http).count(), 100);
  EXPECT_EQ(b.failure(ErrorClass::Network).count(), 20);
  EXPECT_EQ(b.failure(ErrorClass::Http).count(), 200);
  b.success();
  EXPECT_EQ(b.failure(ErrorClass::Network).count(), 10);
  EXPECT_EQ(b.failure(ErrorClass::Http).count(), 100);
}

TEST(Classify, StatusesByClass) {
  EXPECT_EQ(classify_status(401), ErrorClass::Auth);
  EXPECT_EQ(classify_status(403), ErrorClass::Auth);
  EXPECT_EQ(classify_status(420), ErrorClass::RateLimited);
  EXPECT_EQ(classify_status(429), ErrorClass::RateLimited);
  EXPECT_EQ(classify_status(503), ErrorClass::Http);
  EXPECT_EQ(classify_status(404), ErrorClass::Http);
}

TEST(ServerWait, RetryAfterSecondsDateAndRateLimitReset) {
  const std::int64_t now = 1'700'000'000'000;
  EXPECT_EQ(server_wait("120", "", now), milliseconds{120000});
  EXPECT_EQ(server_wait("", "1700000030", now), milliseconds{30000});
  EXPECT_EQ(server_wait("10", "1700000030", now), milliseconds{30000});  // the longer of the two
  EXPECT_EQ(server_wait("", "1600000000", now), milliseconds{0});        // a reset in the past: now
  EXPECT_EQ(server_wait("Tue, 14 Nov 2023 22:14:20 GMT", "", now), milliseconds{60000});
  EXPECT_FALSE(server_wait("", "", now));
  EXPECT_FALSE(server_wait("soon", "later", now));
}

}  // namespace
}  // namespace sluice::http_client
