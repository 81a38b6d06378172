#pragma once
// The Placement resources the agent reads and writes, as plain values.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gpu_agent::placement {

struct Provider {
  std::string uuid;
  std::string name;
  std::int64_t generation = 0;
  std::optional<std::string> parent_uuid;
  std::string root_uuid;
};

// GET /resource_providers filters; unset members are not sent.
struct ProviderQuery {
  std::optional<std::string> name;
  std::optional<std::string> in_tree;  // uuid of any provider in the tree
};

// Placement's own defaults, so a default Inventory reads back unchanged.
struct Inventory {
  std::int64_t total = 0;
  std::int64_t reserved = 0;
  std::int64_t min_unit = 1;
  std::int64_t max_unit = 2147483647;
  std::int64_t step_size = 1;
  double allocation_ratio = 1.0;
  bool operator==(const Inventory&) const = default;
};
using InventoryMap = std::map<std::string, Inventory>;  // resource class -> inventory

struct ProviderInventories {
  std::int64_t generation = 0;
  InventoryMap inventories;
};

struct ProviderTraits {
  std::int64_t generation = 0;
  std::set<std::string> traits;
};

struct ProviderUsages {
  std::int64_t generation = 0;
  std::map<std::string, std::int64_t> usages;  // resource class -> used
};

}  // namespace gpu_agent::placement
