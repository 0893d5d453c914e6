#include "app/admin_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timespan.h>

namespace sluice::app {
namespace {

constexpr std::size_t kMaxBody = 32u << 20;  // a /metrics page is a few hundred KB at most

}  // namespace

std::string admin_address(const CliOptions& opts) {
  std::string a = opts.admin;
  if (a.empty()) {
    const char* env = std::getenv("SLUICE_ADMIN_LISTEN");
    a = env && *env && std::string(env) != "off" ? env : "127.0.0.1:9464";
  }
  if (a.rfind("http://", 0) == 0) a = a.substr(7);
  if (!a.empty() && a.back() == '/') a.pop_back();
  if (a.rfind("0.0.0.0:", 0) == 0) a = "127.0.0.1:" + a.substr(8);
  return a;
}

AdminAnswer admin_request(const std::string& admin, const std::string& method, const std::string& path,
                          std::chrono::milliseconds timeout) {
  const auto colon = admin.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("the admin address '" + admin + "' is not HOST:PORT");
  const int port = std::atoi(admin.c_str() + colon + 1);
  if (port <= 0 || port > 65535) throw std::runtime_error("bad port in '" + admin + "'");
  std::string host = admin.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  Poco::Net::HTTPClientSession session(host, static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(static_cast<long>(timeout.count() / 1000),
                                    static_cast<long>(timeout.count() % 1000) * 1000));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (method == Poco::Net::HTTPRequest::HTTP_POST) request.setContentLength(0);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  AdminAnswer a;
  a.status = static_cast<int>(response.getStatus());
  for (const auto& [name, value] : response) {
    std::string n = name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    a.headers[n] = value;
  }
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    a.body.append(buf, static_cast<std::size_t>(in.gcount()));
    if (a.body.size() > kMaxBody) throw std::runtime_error(path + ": answer larger than 32 MiB");
  }
  return a;
}

}  // namespace sluice::app
