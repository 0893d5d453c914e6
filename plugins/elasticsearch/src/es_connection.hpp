#pragma once
// How a plugin reaches a search index: `hosts` (server URLs, or `embedded`), `auth` and
// the `tls_*` options. One schema fragment, one check and one reader for every plugin
// that opens an index (the elasticsearch sink, the srp), in libsluice-search.
#include <string>
#include <vector>

#include <sluice/sdk.hpp>

#include "es_client_settings.hpp"

namespace sluice::elasticsearch {

/** The `hosts` value that means the embedded index. */
inline constexpr const char* kEmbeddedHost = "embedded";

/** Declares `auth`, `tls_ca_file`, `tls_certificate`, `tls_private_key` and `tls_verify` on @p b. */
SchemaBuilder& connection_options(SchemaBuilder& b);

/** `hosts` as written: a list, or strings that may hold several URLs separated by commas. */
std::vector<std::string> host_list(const Config& config);

/** True when @p hosts is the embedded index (`embedded`, alone). */
bool is_embedded(const std::vector<std::string>& hosts);

/**
 * Checks `hosts` (not empty; `embedded` alone; every other one an http(s) URL with a host,
 * without credentials, query or fragment), `auth` (one secret; `username` for basic only)
 * and the TLS pair.
 */
void check_connection(const Config& config, ConfigIssues& issues);

/**
 * Reads `hosts`, `auth` (into the Authorization header's value; its secret is read now and
 * a missing one throws EnvironmentError) and the TLS options into @p c.
 */
void read_connection(const Config& config, ClientSettings& c);

}  // namespace sluice::elasticsearch
