#include <boost/test/unit_test.hpp>

#include "url.h"

using gpu_agent::http::parse_url;
using gpu_agent::http::percent_encode;

BOOST_AUTO_TEST_SUITE(url)

struct UrlCase {
  const char* text;
  const char* scheme;
  const char* host;
  unsigned port;
  const char* base_path;
  const char* origin;
  const char* host_header;
};

BOOST_AUTO_TEST_CASE(parses_endpoints) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:8778", "http", "127.0.0.1", 8778, "", "http://127.0.0.1:8778", "127.0.0.1:8778"},
      {"http://127.0.0.1:8778/", "http", "127.0.0.1", 8778, "", "http://127.0.0.1:8778", "127.0.0.1:8778"},
      {"https://placement.example/placement/", "https", "placement.example", 443, "/placement",
       "https://placement.example:443", "placement.example"},
      {"HTTPS://Controller.Example:8780/a/b", "https", "controller.example", 8780, "/a/b",
       "https://controller.example:8780", "controller.example:8780"},
      {"http://[::1]:8778/placement", "http", "::1", 8778, "/placement", "http://[::1]:8778", "[::1]:8778"},
      {"http://[::1]", "http", "::1", 80, "", "http://[::1]:80", "[::1]"},
      {"https://[2001:db8::5]", "https", "2001:db8::5", 443, "", "https://[2001:db8::5]:443", "[2001:db8::5]"},
      {"http://localhost", "http", "localhost", 80, "", "http://localhost:80", "localhost"},
      {"http://host_with_underscore:1", "http", "host_with_underscore", 1, "", "http://host_with_underscore:1",
       "host_with_underscore:1"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      auto url = parse_url(c.text);
      BOOST_TEST_REQUIRE(url.ok(), (url.ok() ? "" : url.error().message));
      BOOST_TEST(url->scheme == c.scheme);
      BOOST_TEST(url->host == c.host);
      BOOST_TEST(url->port == c.port);
      BOOST_TEST(url->base_path == c.base_path);
      BOOST_TEST(url->origin() == c.origin);
      BOOST_TEST(url->host_header() == c.host_header);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_bad_endpoints_with_a_reason) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "no scheme"},
      {"127.0.0.1:8778", "no scheme"},
      {"ftp://host", "scheme must be http or https"},
      {"http://", "no host"},
      {"http:///path", "no host"},
      {"http://host:", "empty port"},
      {"http://host:0", "invalid port"},
      {"http://host:65536", "invalid port"},
      {"http://host:80x", "invalid port"},
      {"http://host:-1", "invalid port"},
      {"http://user:pw@host", "user info"},
      {"http://host/path?x=1", "query or fragment"},
      {"http://host/#frag", "query or fragment"},
      {"http://::1:8778", "IPv6 address must be in []"},
      {"http://[::1", "unterminated"},
      {"http://[::1]x", "junk after"},
      {"http://[::1]:", "empty port"},
      {"http://[not-v6]:80", "not an IPv6 address"},
      {"http://bad host", "invalid host name"},
  };
  for (const auto& [text, reason] : cases) {
    BOOST_TEST_CONTEXT(text) {
      auto url = parse_url(text);
      BOOST_TEST_REQUIRE(!url.ok());
      BOOST_TEST(url.error().message.find(reason) != std::string::npos, url.error().message);
      BOOST_TEST(url.error().message.find(std::string("'") + text + "'") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(ip_literals_are_recognised_for_sni_and_verification) {
  BOOST_TEST(parse_url("https://127.0.0.1")->host_is_ip_literal());
  BOOST_TEST(parse_url("https://[::1]")->host_is_ip_literal());
  BOOST_TEST(!parse_url("https://placement.example")->host_is_ip_literal());
  BOOST_TEST(!parse_url("https://localhost")->host_is_ip_literal());
}

BOOST_AUTO_TEST_CASE(full_joins_base_path_and_target) {
  BOOST_TEST(parse_url("http://h:1/placement/")->full("/traits") == "http://h:1/placement/traits");
  BOOST_TEST(parse_url("http://h:1")->full("/") == "http://h:1/");
}

BOOST_AUTO_TEST_CASE(percent_encoding_keeps_only_unreserved) {
  BOOST_TEST(percent_encode("CUSTOM_PGPU_10DE_2330") == "CUSTOM_PGPU_10DE_2330");
  BOOST_TEST(percent_encode("compute-0.example_a~b") == "compute-0.example_a~b");
  BOOST_TEST(percent_encode("a b/c?d&e=f") == "a%20b%2Fc%3Fd%26e%3Df");
  BOOST_TEST(percent_encode("startswith:CUSTOM_") == "startswith%3ACUSTOM_");
  BOOST_TEST(percent_encode("\xC3\xA9") == "%C3%A9");
  BOOST_TEST(percent_encode("") == "");
}

BOOST_AUTO_TEST_SUITE_END()
