#include "metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpu_agent {

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const ListenAddress& address) {
  const bool v6 = address.host == "::1";
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const std::string where = (v6 ? "[::1]" : address.host) + ":" + std::to_string(address.port);
  if (fd < 0) return os_error("cannot open a socket for metrics_listen " + where + ": " + std::strerror(errno), errno);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = 0;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    a.sin6_port = htons(address.port);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(address.port);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0 || ::listen(fd, 16) != 0) {
    const int e = errno;
    ::close(fd);
    return os_error("cannot listen on " + where + " ([agent] metrics_listen): " + std::strerror(e) +
                        (e == EADDRINUSE ? "; another process has that port: pick a free one" : ""),
                    e);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const uint16_t port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<MetricsServer> s(new MetricsServer(fd, port));
  s->thread_ = std::thread([p = s.get()] { p->serve(); });
  return s;
}

MetricsServer::MetricsServer(int fd, uint16_t port) : fd_(fd), port_(port) {}

MetricsServer::~MetricsServer() {
  stopping_ = true;
  ::shutdown(fd_, SHUT_RDWR);  // wakes poll()
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void MetricsServer::publish(std::string text) {
  std::lock_guard<std::mutex> lock(mutex_);
  text_ = std::move(text);
  published_ = true;
}

namespace {

void send_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string response(int status, const char* reason, const std::string& type, const std::string& body) {
  return "HTTP/1.0 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

void MetricsServer::serve() {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 1000);
    if (stopping_) break;
    if (r <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{2, 0};  // a client that sends nothing cannot hold the listener
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos && req.size() < 8192) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    const std::string line = req.substr(0, req.find_first_of("\r\n"));
    std::string answer;
    if (line.rfind("GET ", 0) != 0 && line.rfind("HEAD ", 0) != 0) {
      answer = response(405, "Method Not Allowed", "text/plain", "only GET /metrics\n");
    } else {
      const auto sp = line.find(' ');
      const std::string path = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
      if (path != "/metrics" && path.rfind("/metrics?", 0) != 0) {
        answer = response(404, "Not Found", "text/plain", "gpu-agent serves /metrics\n");
      } else {
        std::lock_guard<std::mutex> lock(mutex_);
        answer = published_ ? response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", text_)
                            : response(503, "Service Unavailable", "text/plain", "no pass has finished yet\n");
      }
      if (line.rfind("HEAD ", 0) == 0) answer = answer.substr(0, answer.find("\r\n\r\n") + 4);
    }
    send_all(c, answer);
    ::close(c);
    ++served_;
  }
}

}  // namespace gpu_agent
