// [agent] metrics_listen: loopback addresses with a port, nothing else.
#include <boost/test/unit_test.hpp>

#include <string>

#include "listen_address.h"

using namespace gpu_agent;

BOOST_AUTO_TEST_SUITE(listen_address)

BOOST_AUTO_TEST_CASE(loopback_with_a_port) {
  auto v4 = parse_listen_address("127.0.0.1:9464");
  BOOST_TEST_REQUIRE(v4.ok());
  BOOST_TEST(v4->host == "127.0.0.1");
  BOOST_TEST(v4->port == 9464);
  auto v6 = parse_listen_address("[::1]:9464");
  BOOST_TEST_REQUIRE(v6.ok());
  BOOST_TEST(v6->host == "::1");
  auto local = parse_listen_address("localhost:1");
  BOOST_TEST_REQUIRE(local.ok());
  BOOST_TEST(local->host == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(anything_else_is_refused_with_the_rule) {
  struct Row {
    const char* text;
    const char* says;
  };
  for (const Row& r : {Row{"0.0.0.0:9464", "is not a loopback address"}, Row{"10.0.0.5:9464", "is not a loopback"},
                       Row{"127.0.0.1", "has no port"}, Row{"127.0.0.1:", "has no port number"},
                       Row{"127.0.0.1:http", "has no port number"}, Row{"127.0.0.1:70000", "outside 1-65535"},
                       Row{"127.0.0.1:0", "outside 1-65535"}, Row{":9464", "is not a loopback"}}) {
    auto a = parse_listen_address(r.text);
    BOOST_TEST_REQUIRE(!a.ok(), r.text);
    BOOST_TEST((a.error().kind == ErrorKind::bad_config));
    BOOST_TEST(a.error().message.find(r.says) != std::string::npos, a.error().message);
    BOOST_TEST(a.error().message.find("loopback only") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
