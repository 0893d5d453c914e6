#pragma once
// The http source's factory-side check (HttpSource::check, in http_config.cpp) and its helpers.
#include <optional>
#include <string>

namespace sluice::http_source {

/**
 * @p listen ("host:port", ":port", "[v6]:port") as the key the core's servers use
 * ("0.0.0.0:5000" for ":5000"), read without resolving anything; nullopt with
 * @p why when it is not an address.
 */
std::optional<std::string> listen_address(const std::string& listen, std::string& why);

/** @p path with every `{param}` segment written `{}`: the routes two paths clash on. */
std::string route_pattern(const std::string& path);

}  // namespace sluice::http_source
