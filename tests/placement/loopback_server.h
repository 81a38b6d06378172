#pragma once
// Tiny scripted servers on 127.0.0.1 for the failure modes a real Placement
// will not produce on demand: silence, garbage, HTML 500s, oversized bodies,
// connections dropped at awkward moments, TLS with chosen certificates.
// Plain POSIX sockets and OpenSSL, one connection at a time, on a thread.
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace loopback {

// Servers listen on 127.0.0.1, or on [::1] when asked.
// One accepted connection: plain, or TLS when the server has a certificate.
class Conn {
 public:
  Conn(int fd, SSL* ssl, const std::atomic<bool>& stop) : fd_(fd), ssl_(ssl), stop_(stop) {}
  // The next request (head + Content-Length body), or nullopt on EOF/error/stop.
  std::optional<std::string> read_request();
  bool write(const std::string& data);
  // Wait, without answering, until the peer goes away or the server stops.
  void hold();
  std::string sni;  // server name the client sent (TLS only)

 private:
  int read_some(char* buf, int len);
  int fd_;
  SSL* ssl_;
  const std::atomic<bool>& stop_;
  std::string pending_;
};

class Server {
 public:
  // handler(server, conn, index): index counts accepted connections from 0.
  using Handler = std::function<void(Server&, Conn&, int)>;
  struct Tls {
    std::string cert_file;
    std::string key_file;
  };
  explicit Server(Handler handler, std::optional<Tls> tls = std::nullopt, bool ipv6 = false);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;
  int connections() const { return connections_.load(); }
  // Requests seen by handlers that call record().
  void record(const std::string& request);
  std::vector<std::string> requests() const;
  std::string last_sni() const;

 private:
  void run();
  Handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  bool ipv6_ = false;
  SSL_CTX* ctx_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::string last_sni_;
  std::thread thread_;
};

// A listener on 127.0.0.1 that never accepts, its queue filled up front:
// Linux drops further SYNs, so a new connect() hangs like a black-holed host.
class FullBacklog {
 public:
  FullBacklog();
  ~FullBacklog();
  FullBacklog(const FullBacklog&) = delete;
  FullBacklog& operator=(const FullBacklog&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
std::uint16_t closed_port();

// "HTTP/1.1 <status>" response with Content-Length; extra = more header lines.
std::string response(int status, const std::string& reason, const std::string& body,
                     const std::string& extra_headers = "Content-Type: application/json\r\n",
                     const std::string& version = "HTTP/1.1");

// Value of a header in a raw request ("" if absent), case-insensitive name.
std::string header_of(const std::string& request, const std::string& name);
// "GET /x HTTP/1.1" -> "GET /x"
std::string request_line(const std::string& request);

}  // namespace loopback
