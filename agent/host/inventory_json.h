#pragma once
// The stable --json form of an inventory (schema in README.md, "Inventory JSON").
// Fields are only ever added; schema_version changes if one is renamed or removed.
#include <string>

#include "model.h"

namespace gpu_agent {

inline constexpr int kInventorySchemaVersion = 1;
std::string inventory_to_json(const Inventory& inv);

}  // namespace gpu_agent
