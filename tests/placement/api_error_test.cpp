#include <boost/test/unit_test.hpp>

#include "api_error.h"

using namespace gpu_agent::placement;

namespace {

// Error bodies exactly as placement 8.0.0 (Zed) sent them in the lab
// walkthrough (walkthrough-transcript.txt), plus what a proxy in front sends.
struct BodyCase {
  const char* what;
  int status;
  const char* body;
  Outcome outcome;
  const char* code;
  const char* detail;  // the whole shortened detail
  const char* request_id;
};

const BodyCase kBodies[] = {
    {"stale generation on traits", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Resource provider's generation already changed. Please update the generation and try again.  ","code":"placement.concurrent_update","request_id":"req-199c4391-0a50-4abf-be46-1de703497c1a"}]})json",
     Outcome::conflict_generation, "placement.concurrent_update",
     "Resource provider's generation already changed. Please update the generation and try again.",
     "req-199c4391-0a50-4abf-be46-1de703497c1a"},
    {"stale generation on inventories", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n resource provider generation conflict  ","code":"placement.concurrent_update","request_id":"req-5b9cd9b1-d752-4108-950d-f21530fcf652"}]})json",
     Outcome::conflict_generation, "placement.concurrent_update", "resource provider generation conflict",
     "req-5b9cd9b1-d752-4108-950d-f21530fcf652"},
    {"DELETE one in-use inventory class (placement's quirk: concurrent_update)", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Unable to delete inventory of class CUSTOM_PCI_10DE_2330: Inventory for 'CUSTOM_PCI_10DE_2330' on resource provider 'dddddddd-0000-0000-0000-000000000001' in use.  ","code":"placement.concurrent_update","request_id":"req-e03ab056-31ae-4ca3-b46a-13985e372ea0"}]})json",
     Outcome::conflict_generation, "placement.concurrent_update",
     "Unable to delete inventory of class CUSTOM_PCI_10DE_2330: Inventory for 'CUSTOM_PCI_10DE_2330' on resource "
     "provider 'dddddddd-0000-0000-0000-000000000001' in use.",
     "req-e03ab056-31ae-4ca3-b46a-13985e372ea0"},
    {"PUT inventories without an in-use class", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n update conflict: Inventory for 'CUSTOM_PCI_10DE_2330' on resource provider 'dddddddd-0000-0000-0000-000000000001' in use.  ","code":"placement.inventory.inuse","request_id":"req-50c8617e-06fb-4dd2-85e1-96726fc5960e"}]})json",
     Outcome::conflict_inuse, "placement.inventory.inuse",
     "update conflict: Inventory for 'CUSTOM_PCI_10DE_2330' on resource provider "
     "'dddddddd-0000-0000-0000-000000000001' in use.",
     "req-50c8617e-06fb-4dd2-85e1-96726fc5960e"},
    {"DELETE all inventories while in use", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Inventory for 'CUSTOM_PCI_10DE_2330' on resource provider 'dddddddd-0000-0000-0000-000000000001' in use.  ","code":"placement.inventory.inuse","request_id":"req-cfea6df8-a6dd-4ec5-82ad-69d7024fceeb"}]})json",
     Outcome::conflict_inuse, "placement.inventory.inuse",
     "Inventory for 'CUSTOM_PCI_10DE_2330' on resource provider 'dddddddd-0000-0000-0000-000000000001' in use.",
     "req-cfea6df8-a6dd-4ec5-82ad-69d7024fceeb"},
    {"DELETE a provider with allocations", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Unable to delete resource provider dddddddd-0000-0000-0000-000000000001: Resource provider has allocations.  ","code":"placement.resource_provider.inuse","request_id":"req-f7573c1b-ff92-429a-9742-b95d30dc3648"}]})json",
     Outcome::conflict_inuse, "placement.resource_provider.inuse",
     "Unable to delete resource provider dddddddd-0000-0000-0000-000000000001: Resource provider has allocations.",
     "req-f7573c1b-ff92-429a-9742-b95d30dc3648"},
    {"duplicate provider name", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Conflicting resource provider name: compute-a already exists.  ","code":"placement.duplicate_name","request_id":"req-62d6d21a-dd78-43e2-a472-e3c90446533f"}]})json",
     Outcome::duplicate_name, "placement.duplicate_name",
     "Conflicting resource provider name: compute-a already exists.", "req-62d6d21a-dd78-43e2-a472-e3c90446533f"},
    {"DELETE a parent with children", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Unable to delete parent resource provider aaaaaaaa-0000-0000-0000-000000000000: It has child resource providers.  ","code":"placement.resource_provider.cannot_delete_parent","request_id":"req-702da288-b763-46de-9916-64cb31feb9c8"}]})json",
     Outcome::conflict, "placement.resource_provider.cannot_delete_parent",
     "Unable to delete parent resource provider aaaaaaaa-0000-0000-0000-000000000000: It has child resource providers.",
     "req-702da288-b763-46de-9916-64cb31feb9c8"},
    {"allocation over capacity", 409,
     R"json({"errors":[{"status":409,"title":"Conflict","detail":"There was a conflict when trying to complete your request.\n\n Unable to allocate inventory: Unable to create allocation for 'CUSTOM_PCI_10DE_2330' on resource provider 'dddddddd-0000-0000-0000-000000000001'. The requested amount would exceed the capacity.  ","code":"placement.undefined_code","request_id":"req-2fe6474b-2280-4d8f-8bfa-516f23a3699d"}]})json",
     Outcome::conflict, "placement.undefined_code",
     "Unable to allocate inventory: Unable to create allocation for 'CUSTOM_PCI_10DE_2330' on resource provider "
     "'dddddddd-0000-0000-0000-000000000001'. The requested amount would exceed the capacity.",
     "req-2fe6474b-2280-4d8f-8bfa-516f23a3699d"},
    {"DELETE an unknown provider", 404,
     R"json({"errors":[{"status":404,"title":"Not Found","detail":"The resource could not be found.\n\n No resource provider with uuid 99999999-0000-0000-0000-000000000000 found for delete  ","code":"placement.undefined_code","request_id":"req-bbdb137f-5524-4f82-8643-68ee0f0a0252"}]})json",
     Outcome::not_found, "placement.undefined_code",
     "No resource provider with uuid 99999999-0000-0000-0000-000000000000 found for delete",
     "req-bbdb137f-5524-4f82-8643-68ee0f0a0252"},
    {"unknown trait in a traits PUT", 400,
     R"json({"errors":[{"status":400,"title":"Bad Request","detail":"The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n No such trait CUSTOM_NOT_CREATED  ","code":"placement.undefined_code","request_id":"req-3fe7a0ff-d99e-4896-96dc-788866994ed4"}]})json",
     Outcome::bad_request, "placement.undefined_code", "No such trait CUSTOM_NOT_CREATED",
     "req-3fe7a0ff-d99e-4896-96dc-788866994ed4"},
    {"unknown resource class in inventory", 400,
     R"json({"errors":[{"status":400,"title":"Bad Request","detail":"The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n Unknown resource class in inventory for resource provider aaaaaaaa-0000-0000-0000-000000000001: No such resource class CUSTOM_NOT_CREATED.  ","code":"placement.undefined_code","request_id":"req-816a1745-4b7d-48eb-a357-23bc7529b959"}]})json",
     Outcome::bad_request, "placement.undefined_code",
     "Unknown resource class in inventory for resource provider aaaaaaaa-0000-0000-0000-000000000001: No such "
     "resource class CUSTOM_NOT_CREATED.",
     "req-816a1745-4b7d-48eb-a357-23bc7529b959"},
    {"trait name without CUSTOM_", 400,
     R"json({"errors":[{"status":400,"title":"Bad Request","detail":"The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix \"CUSTOM_\" and use following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"  ","code":"placement.undefined_code","request_id":"req-81f50e53-d1ea-4ac4-aca6-709a55b156d2"}]})json",
     Outcome::bad_request, "placement.undefined_code",
     "The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix \"CUSTOM_\" "
     "and use following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"",
     "req-81f50e53-d1ea-4ac4-aca6-709a55b156d2"},
    {"non-admin token (noauth2 'bob:proj'): no code member", 403,
     R"json({"errors": [{"status": 403, "title": "Forbidden", "detail": "Access was denied to this resource.\n\n Policy does not allow placement:resource_providers:list to be performed.  ", "request_id": "req-c37fdcb8-060c-444f-a03c-8b1182cfd914"}]})json",
     Outcome::forbidden, "", "Policy does not allow placement:resource_providers:list to be performed.",
     "req-c37fdcb8-060c-444f-a03c-8b1182cfd914"},
    {"no token: the auth middleware's own webob shape, not errors[]", 401,
     R"json({"message": "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.<br /><br />\n\n\n", "code": "401 Unauthorized", "title": "Unauthorized"})json",
     Outcome::unauthorized, "",
     "This server could not verify that you are authorized to access the document you requested. Either you "
     "supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the "
     "credentials required.",
     ""},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_error)

BOOST_AUTO_TEST_CASE(real_error_bodies_parse_and_classify) {
  for (const auto& c : kBodies) {
    BOOST_TEST_CONTEXT(c.what) {
      auto e = parse_error_body(c.body);
      BOOST_TEST_REQUIRE(e.has_value());
      BOOST_TEST(e->status == c.status);
      BOOST_TEST(e->code == c.code);
      BOOST_TEST(e->detail == c.detail);
      BOOST_TEST(e->request_id == c.request_id);
      BOOST_TEST(!e->title.empty());
      BOOST_TEST(to_string(classify(c.status, e->code)) == to_string(c.outcome));
    }
  }
}

BOOST_AUTO_TEST_CASE(microversion_406_carries_the_range) {
  // Placement 8.0.0's answer to "OpenStack-API-Version: placement 1.40" (no "code").
  const char* body =
      R"json({"errors": [{"status": 406, "title": "Not Acceptable", "detail": "The resource could not be generated that was acceptable to your browser (content of type application/json. \n\n Invalid microversion: Unacceptable version header: 1.40", "request_id": "req-b1d31a30-0145-4482-8d38-93dadc7e7760", "max_version": "1.39", "min_version": "1.0"}]})json";
  auto e = parse_error_body(body);
  BOOST_TEST_REQUIRE(e.has_value());
  BOOST_TEST(e->max_version == "1.39");
  BOOST_TEST(e->min_version == "1.0");
  BOOST_TEST(e->detail == "Invalid microversion: Unacceptable version header: 1.40");
  BOOST_TEST(e->code.empty());
  BOOST_TEST(to_string(classify(406, e->code)) == "bad_request");
}

BOOST_AUTO_TEST_CASE(non_placement_bodies_are_not_error_bodies) {
  for (const char* body :
       {"", "null", "[]", "{}", R"({"title":7})", R"({"errors":[]})", R"({"errors":{}})", R"({"errors":[1]})",
        "<html><body><h1>500 Internal Server Error</h1></body></html>", "{\"errors\":[{"}) {
    BOOST_TEST_CONTEXT(body) { BOOST_TEST(!parse_error_body(body).has_value()); }
  }
  // Members of the wrong type are dropped, not fatal.
  auto e = parse_error_body(R"({"errors":[{"status":"409","code":7,"detail":"x"}]})");
  BOOST_TEST_REQUIRE(e.has_value());
  BOOST_TEST(e->status == 0);
  BOOST_TEST(e->code.empty());
  BOOST_TEST(e->detail == "x");
}

struct OutcomeCase {
  int status;
  const char* code;
  Outcome outcome;
};

BOOST_AUTO_TEST_CASE(outcome_table) {
  const OutcomeCase cases[] = {
      {200, "", Outcome::ok},
      {201, "", Outcome::ok},
      {204, "", Outcome::ok},
      {409, "placement.concurrent_update", Outcome::conflict_generation},
      {409, "placement.inventory.inuse", Outcome::conflict_inuse},
      {409, "placement.resource_provider.inuse", Outcome::conflict_inuse},
      {409, "placement.duplicate_name", Outcome::duplicate_name},
      {409, "placement.resource_provider.cannot_delete_parent", Outcome::conflict},
      {409, "placement.undefined_code", Outcome::conflict},
      {409, "", Outcome::conflict},
      {404, "placement.undefined_code", Outcome::not_found},
      {404, "", Outcome::not_found},
      {400, "placement.undefined_code", Outcome::bad_request},
      {405, "", Outcome::bad_request},
      {406, "placement.undefined_code", Outcome::bad_request},
      {413, "", Outcome::bad_request},
      {401, "", Outcome::unauthorized},
      {403, "placement.undefined_code", Outcome::forbidden},
      {408, "", Outcome::server_error_retryable},
      {429, "", Outcome::server_error_retryable},
      {500, "", Outcome::server_error_retryable},
      {502, "", Outcome::server_error_retryable},
      {503, "", Outcome::server_error_retryable},
      {504, "", Outcome::server_error_retryable},
      {0, "", Outcome::unreachable},
      {301, "", Outcome::unexpected},
      {100, "", Outcome::unexpected},
      // The code only matters on 409: a 400 with concurrent_update stays a 400.
      {400, "placement.concurrent_update", Outcome::bad_request},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.status << " " << c.code) {
      BOOST_TEST(to_string(classify(c.status, c.code)) == to_string(c.outcome));
    }
  }
}

BOOST_AUTO_TEST_CASE(short_detail_drops_webob_preamble) {
  BOOST_TEST(short_detail("There was a conflict when trying to complete your request.\n\n x y  ") == "x y");
  BOOST_TEST(short_detail("no preamble here ") == "no preamble here");
  BOOST_TEST(short_detail("") == "");
  BOOST_TEST(short_detail("a\n\n") == "");
}

BOOST_AUTO_TEST_CASE(body_snippet_makes_html_readable) {
  const char* html =
      "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n<body>\n"
      "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n</body></html>\n";
  BOOST_TEST(body_snippet(html) ==
             "500 Internal Server Error Internal Server Error The server encountered an internal error.");
  BOOST_TEST(body_snippet("a\r\n\tb\x01"
                          "c") == "a b c");
  BOOST_TEST(body_snippet(std::string(500, 'x'), 10) == "xxxxxxxxxx...");
  BOOST_TEST(body_snippet("") == "");
}

BOOST_AUTO_TEST_SUITE_END()
