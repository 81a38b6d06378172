#pragma once
// Which GPU pools this host should report: inventory + config -> pools.
// A pool is a set of identical whole-GPU passthrough devices behind one
// custom resource class, so an N-GPU flavor is one request group
// (resources:CUSTOM_PGPU_10DE_2330=N) and placement sees one candidate per host.
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "model.h"
#include "result.h"

namespace gpu_agent {

struct Pool {
  std::string key;                                // [pool:NAME], or "10de_2330" for a default pool
  std::string resource_class;                     // CUSTOM_PGPU_10DE_2330
  std::vector<std::string> traits;                // sorted, unique; without the marker trait
  std::vector<PciAddress> assignable;             // counted in total
  std::vector<PciAddress> unavailable;            // matched, but not assignable now (with reasons in the inventory)
  std::optional<uint32_t> vendor_id, product_id;  // when every member shares them
  std::optional<std::string> product_name;
  bool configured = false;
};

// "NVIDIA Corporation" -> "NVIDIA_CORPORATION": upper case, runs of other characters to one '_'.
std::string to_trait_part(const std::string& text);
// "GH100 [H100 SXM5 80GB]" -> "H100 SXM5 80GB" (pci.ids keeps the marketing name in brackets).
std::string model_name(const std::string& product_name);

// How a [pool:*] or [vgpu:*] section selects a GPU: not at all, by its model
// (vendor:product in `match`, or `match = all`), or by naming its PCI address.
enum class Selected { no, by_model, by_address };
Selected select_gpu(const Gpu& gpu, const std::vector<PciAddress>& addresses,
                    const std::vector<std::pair<uint32_t, uint32_t>>& models, bool all = false);
// The first of these addresses that is not a GPU of the inventory, if any.
std::optional<PciAddress> first_non_gpu(const Inventory& inv, const std::vector<PciAddress>& addresses);

// Errors: a GPU claimed by two [pool:*] sections, an address that names no GPU.
Result<std::vector<Pool>> derive_pools(const Inventory& inv, const AgentConfig& cfg);

}  // namespace gpu_agent
