#include <boost/test/unit_test.hpp>

#include "http_client.h"

using namespace gpu_agent::http;

BOOST_AUTO_TEST_SUITE(http_helpers)

BOOST_AUTO_TEST_CASE(only_idempotent_methods_may_be_resent) {
  for (const char* m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}) BOOST_TEST(is_idempotent(m), m);
  for (const char* m : {"POST", "PATCH", "get", ""}) BOOST_TEST(!is_idempotent(m), m);
}

BOOST_AUTO_TEST_CASE(credentials_never_reach_logs) {
  BOOST_TEST(redacted_value("X-Auth-Token", "gAAAAABsecret") == "***");
  BOOST_TEST(redacted_value("x-auth-token", "admin") == "***");
  BOOST_TEST(redacted_value("X-Subject-Token", "t") == "***");
  BOOST_TEST(redacted_value("Authorization", "Basic eDp5") == "***");
  BOOST_TEST(redacted_value("OpenStack-API-Version", "placement 1.39") == "placement 1.39");
}

BOOST_AUTO_TEST_CASE(response_headers_are_case_insensitive) {
  Response r;
  r.headers = {{"Content-Type", "application/json"}, {"openstack-api-version", "placement 1.39"}};
  BOOST_TEST(r.header("content-type") == "application/json");
  BOOST_TEST(r.header("OpenStack-API-Version") == "placement 1.39");
  BOOST_TEST(r.header("Location") == "");
}

BOOST_AUTO_TEST_CASE(create_checks_url_timeouts_and_cafile_without_network) {
  auto bad = Client::create("placement:8778");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("bad URL") != std::string::npos);

  Options zero;
  zero.io_timeout = std::chrono::milliseconds(0);
  BOOST_TEST(!Client::create("http://127.0.0.1:1", zero).ok());

  Options missing_ca;
  missing_ca.cafile = "/nonexistent/ca.pem";
  auto ca = Client::create("https://127.0.0.1:1", missing_ca);
  BOOST_TEST_REQUIRE(!ca.ok());
  BOOST_TEST(ca.error().message.find("cafile /nonexistent/ca.pem") != std::string::npos, ca.error().message);
  // A cafile is irrelevant for plain http.
  BOOST_TEST(Client::create("http://127.0.0.1:1", missing_ca).ok());
}

BOOST_AUTO_TEST_SUITE_END()
