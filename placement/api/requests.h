#pragma once
// Pure builders: each Placement call as data (method, path, JSON body), so a
// dry run can print the plan and tests need no network.
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "api_types.h"

namespace gpu_agent::placement {

struct Request {
  std::string method;
  std::string path;  // below the endpoint, with the query: "/resource_providers?name=x"
  std::string body;  // JSON; empty = no body
  bool operator==(const Request&) const = default;
};

// "PUT /traits/CUSTOM_X" or "POST /resource_providers {...}": one line for a plan.
std::string to_string(const Request& request);

namespace requests {

Request get_versions();
Request list_providers(const ProviderQuery& query = {});
Request get_provider(std::string_view uuid);
Request create_provider(std::string_view name, std::string_view uuid,
                        const std::optional<std::string>& parent_uuid = std::nullopt);
Request delete_provider(std::string_view uuid);
Request get_inventories(std::string_view uuid);
Request put_inventories(std::string_view uuid, std::int64_t generation, const InventoryMap& inventories);
Request get_traits(std::string_view uuid);
Request put_traits(std::string_view uuid, std::int64_t generation, const std::set<std::string>& traits);
Request get_usages(std::string_view uuid);
Request ensure_trait(std::string_view name);
Request ensure_resource_class(std::string_view name);
// name_filter: placement's syntax, e.g. "startswith:CUSTOM_" or "in:A,B"; "" = all.
Request list_traits(std::string_view name_filter = {});

}  // namespace requests
}  // namespace gpu_agent::placement
