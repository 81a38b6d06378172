// PlacementClient against scripted servers: what a proxy, a broken or an
// old placement can answer, and exactly which headers the client sends.
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "lab.h"
#include "loopback_server.h"

using namespace gpu_agent::placement;
using namespace std::chrono_literals;
using loopback::Conn;
using loopback::Server;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

#define REQUIRE_OK_VOID(expr)                                                                     \
  do {                                                                                            \
    auto r_ = (expr);                                                                             \
    BOOST_TEST_REQUIRE(r_.ok(), #expr << ": " << (r_.ok() ? std::string() : r_.error().message)); \
  } while (0)

std::string versions(const std::string& min, const std::string& max) {
  return R"({"versions": [{"id": "v1.0", "max_version": ")" + max + R"(", "min_version": ")" + min +
         R"(", "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]})";
}

// GET / answers with the version document; everything else with `other`.
Server::Handler placement_like(std::string doc, std::string other) {
  return [doc = std::move(doc), other = std::move(other)](Server& self, Conn& conn, int) {
    auto req = conn.read_request();
    if (!req) return;
    self.record(*req);
    conn.write(loopback::request_line(*req) == "GET /" ? loopback::response(200, "OK", doc, "", "HTTP/1.0") : other);
  };
}

gpu_agent::http::Options fast() {
  gpu_agent::http::Options o;
  o.connect_timeout = 2s;
  o.io_timeout = 2s;
  return o;
}

const char* const kHtml500 =
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>500 Internal Server Error</title>\n"
    "</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or\n"
    "misconfiguration and was unable to complete\nyour request.</p>\n</body></html>\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(placement_client)

BOOST_AUTO_TEST_CASE(sends_token_and_the_pinned_microversion_without_asking_get_root_first) {
  Server server(placement_like(versions("1.0", "1.45"),
                               loopback::response(200, "OK", R"({"resource_providers": []})", "", "HTTP/1.0")));
  auto c = lab::client("admin", fast(), server.url());
  BOOST_TEST(!c->microversion().has_value());
  auto r = c->list_providers({"compute-0", std::nullopt});
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->empty());
  BOOST_TEST(c->microversion()->str() == "1.39");  // the proven version, accepted
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 1u);  // no GET /
  BOOST_TEST(loopback::request_line(seen[0]) == "GET /resource_providers?name=compute-0");
  BOOST_TEST(loopback::header_of(seen[0], "X-Auth-Token") == "admin");
  BOOST_TEST(loopback::header_of(seen[0], "OpenStack-API-Version") == "placement 1.39");
  BOOST_TEST(loopback::header_of(seen[0], "Accept") == "application/json");
  BOOST_TEST(loopback::header_of(seen[0], "Content-Type") == "");  // no body
  REQUIRE_OK_VOID(c->get_versions());
  BOOST_TEST(loopback::header_of(server.requests().at(1), "X-Auth-Token") == "");  // GET / is public
}

namespace {

// A Placement serving microversions min..max as its middleware does: a request
// asking for a newer one gets 406 naming the range (with_range), or a bare 406
// (a proxy's); GET / answers the version document.
Server::Handler older_placement(std::string min, std::string max, bool with_range) {
  return [=](Server& self, Conn& conn, int) {
    auto req = conn.read_request();
    if (!req) return;
    self.record(*req);
    if (loopback::request_line(*req) == "GET /") {
      conn.write(loopback::response(200, "OK", versions(min, max), "", "HTTP/1.0"));
      return;
    }
    const std::string asked = loopback::header_of(*req, "OpenStack-API-Version").substr(strlen("placement "));
    if (parse_microversion(asked).value() > parse_microversion(max).value()) {
      const std::string body =
          with_range ? R"({"errors": [{"status": 406, "title": "Not Acceptable", "detail": "Invalid microversion: )"
                       R"(Unacceptable version header: )" +
                           asked + R"(", "max_version": ")" + max + R"(", "min_version": ")" + min + R"("}]})"
                     : std::string("not acceptable");
      conn.write(loopback::response(406, "Not Acceptable", body, "", "HTTP/1.0"));
      return;
    }
    conn.write(loopback::response(200, "OK", R"({"resource_providers": []})", "", "HTTP/1.0"));
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_older_placement_406_names_its_range_and_the_request_is_sent_once_more) {
  Server server(older_placement("1.0", "1.36", true));
  auto c = lab::client("admin", fast(), server.url());
  auto r = c->list_providers({"compute-0", std::nullopt});
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(c->microversion()->str() == "1.36");
  REQUIRE_OK_VOID(c->list_providers({"compute-1", std::nullopt}));
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 3u);  // 406, the same again at 1.36, then 1.36 straight away
  BOOST_TEST(loopback::header_of(seen[0], "OpenStack-API-Version") == "placement 1.39");
  BOOST_TEST(loopback::request_line(seen[1]) == "GET /resource_providers?name=compute-0");
  BOOST_TEST(loopback::header_of(seen[1], "OpenStack-API-Version") == "placement 1.36");
  BOOST_TEST(loopback::request_line(seen[2]) == "GET /resource_providers?name=compute-1");
  BOOST_TEST(loopback::header_of(seen[2], "OpenStack-API-Version") == "placement 1.36");
}

BOOST_AUTO_TEST_CASE(a_bare_406_is_answered_by_asking_get_root) {
  Server server(older_placement("1.0", "1.30", false));
  auto c = lab::client("admin", fast(), server.url());
  REQUIRE_OK_VOID(c->list_providers());
  BOOST_TEST(c->microversion()->str() == "1.30");
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(loopback::request_line(seen[1]) == "GET /");
  BOOST_TEST(loopback::header_of(seen[2], "OpenStack-API-Version") == "placement 1.30");
}

BOOST_AUTO_TEST_CASE(writes_carry_json_content_type) {
  Server server(placement_like(versions("1.0", "1.39"), loopback::response(201, "Created", "", "", "HTTP/1.0")));
  auto c = lab::client("admin", fast(), server.url());
  BOOST_TEST(c->ensure_trait("CUSTOM_X").value() == true);
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(loopback::request_line(seen[0]) == "PUT /traits/CUSTOM_X");
  BOOST_TEST(loopback::header_of(seen[0], "Content-Length") == "0");
  auto made = c->put_traits("u", 0, {"CUSTOM_X"});  // 201 with an empty body: not a traits document
  BOOST_TEST_REQUIRE(!made.ok());
  BOOST_TEST(to_string(outcome_of(made.error())) == "unexpected");
  BOOST_TEST(loopback::header_of(server.requests().at(1), "Content-Type") == "application/json");
}

BOOST_AUTO_TEST_CASE(too_old_placement_is_refused_with_a_clear_message_and_nothing_more_sent) {
  // Placement's middleware refuses the POST (406) before any handler runs: nothing is created.
  Server server(older_placement("1.0", "1.20", true));
  auto c = lab::client("admin", fast(), server.url());
  auto r = c->create_provider("compute-0", lab::new_uuid());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "placement at " + server.url() +
                                      ": placement offers microversions 1.0 to 1.20; the agent needs at least 1.26 "
                                      "(placement from Queens or newer)");
  BOOST_TEST(server.requests().size() == 1u);  // the refused POST only
  BOOST_TEST(!c->microversion().has_value());
}

BOOST_AUTO_TEST_CASE(html_500_from_a_proxy_is_retryable_and_readable) {
  Server server(placement_like(versions("1.0", "1.39"), loopback::response(500, "Internal Server Error", kHtml500,
                                                                           "Content-Type: text/html\r\n", "HTTP/1.0")));
  auto c = lab::client("admin", fast(), server.url());
  auto r = c->list_providers();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(to_string(outcome_of(r.error())) == "server_error_retryable");
  BOOST_TEST(r.error().http_status == 500);
  BOOST_TEST(r.error().api_code.empty());
  BOOST_TEST(r.error().message == "GET " + server.url() +
                                      "/resource_providers: 500 Internal Server Error: 500 Internal Server Error "
                                      "Internal Server Error The server encountered an internal error or "
                                      "misconfiguration and was unable to complete your request.");
}

BOOST_AUTO_TEST_CASE(garbage_answers_are_unreachable_or_unexpected) {
  {
    Server server([](Server&, Conn& conn, int) {
      conn.read_request();
      conn.write("\x16\x03\x01\x02\x00garbage\r\n\r\n");
    });
    auto c = lab::client("admin", fast(), server.url());
    auto r = c->get_versions();
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(to_string(outcome_of(r.error())) == "unreachable");
    BOOST_TEST(contains(r.error().message, "read response from " + server.url() + "/: malformed HTTP response"),
               r.error().message);
  }
  {
    Server server(placement_like(versions("1.0", "1.39"),
                                 loopback::response(200, "OK", "{\"resource_providers\": [", "", "HTTP/1.0")));
    auto c = lab::client("admin", fast(), server.url());
    auto r = c->list_providers();
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(to_string(outcome_of(r.error())) == "unexpected");
    BOOST_TEST(contains(r.error().message,
                        "GET " + server.url() + "/resource_providers: unexpected response: body is not JSON"),
               r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(refreshed_token_is_used_on_the_retry) {
  // 401 to the first token, 200 to anything else: the retry must carry the new one.
  class Rotating final : public TokenSource {
   public:
    gpu_agent::Result<std::string> token() override { return "token-" + std::to_string(generation); }
    void invalidate() override { ++generation; }
    std::string describe() const override { return "rotating"; }
    int generation = 1;
  };
  Server server([](Server& self, Conn& conn, int) {
    auto req = conn.read_request();
    if (!req) return;
    self.record(*req);
    if (loopback::request_line(*req) == "GET /") {
      conn.write(loopback::response(200, "OK", versions("1.0", "1.39"), "", "HTTP/1.0"));
    } else if (loopback::header_of(*req, "X-Auth-Token") == "token-1") {
      conn.write(loopback::response(401, "Unauthorized", R"({"message": "expired", "title": "Unauthorized"})", "",
                                    "HTTP/1.0"));
    } else {
      conn.write(loopback::response(200, "OK", R"({"traits": ["CUSTOM_A"]})", "", "HTTP/1.0"));
    }
  });
  auto tokens = std::make_shared<Rotating>();
  auto made = PlacementClient::create(server.url(), fast(), tokens);
  BOOST_TEST_REQUIRE(made.ok());
  auto r = (*made)->list_traits();
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->at(0) == "CUSTOM_A");
  BOOST_TEST(tokens->generation == 2);
  const auto seen = server.requests();
  BOOST_TEST_REQUIRE(seen.size() == 2u);  // no GET / first
  BOOST_TEST(loopback::header_of(seen[0], "X-Auth-Token") == "token-1");
  BOOST_TEST(loopback::header_of(seen[1], "X-Auth-Token") == "token-2");
}

BOOST_AUTO_TEST_CASE(timeout_is_unreachable_within_the_configured_time) {
  Server server([](Server&, Conn& conn, int) {
    conn.read_request();
    conn.hold();
  });
  gpu_agent::http::Options o;
  o.io_timeout = 400ms;
  auto c = lab::client("admin", o, server.url());
  const auto start = std::chrono::steady_clock::now();
  auto r = c->get_versions();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "read response from " + server.url() + "/: timed out after 0.4 s");
  BOOST_TEST(to_string(outcome_of(r.error())) == "unreachable");
  BOOST_TEST(lab::seconds_since(start) < 2.0);
}

BOOST_AUTO_TEST_SUITE_END()
