#pragma once
// A small synchronous HTTP/1.1 client (Boost.Beast over plain TCP or OpenSSL
// TLS) for one endpoint. Every step has a deadline; a connection is reused
// while the server keeps it alive and replaced transparently when it did not.
// Beast and Asio stay out of this header: only http_client.cpp sees them.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"
#include "url.h"

namespace gpu_agent::http {

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

struct Options {
  // resolve + TCP connect + TLS handshake, each step on its own
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // write the request; read the response (each step on its own)
  std::chrono::milliseconds io_timeout{std::chrono::seconds(30)};
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::string cafile;     // PEM bundle; empty = the system CA store
  bool insecure = false;  // skip certificate and host-name verification
  std::string user_agent = "gpu-placement-agent";
  // Asked every 50 ms while a request waits (and before one starts): true
  // abandons it at once with ErrorKind::unreachable ("cancelled"), whatever
  // the timeouts. The daemon's stop signal; unset, requests run to their deadlines.
  std::function<bool()> cancelled;
  // Debug trace of each exchange ("> GET url", redacted headers, "< 200").
  std::function<void(std::string_view)> trace;
};

struct Response {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;

  // First header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

// Counters for benchmarks and tests.
struct ClientStats {
  std::uint64_t requests = 0;     // requests put on the wire, retries included
  std::uint64_t connections = 0;  // connections established
  std::uint64_t reused = 0;       // requests sent on an already open connection
  std::uint64_t resent = 0;       // requests sent a second time on a new connection
};

// GET, HEAD, PUT, DELETE, OPTIONS: safe to send again when a reused connection
// died after the request was on the wire (RFC 9110 9.2.2).
bool is_idempotent(std::string_view method);

// Header value as it may appear in logs: credentials are replaced by "***".
std::string redacted_value(std::string_view name, std::string_view value);

class Client {
 public:
  // Fails on a bad URL or an unreadable cafile; no network traffic yet.
  static Result<std::unique_ptr<Client>> create(std::string_view base_url, Options options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // target: path (+ query) below the URL's base path, starting with '/'.
  // Only transport failures are errors; any HTTP status is a Response.
  Result<Response> request(std::string_view method, std::string_view target, const Headers& headers = {},
                           std::string_view body = {});

  const Url& url() const;
  const Options& options() const;
  const ClientStats& stats() const;
  // Drop the connection (e.g. before a fork, or to test reconnects).
  void close();

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpu_agent::http
