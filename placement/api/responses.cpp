#include "responses.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "json_read.h"

namespace gpu_agent::placement::parse {
namespace {

using Value = rapidjson::Value;

Result<rapidjson::Document> document(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return make_error("body is not JSON (" + std::string(rapidjson::GetParseError_En(doc.GetParseError())) +
                      " at offset " + std::to_string(doc.GetErrorOffset()) + ")");
  }
  if (!doc.IsObject()) return make_error("body is not a JSON object");
  return doc;
}

// Member NAME of OBJ as a T into OUT, or the error that names it.
template <class T>
std::optional<Error> read(const Value& obj, const char* name, std::string_view where, T& out) {
  auto v = json::member<T>(obj, name, where);
  if (!v) return v.error();
  out = std::move(*v);
  return std::nullopt;
}

Result<Provider> provider_from(const Value& v, std::string_view where) {
  if (!v.IsObject()) return make_error(std::string(where) + ": provider is not an object");
  Provider p;
  if (auto e = read(v, "uuid", where, p.uuid)) return *e;
  if (auto e = read(v, "name", where, p.name)) return *e;
  if (auto e = read(v, "generation", where, p.generation)) return *e;
  auto parent = json::optional<std::string>(v, "parent_provider_uuid", where);
  if (!parent) return parent.error();
  p.parent_uuid = *parent;
  if (auto e = read(v, "root_provider_uuid", where, p.root_uuid)) return *e;
  return p;
}

// A provider's inventories, traits or usages ({"resource_provider_generation": N,
// "NAME": ...}): the generation, and the member NAME, an object (or an array).
Result<const Value*> generation_and(const Value& doc, const char* name, bool array, std::int64_t& generation) {
  if (auto e = read(doc, "resource_provider_generation", name, generation)) return *e;
  if (array) {
    auto v = json::member<json::Array>(doc, name, name);
    if (!v) return v.error();
    return v->value;
  }
  auto v = json::member<json::Object>(doc, name, name);
  if (!v) return v.error();
  return v->value;
}

}  // namespace

Result<VersionRange> versions(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  auto list = json::member<json::Array>(*doc, "versions", "version document");
  if (!list) return list.error();
  if (list->value->Empty()) return make_error("version document: member 'versions' is an empty list");
  // Placement has only ever published v1.0; take the entry that says so, else the first.
  const Value* entry = &(*list->value)[0];
  for (const auto& v : list->value->GetArray())
    if (auto id = json::member<std::string>(v, "id", ""); id && *id == "v1.0") entry = &v;
  if (!entry->IsObject()) return make_error("version document: versions[] entry is not an object");
  std::string min_text, max_text;
  if (auto e = read(*entry, "min_version", "version document", min_text)) return *e;
  if (auto e = read(*entry, "max_version", "version document", max_text)) return *e;
  auto min = parse_microversion(min_text);
  if (!min) return make_error("version document: min_version: " + min.error().message);
  auto max = parse_microversion(max_text);
  if (!max) return make_error("version document: max_version: " + max.error().message);
  return VersionRange{*min, *max};
}

Result<Provider> provider(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  return provider_from(*doc, "resource provider");
}

Result<std::vector<Provider>> providers(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  auto list = json::member<json::Array>(*doc, "resource_providers", "provider list");
  if (!list) return list.error();
  std::vector<Provider> out;
  for (const auto& v : list->value->GetArray()) {
    auto p = provider_from(v, "provider list entry " + std::to_string(out.size()));
    if (!p) return p.error();
    out.push_back(std::move(*p));
  }
  return out;
}

Result<ProviderInventories> inventories(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  ProviderInventories out;
  auto map = generation_and(*doc, "inventories", false, out.generation);
  if (!map) return map.error();
  for (const auto& m : (*map)->GetObject()) {
    const std::string rc(m.name.GetString(), m.name.GetStringLength());
    const std::string where = "inventory of " + rc;
    if (!m.value.IsObject()) return make_error(where + ": not an object");
    Inventory inv;
    for (auto [name, field] : {std::pair{"total", &inv.total},
                               {"reserved", &inv.reserved},
                               {"min_unit", &inv.min_unit},
                               {"max_unit", &inv.max_unit},
                               {"step_size", &inv.step_size}})
      if (auto e = read(m.value, name, where, *field)) return *e;
    if (auto e = read(m.value, "allocation_ratio", where, inv.allocation_ratio)) return *e;
    out.inventories.emplace(rc, inv);
  }
  return out;
}

Result<ProviderTraits> provider_traits(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  ProviderTraits out;
  auto list = generation_and(*doc, "traits", true, out.generation);
  if (!list) return list.error();
  for (const auto& t : (*list)->GetArray()) {
    if (!t.IsString()) return make_error("traits: an entry is not a string");
    out.traits.emplace(t.GetString(), t.GetStringLength());
  }
  return out;
}

Result<ProviderUsages> usages(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  ProviderUsages out;
  auto map = generation_and(*doc, "usages", false, out.generation);
  if (!map) return map.error();
  for (const auto& m : (*map)->GetObject()) {
    if (!m.value.IsInt64())
      return make_error("usages: value for " + std::string(m.name.GetString()) + " is not an integer");
    out.usages.emplace(std::string(m.name.GetString(), m.name.GetStringLength()), m.value.GetInt64());
  }
  return out;
}

Result<std::vector<std::string>> trait_names(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  auto list = json::member<json::Array>(*doc, "traits", "trait list");
  if (!list) return list.error();
  std::vector<std::string> out;
  for (const auto& t : list->value->GetArray()) {
    if (!t.IsString()) return make_error("trait list: an entry is not a string");
    out.emplace_back(t.GetString(), t.GetStringLength());
  }
  return out;
}

}  // namespace gpu_agent::placement::parse
