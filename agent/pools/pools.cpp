#include "pools.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace gpu_agent {
namespace {

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Selected select_gpu(const Gpu& gpu, const std::vector<PciAddress>& addresses,
                    const std::vector<std::pair<uint32_t, uint32_t>>& models, bool all) {
  if (std::find(addresses.begin(), addresses.end(), gpu.address) != addresses.end()) return Selected::by_address;
  if (all) return Selected::by_model;
  for (const auto& [v, d] : models)
    if (gpu.vendor_id == v && gpu.product_id == d) return Selected::by_model;
  return Selected::no;
}

std::optional<PciAddress> first_non_gpu(const Inventory& inv, const std::vector<PciAddress>& addresses) {
  for (const auto& a : addresses)
    if (std::none_of(inv.gpus.begin(), inv.gpus.end(), [&](const Gpu& g) { return g.address == a; })) return a;
  return std::nullopt;
}

std::string to_trait_part(const std::string& text) {
  std::string out;
  bool sep = false;
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum) {
      if (sep && !out.empty()) out += '_';
      sep = false;
      out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    } else {
      sep = true;
    }
  }
  return out;
}

std::string model_name(const std::string& product_name) {
  size_t open = product_name.find('[');
  size_t close = product_name.rfind(']');
  if (open != std::string::npos && close != std::string::npos && close > open + 1)
    return product_name.substr(open + 1, close - open - 1);
  return product_name;
}

namespace {

std::string config_name(const AgentConfig& cfg) { return cfg.path.empty() ? std::string("config") : cfg.path; }

// The pool of every passthrough GPU of one model that no [pool:*] section claims.
Pool default_pool(const Gpu& g) {
  const uint32_t vendor = *g.vendor_id, product = *g.product_id;
  Pool p;
  p.key = g.id_pair();
  p.key[4] = '_';
  p.resource_class = "CUSTOM_PGPU_" + to_hex(vendor, 4, true) + "_" + to_hex(product, 4, true);
  p.traits.push_back("CUSTOM_GPU_VENDOR_" + to_hex(vendor, 4, true));
  p.traits.push_back("CUSTOM_GPU_PRODUCT_" + to_hex(vendor, 4, true) + "_" + to_hex(product, 4, true));
  // Without a name in pci.ids (an H200 on Debian 12's), the model is its IDs.
  std::string model = g.product_name ? to_trait_part(model_name(*g.product_name)) : std::string();
  if (model.empty()) model = to_hex(vendor, 4, true) + "_" + to_hex(product, 4, true);
  p.traits.push_back("CUSTOM_GPU_MODEL_" + model.substr(0, 200));
  return p;
}

void add_member(Pool& pool, const Gpu& g) {
  (g.assignable ? pool.assignable : pool.unavailable).push_back(g.address);
  // vendor/product of the pool, when all its members agree (used for nova's [pci] alias)
  const bool first = pool.assignable.size() + pool.unavailable.size() == 1;
  if (first) {
    pool.vendor_id = g.vendor_id;
    pool.product_id = g.product_id;
    pool.product_name = g.product_name;
  } else if (pool.vendor_id != g.vendor_id || pool.product_id != g.product_id) {
    pool.vendor_id.reset();
    pool.product_id.reset();
    pool.product_name.reset();
  }
}

}  // namespace

Result<std::vector<Pool>> derive_pools(const Inventory& inv, const AgentConfig& cfg) {
  std::vector<Pool> pools;
  for (const auto& pc : cfg.pools) {
    Pool p;
    p.key = pc.name;
    p.resource_class = pc.resource_class;
    p.traits = pc.traits;
    p.configured = true;
    pools.push_back(std::move(p));
    if (auto a = first_non_gpu(inv, pc.addresses))
      return make_error(config_name(cfg) + ": [pool:" + pc.name + "] names " + a->to_string() +
                        ", which is not a GPU on this host (see `gpu-agent inventory`)");
  }
  std::map<std::pair<uint32_t, uint32_t>, size_t> defaults;  // vendor/product -> index in pools
  for (const auto& g : inv.gpus) {
    if (g.mode != GpuMode::passthrough) continue;  // vGPU GPUs are nova's (ARCHITECTURE.md, "vGPU is nova's")
    const PoolConfig* claimed = nullptr;
    for (const auto& pc : cfg.pools) {
      if (select_gpu(g, pc.addresses, pc.match) == Selected::no) continue;
      if (claimed)
        return make_error(config_name(cfg) + ": GPU " + g.address.to_string() + " (" + g.id_pair() +
                          ") is selected by both [pool:" + claimed->name + "] and [pool:" + pc.name +
                          "]; a GPU belongs to one pool");
      claimed = &pc;
    }
    Pool* pool = nullptr;
    if (claimed) {
      for (auto& p : pools)
        if (p.configured && p.key == claimed->name) pool = &p;
    } else {
      // A BMC's or the host's display is in no default pool (a [pool:*] may still name it).
      if (!cfg.default_pools || !g.vendor_id || !g.product_id || g.role != GpuRole::guest) continue;
      auto it = defaults.find({*g.vendor_id, *g.product_id});
      if (it == defaults.end()) {
        pools.push_back(default_pool(g));
        it = defaults.emplace(std::make_pair(*g.vendor_id, *g.product_id), pools.size() - 1).first;
      }
      pool = &pools[it->second];
    }
    add_member(*pool, g);
  }
  for (auto& p : pools) {
    sort_unique(p.traits);
    std::sort(p.assignable.begin(), p.assignable.end());
    std::sort(p.unavailable.begin(), p.unavailable.end());
  }
  return pools;
}

}  // namespace gpu_agent
