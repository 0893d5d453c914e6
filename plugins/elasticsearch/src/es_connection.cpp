#include "es_connection.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/Base64Encoder.h>
#include <Poco/URI.h>

namespace sluice::elasticsearch {
namespace {

const Schema& auth_schema() {
  static const Schema s = [] {
    SchemaBuilder b;
    b.option("type", OptionType::Enum)
        .choices({"basic", "api_key", "bearer"})
        .required()
        .doc(
            "`basic`: user name and password; `api_key`: `Authorization: ApiKey <key>` (the base64 "
            "`id:key` Elasticsearch returns as `encoded`); `bearer`: `Authorization: Bearer <token>`.")
        .option("username", OptionType::String)
        .doc("User name for `basic`.");
    secret_options(b, "token", "The password (`basic`), the encoded API key, or the bearer token");
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

bool valid_host(const std::string& url, std::string& why) {
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "http" && uri.getScheme() != "https") {
      why = "expected an http:// or https:// URL, or `embedded`";
      return false;
    }
    if (uri.getHost().empty()) {
      why = "the URL has no host";
      return false;
    }
    if (!uri.getQuery().empty() || !uri.getFragment().empty()) {
      why = "a host URL takes no query or fragment";
      return false;
    }
    if (!uri.getUserInfo().empty()) {
      why = "put credentials under `auth`, not in the URL";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    why = e.what();
    return false;
  }
}

}  // namespace

SchemaBuilder& connection_options(SchemaBuilder& b) {
  return b.option("auth", OptionType::Object)
      .nested(auth_schema())
      .doc("Credentials sent with every request to the servers.")
      .option("tls_ca_file", OptionType::String)
      .doc("PEM file of the CA(s) that sign the servers' certificates (https). Default: the system's.")
      .option("tls_certificate", OptionType::String)
      .doc("Client certificate (PEM) shown to the servers, with `tls_private_key`.")
      .option("tls_private_key", OptionType::String)
      .doc("Client private key (PEM).")
      .option("tls_verify", OptionType::Bool)
      .def("true")
      .doc("Verify the servers' certificates and names. Turn off only for a test node.");
}

std::vector<std::string> host_list(const Config& config) {
  std::vector<std::string> out;
  for (const std::string& entry : config.strings("hosts")) {
    std::stringstream in(entry);
    for (std::string h; std::getline(in, h, ',');) {
      const auto b = h.find_first_not_of(' ');
      const auto e = h.find_last_not_of(' ');
      if (b != std::string::npos) out.push_back(h.substr(b, e - b + 1));
    }
  }
  return out;
}

bool is_embedded(const std::vector<std::string>& hosts) {
  return hosts.size() == 1 && hosts[0] == kEmbeddedHost;
}

void check_connection(const Config& config, ConfigIssues& issues) {
  const auto hosts = host_list(config);
  if (hosts.empty()) issues.error(config, "hosts", "the list is empty");
  if (std::find(hosts.begin(), hosts.end(), kEmbeddedHost) != hosts.end()) {
    if (hosts.size() != 1)
      issues.error(config, "hosts", "`embedded` is the embedded index: it cannot be mixed with servers");
  } else {
    for (const std::string& h : hosts) {
      std::string why;
      if (!valid_host(h, why)) issues.error(config, "hosts", "invalid host '" + safe_utf8(h) + "': " + why);
    }
  }
  if (config.has("auth")) {
    const Config auth = config.child("auth");
    check_secret(auth, "token", issues);
    if (auth.str("type") == "basic" && !auth.has("username"))
      issues.error(auth, "", "type basic needs `username`");
    if (auth.str("type") != "basic" && auth.has("username"))
      issues.error(auth, "username", "`username` is for type basic");
  }
  if (config.has("tls_certificate") != config.has("tls_private_key"))
    issues.error(config, config.has("tls_certificate") ? "tls_certificate" : "tls_private_key",
                 "tls_certificate and tls_private_key go together");
}

void read_connection(const Config& config, ClientSettings& c) {
  c.hosts = host_list(config);
  if (config.has("tls_ca_file")) c.tls_ca_file = config.str("tls_ca_file");
  if (config.has("tls_certificate")) c.tls_certificate = config.str("tls_certificate");
  if (config.has("tls_private_key")) c.tls_private_key = config.str("tls_private_key");
  c.tls_verify = config.boolean("tls_verify");
  if (config.has("auth")) {
    const Config auth = config.child("auth");
    const std::string type = auth.str("type");
    const std::string secret = read_secret(auth, "token");
    if (type == "basic")
      c.authorization = "Basic " + base64(auth.str("username") + ":" + secret);
    else if (type == "api_key")
      c.authorization = "ApiKey " + secret;
    else
      c.authorization = "Bearer " + secret;
  }
}

}  // namespace sluice::elasticsearch
