#include "compute_node.h"

#include <stdexcept>

namespace gpu_agent::testing {

void create_compute_node(placement::PlacementClient& c, const std::string& name, const std::string& uuid) {
  auto p = c.create_provider(name, uuid);
  if (!p) throw std::runtime_error(p.error().message);
  placement::InventoryMap inv;
  inv["VCPU"] = {128, 0, 1, 128, 1, 4.0};
  inv["MEMORY_MB"] = {1048576, 4096, 1, 1048576, 1, 1.0};
  inv["DISK_GB"] = {7000, 0, 1, 7000, 1, 1.0};
  auto i = c.put_inventories(uuid, p->generation, inv);
  if (!i) throw std::runtime_error(i.error().message);
  auto t = c.put_traits(uuid, i->generation, {"COMPUTE_NODE"});
  if (!t) throw std::runtime_error(t.error().message);
}

}  // namespace gpu_agent::testing
