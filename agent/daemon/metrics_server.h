#pragma once
// The optional loopback listener ([agent] metrics_listen = 127.0.0.1:PORT):
// GET /metrics answers the text the daemon rendered after its last pass, for a
// Prometheus or an agent on the same host that scrapes instead of reading the
// textfile. One thread, one connection at a time, HTTP/1.0 with
// Connection: close; anything but GET /metrics is 404 (405 for other methods).
// Loopback only: the metrics are not authenticated.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "listen_address.h"
#include "result.h"

namespace gpu_agent {

class MetricsServer {
 public:
  // Binds and starts serving (before the first pass: 503 "no pass yet").
  // Errors: the address is taken or cannot be bound (ErrorKind::io, naming it).
  static Result<std::unique_ptr<MetricsServer>> start(const ListenAddress& address);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void publish(std::string text);          // what GET /metrics answers from now on
  uint16_t port() const { return port_; }  // the bound port (useful with port 0)
  uint64_t served() const { return served_; }

 private:
  MetricsServer(int fd, uint16_t port);
  void serve();
  int fd_;
  uint16_t port_;
  std::mutex mutex_;
  std::string text_;
  bool published_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> served_{0};
  std::thread thread_;
};

}  // namespace gpu_agent
