#include "requests.h"

#include "json.h"
#include "url.h"

namespace gpu_agent::placement {
namespace {

std::string provider_path(std::string_view uuid) { return "/resource_providers/" + http::percent_encode(uuid); }

}  // namespace

std::string to_string(const Request& request) {
  std::string line = request.method + " " + request.path;
  if (!request.body.empty()) line += " " + request.body;
  return line;
}

namespace requests {

Request get_versions() { return {"GET", "/", {}}; }

Request list_providers(const ProviderQuery& query) {
  std::string path = "/resource_providers";
  char sep = '?';
  if (query.name) {
    path += sep + std::string("name=") + http::percent_encode(*query.name);
    sep = '&';
  }
  if (query.in_tree) path += sep + std::string("in_tree=") + http::percent_encode(*query.in_tree);
  return {"GET", path, {}};
}

Request get_provider(std::string_view uuid) { return {"GET", provider_path(uuid), {}}; }

Request create_provider(std::string_view name, std::string_view uuid, const std::optional<std::string>& parent_uuid) {
  JsonWriter w(JsonStyle::compact);
  w.begin_object();
  w.key("name").string(name);
  w.key("uuid").string(uuid);
  if (parent_uuid) w.key("parent_provider_uuid").string(*parent_uuid);
  w.end_object();
  return {"POST", "/resource_providers", w.finish()};
}

Request delete_provider(std::string_view uuid) { return {"DELETE", provider_path(uuid), {}}; }

Request get_inventories(std::string_view uuid) { return {"GET", provider_path(uuid) + "/inventories", {}}; }

Request put_inventories(std::string_view uuid, std::int64_t generation, const InventoryMap& inventories) {
  JsonWriter w(JsonStyle::compact);
  w.begin_object();
  w.key("resource_provider_generation").integer(generation);
  w.key("inventories").begin_object();
  for (const auto& [rc, inv] : inventories) {
    w.key(rc).begin_object();
    w.key("total").integer(inv.total);
    w.key("reserved").integer(inv.reserved);
    w.key("min_unit").integer(inv.min_unit);
    w.key("max_unit").integer(inv.max_unit);
    w.key("step_size").integer(inv.step_size);
    w.key("allocation_ratio").number(inv.allocation_ratio);
    w.end_object();
  }
  w.end_object();
  w.end_object();
  return {"PUT", provider_path(uuid) + "/inventories", w.finish()};
}

Request get_traits(std::string_view uuid) { return {"GET", provider_path(uuid) + "/traits", {}}; }

Request put_traits(std::string_view uuid, std::int64_t generation, const std::set<std::string>& traits) {
  JsonWriter w(JsonStyle::compact);
  w.begin_object();
  w.key("resource_provider_generation").integer(generation);
  w.key("traits").strings(traits);
  w.end_object();
  return {"PUT", provider_path(uuid) + "/traits", w.finish()};
}

Request get_usages(std::string_view uuid) { return {"GET", provider_path(uuid) + "/usages", {}}; }

Request ensure_trait(std::string_view name) { return {"PUT", "/traits/" + http::percent_encode(name), {}}; }

Request ensure_resource_class(std::string_view name) {
  return {"PUT", "/resource_classes/" + http::percent_encode(name), {}};
}

Request list_traits(std::string_view name_filter) {
  std::string path = "/traits";
  // The filter's ':' and ',' are part of placement's syntax, but percent-
  // encoding them is equivalent in a query value and keeps names safe.
  if (!name_filter.empty()) path += "?name=" + http::percent_encode(name_filter);
  return {"GET", path, {}};
}

}  // namespace requests
}  // namespace gpu_agent::placement
