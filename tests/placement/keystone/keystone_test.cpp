// keystone's pure pieces, without a network: the token request body for each
// auth type, auth_url -> v3 URL, the token response, keystone's times, and the
// endpoint taken from the catalog. (The real keystone is keystone_integration_tests.)
#define BOOST_TEST_MODULE keystone
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <string>
#include <vector>

#include "keystone.h"

using namespace gpu_agent;
using namespace gpu_agent::keystone;
using namespace std::chrono;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

size_t count_of(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t pos = s.find(part); pos != std::string::npos; pos = s.find(part, pos + part.size())) ++n;
  return n;
}

rapidjson::Document json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str(), s.size());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject(), "not a JSON object: " << s);
  return d;
}

std::string str(const rapidjson::Value& v) {
  BOOST_REQUIRE(v.IsString());
  return {v.GetString(), v.GetStringLength()};
}

std::vector<std::string> keys(const rapidjson::Value& v) {
  std::vector<std::string> out;
  BOOST_REQUIRE(v.IsObject());
  for (const auto& m : v.GetObject()) out.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return out;
}

using Keys = std::vector<std::string>;

// Every credential field filled with a recognisable value, so a test can see
// which of them a body carries and which it leaves out.
Credentials all_fields(const std::string& method) {
  Credentials c;
  c.auth_url = "https://keystone.example:5000/v3";
  c.method = method;
  c.username = "placement-agent";
  c.password = "pw-SECRET-1";
  c.user_domain_name = "UserDomainName";
  c.project_name = "service";
  c.project_domain_name = "ProjectDomainName";
  c.application_credential_secret = "ac-SECRET-2";
  c.region_name = "RegionOne";
  return c;
}

// 2026-11-23T01:12:00Z
const system_clock::time_point kExpires = sys_days{year{2026} / 11 / 23} + hours{1} + minutes{12};

system_clock::time_point time_of(const std::string& s) {
  auto r = parse_iso8601(s);
  BOOST_REQUIRE_MESSAGE(r.ok(), s << ": " << (r.ok() ? "" : r.error().message));
  return *r;
}

const std::string kTokenId = "gAAAAAB-subject-token-never-in-messages";

const char* kTokenBody = R"({"token": {
  "methods": ["password"],
  "expires_at": "2026-11-23T01:12:00.000000Z",
  "issued_at": "2026-11-23T00:12:00.000000Z",
  "catalog": [
    {"type": "placement", "name": "placement", "endpoints": [
      {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "https://placement.example/"},
      {"interface": "internal", "region_id": "RegionOne", "url": "http://10.0.0.5:8778"},
      {"interface": "admin", "region": "RegionTwo", "url": "http://10.1.0.5:8778"},
      {"interface": "internal", "region_id": "RegionTwo", "region": "Legacy", "url": "http://10.1.0.6:8778"},
      {"interface": "internal", "region_id": "RegionOne"},
      {"url": "http://no-interface:8778"}
    ]},
    {"type": "compute", "endpoints": [{"interface": "internal", "region_id": "RegionOne", "url": "http://nova:8774/v2.1"}]},
    {"name": "no type", "endpoints": [{"interface": "internal", "url": "http://typeless"}]},
    {"type": "no-endpoints"},
    "not an object"
  ]
}})";

}  // namespace

// ---------------------------------------------------------------- auth_request_body

BOOST_AUTO_TEST_SUITE(auth_request_body_)

BOOST_AUTO_TEST_CASE(password_with_domain_names) {
  const Credentials c = all_fields("password");
  const std::string body = auth_request_body(c);
  auto d = json(body);
  BOOST_TEST(keys(d) == Keys{"auth"});
  BOOST_TEST(keys(d["auth"]) == (Keys{"identity", "scope"}));
  const auto& id = d["auth"]["identity"];
  BOOST_TEST(keys(id) == (Keys{"methods", "password"}));
  BOOST_REQUIRE(id["methods"].IsArray());
  BOOST_REQUIRE_EQUAL(id["methods"].Size(), 1u);
  BOOST_TEST(str(id["methods"][0]) == "password");
  const auto& user = id["password"]["user"];
  BOOST_TEST(keys(id["password"]) == Keys{"user"});
  BOOST_TEST(keys(user) == (Keys{"name", "domain", "password"}));
  BOOST_TEST(str(user["name"]) == "placement-agent");
  BOOST_TEST(keys(user["domain"]) == Keys{"name"});
  BOOST_TEST(str(user["domain"]["name"]) == "UserDomainName");
  BOOST_TEST(str(user["password"]) == "pw-SECRET-1");
  const auto& project = d["auth"]["scope"]["project"];
  BOOST_TEST(keys(d["auth"]["scope"]) == Keys{"project"});
  BOOST_TEST(keys(project) == (Keys{"name", "domain"}));
  BOOST_TEST(str(project["name"]) == "service");
  BOOST_TEST(keys(project["domain"]) == Keys{"name"});
  BOOST_TEST(str(project["domain"]["name"]) == "ProjectDomainName");
  // The password once, where it belongs; the application credential secret nowhere.
  BOOST_TEST(count_of(body, "pw-SECRET-1") == 1u);
  BOOST_TEST(!contains(body, "SECRET-2"));
}

BOOST_AUTO_TEST_CASE(password_defaults_to_the_default_domain) {
  Credentials c;
  c.method = "password";
  c.username = "u";
  c.password = "p";
  c.project_name = "service";
  auto d = json(auth_request_body(c));
  BOOST_TEST(str(d["auth"]["identity"]["password"]["user"]["domain"]["name"]) == "Default");
  BOOST_TEST(str(d["auth"]["scope"]["project"]["domain"]["name"]) == "Default");
}

BOOST_AUTO_TEST_CASE(password_with_domain_ids_sends_ids_not_names) {
  Credentials c = all_fields("password");
  c.user_domain_id = "ud-id-1";
  c.project_domain_id = "pd-id-2";
  auto d = json(auth_request_body(c));
  const auto& udom = d["auth"]["identity"]["password"]["user"]["domain"];
  BOOST_TEST(keys(udom) == Keys{"id"});
  BOOST_TEST(str(udom["id"]) == "ud-id-1");
  const auto& project = d["auth"]["scope"]["project"];
  BOOST_TEST(str(project["name"]) == "service");
  BOOST_TEST(keys(project["domain"]) == Keys{"id"});
  BOOST_TEST(str(project["domain"]["id"]) == "pd-id-2");
}

BOOST_AUTO_TEST_CASE(password_with_project_id_scopes_by_id_alone) {
  Credentials c = all_fields("password");
  c.project_id = "0123456789abcdef";
  c.project_domain_id = "pd-id-2";
  const std::string body = auth_request_body(c);
  auto d = json(body);
  const auto& project = d["auth"]["scope"]["project"];
  BOOST_TEST(keys(project) == Keys{"id"});  // an id is unique: no name, no domain
  BOOST_TEST(str(project["id"]) == "0123456789abcdef");
  BOOST_TEST(!contains(body, "ProjectDomainName"));
  BOOST_TEST(!contains(body, "pd-id-2"));
}

BOOST_AUTO_TEST_CASE(application_credential_by_id) {
  Credentials c = all_fields("application_credential");
  c.application_credential_id = "ac-id-42";
  c.application_credential_name = "ac-name";  // the id wins
  const std::string body = auth_request_body(c);
  auto d = json(body);
  BOOST_TEST(keys(d["auth"]) == Keys{"identity"});  // an application credential carries its own scope
  const auto& id = d["auth"]["identity"];
  BOOST_TEST(keys(id) == (Keys{"methods", "application_credential"}));
  BOOST_REQUIRE_EQUAL(id["methods"].Size(), 1u);
  BOOST_TEST(str(id["methods"][0]) == "application_credential");
  const auto& ac = id["application_credential"];
  BOOST_TEST(keys(ac) == (Keys{"id", "secret"}));
  BOOST_TEST(str(ac["id"]) == "ac-id-42");
  BOOST_TEST(str(ac["secret"]) == "ac-SECRET-2");
  BOOST_TEST(count_of(body, "ac-SECRET-2") == 1u);
  // Nothing of the password method leaks into it: no password, user or project.
  BOOST_TEST(!contains(body, "SECRET-1"));
  BOOST_TEST(!contains(body, "placement-agent"));
  BOOST_TEST(!contains(body, "ac-name"));
  BOOST_TEST(!contains(body, "service"));
}

BOOST_AUTO_TEST_CASE(application_credential_by_name_names_its_user) {
  Credentials c = all_fields("application_credential");
  c.application_credential_name = "ac-name";
  const std::string body = auth_request_body(c);
  auto d = json(body);
  BOOST_TEST(keys(d["auth"]) == Keys{"identity"});
  const auto& ac = d["auth"]["identity"]["application_credential"];
  BOOST_TEST(keys(ac) == (Keys{"name", "user", "secret"}));
  BOOST_TEST(str(ac["name"]) == "ac-name");
  BOOST_TEST(keys(ac["user"]) == (Keys{"name", "domain"}));  // no password under the user
  BOOST_TEST(str(ac["user"]["name"]) == "placement-agent");
  BOOST_TEST(str(ac["user"]["domain"]["name"]) == "UserDomainName");
  BOOST_TEST(str(ac["secret"]) == "ac-SECRET-2");
  BOOST_TEST(count_of(body, "ac-SECRET-2") == 1u);
  BOOST_TEST(!contains(body, "SECRET-1"));

  c.user_domain_id = "ud-id-1";
  auto by_domain_id = json(auth_request_body(c));
  const auto& udom = by_domain_id["auth"]["identity"]["application_credential"]["user"]["domain"];
  BOOST_TEST(keys(udom) == Keys{"id"});
  BOOST_TEST(str(udom["id"]) == "ud-id-1");
}

BOOST_AUTO_TEST_CASE(secrets_are_json_escaped_not_cut) {
  Credentials c = all_fields("password");
  c.password = "q\"uo\\te\n\ttab \xc3\xa9 }{";
  auto d = json(auth_request_body(c));
  BOOST_TEST(str(d["auth"]["identity"]["password"]["user"]["password"]) == c.password);
  Credentials a = all_fields("application_credential");
  a.application_credential_id = "id";
  a.application_credential_secret = "s\"}],{\"x\":1";
  auto e = json(auth_request_body(a));
  BOOST_TEST(str(e["auth"]["identity"]["application_credential"]["secret"]) == a.application_credential_secret);
  BOOST_TEST(keys(e["auth"]["identity"]["application_credential"]) == (Keys{"id", "secret"}));
}

BOOST_AUTO_TEST_CASE(any_other_method_is_sent_as_password) {
  // Current behaviour: only "application_credential" is special; config maps
  // auth_type to one of the two, so nothing else should reach this.
  Credentials c = all_fields("v3token");
  auto d = json(auth_request_body(c));
  BOOST_TEST(str(d["auth"]["identity"]["methods"][0]) == "password");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- v3_url

BOOST_AUTO_TEST_CASE(v3_url_adds_v3_once_and_drops_trailing_slashes) {
  BOOST_TEST(v3_url("https://keystone:5000") == "https://keystone:5000/v3");
  BOOST_TEST(v3_url("https://keystone:5000/") == "https://keystone:5000/v3");
  BOOST_TEST(v3_url("https://keystone:5000///") == "https://keystone:5000/v3");
  BOOST_TEST(v3_url("https://keystone:5000/v3") == "https://keystone:5000/v3");
  BOOST_TEST(v3_url("https://keystone:5000/v3/") == "https://keystone:5000/v3");
  BOOST_TEST(v3_url("https://keystone:5000/v3//") == "https://keystone:5000/v3");
  BOOST_TEST(v3_url("https://cloud.example/identity") == "https://cloud.example/identity/v3");
  BOOST_TEST(v3_url("https://cloud.example/identity/") == "https://cloud.example/identity/v3");
  BOOST_TEST(v3_url("https://cloud.example/identity/v3/") == "https://cloud.example/identity/v3");
  BOOST_TEST(v3_url(v3_url("http://k")) == "http://k/v3");  // idempotent
}

BOOST_AUTO_TEST_CASE(v3_url_only_knows_v3_as_a_suffix) {
  // Current behaviour, pinned so a change is seen: anything that does not end
  // in "/v3" gets "/v3" appended, other versions and spellings included.
  BOOST_TEST(v3_url("https://keystone:5000/v2.0") == "https://keystone:5000/v2.0/v3");
  BOOST_TEST(v3_url("https://keystone:5000/V3") == "https://keystone:5000/V3/v3");
  BOOST_TEST(v3_url("https://keystone:5000/v3?x=1") == "https://keystone:5000/v3?x=1/v3");
  BOOST_TEST(v3_url("") == "/v3");
}

// ---------------------------------------------------------------- parse_token_response

BOOST_AUTO_TEST_SUITE(parse_token_response_)

BOOST_AUTO_TEST_CASE(created_token_with_its_catalog) {
  auto r = parse_token_response(201, kTokenId, kTokenBody);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->id == kTokenId);
  BOOST_TEST((r->expires_at == kExpires));
  BOOST_TEST((r->issued_at == kExpires - hours{1}));
  // Endpoints without a url, services without a type or endpoints, and
  // non-objects are skipped; region_id wins over the older region.
  const std::vector<std::string> expected{
      "placement public RegionOne https://placement.example/",
      "placement internal RegionOne http://10.0.0.5:8778",
      "placement admin RegionTwo http://10.1.0.5:8778",
      "placement internal RegionTwo http://10.1.0.6:8778",
      "placement   http://no-interface:8778",
      "compute internal RegionOne http://nova:8774/v2.1",
  };
  std::vector<std::string> got;
  for (const auto& e : r->catalog) got.push_back(e.service_type + " " + e.interface + " " + e.region + " " + e.url);
  BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ok_200_is_accepted_like_201) {
  auto r = parse_token_response(200, kTokenId, kTokenBody);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->catalog.size() == 6u);
}

BOOST_AUTO_TEST_CASE(token_without_catalog_or_issued_at) {
  auto r = parse_token_response(201, kTokenId, R"({"token": {"expires_at": "2026-11-23T01:12:00Z"}})");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->catalog.empty());
  BOOST_TEST((r->expires_at == kExpires));
  BOOST_TEST((r->issued_at == system_clock::time_point{}));  // epoch: keystone did not say
  // A garbled issued_at is ignored the same way (it only tunes renewal).
  auto g = parse_token_response(201, kTokenId,
                                R"({"token": {"expires_at": "2026-11-23T01:12:00Z", "issued_at": "x"}})");
  BOOST_REQUIRE(g.ok());
  BOOST_TEST((g->issued_at == system_clock::time_point{}));
}

BOOST_AUTO_TEST_CASE(refused_credentials_401_say_what_to_fix) {
  auto r = parse_token_response(401, "", R"({"error": {"code": 401, "title": "Unauthorized"}})");
  BOOST_REQUIRE(!r.ok());
  const std::string& m = r.error().message;
  BOOST_TEST(contains(m, "401"), m);
  BOOST_TEST(contains(m, "refused the credentials"), m);
  BOOST_TEST(contains(m, "username/password"), m);
  BOOST_TEST(contains(m, "application credential"), m);
  BOOST_TEST(contains(m, "[placement]"), m);
}

BOOST_AUTO_TEST_CASE(forbidden_403_not_found_404_and_server_errors) {
  auto f = parse_token_response(403, kTokenId, kTokenBody);
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST(contains(f.error().message, "403"), f.error().message);
  BOOST_TEST(contains(f.error().message, "Forbidden"), f.error().message);

  auto n = parse_token_response(404, "", "<html>Not Found</html>");
  BOOST_REQUIRE(!n.ok());
  BOOST_TEST(contains(n.error().message, "404"), n.error().message);
  BOOST_TEST(contains(n.error().message, "auth_url"), n.error().message);  // the likely mistake
  BOOST_TEST(contains(n.error().message, "v3"), n.error().message);

  for (int status : {500, 502, 503, 300, 204}) {
    BOOST_TEST_CONTEXT("status " << status) {
      auto e = parse_token_response(status, kTokenId, kTokenBody);  // even with a good body
      BOOST_REQUIRE(!e.ok());
      BOOST_TEST(contains(e.error().message, "keystone answered " + std::to_string(status)), e.error().message);
      BOOST_TEST(contains(e.error().message, "token request"), e.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(garbage_and_empty_bodies) {
  for (const std::string body : {"", "not json", "{", "null", "[]", R"({"token": 5})", R"({"token": []})",
                                 R"({"tokens": {}})", "<html>502 Bad Gateway</html>"}) {
    BOOST_TEST_CONTEXT("body '" << body << "'") {
      auto r = parse_token_response(201, kTokenId, body);
      BOOST_REQUIRE(!r.ok());
      BOOST_TEST(contains(r.error().message, "not the expected JSON"), r.error().message);
      BOOST_TEST(contains(r.error().message, "\"token\""), r.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_subject_token_header) {
  auto r = parse_token_response(201, "", kTokenBody);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "X-Subject-Token"), r.error().message);
  // checked before the body: garbage does not hide it
  auto g = parse_token_response(201, "", "garbage");
  BOOST_REQUIRE(!g.ok());
  BOOST_TEST(contains(g.error().message, "X-Subject-Token"), g.error().message);
}

BOOST_AUTO_TEST_CASE(missing_or_bad_expires_at) {
  for (const std::string body : {R"({"token": {}})", R"({"token": {"issued_at": "2026-11-23T00:12:00Z"}})",
                                 R"({"token": {"expires_at": 1795482720}})", R"({"token": {"expires_at": null}})"}) {
    BOOST_TEST_CONTEXT(body) {
      auto r = parse_token_response(201, kTokenId, body);
      BOOST_REQUIRE(!r.ok());
      BOOST_TEST(contains(r.error().message, "expires_at"), r.error().message);
    }
  }
  // A string that is no time: the message quotes it (but, as it stands, does
  // not say it was expires_at).
  auto bad = parse_token_response(201, kTokenId, R"({"token": {"expires_at": "soon"}})");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(contains(bad.error().message, "'soon'"), bad.error().message);
}

BOOST_AUTO_TEST_CASE(the_token_never_appears_in_a_message) {
  for (const auto& [status, body] : std::vector<std::pair<int, std::string>>{{201, R"({"token": {}})"},
                                                                             {201, "garbage"},
                                                                             {201, R"({"token": {"expires_at": "x"}})"},
                                                                             {401, ""},
                                                                             {403, ""},
                                                                             {404, ""},
                                                                             {500, ""}}) {
    auto r = parse_token_response(status, kTokenId, body);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(!contains(r.error().message, kTokenId), r.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- parse_iso8601

BOOST_AUTO_TEST_SUITE(parse_iso8601_)

BOOST_AUTO_TEST_CASE(the_forms_keystone_sends) {
  BOOST_TEST((time_of("2026-11-23T01:12:00.000000Z") == kExpires));  // keystone's own format
  BOOST_TEST((time_of("2026-11-23T01:12:00Z") == kExpires));
  BOOST_TEST((time_of("2026-11-23T01:12:00+00:00") == kExpires));
  BOOST_TEST((time_of("2026-11-23T01:12:00.000000+00:00") == kExpires));
  BOOST_TEST((time_of("2026-11-23T01:12:00") == kExpires));  // no zone: UTC
  BOOST_TEST((time_of("1970-01-01T00:00:00Z") == system_clock::time_point{}));
  BOOST_TEST((time_of("2024-02-29T23:59:59Z") == sys_days{year{2024} / 3 / 1} - seconds{1}));
  BOOST_TEST((time_of("2038-01-19T03:14:08Z") == sys_seconds{seconds{2147483648LL}}));  // past 32-bit time_t
}

BOOST_AUTO_TEST_CASE(fractional_seconds_are_dropped_not_rounded) {
  BOOST_TEST((time_of("2026-11-23T01:12:00.999999Z") == kExpires));
  BOOST_TEST((time_of("2026-11-23T01:11:59.999999Z") == kExpires - seconds{1}));
}

BOOST_AUTO_TEST_CASE(garbage_is_an_error_that_quotes_it) {
  for (const std::string s : {"", "soon", "2026-11-23", "2026-11-23 01:12", "2026/11/23T01:12:00Z", "T01:12:00Z",
                              "1795482720", "2026-11-23Tnoon"}) {
    BOOST_TEST_CONTEXT("'" << s << "'") {
      auto r = parse_iso8601(s);
      BOOST_REQUIRE(!r.ok());
      BOOST_TEST(contains(r.error().message, "'" + s + "'"), r.error().message);
      BOOST_TEST(contains(r.error().message, "ISO 8601"), r.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_offset_is_applied) {
  BOOST_TEST((time_of("2026-11-23T03:12:00+02:00") == kExpires));
  BOOST_TEST((time_of("2026-11-22T20:42:00.5-04:30") == kExpires));
  BOOST_TEST((time_of("2026-11-23T01:12:00-00:00") == kExpires));
}

BOOST_AUTO_TEST_CASE(out_of_range_fields_and_trailing_text_are_refused) {
  for (const std::string s : {"2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-23T24:00:00Z",
                              "2026-11-23T01:60:00Z", "2025-02-29T00:00:00Z", "2026-11-23T01:12:00garbage",
                              "2026-11-23T01:12:00+2", "2026-11-23T01:12:00.Z", "2026-11-23T01:12:00+25:00"}) {
    BOOST_TEST_CONTEXT("'" << s << "'") {
      auto r = parse_iso8601(s);
      BOOST_REQUIRE(!r.ok());
      BOOST_TEST(contains(r.error().message, "'" + s + "'"), r.error().message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- select_endpoint

BOOST_AUTO_TEST_SUITE(select_endpoint_)

const std::vector<CatalogEndpoint> kCatalog{
    {"placement", "public", "RegionOne", "https://placement.example/"},
    {"placement", "internal", "RegionOne", "http://10.0.0.5:8778"},
    {"placement", "admin", "RegionOne", "http://10.0.0.9:8778"},
    {"placement", "internal", "RegionTwo", "http://10.1.0.5:8778"},
    {"placement", "public", "", "https://no-region.example/"},
    {"compute", "internal", "RegionOne", "http://nova:8774/v2.1"},
};

std::string pick(const std::vector<std::string>& ifaces, const std::string& region,
                 const std::string& type = "placement") {
  auto r = select_endpoint(kCatalog, type, ifaces, region);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

BOOST_AUTO_TEST_CASE(interfaces_in_the_order_asked_not_the_catalog_order) {
  BOOST_TEST(pick({"internal", "public"}, "") == "http://10.0.0.5:8778");  // public comes first in the catalog
  BOOST_TEST(pick({"public", "internal"}, "") == "https://placement.example/");
  BOOST_TEST(pick({"admin", "internal", "public"}, "") == "http://10.0.0.9:8778");
  BOOST_TEST(pick({"nonsense", "public"}, "") == "https://placement.example/");  // falls through to the next
}

BOOST_AUTO_TEST_CASE(region_filters_before_interface_order) {
  BOOST_TEST(pick({"internal", "public"}, "RegionTwo") == "http://10.1.0.5:8778");
  BOOST_TEST(pick({"internal", "public"}, "RegionOne") == "http://10.0.0.5:8778");
  // RegionTwo has no public endpoint: asking for public first still finds its internal one
  BOOST_TEST(pick({"public", "internal"}, "RegionTwo") == "http://10.1.0.5:8778");
  // no region asked: any region, first in catalog order for the interface
  BOOST_TEST(pick({"internal"}, "") == "http://10.0.0.5:8778");
}

BOOST_AUTO_TEST_CASE(service_type_is_matched_exactly) {
  BOOST_TEST(pick({"internal", "public"}, "RegionOne", "compute") == "http://nova:8774/v2.1");
}

BOOST_AUTO_TEST_CASE(no_match_names_what_was_looked_for_and_what_there_is) {
  auto r = select_endpoint(kCatalog, "placement", {"public", "admin"}, "RegionTwo");
  BOOST_REQUIRE(!r.ok());
  const std::string& m = r.error().message;
  BOOST_TEST(contains(m, "no placement endpoint"), m);
  BOOST_TEST(contains(m, "interfaces public,admin"), m);
  BOOST_TEST(contains(m, "in region RegionTwo"), m);
  // what the catalog does have for the service, interface@region ("-" for none)
  BOOST_TEST(contains(m, "(it has: public@RegionOne internal@RegionOne admin@RegionOne internal@RegionTwo public@-)"),
             m);
  BOOST_TEST(!contains(m, "compute"), m);
  // and the settings that fix it
  BOOST_TEST(contains(m, "valid_interfaces"), m);
  BOOST_TEST(contains(m, "region_name"), m);
  BOOST_TEST(contains(m, "endpoint_override"), m);
}

BOOST_AUTO_TEST_CASE(no_such_service_at_all) {
  auto r = select_endpoint(kCatalog, "image", {"internal", "public"}, "");
  BOOST_REQUIRE(!r.ok());
  const std::string& m = r.error().message;
  BOOST_TEST(contains(m, "no image endpoint for interfaces internal,public"), m);
  BOOST_TEST(!contains(m, "in region"), m);
  BOOST_TEST(contains(m, "(no image service at all)"), m);

  auto empty = select_endpoint({}, "placement", {"internal"}, "RegionOne");
  BOOST_REQUIRE(!empty.ok());
  BOOST_TEST(contains(empty.error().message, "(no placement service at all)"), empty.error().message);
  BOOST_TEST(contains(empty.error().message, "in region RegionOne"), empty.error().message);
}

BOOST_AUTO_TEST_CASE(no_interfaces_finds_nothing) {
  auto r = select_endpoint(kCatalog, "placement", {}, "");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "no placement endpoint"), r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
