// TLS: verification against a cafile or the system store, host names and IP
// literals, SNI, insecure mode, keep-alive under TLS. The test CA and server
// certificates are made per run with the openssl CLI in a temp directory.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <fstream>
#include <stdexcept>

#include "http_client.h"
#include "lab.h"
#include "loopback_server.h"

using namespace gpu_agent::http;
using namespace std::chrono_literals;
using loopback::Conn;
using loopback::Server;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct Certs {
  std::string dir, ca, good_cert, good_key, wrong_cert, wrong_key;
  Certs() = default;
  Certs(const Certs&) = delete;
  Certs& operator=(const Certs&) = delete;
  ~Certs() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

void sh(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

void leaf(const std::string& dir, const std::string& name, const std::string& san) {
  const std::string p = dir + "/" + name;
  sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + p + ".key -out " + p +
     ".csr -subj /CN=" + name);
  std::ofstream(p + ".ext") << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                               "extendedKeyUsage=serverAuth\nsubjectAltName="
                            << san << "\n";
  sh("openssl x509 -req -in " + p + ".csr -CA " + dir + "/ca.pem -CAkey " + dir + "/ca.key -CAcreateserial -out " + p +
     ".pem -days 2 -extfile " + p + ".ext");
}

void make_certs(Certs& c) {
  char tmpl[] = "/tmp/gpu-agent-tls-it-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  c.dir = tmpl;
  sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + c.dir + "/ca.key -out " + c.dir +
     "/ca.pem -days 2 -subj '/CN=gpu-agent test CA' -addext basicConstraints=critical,CA:TRUE "
     "-addext keyUsage=critical,keyCertSign,cRLSign");
  leaf(c.dir, "good", "IP:127.0.0.1,DNS:localhost");
  leaf(c.dir, "wrong", "DNS:wrong.example");
  c.ca = c.dir + "/ca.pem";
  c.good_cert = c.dir + "/good.pem";
  c.good_key = c.dir + "/good.key";
  c.wrong_cert = c.dir + "/wrong.pem";
  c.wrong_key = c.dir + "/wrong.key";
}

// Made on first use, removed when the process exits.
const Certs& certs() {
  static Certs made;
  if (made.dir.empty()) make_certs(made);
  return made;
}

void serve_ok(Server& self, Conn& conn, int) {
  while (auto req = conn.read_request()) {
    self.record(*req);
    if (!conn.write(loopback::response(200, "OK", R"({"tls":true})"))) return;
  }
}

Options with_ca(bool use_ca) {
  Options o;
  o.connect_timeout = 3s;
  o.io_timeout = 3s;
  if (use_ca) o.cafile = certs().ca;
  return o;
}

std::unique_ptr<Client> make(const std::string& url, const Options& o) {
  auto c = Client::create(url, o);
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(*c);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(verified_with_cafile_and_kept_alive) {
  Server server(serve_ok, Server::Tls{certs().good_cert, certs().good_key});
  auto client = make(server.url(), with_ca(true));
  for (int i = 0; i < 2; ++i) {
    auto r = client->request("GET", "/resource_providers");
    BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
    BOOST_TEST(r->body == R"({"tls":true})");
  }
  BOOST_TEST(server.connections() == 1);
  BOOST_TEST(client->stats().reused == 1u);
  BOOST_TEST(server.last_sni() == "");  // no SNI for an IP literal (RFC 6066)
}

BOOST_AUTO_TEST_CASE(host_name_is_verified_and_sent_as_sni) {
  Server server(serve_ok, Server::Tls{certs().good_cert, certs().good_key});
  auto client = make("https://localhost:" + std::to_string(server.port()), with_ca(true));
  auto r = client->request("GET", "/");
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(server.last_sni() == "localhost");
  BOOST_TEST(loopback::header_of(server.requests().at(0), "Host") == "localhost:" + std::to_string(server.port()));
}

BOOST_AUTO_TEST_CASE(unknown_ca_fails_verification_with_the_reason) {
  Server server(serve_ok, Server::Tls{certs().good_cert, certs().good_key});
  auto client = make(server.url(), with_ca(false));  // system store: does not know our CA
  auto r = client->request("GET", "/");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "TLS handshake with " + server.url() +
                                      ": certificate verify failed (unable to get local issuer certificate)");
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(certificate_for_another_name_is_refused) {
  Server server(serve_ok, Server::Tls{certs().wrong_cert, certs().wrong_key});
  auto by_ip = make(server.url(), with_ca(true));
  auto r = by_ip->request("GET", "/");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message ==
             "TLS handshake with " + server.url() + ": certificate verify failed (IP address mismatch)");

  auto by_name = make("https://localhost:" + std::to_string(server.port()), with_ca(true));
  auto n = by_name->request("GET", "/");
  BOOST_TEST_REQUIRE(!n.ok());
  BOOST_TEST(contains(n.error().message, ": certificate verify failed (hostname mismatch)"), n.error().message);
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(insecure_skips_verification_only_when_asked) {
  Server server(serve_ok, Server::Tls{certs().wrong_cert, certs().wrong_key});
  Options o = with_ca(false);
  o.insecure = true;
  auto client = make(server.url(), o);
  auto r = client->request("GET", "/");
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->status == 200);
}

BOOST_AUTO_TEST_CASE(tls_server_closing_after_each_response) {
  // A TLS front that closes after every answer, sometimes without close_notify.
  Server server(
      [](Server& self, Conn& conn, int) {
        if (auto req = conn.read_request()) {
          self.record(*req);
          conn.write(loopback::response(200, "OK", "{}", "Connection: close\r\n"));
        }
      },
      Server::Tls{certs().good_cert, certs().good_key});
  auto client = make(server.url(), with_ca(true));
  for (int i = 0; i < 3; ++i) {
    auto r = client->request(i == 1 ? "POST" : "GET", "/x", {}, i == 1 ? "{}" : "");
    BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  BOOST_TEST(server.connections() == 3);
  BOOST_TEST(client->stats().resent == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
