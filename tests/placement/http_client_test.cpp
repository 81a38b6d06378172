// http::Client against scripted loopback servers: timeouts, refused
// connections, garbage, body limits, keep-alive reuse and safe resends.
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <thread>

#include "http_client.h"
#include "lab.h"
#include "loopback_server.h"

using namespace gpu_agent::http;
using namespace std::chrono_literals;
using loopback::Conn;
using loopback::Server;

namespace {

std::unique_ptr<Client> make(const std::string& url, Options options = {}) {
  auto c = Client::create(url, std::move(options));
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(*c);
}

Options fast(std::chrono::milliseconds timeout) {
  Options o;
  o.connect_timeout = timeout;
  o.io_timeout = timeout;
  return o;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Answers every request on a connection with 200 and a small JSON body.
void keep_alive_ok(Server& server, Conn& conn) {
  while (auto req = conn.read_request()) {
    server.record(*req);
    if (!conn.write(loopback::response(200, "OK", R"({"ok":true})"))) return;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(refused_connection_is_named_and_quick) {
  const auto port = loopback::closed_port();
  auto client = make("http://127.0.0.1:" + std::to_string(port));
  const auto start = std::chrono::steady_clock::now();
  auto r = client->request("GET", "/");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "connect to http://127.0.0.1:" + std::to_string(port) + ": connection refused");
  BOOST_TEST(r.error().os_errno == ECONNREFUSED);
  BOOST_TEST(lab::seconds_since(start) < 1.0);
}

BOOST_AUTO_TEST_CASE(unanswered_connect_times_out) {
  loopback::FullBacklog blackhole;
  auto client = make("http://127.0.0.1:" + std::to_string(blackhole.port()), fast(300ms));
  const auto start = std::chrono::steady_clock::now();
  auto r = client->request("GET", "/");
  const double took = lab::seconds_since(start);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message ==
             "connect to http://127.0.0.1:" + std::to_string(blackhole.port()) + ": timed out after 0.3 s");
  BOOST_TEST(took >= 0.25);
  BOOST_TEST(took < 2.0);
}

BOOST_AUTO_TEST_CASE(silent_server_times_out_on_read) {
  Server server([](Server&, Conn& conn, int) {
    conn.read_request();
    conn.hold();  // accept, read, never answer
  });
  auto client = make(server.url(), fast(300ms));
  const auto start = std::chrono::steady_clock::now();
  auto r = client->request("GET", "/resource_providers");
  const double took = lab::seconds_since(start);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "read response from " + server.url() + "/resource_providers: timed out after 0.3 s");
  BOOST_TEST(r.error().os_errno == ETIMEDOUT);
  BOOST_TEST(took >= 0.25);
  BOOST_TEST(took < 2.0);
}

BOOST_AUTO_TEST_CASE(silent_server_times_out_the_tls_handshake) {
  Server server([](Server&, Conn& conn, int) { conn.hold(); });  // plain TCP: no ServerHello ever
  auto client = make("https://127.0.0.1:" + std::to_string(server.port()), fast(300ms));
  const auto start = std::chrono::steady_clock::now();
  auto r = client->request("GET", "/");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message ==
             "TLS handshake with https://127.0.0.1:" + std::to_string(server.port()) + ": timed out after 0.3 s");
  BOOST_TEST(lab::seconds_since(start) < 2.0);
}

BOOST_AUTO_TEST_CASE(garbage_is_a_malformed_response) {
  Server server([](Server&, Conn& conn, int) {
    conn.read_request();
    conn.write("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n");
  });
  auto client = make(server.url(), fast(2s));
  auto r = client->request("GET", "/");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "read response from " + server.url() + "/: malformed HTTP response ("),
             r.error().message);
}

BOOST_AUTO_TEST_CASE(oversized_body_is_refused) {
  Server server([](Server&, Conn& conn, int) {
    conn.read_request();
    conn.write(loopback::response(200, "OK", std::string(5000, 'x')));
  });
  Options o = fast(2s);
  o.max_body_bytes = 1000;
  auto client = make(server.url(), o);
  auto r = client->request("GET", "/big");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "read response from " + server.url() + "/big: response body larger than 1000 bytes");

  // Chunked and read-to-close bodies have no length up front.
  for (const std::string& framing :
       {"Transfer-Encoding: chunked\r\n\r\n1388\r\n" + std::string(5000, 'x') + "\r\n0\r\n\r\n",
        "Connection: close\r\n\r\n" + std::string(5000, 'x')}) {
    Server other([framing](Server&, Conn& conn, int) {
      conn.read_request();
      conn.write("HTTP/1.1 200 OK\r\n" + framing);
    });
    auto c = make(other.url(), o);
    auto big = c->request("GET", "/big");
    BOOST_TEST_REQUIRE(!big.ok(), framing.substr(0, 30));
    BOOST_TEST(big.error().message ==
               "read response from " + other.url() + "/big: response body larger than 1000 bytes");
  }
}

BOOST_AUTO_TEST_CASE(request_carries_host_user_agent_and_body) {
  Server server([](Server& self, Conn& conn, int) {
    auto req = conn.read_request();
    if (!req) return;
    self.record(*req);
    conn.write(loopback::response(201, "Created", "{}", "X-Extra: yes\r\n"));
  });
  auto client = make(server.url() + "/placement/", fast(2s));
  auto r = client->request("POST", "/resource_providers", {{"Content-Type", "application/json"}}, R"({"a":1})");
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->status == 201);
  BOOST_TEST(r->reason == "Created");
  BOOST_TEST(r->header("x-extra") == "yes");
  BOOST_TEST(r->body == "{}");
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(loopback::request_line(seen[0]) == "POST /placement/resource_providers");
  BOOST_TEST(loopback::header_of(seen[0], "Host") == "127.0.0.1:" + std::to_string(server.port()));
  BOOST_TEST(loopback::header_of(seen[0], "User-Agent") == "gpu-placement-agent");
  BOOST_TEST(loopback::header_of(seen[0], "Content-Length") == "7");
  BOOST_TEST(contains(seen[0], "\r\n\r\n{\"a\":1}"));
}

BOOST_AUTO_TEST_CASE(ipv6_loopback_with_base_path) {
  Server server([](Server& self, Conn& conn, int) { keep_alive_ok(self, conn); }, std::nullopt, true);
  auto client = make(server.url() + "/placement", fast(2s));
  auto r = client->request("GET", "/traits");
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(loopback::request_line(seen[0]) == "GET /placement/traits");
  BOOST_TEST(loopback::header_of(seen[0], "Host") == "[::1]:" + std::to_string(server.port()));
  BOOST_TEST(client->url().origin() == server.url());
}

BOOST_AUTO_TEST_CASE(keep_alive_connection_is_reused) {
  Server server([](Server& self, Conn& conn, int) { keep_alive_ok(self, conn); });
  auto client = make(server.url(), fast(2s));
  for (int i = 0; i < 3; ++i) {
    auto r = client->request(i == 1 ? "PUT" : "GET", "/r" + std::to_string(i));
    BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
    BOOST_TEST(r->status == 200);
  }
  BOOST_TEST(server.connections() == 1);
  BOOST_TEST(client->stats().connections == 1u);
  BOOST_TEST(client->stats().reused == 2u);
  BOOST_TEST(client->stats().requests == 3u);
  BOOST_TEST(server.requests().size() == 3u);
}

BOOST_AUTO_TEST_CASE(http_1_0_server_gets_a_connection_per_request) {
  // What wsgiref (placement-api) does: HTTP/1.0, close after each response.
  Server server([](Server&, Conn& conn, int) {
    if (conn.read_request()) conn.write(loopback::response(200, "OK", "{}", "", "HTTP/1.0"));
  });
  auto client = make(server.url(), fast(2s));
  for (int i = 0; i < 3; ++i) {
    auto r = client->request("POST", "/x");
    BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  BOOST_TEST(server.connections() == 3);
  BOOST_TEST(client->stats().connections == 3u);
  BOOST_TEST(client->stats().reused == 0u);
  BOOST_TEST(client->stats().resent == 0u);
}

BOOST_AUTO_TEST_CASE(idle_close_is_noticed_before_sending) {
  // HTTP/1.1 without "Connection: close", then the server closes anyway
  // (an idle timeout). Even a POST goes out once, on a new connection.
  Server server([](Server& self, Conn& conn, int) {
    if (auto req = conn.read_request()) {
      self.record(*req);
      conn.write(loopback::response(200, "OK", "{}"));
    }
  });
  auto client = make(server.url(), fast(2s));
  BOOST_TEST_REQUIRE(client->request("GET", "/first").ok());
  std::this_thread::sleep_for(100ms);  // let the FIN arrive
  auto r = client->request("POST", "/second", {}, "{}");
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(server.connections() == 2);
  BOOST_TEST(server.requests().size() == 2u);
  BOOST_TEST(client->stats().resent == 0u);
  BOOST_TEST(client->stats().reused == 0u);
}

namespace {
// Connection 0 answers the first request, then reads the second and drops
// the connection without a word (the race with an idle close); later
// connections answer normally.
void drop_second_request(Server& server, Conn& conn, int index) {
  if (index > 0) return keep_alive_ok(server, conn);
  if (auto first = conn.read_request()) {
    server.record(*first);
    conn.write(loopback::response(200, "OK", "{}"));
  }
  if (auto second = conn.read_request()) server.record(*second);
}
}  // namespace

BOOST_AUTO_TEST_CASE(idempotent_request_is_resent_after_a_dropped_reused_connection) {
  Server server([](Server& self, Conn& conn, int index) { drop_second_request(self, conn, index); });
  auto client = make(server.url(), fast(2s));
  BOOST_TEST_REQUIRE(client->request("GET", "/a").ok());
  auto r = client->request("PUT", "/b", {}, "{}");
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(client->stats().resent == 1u);
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(loopback::request_line(seen[1]) == "PUT /b");
  BOOST_TEST(loopback::request_line(seen[2]) == "PUT /b");
}

BOOST_AUTO_TEST_CASE(post_is_not_resent_after_it_was_sent) {
  Server server([](Server& self, Conn& conn, int index) { drop_second_request(self, conn, index); });
  auto client = make(server.url(), fast(2s));
  BOOST_TEST_REQUIRE(client->request("GET", "/a").ok());
  auto r = client->request("POST", "/resource_providers", {}, R"({"name":"x"})");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "read response from " + server.url() +
                                      "/resource_providers: server closed the connection without a response "
                                      "(not resent: POST is not idempotent and may have been applied)");
  BOOST_TEST(client->stats().resent == 0u);
  BOOST_TEST(server.requests().size() == 2u);  // the POST arrived exactly once
  // The client recovers on the next call.
  BOOST_TEST(client->request("GET", "/c").ok());
}

BOOST_AUTO_TEST_CASE(fresh_connection_failure_is_not_resent) {
  Server server([](Server& self, Conn& conn, int) {
    if (auto req = conn.read_request()) self.record(*req);  // then close
  });
  auto client = make(server.url(), fast(2s));
  auto r = client->request("GET", "/x");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message ==
             "read response from " + server.url() + "/x: server closed the connection without a response");
  BOOST_TEST(server.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(trace_redacts_the_token) {
  Server server([](Server& self, Conn& conn, int) { keep_alive_ok(self, conn); });
  std::vector<std::string> lines;
  Options o = fast(2s);
  o.trace = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto client = make(server.url(), o);
  auto r = client->request("GET", "/t",
                           {{"X-Auth-Token", "s3cr3t-token"}, {"OpenStack-API-Version", "placement 1.39"}});
  BOOST_TEST_REQUIRE(r.ok());
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  BOOST_TEST(!contains(all, "s3cr3t-token"), all);
  BOOST_TEST(contains(all, "> X-Auth-Token: ***"), all);
  BOOST_TEST(contains(all, "> OpenStack-API-Version: placement 1.39"), all);
  BOOST_TEST(contains(all, "> GET " + server.url() + "/t"), all);
  BOOST_TEST(contains(all, "< 200 OK"), all);
  // ... and the token did reach the server.
  BOOST_TEST(loopback::header_of(server.requests().at(0), "X-Auth-Token") == "s3cr3t-token");
}

BOOST_AUTO_TEST_SUITE_END()
