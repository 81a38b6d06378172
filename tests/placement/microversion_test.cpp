#include <boost/test/unit_test.hpp>

#include "microversion.h"

using namespace gpu_agent::placement;

BOOST_AUTO_TEST_SUITE(microversion)

BOOST_AUTO_TEST_CASE(parses_and_orders) {
  BOOST_TEST(parse_microversion("1.39")->minor == 39);
  BOOST_TEST(parse_microversion("1.0")->major == 1);
  BOOST_TEST(parse_microversion("1.39")->str() == "1.39");
  BOOST_TEST((*parse_microversion("1.9") < *parse_microversion("1.10")));  // numeric, not lexical
  BOOST_TEST((*parse_microversion("2.0") > *parse_microversion("1.99")));
  for (const char* bad : {"", "1", "1.", ".1", "latest", "1.x", "v1.0", "1.2.3", " 1.2", "1.39 "}) {
    BOOST_TEST_CONTEXT(bad) {
      auto v = parse_microversion(bad);
      BOOST_TEST(!v.ok());
      if (!v) BOOST_TEST(v.error().message.find("bad microversion") != std::string::npos);
    }
  }
}

struct ChoiceCase {
  const char* min;
  const char* max;
  const char* chosen;  // nullptr: refused
  const char* reason;
};

BOOST_AUTO_TEST_CASE(chooses_min_of_offered_max_and_1_39) {
  const ChoiceCase cases[] = {
      {"1.0", "1.39", "1.39", nullptr},  // Zed (the lab's placement 8.0.0)
      {"1.0", "1.36", "1.36", nullptr},  // Xena
      {"1.0", "1.26", "1.26", nullptr},  // the floor itself
      {"1.0", "1.42", "1.39", nullptr},  // newer server: stay on what was proven
      {"1.0", "2.5", "1.39", nullptr},
      {"1.0", "1.25", nullptr, "needs at least 1.26"},
      {"1.0", "1.10", nullptr, "needs at least 1.26"},
      {"1.40", "1.45", nullptr, "supports 1.26 to 1.39"},  // server dropped our versions
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.min << ".." << c.max) {
      const VersionRange offered{*parse_microversion(c.min), *parse_microversion(c.max)};
      auto chosen = choose_microversion(offered);
      if (c.chosen) {
        BOOST_TEST_REQUIRE(chosen.ok());
        BOOST_TEST(chosen->str() == c.chosen);
      } else {
        BOOST_TEST_REQUIRE(!chosen.ok());
        BOOST_TEST(chosen.error().message.find(c.reason) != std::string::npos, chosen.error().message);
        BOOST_TEST(chosen.error().message.find(std::string(c.min) + " to " + c.max) != std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
