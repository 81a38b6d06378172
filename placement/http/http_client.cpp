#include "http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace gpu_agent::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  std::string frac = std::to_string(ms % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  while (frac.back() == '0') frac.pop_back();
  return std::to_string(ms / 1000) + "." + frac + " s";
}

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && (s.size() < 2 || !(s[1] >= 'A' && s[1] <= 'Z')))
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

// The peer went away: what a server closing an idle keep-alive connection
// looks like from the client, on TCP or under TLS.
bool is_connection_drop(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

// Step failure -> words an operator can act on.
std::string describe(const error_code& ec, std::chrono::milliseconds timeout, std::size_t body_limit) {
  if (ec == beast::error::timeout) return "timed out after " + seconds_text(timeout);
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset by server";
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof)
    return "server closed the connection without a response";
  if (ec == ssl::error::stream_truncated) return "TLS stream truncated (server closed without close_notify)";
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) return "host not found";
  if (ec == bhttp::error::body_limit) return "response body larger than " + std::to_string(body_limit) + " bytes";
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
    return "malformed HTTP response (" + ec.message() + ")";
  return lower_first(ec.message());
}

int errno_of(const error_code& ec) {
  if (ec == beast::error::timeout) return ETIMEDOUT;
  return ec.category() == boost::system::system_category() ? ec.value() : 0;
}

// No usable answer (resolve, connect, TLS, a timeout, a broken stream): try again later.
Error transport_error(std::string message, const error_code& ec) {
  Error e = make_error(ErrorKind::unreachable, std::move(message));
  e.os_errno = errno_of(ec);
  return e;
}

// A move-only completion handler behind one virtual call. With it the TCP
// and TLS streams' read_some/write_some are compiled for a single handler
// type, instead of once per Beast operation that drives them.
class ErasedHandler {
 public:
  template <typename Handler>
  explicit ErasedHandler(Handler&& handler)
      : impl_(std::make_unique<Impl<std::decay_t<Handler>>>(std::forward<Handler>(handler))) {}
  void operator()(const error_code& ec, std::size_t n) {
    auto impl = std::move(impl_);  // single use, like any completion handler
    impl->call(ec, n);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void call(const error_code& ec, std::size_t n) = 0;
  };
  template <typename Handler>
  struct Impl final : Base {
    template <typename H>
    explicit Impl(H&& h) : handler(std::forward<H>(h)) {}
    void call(const error_code& ec, std::size_t n) override { std::move(handler)(ec, n); }
    Handler handler;
  };
  std::unique_ptr<Base> impl_;
};

// Plain TCP or TLS behind one stream type, so Beast's HTTP read and write
// templates (the bulk of this file's compile time) are instantiated once.
// Handlers lose their associated executor on the way through; everything
// runs on the client's one io_context, so the I/O object's executor is it.
class AnyStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  AnyStream(beast::tcp_stream* plain, ssl::stream<beast::tcp_stream>* tls) : plain_(plain), tls_(tls) {}
  executor_type get_executor() { return plain_ ? plain_->get_executor() : tls_->get_executor(); }

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    read_some({asio::buffer_sequence_begin(buffers), asio::buffer_sequence_end(buffers)},
              ErasedHandler(std::forward<Handler>(handler)));
  }
  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    write_some({asio::buffer_sequence_begin(buffers), asio::buffer_sequence_end(buffers)},
               ErasedHandler(std::forward<Handler>(handler)));
  }

 private:
  void read_some(std::vector<asio::mutable_buffer> buffers, ErasedHandler handler) {
    if (plain_) {
      plain_->async_read_some(std::move(buffers), std::move(handler));
    } else {
      tls_->async_read_some(std::move(buffers), std::move(handler));
    }
  }
  void write_some(std::vector<asio::const_buffer> buffers, ErasedHandler handler) {
    if (plain_) {
      plain_->async_write_some(std::move(buffers), std::move(handler));
    } else {
      tls_->async_write_some(std::move(buffers), std::move(handler));
    }
  }
  beast::tcp_stream* plain_;
  ssl::stream<beast::tcp_stream>* tls_;
};

}  // namespace

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

std::string redacted_value(std::string_view name, std::string_view value) {
  for (std::string_view secret : {"X-Auth-Token", "X-Subject-Token", "X-Service-Token", "Authorization",
                                  "Proxy-Authorization", "Cookie", "Set-Cookie"}) {
    if (iequals(name, secret)) return "***";
  }
  return std::string(value);
}

std::string Response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

struct Client::Impl {
  Url url;
  Options options;
  ClientStats stats;
  asio::io_context ioc;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  int verify_error = X509_V_OK;  // set by the verify callback
  bool cancel_seen = false;      // options.cancelled said yes during this request

  bool connected() const { return plain.has_value() || tls.has_value(); }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void trace(std::string_view line) const {
    if (options.trace) options.trace(line);
  }

  // Drive one asynchronous operation to completion on our own io_context:
  // the tcp_stream's expiry (set by the caller) bounds how long this takes.
  template <typename Start>
  error_code run(Start&& start) {
    error_code result = asio::error::would_block;
    start([&result](const error_code& ec, auto&&...) { result = ec; });
    ioc.restart();
    if (!options.cancelled) {
      ioc.run();
      return result;
    }
    // The same, looking up every 50 ms: a cancel closes the socket, which
    // completes the operation with operation_aborted.
    while (!ioc.stopped()) {
      ioc.run_for(std::chrono::milliseconds(50));
      if (!ioc.stopped() && !cancel_seen && options.cancelled()) {
        cancel_seen = true;
        error_code ignored;
        if (connected()) lowest().socket().close(ignored);
      }
    }
    return cancel_seen ? error_code(asio::error::operation_aborted) : result;
  }

  bool cancel_requested() {
    if (!cancel_seen && options.cancelled && options.cancelled()) cancel_seen = true;
    return cancel_seen;
  }

  Error cancelled_error(const std::string& what) const {
    Error e = make_error(ErrorKind::unreachable, what + ": cancelled (stop requested)");
    e.os_errno = ECANCELED;
    return e;
  }

  Error step_error(std::string what, const error_code& ec, std::chrono::milliseconds timeout) const {
    return transport_error(what + ": " + describe(ec, timeout, options.max_body_bytes), ec);
  }

  Result<tcp::resolver::results_type> resolve() {
    error_code ec;
    const auto address = asio::ip::make_address(url.host, ec);
    if (!ec)
      return tcp::resolver::results_type::create(tcp::endpoint(address, url.port), url.host, std::to_string(url.port));
    // getaddrinfo cannot be cancelled or given a deadline. Run it on a
    // thread of its own and stop waiting at the timeout: a lookup that hangs
    // then finishes (or not) on that thread, never on our io_context, so it
    // cannot hold up a later call.
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      error_code ec;
      tcp::resolver::results_type results;
    };
    auto state = std::make_shared<State>();
    std::thread([state, host = url.host, port = std::to_string(url.port)] {
      asio::io_context local;
      tcp::resolver resolver(local);
      error_code e;
      auto results = resolver.resolve(host, port, e);
      std::lock_guard<std::mutex> lock(state->mu);
      state->done = true;
      state->ec = e;
      state->results = std::move(results);
      state->cv.notify_all();
    }).detach();
    const std::string what = "resolve " + url.host + " for " + url.origin();
    std::unique_lock<std::mutex> lock(state->mu);
    const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
    while (!state->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return state->done; })) {
      if (cancel_requested()) return cancelled_error(what);
      if (std::chrono::steady_clock::now() >= deadline)
        return step_error(what, beast::error::timeout, options.connect_timeout);
    }
    if (state->ec) return step_error(what, state->ec, options.connect_timeout);
    return state->results;
  }

  Result<bool> connect() {
    auto endpoints = resolve();
    if (!endpoints) return endpoints.error();
    buffer.clear();
    verify_error = X509_V_OK;
    if (url.tls()) {
      tls.emplace(ioc, tls_ctx);
    } else {
      plain.emplace(ioc);
    }
    auto& tcp_layer = lowest();
    tcp_layer.expires_after(options.connect_timeout);
    const auto ec = run([&](auto handler) { tcp_layer.async_connect(*endpoints, handler); });
    if (cancel_seen) {
      drop();
      return cancelled_error("connect to " + url.origin());
    }
    if (ec) {
      drop();
      return step_error("connect to " + url.origin(), ec, options.connect_timeout);
    }
    tcp_layer.socket().set_option(tcp::no_delay(true));
    ++stats.connections;
    if (!tls) return true;

    SSL* handle = tls->native_handle();
    if (!url.host_is_ip_literal()) {
      // SNI; the SSL_set_tlsext_host_name macro hides a C cast, so call what it expands to.
      SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(url.host.c_str()));
    }
    if (!options.insecure) {
      tls->set_verify_mode(ssl::verify_peer);
      // host_name_verification checks the leaf against the URL's host (DNS name
      // or IP literal). It does not say why it refused, so record that for the error.
      tls->set_verify_callback(
          [this, check = ssl::host_name_verification(url.host)](bool preverified, ssl::verify_context& ctx) {
            X509_STORE_CTX* store = ctx.native_handle();
            if (!preverified) {
              if (verify_error == X509_V_OK) verify_error = X509_STORE_CTX_get_error(store);
              return false;
            }
            if (check(preverified, ctx)) return true;
            verify_error = url.host_is_ip_literal() ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH;
            X509_STORE_CTX_set_error(store, verify_error);
            return false;
          });
    } else {
      tls->set_verify_mode(ssl::verify_none);
    }
    tcp_layer.expires_after(options.connect_timeout);
    const auto hec = run([&](auto handler) { tls->async_handshake(ssl::stream_base::client, handler); });
    if (cancel_seen) {
      drop();
      return cancelled_error("TLS handshake with " + url.origin());
    }
    if (hec) {
      std::string what = "TLS handshake with " + url.origin();
      std::string detail = describe(hec, options.connect_timeout, options.max_body_bytes);
      if (verify_error != X509_V_OK) {
        detail = "certificate verify failed (" + std::string(X509_verify_cert_error_string(verify_error)) + ")";
      }
      drop();
      return transport_error(what + ": " + detail, hec);
    }
    return true;
  }

  void drop() {
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  // Polite close. Under TLS, send close_notify and wait briefly for the
  // peer's. stream_truncated (peer closed TCP without close_notify) and eof
  // are benign here: every response we used was delimited by Content-Length
  // or chunked framing, so a missing close_notify cannot have cut off data
  // we accepted; it only matters for bodies delimited by connection close.
  void close_connection() {
    if (tls) {
      auto& tcp_layer = lowest();
      tcp_layer.expires_after(std::min(options.io_timeout, std::chrono::milliseconds(1000)));
      run([&](auto handler) { tls->async_shutdown(handler); });
    }
    if (connected()) {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().socket().close(ignored);
    }
    drop();
  }

  // A keep-alive connection the server has since closed (or that has stray
  // bytes waiting) must not carry the next request: peek without blocking.
  bool still_open() {
    if (buffer.size() != 0) return false;
    auto& sock = lowest().socket();
    error_code ec;
    sock.non_blocking(true, ec);
    if (ec) return false;
    char byte = 0;
    const auto n = sock.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    error_code ignored;
    sock.non_blocking(false, ignored);
    (void)n;
    return ec == asio::error::would_block;
  }

  struct Attempt {
    std::optional<Response> response;
    error_code ec;
    std::string step;
    bool fully_sent = false;
    bool got_bytes = false;
    bool keep_alive = false;
  };

  Attempt exchange(bhttp::request<bhttp::string_body>& req, const std::string& full_url) {
    Attempt a;
    AnyStream stream(plain ? &*plain : nullptr, tls ? &*tls : nullptr);
    auto& tcp_layer = lowest();
    tcp_layer.expires_after(options.io_timeout);
    a.ec = run([&](auto handler) { bhttp::async_write(stream, req, handler); });
    if (a.ec) {
      a.step = "send request to " + full_url;
      return a;
    }
    a.fully_sent = true;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    if (req.method() == bhttp::verb::head) parser.skip(true);
    // One deadline for the whole response. The header is read on its own
    // because Beast 1.74's eager parser loses the body_limit error for a
    // Content-Length over the limit (on_body_init clears it), so that case
    // is checked here; chunked and read-to-EOF bodies are limited by Beast.
    tcp_layer.expires_after(options.io_timeout);
    a.ec = run([&](auto handler) { bhttp::async_read_header(stream, buffer, parser, handler); });
    if (!a.ec && parser.content_length() && *parser.content_length() > options.max_body_bytes) {
      a.ec = bhttp::error::body_limit;
    }
    if (!a.ec && !parser.is_done()) {
      a.ec = run([&](auto handler) { bhttp::async_read(stream, buffer, parser, handler); });
    }
    a.got_bytes = parser.got_some();
    if (a.ec) {
      a.step = "read response from " + full_url;
      return a;
    }
    auto msg = parser.release();
    Response res;
    res.status = static_cast<int>(msg.result_int());
    res.reason = std::string(msg.reason());
    for (const auto& field : msg) res.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    res.body = std::move(msg.body());
    a.keep_alive = msg.keep_alive();
    a.response = std::move(res);
    return a;
  }

  Result<Response> request(std::string_view method, std::string_view target, const Headers& headers,
                           std::string_view body) {
    if (target.empty() || target.front() != '/') return make_error("request target must start with '/'");
    const std::string full_url = url.full(target);
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(url.base_path + std::string(target));
    req.set(bhttp::field::host, url.host_header());
    req.set(bhttp::field::user_agent, options.user_agent);
    for (const auto& h : headers) req.set(beast::string_view(h.name.data(), h.name.size()), h.value);
    req.body() = std::string(body);
    if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") req.prepare_payload();

    cancel_seen = false;
    if (cancel_requested()) return cancelled_error(std::string(method) + " " + full_url);
    for (int attempt = 0;; ++attempt) {
      if (connected() && !still_open()) {
        trace("* server closed the idle connection; reconnecting");
        close_connection();
      }
      const bool reused = connected();
      if (!reused) {
        auto c = connect();
        if (!c) return c.error();
      } else {
        ++stats.reused;
      }
      if (options.trace) {
        trace("> " + std::string(method) + " " + full_url + (reused ? " (reused connection)" : ""));
        for (const auto& h : headers) trace("> " + h.name + ": " + redacted_value(h.name, h.value));
        if (!body.empty()) trace("> (" + std::to_string(body.size()) + " byte body)");
      }
      ++stats.requests;
      const auto start = std::chrono::steady_clock::now();
      Attempt a = exchange(req, full_url);
      if (a.response) {
        if (options.trace) {
          const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                start);
          trace("< " + std::to_string(a.response->status) + " " + a.response->reason + " (" +
                std::to_string(a.response->body.size()) + " bytes, " + std::to_string(ms.count()) + " ms)");
        }
        if (!a.keep_alive) close_connection();
        return std::move(*a.response);
      }
      drop();
      if (cancel_seen) return cancelled_error(a.step);
      // A reused connection that died before any byte of the answer most
      // likely raced the server's idle close. Sending again is safe if the
      // request never fully left, or if repeating it cannot do harm.
      const bool stale = reused && !a.got_bytes && is_connection_drop(a.ec);
      if (attempt == 0 && stale && (!a.fully_sent || is_idempotent(method))) {
        trace("* connection dropped before a response; sending again on a new connection");
        ++stats.resent;
        continue;
      }
      Error e = step_error(a.step, a.ec, options.io_timeout);
      if (stale && a.fully_sent) {
        e.message += " (not resent: " + std::string(method) + " is not idempotent and may have been applied)";
      }
      return e;
    }
  }
};

Result<std::unique_ptr<Client>> Client::create(std::string_view base_url, Options options) {
  auto url = parse_url(base_url);
  if (!url) return url.error();
  if (options.connect_timeout.count() <= 0 || options.io_timeout.count() <= 0)
    return make_error(ErrorKind::bad_config, "HTTP timeouts must be positive");
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(*url);
  impl->options = std::move(options);
  if (impl->url.tls()) {
    auto& ctx = impl->tls_ctx;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (!impl->options.cafile.empty()) {
      ctx.load_verify_file(impl->options.cafile, ec);
      if (ec)
        return make_error(ErrorKind::bad_config,
                          "cafile " + impl->options.cafile + ": cannot load CA certificates (" + ec.message() + ")");
    } else {
      ctx.set_default_verify_paths(ec);
      if (ec) return make_error("cannot load the system CA store (" + ec.message() + ")");
    }
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() {
  if (impl_ && impl_->connected()) impl_->close_connection();
}

Result<Response> Client::request(std::string_view method, std::string_view target, const Headers& headers,
                                 std::string_view body) {
  return impl_->request(method, target, headers, body);
}

const Url& Client::url() const { return impl_->url; }
const Options& Client::options() const { return impl_->options; }
const ClientStats& Client::stats() const { return impl_->stats; }
void Client::close() {
  if (impl_->connected()) impl_->close_connection();
}

}  // namespace gpu_agent::http
