// The http_client source's schema table, its factory-side check and the
// parsing of a checked config into Settings.
#include "client_settings.hpp"

#include <sstream>

#include <Poco/Base64Encoder.h>
#include <Poco/URI.h>

namespace sluice::http_client {
namespace {

const Schema& auth_schema() {
  static const Schema s = [] {
    SchemaBuilder b;
    b.option("type", OptionType::Enum)
        .choices({"bearer", "basic", "header"})
        .required()
        .doc(
            "`bearer`: `Authorization: Bearer <token>` (X's app-only token); `basic`: user name and "
            "password; `header`: the token as the value of the header named `header`.")
        .option("username", OptionType::String)
        .doc("User name for `basic`.")
        .option("header", OptionType::String)
        .doc("Header name for `header` (e.g. `X-API-Key`).");
    secret_options(b, "token", "The bearer token, the password (`basic`) or the header's value");
    return b.build();
  }();
  return s;
}

std::string base64(const std::string& text) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.rdbuf()->setLineLength(0);
  enc << text;
  enc.close();
  return out.str();
}

bool valid_url(const std::string& url, std::string& why) {
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "http" && uri.getScheme() != "https") {
      why = "expected an http:// or https:// URL";
      return false;
    }
    if (uri.getHost().empty()) {
      why = "the URL has no host";
      return false;
    }
    if (!uri.getUserInfo().empty()) {
      why = "put credentials under `auth`, not in the URL";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    why = safe_utf8(e.what());
    return false;
  }
}

bool token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool valid_header_name(const std::string& name) noexcept {
  if (name.empty()) return false;
  for (char c : name)
    if (!token_char(c)) return false;
  return true;
}

bool valid_header_value(const std::string& value) noexcept {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

}  // namespace

const Schema& source_schema() {
  static const Schema s =
      SchemaBuilder()
          .option("url", OptionType::String)
          .required()
          .doc("The http:// or https:// URL to request.")
          .option("method", OptionType::Enum)
          .choices({"GET", "POST"})
          .def("GET")
          .doc("Request method.")
          .option("query", OptionType::StringMap)
          .doc("Query parameters added to the URL (encoded here), e.g. X's `tweet.fields`.")
          .option("headers", OptionType::StringMap)
          .doc("Request headers. Credentials go under `auth`, where they are kept out of logs.")
          .option("body", OptionType::String)
          .doc("Request body (with `method: POST`).")
          .option("content_type", OptionType::String)
          .def("application/json")
          .doc("Content-Type of `body`.")
          .option("auth", OptionType::Object)
          .nested(auth_schema())
          .doc("Credentials sent with every request; never logged.")
          .option("mode", OptionType::Enum)
          .choices({"stream", "poll"})
          .def("stream")
          .doc(
              "`stream`: one long-lived response, cut into events as bytes arrive, reconnected when it "
              "ends, fails or stalls; `poll`: one request every `interval`.")
          .option("framing", OptionType::Enum)
          .choices({"ndjson", "sse", "json_array", "none"})
          .doc(
              "How a body becomes events. `ndjson`: one per line (`\\r\\n` or `\\n`; blank keep-alive lines "
              "ignored); `sse`: Server-Sent Events, one per `data:`; `json_array` (poll): one per element; "
              "`none` (poll): the whole body. Default: `ndjson` for stream, `none` for poll.")
          .option("payload", OptionType::Enum)
          .choices({"json", "text"})
          .def("json")
          .doc(
              "`json`: each record must be JSON (else it goes to the dead-letter sink); `text`: the record "
              "becomes the field `message`.")
          .option("errors", OptionType::Enum)
          .choices({"log", "dead_letter", "emit"})
          .def("log")
          .doc(
              "An in-band error object (`{\"errors\": [...]}` without `data`, as X sends in its streams): "
              "`log` logs and counts it, `dead_letter` sends it to the dead-letter sink, `emit` passes it on "
              "as an event.")
          .option("stall_timeout", OptionType::Duration)
          .def("90s")
          .range(1, std::nullopt)
          .doc(
              "stream: no byte (keep-alives included) for this long closes the connection and reconnects. "
              "X sends a keep-alive every 20 s.")
          .option("interval", OptionType::Duration)
          .def("60s")
          .range(1, std::nullopt)
          .doc("poll: time between the starts of two requests.")
          .option("connect_timeout", OptionType::Duration)
          .def("10s")
          .range(1, std::nullopt)
          .doc("Connecting, TLS and sending the request.")
          .option("response_timeout", OptionType::Duration)
          .def("30s")
          .range(1, std::nullopt)
          .doc("Waiting for the answer's head; in poll mode for each read of the body.")
          .option("max_record", OptionType::Size)
          .def("1MiB")
          .range(1, std::nullopt)
          .doc("Longest line (ndjson) or event (sse); a longer one is skipped, logged and counted.")
          .option("max_body", OptionType::Size)
          .def("16MiB")
          .range(1, std::nullopt)
          .doc("poll: longest body; a longer answer is an error (nothing of it is emitted).")
          .option("batch_size", OptionType::Int)
          .def("100")
          .range(1, 100000)
          .doc("Most events handed to the pipeline at once.")
          .option("network_backoff_step", OptionType::Duration)
          .def("250ms")
          .range(0, std::nullopt)
          .doc("Network errors and stalls: the n-th reconnect in a row waits n × this ...")
          .option("network_backoff_max", OptionType::Duration)
          .def("16s")
          .range(0, std::nullopt)
          .doc("... up to this.")
          .option("http_backoff_initial", OptionType::Duration)
          .def("5s")
          .range(0, std::nullopt)
          .doc("HTTP errors (5xx, 4xx other than 401/403/420/429): the first wait, doubled each time ...")
          .option("http_backoff_max", OptionType::Duration)
          .def("320s")
          .range(0, std::nullopt)
          .doc("... up to this.")
          .option("rate_limit_backoff_initial", OptionType::Duration)
          .def("60s")
          .range(0, std::nullopt)
          .doc(
              "420/429: the first wait, doubled each time up to `rate_limit_backoff_max`; never shorter than "
              "the server's `Retry-After` or `x-rate-limit-reset`.")
          .option("rate_limit_backoff_max", OptionType::Duration)
          .def("960s")
          .range(0, std::nullopt)
          .doc("Largest wait of the 420/429 schedule (the server's own wait is honoured when longer).")
          .option("tls_ca_file", OptionType::String)
          .doc("PEM file of the CA(s) that sign the server's certificate (https). Default: the system's.")
          .option("tls_verify", OptionType::Bool)
          .def("true")
          .doc("Verify the server's certificate and name. Turn off only for a test server.")
          .build();
  return s;
}

void check_source(const Config& config, ConfigIssues& issues) {
  std::string why;
  if (!valid_url(config.str("url"), why)) issues.error(config, "url", why);
  const std::string mode = config.str("mode");
  if (config.has("framing")) {
    const std::string f = config.str("framing");
    if (mode == "stream" && (f == "json_array" || f == "none"))
      issues.error(config, "framing", "framing " + f + " is for mode poll (a stream takes ndjson or sse)");
  }
  if (config.has("body") && config.str("method") != "POST")
    issues.error(config, "body", "a `body` needs `method: POST`");
  if (config.has("headers")) {
    for (const auto& [name, value] : config.string_map("headers")) {
      if (!valid_header_name(name))
        issues.error(config, "headers", "`" + safe_utf8(name) + "` is not a header name");
      else if (!valid_header_value(value))
        issues.error(config, "headers", "the value of " + name + " holds CR, LF or NUL");
      else if (iequals(name, "Authorization"))
        issues.error(config, "headers", "put credentials under `auth` (kept out of logs), not in `headers`");
    }
  }
  if (config.has("auth")) {
    const Config auth = config.child("auth");
    check_secret(auth, "token", issues);
    const std::string type = auth.str("type");
    if (type == "basic" && !auth.has("username")) issues.error(auth, "", "type basic needs `username`");
    if (type != "basic" && auth.has("username"))
      issues.error(auth, "username", "`username` is for type basic");
    if (type == "header" && !auth.has("header")) issues.error(auth, "", "type header needs `header`");
    if (type != "header" && auth.has("header")) issues.error(auth, "header", "`header` is for type header");
    if (auth.has("header") && !valid_header_name(auth.str("header")))
      issues.error(auth, "header", "not a header name");
  }
  if (config.duration("network_backoff_step") > config.duration("network_backoff_max"))
    issues.error(config, "network_backoff_step", "longer than network_backoff_max");
  if (config.duration("http_backoff_initial") > config.duration("http_backoff_max"))
    issues.error(config, "http_backoff_initial", "longer than http_backoff_max");
  if (config.duration("rate_limit_backoff_initial") > config.duration("rate_limit_backoff_max"))
    issues.error(config, "rate_limit_backoff_initial", "longer than rate_limit_backoff_max");
}

Settings load_settings(const Config& config) {
  Settings s;
  RequestSettings& r = s.request;
  Poco::URI uri(config.str("url"));
  if (config.has("query"))
    for (const auto& [name, value] : config.string_map("query")) uri.addQueryParameter(name, value);
  r.url = uri.toString();
  r.method = config.str("method");
  if (config.has("headers"))
    for (auto& [name, value] : config.string_map("headers")) r.headers.emplace_back(name, value);
  if (config.has("body")) r.body = config.str("body");
  r.content_type = config.str("content_type");
  if (config.has("auth")) {
    const Config auth = config.child("auth");
    const std::string type = auth.str("type");
    const std::string secret = read_secret(auth, "token");
    if (type == "basic") {
      r.auth_header = "Authorization";
      r.auth_value = "Basic " + base64(auth.str("username") + ":" + secret);
    } else if (type == "header") {
      r.auth_header = auth.str("header");
      r.auth_value = secret;
    } else {
      r.auth_header = "Authorization";
      r.auth_value = "Bearer " + secret;
    }
    if (!valid_header_value(r.auth_value))
      throw std::runtime_error(auth.where("token") + ": the token holds CR, LF or NUL");
  }
  r.connect_timeout = config.duration("connect_timeout");
  r.response_timeout = config.duration("response_timeout");
  if (config.has("tls_ca_file")) r.tls_ca_file = config.str("tls_ca_file");
  r.tls_verify = config.boolean("tls_verify");

  s.mode = config.str("mode") == "poll" ? Mode::Poll : Mode::Stream;
  const std::string framing = config.has("framing") ? config.str("framing") : "";
  if (framing == "sse")
    s.framing = Framing::Sse;
  else if (framing == "json_array")
    s.framing = Framing::JsonArray;
  else if (framing == "none" || (framing.empty() && s.mode == Mode::Poll))
    s.framing = Framing::Whole;
  else
    s.framing = Framing::Ndjson;
  s.payload = config.str("payload") == "text" ? PayloadKind::Text : PayloadKind::Json;
  const std::string errors = config.str("errors");
  s.errors = errors == "dead_letter" ? InBandErrors::DeadLetter
             : errors == "emit"      ? InBandErrors::Emit
                                     : InBandErrors::Log;
  s.stall_timeout = config.duration("stall_timeout");
  s.interval = config.duration("interval");
  s.max_record = config.size("max_record");
  s.max_body = config.size("max_body");
  s.batch_size = static_cast<std::size_t>(config.integer("batch_size"));
  BackoffSettings& b = s.backoff;
  b.network_step = config.duration("network_backoff_step");
  b.network_max = config.duration("network_backoff_max");
  b.http_initial = config.duration("http_backoff_initial");
  b.http_max = config.duration("http_backoff_max");
  b.rate_limit_initial = config.duration("rate_limit_backoff_initial");
  b.rate_limit_max = config.duration("rate_limit_backoff_max");
  return s;
}

}  // namespace sluice::http_client
