#pragma once
// Implementation of sluice::HttpServers on Poco::Net::HTTPServer.
#include <memory>

#include "sluice/http.hpp"

namespace sluice::core {

class HttpServersImpl : public HttpServers {
 public:
  HttpServersImpl();
  ~HttpServersImpl() override;
  std::unique_ptr<HttpRegistration> add(const HttpServerOptions& options, std::vector<HttpRoute> routes) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sluice::core
