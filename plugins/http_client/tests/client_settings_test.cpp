// The source's config rules through the real loader and validation (what `sluice validate` says),
// and the request its settings make (credentials in one header, never elsewhere).
#include "client_settings.hpp"

#include <cstdlib>

#include <sluice/testing.hpp>

#include <gtest/gtest.h>

namespace sluice::http_client {
namespace {

/** The diagnostics of starting a pipeline whose source has @p options ("" when it starts). */
std::string diagnostics(const std::string& options) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  const std::string yaml =
      "pipelines:\n  p:\n    source:\n      type: http_client\n" +
      std::string(options.find("url:") == std::string::npos ? "      url: http://127.0.0.1:9/stream\n" : "") +
      options + "    sinks: [{type: capture}]\n";
  try {
    h.start(yaml);
  } catch (const std::exception& e) {
    return e.what();
  }
  h.stop(std::chrono::milliseconds(100));
  return "";
}

void expect_refused(const std::string& options, const std::string& message) {
  const std::string d = diagnostics(options);
  EXPECT_NE(d.find(message), std::string::npos) << "options:\n" << options << "diagnostics:\n" << d;
}

TEST(HttpClientSettings, RefusedConfigs) {
  expect_refused("      url: ftp://x/\n", "expected an http:// or https:// URL");
  expect_refused("      url: http://u:p@x/\n", "put credentials under `auth`");
  expect_refused("      framing: json_array\n", "is for mode poll");
  expect_refused("      body: x\n", "a `body` needs `method: POST`");
  expect_refused("      headers: {Authorization: Bearer x}\n", "put credentials under `auth`");
  expect_refused("      headers: {\"a b\": x}\n", "is not a header name");
  expect_refused("      auth: {type: basic, token: x}\n", "type basic needs `username`");
  expect_refused("      auth: {type: header, token: x}\n", "type header needs `header`");
  expect_refused("      auth: {type: bearer, token: x, token_env: Y}\n", "token");
  expect_refused("      network_backoff_step: 20s\n", "longer than network_backoff_max");
  expect_refused("      stall_timeout: 0s\n", "stall_timeout");
  expect_refused("      no_such_option: 1\n", "no_such_option");
}

TEST(HttpClientSettings, AValidConfigStarts) {
  EXPECT_EQ(diagnostics("      auth: {type: bearer, token: abc}\n      stall_timeout: 5s\n"), "");
  EXPECT_EQ(diagnostics("      mode: poll\n      framing: json_array\n      interval: 1s\n"), "");
}

TEST(HttpClientSettings, CredentialsAndQuery) {
  ::setenv("SLUICE_HTTP_CLIENT_TEST_TOKEN", "s3cr3t", 1);
  const std::string yaml =
      "url: https://api.example.com/2/tweets/search/stream\n"
      "query: {tweet.fields: \"created_at,lang\"}\n"
      "auth: {type: bearer, token_env: SLUICE_HTTP_CLIENT_TEST_TOKEN}\n"
      "mode: stream\nmethod: GET\ncontent_type: application/json\nmode: stream\npayload: json\n"
      "errors: log\nstall_timeout: 90s\ninterval: 60s\nconnect_timeout: 10s\nresponse_timeout: 30s\n"
      "max_record: 1MiB\nmax_body: 16MiB\nbatch_size: 100\nnetwork_backoff_step: 250ms\n"
      "network_backoff_max: 16s\nhttp_backoff_initial: 5s\nhttp_backoff_max: 320s\n"
      "rate_limit_backoff_initial: 60s\nrate_limit_backoff_max: 960s\ntls_verify: true\n";
  const Settings s = load_settings(Config(YAML::Load(yaml), "t.yaml", "source"));
  EXPECT_EQ(s.request.url, "https://api.example.com/2/tweets/search/stream?tweet.fields=created_at%2Clang");
  EXPECT_EQ(s.request.auth_header, "Authorization");
  EXPECT_EQ(s.request.auth_value, "Bearer s3cr3t");
  EXPECT_EQ(s.framing, Framing::Ndjson);
  EXPECT_EQ(s.backoff.rate_limit_initial, milliseconds{60000});
  ::unsetenv("SLUICE_HTTP_CLIENT_TEST_TOKEN");
}

}  // namespace
}  // namespace sluice::http_client
