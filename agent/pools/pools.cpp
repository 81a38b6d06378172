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

bool matches(const PoolConfig& p, const Gpu& g) {
  for (const auto& a : p.addresses)
    if (a == g.address) return true;
  for (const auto& [v, d] : p.match)
    if (g.vendor_id == v && g.product_id == d) return true;
  return false;
}

}  // namespace

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

Result<std::vector<Pool>> derive_pools(const Inventory& inv, const AgentConfig& cfg) {
  std::vector<Pool> pools;
  for (const auto& pc : cfg.pools) {
    Pool p;
    p.key = pc.name;
    p.resource_class = pc.resource_class;
    p.traits = pc.traits;
    p.configured = true;
    pools.push_back(std::move(p));
    for (const auto& a : pc.addresses) {
      bool found = false;
      for (const auto& g : inv.gpus) found |= g.address == a;
      if (!found)
        return make_error((cfg.path.empty() ? std::string("config") : cfg.path) + ": [pool:" + pc.name +
                          "] names " + a.to_string() + ", which is not a GPU on this host (see `gpu-agent inventory`)");
    }
  }
  std::map<std::pair<uint32_t, uint32_t>, size_t> defaults;  // vendor/product -> index in pools
  for (const auto& g : inv.gpus) {
    if (g.mode != "passthrough") continue;  // vGPU GPUs are nova's (ARCHITECTURE.md, "vGPU is nova's")
    const PoolConfig* claimed = nullptr;
    for (const auto& pc : cfg.pools) {
      if (!matches(pc, g)) continue;
      if (claimed)
        return make_error((cfg.path.empty() ? std::string("config") : cfg.path) + ": GPU " + g.address.to_string() +
                          " (" + g.id_pair() + ") is selected by both [pool:" + claimed->name + "] and [pool:" +
                          pc.name + "]; a GPU belongs to one pool");
      claimed = &pc;
    }
    Pool* pool = nullptr;
    if (claimed) {
      for (auto& p : pools)
        if (p.configured && p.key == claimed->name) pool = &p;
    } else {
      if (!cfg.default_pools || !g.vendor_id || !g.product_id) continue;
      auto id = std::make_pair(*g.vendor_id, *g.product_id);
      auto it = defaults.find(id);
      if (it == defaults.end()) {
        Pool p;
        p.key = g.id_pair();
        p.key[4] = '_';
        p.resource_class = "CUSTOM_PGPU_" + to_hex(id.first, 4, true) + "_" + to_hex(id.second, 4, true);
        p.traits.push_back("CUSTOM_GPU_VENDOR_" + to_hex(id.first, 4, true));
        p.traits.push_back("CUSTOM_GPU_PRODUCT_" + to_hex(id.first, 4, true) + "_" + to_hex(id.second, 4, true));
        if (g.product_name) {
          std::string model = to_trait_part(model_name(*g.product_name));
          if (!model.empty()) p.traits.push_back("CUSTOM_GPU_MODEL_" + model.substr(0, 200));
        }
        pools.push_back(std::move(p));
        it = defaults.emplace(id, pools.size() - 1).first;
      }
      pool = &pools[it->second];
    }
    (g.assignable ? pool->assignable : pool->unavailable).push_back(g.address);
    // vendor/product of the pool, when all its members agree (used for nova's [pci] alias)
    const bool first = pool->assignable.size() + pool->unavailable.size() == 1;
    if (first) {
      pool->vendor_id = g.vendor_id;
      pool->product_id = g.product_id;
      pool->product_name = g.product_name;
    } else if (pool->vendor_id != g.vendor_id || pool->product_id != g.product_id) {
      pool->vendor_id.reset();
      pool->product_id.reset();
      pool->product_name.reset();
    }
  }
  for (auto& p : pools) {
    sort_unique(p.traits);
    std::sort(p.assignable.begin(), p.assignable.end());
    std::sort(p.unavailable.begin(), p.unavailable.end());
  }
  return pools;
}

}  // namespace gpu_agent
