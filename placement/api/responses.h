#pragma once
// Pure parsers for Placement's success bodies. Errors say which member was
// missing or of the wrong type; the caller adds method and URL.
#include <string>
#include <string_view>
#include <vector>

#include "api_types.h"
#include "microversion.h"
#include "result.h"

namespace gpu_agent::placement::parse {

// Root document: {"versions":[{"min_version","max_version",...}]}.
Result<VersionRange> versions(std::string_view body);
Result<Provider> provider(std::string_view body);
Result<std::vector<Provider>> providers(std::string_view body);
Result<ProviderInventories> inventories(std::string_view body);
Result<ProviderTraits> provider_traits(std::string_view body);
Result<ProviderUsages> usages(std::string_view body);
// GET /traits: {"traits":[...]}.
Result<std::vector<std::string>> trait_names(std::string_view body);

}  // namespace gpu_agent::placement::parse
