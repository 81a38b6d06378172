#include "responses.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

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

Error missing(std::string_view where, std::string_view member, std::string_view type) {
  return make_error(std::string(where) + ": member '" + std::string(member) + "' missing or not " + std::string(type));
}

const Value* member(const Value& obj, const char* name) {
  const auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

bool get_string(const Value& obj, const char* name, std::string& out) {
  const Value* v = member(obj, name);
  if (!v || !v->IsString()) return false;
  out.assign(v->GetString(), v->GetStringLength());
  return true;
}

bool get_int64(const Value& obj, const char* name, std::int64_t& out) {
  const Value* v = member(obj, name);
  if (!v || !v->IsInt64()) return false;
  out = v->GetInt64();
  return true;
}

Result<Provider> provider_from(const Value& v, std::string_view where) {
  if (!v.IsObject()) return make_error(std::string(where) + ": provider is not an object");
  Provider p;
  if (!get_string(v, "uuid", p.uuid)) return missing(where, "uuid", "a string");
  if (!get_string(v, "name", p.name)) return missing(where, "name", "a string");
  if (!get_int64(v, "generation", p.generation)) return missing(where, "generation", "an integer");
  if (const Value* parent = member(v, "parent_provider_uuid"); parent && !parent->IsNull()) {
    if (!parent->IsString()) return missing(where, "parent_provider_uuid", "a string or null");
    p.parent_uuid = std::string(parent->GetString(), parent->GetStringLength());
  }
  if (!get_string(v, "root_provider_uuid", p.root_uuid)) return missing(where, "root_provider_uuid", "a string");
  return p;
}

Result<std::int64_t> generation_of(const Value& doc, std::string_view where) {
  std::int64_t g = 0;
  if (!get_int64(doc, "resource_provider_generation", g))
    return missing(where, "resource_provider_generation", "an integer");
  return g;
}

// A provider's inventories, traits or usages ({"resource_provider_generation": N,
// "NAME": ...}): the generation, and the member NAME, an object (or an array).
Result<const Value*> generation_and(const Value& doc, const char* name, bool array, std::int64_t& generation) {
  auto gen = generation_of(doc, name);
  if (!gen) return gen.error();
  generation = *gen;
  const Value* v = member(doc, name);
  if (!v || !(array ? v->IsArray() : v->IsObject())) return missing(name, name, array ? "an array" : "an object");
  return v;
}

}  // namespace

Result<VersionRange> versions(std::string_view body) {
  auto doc = document(body);
  if (!doc) return doc.error();
  const Value* list = member(*doc, "versions");
  if (!list || !list->IsArray() || list->Empty()) return missing("version document", "versions", "a non-empty array");
  // Placement has only ever published v1.0; take the entry that says so, else the first.
  const Value* entry = &(*list)[0];
  for (const auto& v : list->GetArray()) {
    std::string id;
    if (v.IsObject() && get_string(v, "id", id) && id == "v1.0") entry = &v;
  }
  if (!entry->IsObject()) return make_error("version document: versions[] entry is not an object");
  std::string min_text, max_text;
  if (!get_string(*entry, "min_version", min_text)) return missing("version document", "min_version", "a string");
  if (!get_string(*entry, "max_version", max_text)) return missing("version document", "max_version", "a string");
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
  const Value* list = member(*doc, "resource_providers");
  if (!list || !list->IsArray()) return missing("provider list", "resource_providers", "an array");
  std::vector<Provider> out;
  for (const auto& v : list->GetArray()) {
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
    if (!get_int64(m.value, "total", inv.total)) return missing(where, "total", "an integer");
    if (!get_int64(m.value, "reserved", inv.reserved)) return missing(where, "reserved", "an integer");
    if (!get_int64(m.value, "min_unit", inv.min_unit)) return missing(where, "min_unit", "an integer");
    if (!get_int64(m.value, "max_unit", inv.max_unit)) return missing(where, "max_unit", "an integer");
    if (!get_int64(m.value, "step_size", inv.step_size)) return missing(where, "step_size", "an integer");
    const Value* ratio = member(m.value, "allocation_ratio");
    if (!ratio || !ratio->IsNumber()) return missing(where, "allocation_ratio", "a number");
    inv.allocation_ratio = ratio->GetDouble();
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
  const Value* list = member(*doc, "traits");
  if (!list || !list->IsArray()) return missing("trait list", "traits", "an array");
  std::vector<std::string> out;
  for (const auto& t : list->GetArray()) {
    if (!t.IsString()) return make_error("trait list: an entry is not a string");
    out.emplace_back(t.GetString(), t.GetStringLength());
  }
  return out;
}

}  // namespace gpu_agent::placement::parse
