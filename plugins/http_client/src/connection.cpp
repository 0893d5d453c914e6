// The http_client source's HTTP exchange (see connection.hpp).
#include "connection.hpp"

#include <sys/socket.h>

#include <istream>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>

namespace sluice::http_client {
namespace {

Poco::Timespan span(std::chrono::milliseconds d) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(d.count()) * 1000);
}

}  // namespace

Tls::Tls(const RequestSettings& s) {
  Poco::Net::initializeSSL();
  initialized_ = true;
  // STRICT, not RELAXED: with RELAXED Poco skips the name check for a host it takes for the local one
  // (localhost, 127.0.0.1). For a client both verify the chain; STRICT checks the name everywhere.
  const auto mode = s.tls_verify ? Poco::Net::Context::VERIFY_STRICT : Poco::Net::Context::VERIFY_NONE;
  context_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", s.tls_ca_file, mode, 9,
                                    s.tls_ca_file.empty(), "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH");
  context_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
}

Tls::~Tls() {
  context_ = nullptr;
  if (initialized_) Poco::Net::uninitializeSSL();
}

Connection::Connection(const RequestSettings& settings, const Tls* tls) : settings_(settings), tls_(tls) {}

Connection::~Connection() {
  std::lock_guard lock(mu_);
  fd_ = -1;
  body_ = nullptr;
  response_.reset();
  session_.reset();
}

void Connection::abort() noexcept {
  aborted_.store(true);
  std::lock_guard lock(mu_);
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

bool Connection::open(const std::vector<std::pair<std::string, std::string>>& extra, ResponseHead& head,
                      std::string& error) {
  try {
    const Poco::URI uri(settings_.url);
    if (uri.getScheme() == "https")
      session_ =
          std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls_->context());
    else
      session_ = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    session_->setTimeout(span(settings_.connect_timeout), span(settings_.connect_timeout),
                         span(settings_.response_timeout));
    session_->setKeepAlive(false);
    std::string target = uri.getPathAndQuery();
    if (target.empty()) target = "/";
    Poco::Net::HTTPRequest req(settings_.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("User-Agent", "sluice-http_client");
    for (const auto& [name, value] : settings_.headers) req.set(name, value);
    for (const auto& [name, value] : extra) req.set(name, value);
    if (!settings_.auth_header.empty()) req.set(settings_.auth_header, settings_.auth_value);
    if (settings_.method == "POST") {
      req.setContentType(settings_.content_type);
      req.setContentLength(static_cast<std::streamsize>(settings_.body.size()));
    }
    if (aborted_.load()) {
      error = "stopping";
      return false;
    }
    std::ostream& os = session_->sendRequest(req);
    os << settings_.body;
    os.flush();
    {
      std::lock_guard lock(mu_);
      fd_ = session_->socket().impl()->sockfd();
    }
    if (aborted_.load()) abort();
    response_ = std::make_unique<Poco::Net::HTTPResponse>();
    body_ = &session_->receiveResponse(*response_);
    head.status = static_cast<int>(response_->getStatus());
    head.reason = safe_utf8(response_->getReason());
    head.retry_after = response_->get("Retry-After", "");
    head.rate_limit_reset = response_->get("x-rate-limit-reset", "");
    head.etag = response_->get("ETag", "");
    head.content_type = response_->get("Content-Type", "");
    return true;
  } catch (const Poco::TimeoutException&) {
    error = "no answer within the timeout";
  } catch (const Poco::Exception& e) {
    error = safe_utf8(e.displayText());
  } catch (const std::exception& e) {
    error = safe_utf8(e.what());
  }
  {
    // Poco closes the socket when an exchange fails: its number may be reused by then.
    std::lock_guard lock(mu_);
    fd_ = -1;
  }
  if (aborted_.load()) error = "stopping";
  return false;
}

ReadEnd Connection::read(std::string& out, std::size_t max, std::chrono::milliseconds timeout,
                         std::string& error) {
  if (body_ == nullptr || aborted_.load()) return ReadEnd::Eof;
  try {
    session_->socket().setReceiveTimeout(span(timeout));
    // The stream buffer's underflow reads once from the socket (what one receive delivers);
    // its buffer is then taken whole, without waiting for more.
    std::streambuf* sb = body_->rdbuf();
    if (sb->sgetc() == std::char_traits<char>::eof()) return ReadEnd::Eof;
    const std::streamsize avail =
        std::min<std::streamsize>(sb->in_avail(), static_cast<std::streamsize>(max));
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(std::max<std::streamsize>(avail, 1)));
    const std::streamsize n = sb->sgetn(out.data() + at, std::max<std::streamsize>(avail, 1));
    out.resize(at + static_cast<std::size_t>(std::max<std::streamsize>(n, 0)));
    return ReadEnd::Data;
  } catch (const Poco::TimeoutException&) {
    return aborted_.load() ? ReadEnd::Eof : ReadEnd::Stall;
  } catch (const Poco::Exception& e) {
    error = safe_utf8(e.displayText());
  } catch (const std::exception& e) {
    error = safe_utf8(e.what());
  }
  return aborted_.load() ? ReadEnd::Eof : ReadEnd::Error;
}

}  // namespace sluice::http_client
