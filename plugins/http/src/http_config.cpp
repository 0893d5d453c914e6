// The http source's factory-side check: every rule of its config that needs
// nothing from the outside world, so that `sluice validate` refuses what
// `sluice run` would (listen address, TLS pair, auth, routes).
#include "http_config.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "http_source.hpp"

namespace sluice::http_source {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool host_name_or_ipv4(const std::string& host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool ipv6_literal(const std::string& host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

}  // namespace

std::optional<std::string> listen_address(const std::string& listen, std::string& why) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    why = "expected host:port (e.g. 0.0.0.0:5000 or :5000)";
    return std::nullopt;
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (!all_digits(port) || std::stoi(port) > 65535) {
    why = "the port must be a number from 0 to 65535";
    return std::nullopt;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    if (!ipv6_literal(host.substr(1, host.size() - 2))) {
      why = "expected an IPv6 address between [ and ]";
      return std::nullopt;
    }
  } else if (!host_name_or_ipv4(host)) {
    why = "expected a host name or an IP address before the port";
    return std::nullopt;
  }
  if (host.empty()) host = "0.0.0.0";  // ":5000", as the core's servers read it
  return host + ":" + std::to_string(std::stoi(port));
}

std::string route_pattern(const std::string& path) {
  // `/purchase/{item}` and `/purchase/{id}` match the same requests.
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const std::size_t close = path.find('}', i);
      if (close != std::string::npos) {
        out += "{}";
        i = close;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}

namespace {

void check_auth(const Config& auth, ConfigIssues& issues) {
  check_secret(auth, "token", issues);
  if (auth.str("type") == "basic" && !auth.has("username"))
    issues.error(auth, "", "type basic needs `username`");
}

}  // namespace

void HttpSource::check(const Config& config, ConfigIssues& issues) {
  std::string why;
  const auto listen = listen_address(config.str("listen"), why);
  if (!listen)
    issues.error(config, "listen", "invalid listen address '" + config.str("listen") + "': " + why);
  // Port 0 asks for a server of its own on a free port: nothing to share, nothing to clash.
  const bool shared = listen && listen->substr(listen->rfind(':')) != ":0";

  if (config.has("tls_certificate") != config.has("tls_private_key"))
    issues.error(config, config.has("tls_certificate") ? "tls_certificate" : "tls_private_key",
                 "tls_certificate and tls_private_key go together");
  if (config.has("auth")) check_auth(config.child("auth"), issues);

  std::set<std::string> routes;
  for (const Config& rc : config.children("routes")) {
    const std::string path = rc.str("path");
    if (path.empty() || path.front() != '/') {
      issues.error(rc, "path", "path must start with '/', got '" + path + "'");
      continue;
    }
    if (rc.has("auth")) check_auth(rc.child("auth"), issues);
    if (rc.has("required"))
      for (const std::string& f : rc.strings("required")) {
        std::string error;
        if (!FieldPath::parse(f, &error)) issues.error(rc, "required", "'" + f + "': " + error);
      }
    const std::string route = rc.str("method") + " " + route_pattern(path);
    if (!routes.insert(route).second) {
      issues.error(rc, "path",
                   "route " + rc.str("method") + " " + path + " is declared twice in this source");
      continue;
    }
    if (shared) issues.claim(rc, "path", "HTTP route " + route + " on " + *listen);
  }
}

}  // namespace sluice::http_source
