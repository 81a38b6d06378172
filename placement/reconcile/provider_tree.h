#pragma once
// Placement's view of one compute node, as plain data: the providers of the
// tree with what the reconcile needs of each (inventory, traits, usages).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api_types.h"

namespace gpu_agent::placement {

struct ProviderState {
  std::string uuid, name;
  std::string parent_uuid;  // empty for a root
  int64_t generation = 0;
  InventoryMap inventories;
  std::set<std::string> traits;
  std::map<std::string, int64_t> usages;
};

struct TreeState {
  std::vector<ProviderState> providers;  // the root first
  const ProviderState* root() const { return providers.empty() ? nullptr : &providers.front(); }
  const ProviderState* find(const std::string& uuid) const {
    for (const auto& p : providers)
      if (p.uuid == uuid) return &p;
    return nullptr;
  }
  const ProviderState* find_name(const std::string& name) const {
    for (const auto& p : providers)
      if (p.name == name) return &p;
    return nullptr;
  }
};

}  // namespace gpu_agent::placement
