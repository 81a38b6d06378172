#include "loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cstring>
#include <stdexcept>

namespace loopback {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return s;
}

int listen_on_loopback(std::uint16_t& port, int backlog = 16) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

int listen_on_ipv6_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket(AF_INET6) failed");
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen on [::1] failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin6_port);
  return fd;
}

// Wait for fd to become readable, giving up when asked to stop.
bool wait_readable(int fd, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 50);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
  return false;
}

}  // namespace

int Conn::read_some(char* buf, int len) {
  if (ssl_ && SSL_pending(ssl_) > 0) return SSL_read(ssl_, buf, len);
  if (!wait_readable(fd_, stop_)) return -1;
  return ssl_ ? SSL_read(ssl_, buf, len) : static_cast<int>(::recv(fd_, buf, static_cast<size_t>(len), 0));
}

std::optional<std::string> Conn::read_request() {
  for (;;) {
    const auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t body = 0;
      const std::string head = pending_.substr(0, end + 4);
      const std::string length = header_of(head, "Content-Length");
      if (!length.empty()) body = std::stoul(length);
      if (pending_.size() >= end + 4 + body) {
        std::string request = pending_.substr(0, end + 4 + body);
        pending_.erase(0, end + 4 + body);
        return request;
      }
    }
    char buf[4096];
    const int n = read_some(buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

bool Conn::write(const std::string& data) {
  if (ssl_) return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
  std::size_t off = 0;
  while (off < data.size()) {
    const auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

void Conn::hold() {
  char buf[4096];
  while (wait_readable(fd_, stop_)) {
    if (::recv(fd_, buf, sizeof buf, 0) <= 0) return;  // peer closed
  }
}

Server::Server(Handler handler, std::optional<Tls> tls, bool ipv6) : handler_(std::move(handler)), ipv6_(ipv6) {
  if (tls) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ctx_ || SSL_CTX_use_certificate_chain_file(ctx_, tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ctx_) SSL_CTX_free(ctx_);
      throw std::runtime_error("test TLS server: cannot load " + tls->cert_file);
    }
  }
  listen_fd_ = ipv6 ? listen_on_ipv6_loopback(port_) : listen_on_loopback(port_);
  thread_ = std::thread([this] { run(); });
}

Server::~Server() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  if (ctx_) SSL_CTX_free(ctx_);
}

std::string Server::url() const {
  return std::string(ctx_ ? "https" : "http") + (ipv6_ ? "://[::1]:" : "://127.0.0.1:") + std::to_string(port_);
}

void Server::record(const std::string& request) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(request);
}

std::vector<std::string> Server::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string Server::last_sni() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_sni_;
}

void Server::run() {
  while (wait_readable(listen_fd_, stop_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int index = connections_++;
    SSL* ssl = nullptr;
    bool ok = true;
    if (ctx_) {
      ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      // The handshake blocks; a client that gives up closes the socket.
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ok = SSL_accept(ssl) == 1;
      ERR_clear_error();
    }
    Conn conn(fd, ssl, stop_);
    if (ssl) {
      const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      std::lock_guard<std::mutex> lock(mu_);
      last_sni_ = name ? name : "";
    }
    if (ok) handler_(*this, conn, index);
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
}

FullBacklog::FullBacklog() {
  listen_fd_ = listen_on_loopback(port_, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS is expected
    fillers_.push_back(fd);
  }
  ::usleep(100 * 1000);  // let the handshakes that can complete do so
}

FullBacklog::~FullBacklog() {
  for (int fd : fillers_) ::close(fd);
  ::close(listen_fd_);
}

std::uint16_t closed_port() {
  std::uint16_t port = 0;
  const int fd = listen_on_loopback(port);
  ::close(fd);
  return port;
}

std::string response(int status, const std::string& reason, const std::string& body, const std::string& extra_headers,
                     const std::string& version) {
  return version + " " + std::to_string(status) + " " + reason + "\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string header_of(const std::string& request, const std::string& name) {
  const std::string needle = "\r\n" + lower(name) + ":";
  const std::string low = lower(request);
  const auto at = low.find(needle);
  if (at == std::string::npos) return {};
  auto start = at + needle.size();
  while (start < request.size() && request[start] == ' ') ++start;
  const auto end = request.find("\r\n", start);
  return request.substr(start, end - start);
}

std::string request_line(const std::string& request) {
  const auto end = request.find(" HTTP/");
  return request.substr(0, end);
}

}  // namespace loopback
