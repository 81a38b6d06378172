#include "requests.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "url.h"

namespace gpu_agent::placement {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
void str(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

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
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key(w, "name");
  str(w, name);
  key(w, "uuid");
  str(w, uuid);
  if (parent_uuid) {
    key(w, "parent_provider_uuid");
    str(w, *parent_uuid);
  }
  w.EndObject();
  return {"POST", "/resource_providers", buf.GetString()};
}

Request delete_provider(std::string_view uuid) { return {"DELETE", provider_path(uuid), {}}; }

Request get_inventories(std::string_view uuid) { return {"GET", provider_path(uuid) + "/inventories", {}}; }

Request put_inventories(std::string_view uuid, std::int64_t generation, const InventoryMap& inventories) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key(w, "resource_provider_generation");
  w.Int64(generation);
  key(w, "inventories");
  w.StartObject();
  for (const auto& [rc, inv] : inventories) {
    key(w, rc);
    w.StartObject();
    key(w, "total");
    w.Int64(inv.total);
    key(w, "reserved");
    w.Int64(inv.reserved);
    key(w, "min_unit");
    w.Int64(inv.min_unit);
    key(w, "max_unit");
    w.Int64(inv.max_unit);
    key(w, "step_size");
    w.Int64(inv.step_size);
    key(w, "allocation_ratio");
    w.Double(inv.allocation_ratio);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {"PUT", provider_path(uuid) + "/inventories", buf.GetString()};
}

Request get_traits(std::string_view uuid) { return {"GET", provider_path(uuid) + "/traits", {}}; }

Request put_traits(std::string_view uuid, std::int64_t generation, const std::set<std::string>& traits) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key(w, "resource_provider_generation");
  w.Int64(generation);
  key(w, "traits");
  w.StartArray();
  for (const auto& t : traits) str(w, t);
  w.EndArray();
  w.EndObject();
  return {"PUT", provider_path(uuid) + "/traits", buf.GetString()};
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
