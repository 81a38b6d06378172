#pragma once
// The stable --json form of an inventory (schema in README.md, "Inventory JSON").
// Fields are only ever added; schema_version changes if one is renamed or removed.
#include <iosfwd>
#include <string>

#include "model.h"

namespace gpu_agent {

inline constexpr int kInventorySchemaVersion = 1;
std::string inventory_to_json(const Inventory& inv);
// The same text written to out as it is made (the CLI's --json): the whole
// document is never held in memory (2.8 MB for an 8x A40 SR-IOV host).
void write_inventory_json(const Inventory& inv, std::ostream& out);

}  // namespace gpu_agent
