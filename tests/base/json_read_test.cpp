// json_read.h: a typed member or an Error that names it and says what is wrong
// (missing, or not of its type); absent and null members for optional().
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <string>

#include "json_read.h"

namespace json = gpu_agent::json;

namespace {

rapidjson::Document parsed(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  BOOST_REQUIRE(!d.HasParseError());
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_read)

BOOST_AUTO_TEST_CASE(members_of_each_type_are_read) {
  const auto d = parsed(R"({"s": "x\u0000y", "i": -3, "c": 7, "n": 0.5, "b": true, "o": {"k": 1}, "a": [1, 2]})");
  BOOST_TEST(*json::member<std::string>(d, "s", "w") == std::string("x\0y", 3));  // length, not NUL-ended
  BOOST_TEST(*json::member<int64_t>(d, "i", "w") == -3);
  BOOST_TEST(*json::member<uint64_t>(d, "c", "w") == 7u);
  BOOST_TEST(*json::member<double>(d, "n", "w") == 0.5);
  BOOST_TEST(*json::member<double>(d, "i", "w") == -3.0);  // an integer is a number too
  BOOST_TEST(*json::member<bool>(d, "b", "w"));
  BOOST_TEST(json::member<json::Object>(d, "o", "w")->value->HasMember("k"));
  BOOST_TEST(json::member<json::Array>(d, "a", "w")->value->Size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_wrong_member_is_named_with_what_it_should_be) {
  const auto d = parsed(R"({"i": -3, "s": "7", "n": null})");
  auto e = json::member<std::string>(d, "uuid", "provider list entry 0");
  BOOST_REQUIRE(!e);
  BOOST_TEST(e.error().message == "provider list entry 0: member 'uuid' is missing");
  BOOST_TEST((e.error().kind == gpu_agent::ErrorKind::bad_input));
  BOOST_TEST(json::member<uint64_t>(d, "i", "status.json").error().message == "status.json: member 'i' is not a count");
  BOOST_TEST(json::member<int64_t>(d, "s", "w").error().message == "w: member 's' is not an integer");
  BOOST_TEST(json::member<json::Array>(d, "s", "w").error().message == "w: member 's' is not a list");
  BOOST_TEST(json::member<json::Object>(d, "i", "w").error().message == "w: member 'i' is not an object");
  BOOST_TEST(json::member<bool>(d, "i", "w").error().message == "w: member 'i' is not true or false");
  BOOST_TEST(json::member<std::string>(d, "n", "w").error().message == "w: member 'n' is not a string");
}

BOOST_AUTO_TEST_CASE(optional_members_may_be_absent_or_null_but_not_wrong) {
  const auto d = parsed(R"({"n": null, "i": 4, "s": "x"})");
  BOOST_TEST(!json::optional<int64_t>(d, "absent", "w")->has_value());
  BOOST_TEST(!json::optional<int64_t>(d, "n", "w")->has_value());
  BOOST_TEST(json::optional<int64_t>(d, "i", "w")->value() == 4);
  BOOST_TEST(json::optional<int64_t>(d, "s", "w").error().message == "w: member 's' is not an integer");
}

BOOST_AUTO_TEST_CASE(find_in_something_that_is_not_an_object_finds_nothing) {
  const auto d = parsed("[1, 2]");
  BOOST_TEST(json::find(d, "x") == nullptr);
  BOOST_TEST(json::member<int64_t>(d, "x", "w").error().message == "w: member 'x' is missing");
}

BOOST_AUTO_TEST_SUITE_END()
